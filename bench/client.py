"""A small sequential HTTP client (http.client, one keep-alive connection) for latency figures, and
the gunicorn server the benchmark drives, with the numbers read from /proc about its workers."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def vm_hwm_kb(pid: int) -> int:
    """A process's peak resident memory so far (VmHWM, kB); 0 once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

class Client:
    """One connection kept open between requests, as a browser or an integration would keep it."""

    def __init__(self, port: int, *, token: str = "", cookie: str = "", timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.headers = {"Accept-Language": "zh-hans"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if cookie:
            self.headers["Cookie"] = cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {**self.headers, **(headers or {})}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except (http.client.HTTPException, OSError):
            # The server closed the kept connection: reconnect once, as any keep-alive client does.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            return resp.status, resp.read()

    def close(self) -> None:
        self.conn.close()


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed_requests(client: Client, calls, *, max_requests: int, max_seconds: float, expect=(200,)) -> dict:
    """Run ``calls`` (an iterable of (method, path, body)) one at a time, bounded in count and time;
    returns the latencies (ms) of the answers and any unexpected statuses."""
    latencies, bad = [], {}
    deadline = time.monotonic() + max_seconds
    started = time.monotonic()
    for n, (method, path, body) in enumerate(calls):
        if n >= max_requests or time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        status, _ = client.request(method, path, body)
        latencies.append((time.perf_counter() - t0) * 1000)
        if status not in expect:
            bad[status] = bad.get(status, 0) + 1
    elapsed = time.monotonic() - started
    return {"count": len(latencies), "seconds": elapsed, "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95), "unexpected": bad}


@dataclass
class Server:
    """`aftersales serve` (gunicorn) on 127.0.0.1 with a free port; output goes to a log file."""

    env: dict
    workers: int = 2
    log_path: Path = Path("bench-server.log")
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    # Another WSGI application served by the same granian command line as `aftersales serve` (the floor).
    wsgi_app: str = ""

    def start(self, timeout: float = 60) -> None:
        log = open(self.log_path, "ab")
        argv = [sys.executable, "-m", "aftersales.cli", "serve", "--port", str(self.port), "--workers",
                str(self.workers), "--no-migrate"]
        if self.wsgi_app:
            from aftersales.core.management.commands.serve import server_argv

            argv = [a if a != "aftersales.wsgi:application" else self.wsgi_app
                    for a in server_argv(host="127.0.0.1", port=self.port, workers=self.workers, threads=4)]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                # 503 is an answer too: /healthz reports a stale SLA sweep, and the bench runs no worker.
                if c.getresponse().status in (200, 503) and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(p) for p in children]

    def cpu_ms(self) -> float:
        """User + system CPU of the workers so far (fields 14 and 15 of /proc/<pid>/stat)."""
        total = 0
        for pid in self.worker_pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total * 1000 / CLK_TCK

    def rss_peak_mb(self) -> float | None:
        """The largest worker's peak resident memory (VmHWM)."""
        peaks = [kb / 1024 for kb in map(vm_hwm_kb, self.worker_pids()) if kb]
        return max(peaks) if peaks else None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
