"""Shared personas of the service network, named as the people of the process are.

The network: the service center (hotline) in Guangzhou, the technical center, the repair center,
a direct branch in Henan, and two authorized agencies in different provinces (Shandong, Heilongjiang).
"""

from __future__ import annotations

import pytest
from django.conf import settings


def pytest_configure(config):
    # Full-cost argon2 for every test user would dominate the run; production keeps argon2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The live server of the browser tests serves static files from the apps (Django's finders),
    # which know no hashed names; the hashed, compressed files are tested against the real server
    # (`aftersales serve`) in tests/web/test_a11y_static.py.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


from tests.support import Network, build_network  # noqa: E402


@pytest.fixture
def net(db) -> Network:
    return build_network()


@pytest.fixture
def api(client):
    from tests.support import ApiClient

    return ApiClient(client)
