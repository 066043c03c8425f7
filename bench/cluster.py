"""The cluster on one machine (issue 19): PostgreSQL primary + streaming replica, web nodes
(`aftersales serve`), workers (`aftersales worker`) and HAProxy in front, each a real process that
can be killed and started again; and the fault run that proves nothing is lost or doubled.

    python bench/cluster.py up                 # make cluster: the demo behind HAProxy, until Ctrl+C
    python bench/cluster.py bench --seconds 60 # make bench-cluster: faults + throughput -> bench/cluster.json

Everything comes from Debian's packages (postgresql, haproxy) and this project's own commands.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pgpair import PgPair, free_port  # noqa: E402

CLI = [sys.executable, "-m", "aftersales.cli"]
METRICS_TOKEN = "cluster-test-metrics-token"


class Site:
    """The shared configuration of every process of one deployment."""

    def __init__(self, pg: PgPair, tmp: Path, *, db: str = "aftersales", replica: bool = True, **env: str):
        self.pg, self.tmp, self.db = pg, tmp, db
        self.env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp), "DATABASE_URL": pg.url(db),
                    "AFTERSALES_FAST_HASHER": "1", "AFTERSALES_LOG_LEVEL": "WARNING",
                    "AFTERSALES_SECRET_KEY": "cluster-test-secret-key-" + "x" * 30,
                    "AFTERSALES_METRICS_TOKEN": METRICS_TOKEN, **env}
        if replica:
            self.env["DATABASE_REPLICA_URL"] = pg.url(db, "replica")
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    def setup(self, *, customers: int = 40, users: tuple[str, ...] = ("agent",), orders: int = 0) -> dict[str, str]:
        """A fresh database with the demo's network and archive (no orders); API tokens for ``users``.
        One process for all of it: each `aftersales` start costs seconds on a busy machine."""
        self.pg.sql("primary", f'DROP DATABASE IF EXISTS "{self.db}"')
        self.pg.sql("primary", f'CREATE DATABASE "{self.db}"')
        script = (
            "import io, json, django; django.setup()\n"
            "from django.core.management import call_command\n"
            "call_command('migrate', verbosity=0)\n"
            # A demo seed whose story the services refuse today is skipped (the demo rolls back).
            f"for seed, count in {[(2026, orders), (2029, orders // 3), (2031, orders // 10), (5, 0)] if orders else [(5, 0)]}:\n"
            f"    try: call_command('demo', seed=seed, customers={customers}, machines={400 if orders else customers + 10}, "
            f"orders=count, stdout=io.StringIO()); break\n"
            "    except Exception as exc: print('demo seed', seed, 'failed:', exc)\n"
            "tokens = {}\n"
            f"for u in {list(users)!r}:\n"
            "    out = io.StringIO(); call_command('token', u, 'cluster', stdout=out); tokens[u] = out.getvalue().strip()\n"
            "print(json.dumps(tokens))\n"
        )
        done = subprocess.run([sys.executable, "-c", script], env={**self.env, "DJANGO_SETTINGS_MODULE": "aftersales.settings"},
                              check=True, timeout=1800, capture_output=True, text=True)
        self.tokens = json.loads(done.stdout.strip().splitlines()[-1])
        return self.tokens

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *args], env=self.env, check=True, timeout=300, capture_output=True, text=True)

    def token(self, username: str) -> str:
        return self.manage("token", username, "cluster").stdout.strip()

    def sql(self, query: str, params=()) -> list[tuple]:
        return self.pg.sql("primary", query, params, db=self.db)


class Process:
    def __init__(self, site: Site, argv: list[str], log: str, env: dict[str, str] | None = None):
        self.site, self.argv, self.log = site, argv, site.tmp / log
        self.env = {**site.env, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL to the process group at once: a crash, not a shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class WebNode(Process):
    def __init__(self, site: Site, name: str, *, workers: int = 1, threads: int = 4, port: int | None = None):
        self.port = port or free_port()
        super().__init__(site, [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers",
                                str(workers), "--threads", str(threads), "--no-migrate"], f"{name}.log",
                         # Its own var dir, as on its own machine: `serve` collects the static files there.
                         env={"AFTERSALES_VAR_DIR": str(site.tmp / name)})

    def start(self, wait: bool = True) -> "WebNode":
        super().start()
        if wait:
            self.wait_up()
        return self

    def wait_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"web node on {self.port} did not start; see {self.log}")


class Worker(Process):
    def __init__(self, site: Site, name: str, *, interval: float = 1):
        super().__init__(site, [*CLI, "worker", "--interval", str(interval), "--worker-id", name], f"{name}.log")


def call(port: int, method: str, path: str, *, token: str | None = None, body=None, headers=None,
         timeout: float = 10) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one request to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"_text": raw.decode(errors="replace")}
        return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


class LoadBalancer(Process):
    """HAProxy with docs/deploy/haproxy.cfg, round robin over the web nodes, health-checked."""

    def __init__(self, site: Site, nodes: list[WebNode], *, port: int | None = None):
        self.port, self.stats_port = port or free_port(), free_port()
        servers = "\n".join(f"    server {n.log.stem} 127.0.0.1:{n.port} check" for n in nodes)
        config = (ROOT / "docs/deploy/haproxy.cfg").read_text()
        config = config.replace("\n@SERVERS@\n", f"\n{servers}\n")
        for key, value in {"@BIND@": f"127.0.0.1:{self.port}", "@STATS@": f"127.0.0.1:{self.stats_port}",
                           "@HOST@": "127.0.0.1"}.items():
            config = config.replace(key, value)
        path = site.tmp / "haproxy.cfg"
        path.write_text(config)
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        super().__init__(site, [binary, "-f", str(path), "-db"], "haproxy.log")

    def start(self) -> "LoadBalancer":
        super().start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if call(self.port, "GET", "/readyz?scope=node", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"HAProxy did not answer; see {self.log}")


class SmsProvider:
    """Plays the SMS provider (HttpSmsGateway): counts every message it accepted, by message id."""

    def __init__(self):
        self.received: Counter[str] = Counter()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                provider.received[body.get("message_id", "")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


class Cluster:
    """pg pair + `nodes` web nodes + `workers` workers + HAProxy, on one machine."""

    def __init__(self, tmp: Path, *, nodes: int = 2, workers: int = 2, node_workers: int = 1, db: str = "aftersales",
                 lb_port: int | None = None, pg: PgPair | None = None, **env: str):
        self.tmp = tmp
        self.own_pg = pg is None  # a pair handed in (the tests share one) is not stopped here
        self.pg = pg or PgPair().start()
        self.sms = SmsProvider()
        self.site = Site(self.pg, tmp, db=db, AFTERSALES_SMS_GATEWAY="aftersales.notify.gateways.HttpSmsGateway",
                         AFTERSALES_SMS_URL=self.sms.url, AFTERSALES_SLA_SWEEP_INTERVAL="1",
                         AFTERSALES_NOTIFY_CLAIM_SECONDS="5", **env)
        self.nodes = [WebNode(self.site, f"web{i + 1}", workers=node_workers) for i in range(nodes)]
        self.workers = [Worker(self.site, f"worker{i + 1}") for i in range(workers)]
        self.lb = LoadBalancer(self.site, self.nodes, port=lb_port)

    def start(self, *, customers: int = 40, demo: bool = False, tokens: dict[str, str] | None = None) -> "Cluster":
        """``tokens``: the database is already set up (by Site.setup) with these API tokens."""
        if tokens:
            self.site.tokens = tokens
        else:
            # With ``demo``: the demo's orders as `make run` shows them, written to the cluster's primary.
            self.site.setup(customers=300 if demo else customers, users=("agent", "coordinator"),
                            orders=200 if demo else 0)
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            node.wait_up()
        for worker in self.workers:
            worker.start()
        self.lb.start()
        return self

    def stop(self) -> None:
        for proc in [self.lb, *self.workers, *self.nodes]:
            proc.stop()
        self.sms.stop()
        if self.own_pg:
            self.pg.stop()


# --- the fault run --------------------------------------------------------------------------------

class Workload:
    """Clients through the load balancer: each takes an order (Idempotency-Key, retried with the same
    key on any failure) and forwards it (retried; a 409 after a lost answer is checked, not redone)."""

    def __init__(self, cluster: Cluster, *, clients: int, orders_each: int, port: int | None = None):
        self.cluster, self.clients, self.orders_each = cluster, clients, orders_each
        self.port = port or cluster.lb.port
        self.tokens = cluster.site.tokens
        self.machines = cluster.site.sql("SELECT id, owner_id FROM registry_machine WHERE owner_id IS NOT NULL ORDER BY id")
        self.run_id = uuid.uuid4().hex[:8]
        self.acknowledged: dict[str, int] = {}
        self.forwarded: set[int] = set()
        self.errors = Counter()
        self.lock = threading.Lock()

    def _call(self, method, path, token, body=None, headers=None, deadline=0.0):
        while time.monotonic() < deadline:
            try:
                status, data, _ = call(self.port, method, path, token=token, body=body, headers=headers, timeout=10)
            except (OSError, http.client.HTTPException) as exc:
                with self.lock:
                    self.errors[type(exc).__name__] += 1
                time.sleep(0.1)
                continue
            if status >= 500:
                with self.lock:
                    self.errors[f"http_{status}"] += 1
                time.sleep(0.1)
                continue
            return status, data
        raise TimeoutError(f"{method} {path} never answered")

    def client(self, n: int, deadline: float) -> None:
        agent, coordinator = self.tokens["agent"], self.tokens["coordinator"]
        for i in range(self.orders_each):
            machine_id, owner_id = self.machines[(n * self.orders_each + i) % len(self.machines)]
            key = f"cl-{self.run_id}-{n}-{i}"
            body = {"order_type": "repair", "customer_id": owner_id, "machine_id": machine_id,
                    "symptom": f"液压提升无力 集群测试 {self.run_id} {n}-{i}", "duplicate_reason": "集群测试"}
            status, order = self._call("POST", "/api/v1/orders", agent, body, {"Idempotency-Key": key}, deadline)
            assert status == 201, (status, order)
            with self.lock:
                self.acknowledged[key] = order["id"]
            status, answer = self._call("POST", f"/api/v1/orders/{order['id']}/actions/forward", coordinator,
                                        {"version": order["version"], "data": {}}, deadline=deadline)
            if status == 409:  # our forward went through but its answer was lost: the order says so
                status, now = self._call("GET", f"/api/v1/orders/{order['id']}", coordinator, deadline=deadline)
                assert now["version"] > order["version"], now
                status = 200
            assert status == 200, (status, answer)
            with self.lock:
                self.forwarded.add(order["id"])

    def run(self, *, timeout: float = 300, during=None) -> float:
        """Run every client to the end; ``during()`` (the faults) runs meanwhile. Seconds taken."""
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        threads = [threading.Thread(target=self.client, args=(n, deadline)) for n in range(self.clients)]
        for t in threads:
            t.start()
        if during is not None:
            during(self)
        for t in threads:
            t.join()
        return time.monotonic() - started


def kill_and_restart(cluster: Cluster, *, after_orders: int, down_seconds: float = 2.0):
    """The faults: once ``after_orders`` are acknowledged, SIGKILL one web node and one worker,
    leave them down a moment, start them again."""

    def during(load: Workload) -> None:
        deadline = time.monotonic() + 120
        while len(load.acknowledged) < after_orders and time.monotonic() < deadline:
            time.sleep(0.05)
        cluster.nodes[0].kill()
        cluster.workers[0].kill()
        load.killed_at = len(load.acknowledged)
        time.sleep(down_seconds)
        cluster.workers[0].start()
        cluster.nodes[0].start(wait=False)

    return during


def push_clocks_past_due(cluster: Cluster, order_ids: list[int]) -> int:
    """Time passes for these orders: their running clocks fall due now, so the sweepers of both
    workers race to notice the breaches."""
    if not order_ids:
        return 0
    rows = cluster.site.sql(
        "UPDATE sla_slaclock SET due_at = now() - interval '1 second', warn_at = now() - interval '2 seconds' "
        "WHERE state = 'running' AND breach_noticed_at IS NULL AND order_id = ANY(%s) RETURNING id",
        (order_ids,))
    return len(rows)


def wait_quiet(cluster: Cluster, order_ids: list[int], *, timeout: float = 90) -> None:
    """Until the workers have noticed every pushed clock and sent every message of these orders."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = cluster.site.sql(
            "SELECT (SELECT count(*) FROM sla_slaclock WHERE order_id = ANY(%s) AND state = 'running' "
            "        AND due_at <= now() AND breach_noticed_at IS NULL)"
            " + (SELECT count(*) FROM notify_outboxmessage WHERE status NOT IN ('sent', 'dead'))", (order_ids,))[0][0]
        if pending == 0:
            return
        time.sleep(0.5)
    raise TimeoutError("the workers did not finish the notices")


