"""Monitoring several nodes (issue 19; docs/deploy.md "Monitoring"): Prometheus scrapes every web node
by itself, as docs/deploy/prometheus.yml says, and HAProxy's own exporter.

Two web nodes in production mode (AFTERSALES_PRODUCTION=1: pages redirect plain HTTP to HTTPS) behind
HAProxy with docs/deploy/haproxy.cfg. HAProxy's health check and the scrape come over plain HTTP
straight to the nodes, so the nodes must answer /readyz and /metrics without the redirect (else
HAProxy takes every node out and Prometheus gets a 301). Requests through the load balancer are
then counted once across the nodes' own /metrics, by neither node alone.
"""

from __future__ import annotations

import http.client
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from bench.cluster import METRICS_TOKEN, Cluster, call

ROOT = Path(__file__).resolve().parents[2]
ROUTE = "/api/v1/orders"


def scrape(port: int, *, token: str | None = METRICS_TOKEN, host: str = "127.0.0.1") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Host": host, **({"Authorization": f"Bearer {token}"} if token else {})}
        conn.request("GET", "/metrics", headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def listed(text: str, route: str) -> float:
    """The node's count of answered GETs of ``route`` (200s)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if (s.name == "aftersales_http_requests_total" and s.labels.get("route") == route
                    and s.labels.get("method") == "GET" and s.labels.get("status") == "200"):
                total += s.value
    return total


def test_each_node_is_scraped_by_itself_and_together_they_count_every_request_once(pg, prepared, tmp_path):
    jobs = {job["job_name"]: job for job in yaml.safe_load((ROOT / "docs/deploy/prometheus.yml").read_text())["scrape_configs"]}
    node_job = jobs["aftersales"]
    assert node_job["scheme"] == "http" and node_job["metrics_path"] == "/metrics"
    assert node_job["authorization"]["type"] == "Bearer"
    assert len(node_job["static_configs"][0]["targets"]) == 2  # one target per node, not the load balancer

    db, tokens = prepared
    cluster = Cluster(tmp_path, pg=pg, db=db, nodes=2, workers=0, AFTERSALES_PRODUCTION="1",
                      AFTERSALES_ALLOWED_HOSTS="127.0.0.1", AFTERSALES_TRUSTED_PROXIES="1")
    try:
        # LoadBalancer.start waits until HAProxy answers /readyz?scope=node with 200: its checks reached
        # the production nodes over plain HTTP and found them up.
        cluster.start(tokens=tokens)
        ports = [node.port for node in cluster.nodes]
        # A page on the same plain-HTTP port still redirects to HTTPS: only the probes are exempt.
        status, _body, hdrs = call(ports[0], "GET", "/queue/")
        assert status == 301 and hdrs["location"].startswith("https://")
        # Without the token there is nothing to read.
        assert scrape(ports[0], token=None)[0] == 401

        before = {}
        for port in ports:
            status, text = scrape(port)
            assert status == 200, text[:200]
            before[port] = listed(text, ROUTE)
        n = 20
        for _ in range(n):
            # As nginx or HAProxy with TLS in front would send it: the request came over HTTPS.
            status, body, _ = call(cluster.lb.port, "GET", ROUTE, token=tokens["agent"],
                                   headers={"X-Forwarded-Proto": "https"})
            assert status == 200, body
        counted = {}
        for port in ports:
            status, text = scrape(port)
            assert status == 200
            counted[port] = listed(text, ROUTE) - before[port]
        assert sum(counted.values()) == n, counted
        assert all(0 < c < n for c in counted.values()), counted  # round robin: each node saw a part

        # HAProxy's exporter, the second job: both nodes up, and the backend's responses counted.
        conn = http.client.HTTPConnection("127.0.0.1", cluster.lb.stats_port, timeout=10)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode()
        assert resp.status == 200
        states = {s.labels["server"]: s.value for f in text_string_to_metric_families(text) for s in f.samples
                  if s.name == "haproxy_server_status" and s.labels.get("proxy") == "web" and s.labels.get("state") == "UP"}
        assert states == {"web1": 1.0, "web2": 1.0}, states
        responses = sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                        if s.name == "haproxy_backend_http_responses_total" and s.labels.get("proxy") == "web"
                        and s.labels.get("code") == "2xx")
        assert responses >= n
    finally:
        cluster.stop()
