"""The README's repair flow in curl (issue 11, item 5) is the integrator's first contact with the API:
this test runs that very block, unchanged, with bash and curl against a real server (`aftersales
serve` on the demo network), and checks the order went through every step of the seed's repair flow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.live import LiveSite
from tests.service.helpers import png_bytes

ROOT = Path(__file__).resolve().parent.parent
FLOW = ["create", "forward", "callback", "confirm_mode", "dispatch", "accept", "assign", "tech_accept", "check_in",
        "record_service", "check_out", "attach", "confirm", "rate"]  # attach: the signature image


def readme_flow() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- curl-flow[^>]*-->\n```sh\n(.*?)```", text, re.S)
    assert match, "the README's curl flow block is missing"
    return match.group(1)


@pytest.fixture
def site(tmp_path):
    live = LiveSite(tmp_path, workers=1)
    live.setup()
    live.start()
    try:
        yield live
    finally:
        live.stop()


def test_the_readme_repair_flow_runs_against_a_live_server(site, tmp_path):
    """Seed: 热线接听 -> 15-minute handoff -> call-back -> 派工 -> on-site service -> confirmation -> 服务反馈."""
    signature = tmp_path / "signature.png"
    signature.write_bytes(png_bytes())
    bin_dir = tmp_path / "bin"
    (bin_dir / ".venv" / "bin").mkdir(parents=True)
    # The README calls `.venv/bin/aftersales`: the same console command, run by this interpreter.
    launcher = bin_dir / ".venv" / "bin" / "aftersales"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} -m aftersales.cli \"$@\"\n")
    launcher.chmod(0o755)
    env = {**site.env, "API": f"http://127.0.0.1:{site.port}/api/v1", "SIGNATURE": str(signature),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_flow()], cwd=bin_dir, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "rate -> closed" in run.stdout, run.stdout
    (order_id, status, outside), = site.sql(
        "SELECT id, status, outside_coverage FROM service_serviceorder ORDER BY id DESC LIMIT 1")
    assert status == "closed" and not outside
    actions = [a for (a,) in site.sql("SELECT action FROM service_orderevent WHERE order_id = ? ORDER BY seq", (order_id,))]
    assert actions == FLOW
    (data,) = site.sql("SELECT data FROM service_orderevent WHERE order_id = ? AND action = 'check_in'", (order_id,))[0]
    assert '"unscheduled": true' in data
