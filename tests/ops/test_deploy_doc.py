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


def test_the_deploy_guide_shows_the_prometheus_jobs_file_and_they_scrape_every_node_by_itself():
    import yaml

    doc = (ROOT / "docs/deploy.md").read_text()
    config = (ROOT / "docs/deploy/prometheus.yml").read_text()
    assert "```yaml\n" + config + "```" in doc
    jobs = {job["job_name"]: job for job in yaml.safe_load(config)["scrape_configs"]}
    # One target per web node (a scrape through the load balancer would see one node at a time) and
    # HAProxy's exporter on the stats port its config opens.
    assert len(jobs["aftersales"]["static_configs"][0]["targets"]) >= 2
    assert jobs["haproxy"]["metrics_path"] == "/metrics"
    assert "prometheus-exporter if { path /metrics }" in (ROOT / "docs/deploy/haproxy.cfg").read_text()
