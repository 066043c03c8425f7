"""The real server: `aftersales serve` (granian) answers over HTTP on a fresh SQLite database."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.reliability.live import free_port as _free_port


def _wait_for(base: str, timeout: float = 90) -> None:
    """Until the server answers: granian listens once its workers have loaded the site, which takes
    seconds on a busy machine."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cmd = [sys.executable, "-m", "aftersales.cli"]
    subprocess.run([*cmd, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--workers", "1", "--no-migrate"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_answers_health_api_and_chinese_admin(served):
    served, proc = served
    health = json.loads(urllib.request.urlopen(served + "/healthz").read())
    assert health["status"] == "ok" and health["database"] == "ok" and "sla_sweep" in health and "outbox" in health
    doc = urllib.request.urlopen(served + "/api/v1/openapi.json").read().decode()
    assert "/api/v1/warranty/evaluate" in doc
    page = urllib.request.urlopen(served + "/admin/login/").read().decode()
    assert 'lang="zh-hans"' in page
    req = urllib.request.Request(served + "/api/v1/customers", headers={"Accept": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req)
    assert exc.value.code == 401


def test_access_log_never_carries_query_strings(served):
    base, proc = served
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(base + "/api/v1/customers?phone=13812345678")
    urllib.request.urlopen(base + "/healthz")
    proc.terminate()
    log = proc.communicate(timeout=20)[0].decode()
    assert "GET /api/v1/customers" in log  # the request is logged ...
    assert "13812345678" not in log  # ... without the number the agent searched for


def test_serve_with_worker_runs_the_worker_and_stops_it_too(tmp_path):
    port = _free_port()
    env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cmd = [sys.executable, "-m", "aftersales.cli"]
    subprocess.run([*cmd, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--workers", "1", "--with-worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}")
        children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
        commands = {pid: open(f"/proc/{pid}/cmdline").read().replace("\0", " ") for pid in children}
        workers = [pid for pid, c in commands.items() if "aftersales.cli worker" in c]
        assert len(workers) == 1 and any("granian" in c for c in commands.values()), commands
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not os.path.exists(f"/proc/{workers[0]}") or "Z" in open(f"/proc/{workers[0]}/stat").read().split()[2]
