"""docs/deploy.md shows the HAProxy configuration that `make cluster` and tests/cluster run, and names
what an operator of several machines needs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_deploy_guide_shows_the_load_balancer_config_the_cluster_runs():
    doc = (ROOT / "docs/deploy.md").read_text()
    config = (ROOT / "docs/deploy/haproxy.cfg").read_text()
    for line in config.splitlines():
        line = line.rstrip()
        if line and not line.lstrip().startswith("#") and line != "@SERVERS@":
            assert line in doc, line
    for topic in ("DATABASE_REPLICA_URL", "AFTERSALES_METRICS_TOKEN", "aftersales-worker.service", "recovery_target_time",
                  "pg_basebackup", "AFTERSALES_RETENTION_YEARS", "/readyz", "AFTERSALES_LOG_FORMAT",
                  "aftersales retention purge --apply", "AFTERSALES_RETENTION_OUTBOX_DAYS"):
        assert topic in doc, topic
