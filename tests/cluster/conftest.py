"""The cluster tests start their own PostgreSQL primary + replica and several aftersales processes.

They do not depend on the suite's DATABASE_URL, so running them in both CI passes (SQLite, then
PostgreSQL) would only repeat the same minute and a half: they are selected in the PostgreSQL pass
(DATABASE_URL=postgres://...) and deselected — not skipped, they are simply not part of the SQLite
pass — elsewhere. AFTERSALES_CLUSTER_TESTS=1 selects them on any run.
"""

import os
from pathlib import Path

import pytest

from bench.cluster import Site
from bench.pgpair import PgPair

HERE = Path(__file__).parent


def cluster_pass() -> bool:
    return (os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
            or os.environ.get("AFTERSALES_CLUSTER_TESTS") == "1")


def pytest_collection_modifyitems(config, items):
    if cluster_pass():
        return
    mine = [item for item in items if HERE in Path(str(item.fspath)).parents]
    if mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item not in mine]


@pytest.fixture(scope="session")
def pg():
    """A fresh PostgreSQL primary + streaming replica (Debian's binaries) for the cluster tests."""
    pair = PgPair().start()
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="session")
def prepared(pg, tmp_path_factory) -> tuple[str, dict[str, str]]:
    """(database, API tokens): the demo's network and a small archive on the pair, set up once
    (each `aftersales` process start costs seconds; the tests share it and count only their own orders)."""
    site = Site(pg, tmp_path_factory.mktemp("prepared"), db="cluster_tests")
    return site.db, site.setup(customers=30, users=("agent", "coordinator"))