def check(cluster: Cluster, load: Workload, pushed_orders: list[int]) -> dict:
    """What the issue asks of the fault run, counted from the primary."""
    site = cluster.site
    keys = dict(site.sql("SELECT key, order_id FROM service_idempotencykey WHERE key LIKE %s", (f"cl-{load.run_id}-%",)))
    orders = site.sql("SELECT id, event_seq FROM service_serviceorder WHERE symptom LIKE %s", (f"%{load.run_id}%",))
    ids = [o for o, _ in orders]
    lost = sum(1 for key, oid in load.acknowledged.items() if keys.get(key) != oid or oid not in ids)
    duplicated = len(ids) - len(set(keys.values()) & set(ids))
    events: dict[int, list[tuple[int, str]]] = {}
    for oid, seq, action in site.sql("SELECT order_id, seq, action FROM service_orderevent WHERE order_id = ANY(%s) "
                                     "ORDER BY order_id, seq", (ids,)):
        events.setdefault(oid, []).append((seq, action))
    broken = [oid for oid, seq in orders
              if [s for s, _ in events.get(oid, [])] != list(range(1, seq + 1))
              or events[oid][0][1] != "create"
              or (oid in load.forwarded and [a for _, a in events[oid]].count("forward") != 1)]
    breaches = site.sql("SELECT count(*) FILTER (WHERE breach_noticed_at IS NOT NULL), count(*) FROM sla_slaclock "
                        "WHERE order_id = ANY(%s) AND due_at <= now()", (pushed_orders,))[0]
    # One sla_breach notice per clock and recipient: never two for the same (order, channel, recipient).
    breach_notices_doubled = site.sql(
        "SELECT count(*) FROM (SELECT order_id, channel, recipient, count(*) AS n FROM notify_outboxmessage "
        "WHERE template = 'sla_breach' AND order_id = ANY(%s) GROUP BY 1, 2, 3) g "
        "JOIN (SELECT order_id, count(*) AS clocks FROM sla_slaclock WHERE breach_noticed_at IS NOT NULL "
        "GROUP BY 1) c USING (order_id) WHERE g.n > c.clocks", (pushed_orders,))[0][0]
    sms_ids = [str(m) for (m,) in site.sql("SELECT message_id FROM notify_outboxmessage WHERE channel = 'sms' "
                                            "AND status = 'sent' AND order_id = ANY(%s)", (ids,))]
    received = cluster.sms.received
    return {
        "acknowledged": len(load.acknowledged),
        "lost": lost,
        "duplicated": duplicated,
        "timelines_broken": len(broken),
        "forwarded": len(load.forwarded),
        "breaches_pushed": breaches[1],
        "breaches_noticed": breaches[0],
        "breach_notices_doubled": breach_notices_doubled,
        "notifications_sent": len(sms_ids),
        "notifications_unreceived": sum(1 for m in sms_ids if received[m] == 0),
        "notifications_duplicated": sum(1 for m in sms_ids if received[m] > 1),
        "client_retries": dict(load.errors),
    }


