"""docs/deploy.md's production topology, started as the document says and checked end to end:
nginx (docs/deploy/nginx.conf, TLS with a throw-away certificate) in front of `aftersales serve
--with-worker` in production mode with AFTERSALES_TRUSTED_PROXIES=1.

The client connects from 127.0.0.2 and the proxy from 127.0.0.1, so the test can tell which address
the throttles count: the client's, never the proxy's and never one the client wrote into its own
X-Forwarded-For header.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.reliability.live import free_port

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "docs" / "deploy" / "nginx.conf"
DOC = ROOT / "docs" / "deploy.md"
CLI = [sys.executable, "-m", "aftersales.cli"]
HOST = "aftersales.test"
CLIENT = "127.0.0.2"


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    assert found, "nginx is needed (make test installs it: apt-get install nginx-light)"
    return found


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    os.chmod(tmp, 0o755)
    upstream, http_port, https_port = free_port(), free_port(), free_port()
    env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
           "AFTERSALES_PRODUCTION": "1", "AFTERSALES_SECRET_KEY": "deploy-test-" + "k" * 50,
           "AFTERSALES_ALLOWED_HOSTS": HOST, "AFTERSALES_TRUSTED_PROXIES": "1",
           "AFTERSALES_LOG_LEVEL": "WARNING"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = lambda *args: subprocess.run([*CLI, *args], env=env, check=True, timeout=180, capture_output=True)  # noqa: E731
    run("migrate", "--verbosity", "0")
    run("collectstatic", "--noinput", "--verbosity", "0")
    run("createadmin", "--username", "chief", "--password", "chief-pass-2026")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                    "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")], check=True, capture_output=True)
    site = CONF.read_text()
    for name, value in {"SERVER_NAME": HOST, "HTTP_PORT": f"127.0.0.1:{http_port}",
                        "HTTPS_PORT": f"127.0.0.1:{https_port}", "CERT": tmp / "cert.pem", "KEY": tmp / "key.pem",
                        "STATIC_ROOT": tmp / "static", "UPSTREAM": f"127.0.0.1:{upstream}"}.items():
        site = site.replace(f"@{name}@", str(value))
    # The redirect names the public port only (not the listen address).
    site = site.replace(f"https://$host:127.0.0.1:{https_port}", f"https://$host:{https_port}")
    (tmp / "nginx.conf").write_text(
        "user root; worker_processes 1; daemon off; pid nginx.pid; error_log stderr warn;\n"
        "events { worker_connections 256; }\n"
        "http { include /etc/nginx/mime.types; access_log off;\n"
        "  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;\n"
        "  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;\n" + site + "\n}\n")
    (tmp / "tmp").mkdir()
    server = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(upstream), "--no-migrate",
                               "--with-worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    proxy = subprocess.Popen([_nginx(), "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(https_port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and proxy.poll() is None, proxy.stderr.read() if proxy.poll() else "serve"
            assert time.monotonic() < deadline, "the site did not come up behind nginx"
            time.sleep(0.3)
        yield {"tmp": tmp, "env": env, "http": http_port, "https": https_port}
    finally:
        proxy.send_signal(signal.SIGQUIT)
        server.terminate()
        for proc in (proxy, server):
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _conn(port: int, tls: bool = True):
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the throw-away certificate
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=15, context=context,
                                           source_address=(CLIENT, 0))
    return http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(CLIENT, 0))


def _h(headers) -> dict:
    return {k.lower(): v for k, v in headers}


def _get(port, path, *, tls=True, headers=None):
    conn = _conn(port, tls)
    try:
        conn.request("GET", path, headers={"Host": f"{HOST}:{port}", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def test_the_document_shows_the_configuration_that_is_tested():
    doc = DOC.read_text()
    assert CONF.read_text().strip() in doc
    for topic in ("AFTERSALES_TRUSTED_PROXIES", "TLS", "AFTERSALES_MEDIA_ROOT", "aftersales backup", "/healthz"):
        assert topic in doc, topic


def test_plain_http_is_redirected_to_tls(deployed):
    status, headers, _ = _get(deployed["http"], "/login/", tls=False)
    assert status == 301 and _h(headers)["location"] == f"https://{HOST}:{deployed['https']}/login/"


def test_pages_static_files_and_health_through_the_proxy(deployed):
    status, headers, body = _get(deployed["https"], "/login/")
    assert status == 200 and 'lang="zh-hans"' in body.decode()
    cookies = [v for k, v in headers if k.lower() == "set-cookie"]
    # Django knows the request came over TLS (X-Forwarded-Proto): its cookies are Secure.
    assert cookies and all("Secure" in c for c in cookies)
    assert _h(headers).get("strict-transport-security")
    css = re.search(r'href="(/static/[^"]+\.css)"', body.decode())
    assert css, "the login page links a stylesheet"
    status, headers, _ = _get(deployed["https"], css.group(1))
    assert status == 200 and "max-age=604800" in _h(headers).get("cache-control", "")  # nginx's, from disk
    assert _get(deployed["https"], "/healthz")[0] == 200


def test_uploads_are_not_served_by_the_proxy(deployed):
    media = deployed["tmp"] / "media"
    media.mkdir(exist_ok=True)
    (media / "secret.txt").write_text("another organization's invoice")
    status, _headers, body = _get(deployed["https"], "/media/secret.txt")
    assert status == 404 and b"invoice" not in body


def test_throttles_count_the_client_behind_the_proxy_not_a_forged_header(deployed):
    port = deployed["https"]
    for forged in ("10.9.9.1", "10.9.9.2", "10.9.9.3", "10.9.9.4", "10.9.9.5", "10.9.9.6"):
        status, headers, body = _get(port, "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body.decode()).group(1)
        cookie = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("csrftoken="))
        conn = _conn(port)
        conn.request("POST", "/login/", body=urllib.parse.urlencode(
            {"username": "chief", "password": "wrong-password", "csrfmiddlewaretoken": token}), headers={
            "Host": f"{HOST}:{port}", "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie.split(";")[0], "Referer": f"https://{HOST}:{port}/login/", "X-Forwarded-For": forged})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        assert resp.status == 200  # the form again, with its error
    with sqlite3.connect(deployed["tmp"] / "db.sqlite3") as db:
        keys = dict(db.execute("SELECT key, count FROM core_throttlecounter WHERE key LIKE 'login:%'").fetchall())
    assert keys.get(f"login:chief|{CLIENT}", 0) >= 5, keys  # the client's own address
    assert not any("10.9.9." in k or k.endswith("|127.0.0.1") for k in keys), keys  # not forged, not the proxy


def test_backup_while_serving(deployed):
    target = deployed["tmp"] / "backup.sqlite3"
    subprocess.run([*CLI, "backup", str(target)], env=deployed["env"], check=True, timeout=120, capture_output=True)
    with sqlite3.connect(target) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM accounts_user WHERE username = 'chief'").fetchone()[0] == 1
