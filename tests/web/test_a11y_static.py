"""Light and cacheable, on the real server (`aftersales serve`: collectstatic, gunicorn, whitenoise):
pages link static files under content-hashed names, served gzipped with a one-year immutable cache;
every page carries a Content-Security-Policy without 'unsafe-inline'; the customer pages load no
script. Before collectstatic has ever run, the pages link the plain names and still work."""

from __future__ import annotations

import gzip
import re
import urllib.request

import pytest
from django.template import engines
from django.test import override_settings

from tests.test_serve import served  # noqa: F401 (a fixture: the server on a fresh var/ directory)


def _get(url: str, **headers):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10)


def test_static_files_are_hashed_compressed_and_cached_for_a_year(served):  # noqa: F811
    base, _proc = served
    page = _get(base + "/track/")
    html = page.read().decode()
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script" not in html  # the customer pages need no script at all
    css = re.search(r'href="(/static/web/css/app\.[0-9a-f]{12}\.css)"', html)
    icon = re.search(r'href="(/static/web/img/favicon\.[0-9a-f]{12}\.svg)"', html)
    assert css and icon, html[:800]

    plain = _get(base + css.group(1))
    zipped = _get(base + css.group(1), **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in zipped.headers["Cache-Control"] and "immutable" in zipped.headers["Cache-Control"]
    body = plain.read()
    packed = zipped.read()
    assert gzip.decompress(packed) == body and len(packed) < len(body) / 2
    assert _get(base + icon.group(1)).headers["Content-Type"].startswith("image/svg+xml")

    login = _get(base + "/login/").read().decode()
    assert re.search(r'<meta name="description" content="[^"]{20,}">', login)
    assert 'name="robots"' not in login and "<script" not in login


def test_pages_link_the_plain_names_before_collectstatic(tmp_path, settings):
    """No manifest (a fresh checkout): the hashed storage links the plain name, which whitenoise
    serves from the app; a name no app has still fails."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    hashed = {"BACKEND": "aftersales.web.staticstorage.HashedStaticStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": hashed}
    with override_settings(STATIC_ROOT=tmp_path):
        staticfiles_storage._setup()
        template = engines["django"].from_string("{% load static %}{% static 'web/css/app.css' %}")
        assert template.render({}) == "/static/web/css/app.css"
        with pytest.raises(ValueError):
            engines["django"].from_string("{% load static %}{% static 'web/css/nothing-here.css' %}").render({})