def fault_run(cluster: Cluster, *, clients: int, orders_each: int) -> dict:
    """Intake and actions through the load balancer while web node 1 and worker 1 are SIGKILLed and
    restarted mid-run; then half the orders' clocks fall due while the replica lags; then count."""
    load = Workload(cluster, clients=clients, orders_each=orders_each)
    total = clients * orders_each
    load.killed_at = None
    seconds = load.run(during=kill_and_restart(cluster, after_orders=max(1, total // 3)))
    cluster.nodes[0].wait_up()
    ids = sorted(load.acknowledged.values())
    pushed = ids[::2]
    # The replica lags (WAL replay paused) while the sweeps run: nothing may depend on it.
    cluster.pg.sql("replica", "SELECT pg_wal_replay_pause()")
    try:
        push_clocks_past_due(cluster, pushed)
        cluster.workers[1].kill()  # the other worker dies too, mid-sweep or not, and comes back
        time.sleep(0.5)
        cluster.workers[1].start()
        wait_quiet(cluster, ids)
    finally:
        cluster.pg.sql("replica", "SELECT pg_wal_replay_resume()")
    result = check(cluster, load, pushed)
    result["killed_after_acknowledged"] = load.killed_at
    result["seconds"] = round(seconds, 1)
    return result


def throughput(cluster: Cluster, *, port: int, clients: int, orders_each: int) -> float:
    """Intake + forward pairs per second through ``port`` (a node alone, or the load balancer)."""
    load = Workload(cluster, clients=clients, orders_each=orders_each, port=port)
    seconds = load.run()
    return round(len(load.acknowledged) / seconds, 1)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the cluster with the demo and wait (Ctrl+C stops)")
    up.add_argument("--port", type=int, default=8080, help="HAProxy's port (default 8080)")
    bench = sub.add_parser("bench", help="the fault run and the throughput, into bench/cluster.json")
    bench.add_argument("--clients", type=int, default=16)
    bench.add_argument("--orders-each", type=int, default=25)
    bench.add_argument("--out", default=str(ROOT / "bench/cluster.json"))
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="aftersales-cluster-"))

    def interrupted(signum, frame):
        raise KeyboardInterrupt  # SIGTERM too: stop every process and the PostgreSQL pair on the way out

    signal.signal(signal.SIGTERM, interrupted)
    if args.command == "up":
        cluster = Cluster(tmp, lb_port=args.port)
        try:
            try:
                cluster.start(demo=True)
            except KeyboardInterrupt:
                return
            print(f"aftersales cluster: http://127.0.0.1:{args.port}/ (HAProxy; stats on "
                  f"http://127.0.0.1:{cluster.lb.stats_port}/)")
            print(f"  primary {cluster.pg.url(cluster.site.db)}  replica {cluster.pg.url(cluster.site.db, 'replica')}")
            print(f"  web nodes {[n.port for n in cluster.nodes]}, workers 2, logs in {tmp}; demo users as `make run`")
            # Per node, as Prometheus scrapes them (docs/deploy/prometheus.yml): through HAProxy a scrape
            # sees whichever node answered.
            for node in cluster.nodes:
                print(f"  metrics of {node.log.stem}: curl -H 'Authorization: Bearer {METRICS_TOKEN}' "
                      f"http://127.0.0.1:{node.port}/metrics")
            print(f"  HAProxy's exporter: curl http://127.0.0.1:{cluster.lb.stats_port}/metrics")
            sys.stdout.flush()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        finally:
            cluster.stop()
        return

    cluster = Cluster(tmp)
    try:
        cluster.start(customers=200)
        result = fault_run(cluster, clients=args.clients, orders_each=args.orders_each)
        # Throughput: the same intake + forward, first straight at one node, then through HAProxy to two.
        result["throughput_1_node"] = throughput(cluster, port=cluster.nodes[1].port, clients=args.clients,
                                                 orders_each=args.orders_each)
        result["throughput_2_nodes"] = throughput(cluster, port=cluster.lb.port, clients=args.clients,
                                                  orders_each=args.orders_each)
        result["throughput_unit"] = "orders taken and forwarded per second"
        result["machine"] = f"{os.cpu_count()} CPU, shared"
        result["date"] = time.strftime("%Y-%m-%d")
    finally:
        cluster.stop()
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
