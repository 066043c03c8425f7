"""Settings of the floor: nothing but the database the app uses (same engine, backend, connection
age and options, read from aftersales.settings) and one app with one table."""

from __future__ import annotations

from aftersales.settings import DATABASES, USE_TZ  # noqa: F401 (the app's own database settings)

SECRET_KEY = "bench-floor-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.floor"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "bench.floor.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TIME_ZONE = "Asia/Shanghai"
LOGGING_CONFIG = None
