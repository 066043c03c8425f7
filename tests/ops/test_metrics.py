"""Operations (issue 19, item 4): /metrics behind a token, request ids from the page to the SMS,
JSON logs, /readyz on the database, the workers' heartbeats and the outbox lag."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import task
from prometheus_client.parser import text_string_to_metric_families

from aftersales.notify.models import OutboxMessage
from aftersales.notify.services import outbox_deliver, outbox_enqueue
from aftersales.ops.logs import JsonLogFormatter, RequestIdFilter
from aftersales.ops.models import WorkerHeartbeat
from aftersales.ops.services import worker_beat
from tests.service.helpers import create, repair_body, shandong_farmer

TOKEN = "s3cret-scrape-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found, name, **labels):
    return found[(name, tuple(sorted(labels.items())))]


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_need_the_token_or_a_staff_login_and_count_what_operators_watch(net, api, client):
    owner, machine = shandong_farmer()
    status, order = create(api, net, repair_body(owner, machine))
    assert status == 201, order
    worker_beat(worker_id="w-alive")
    worker_beat(worker_id="w-gone", stopped=True)

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    client.force_login(net.agent)  # signed in, but not staff
    assert client.get("/metrics").status_code == 401
    client.logout()

    resp = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/plain")
    found = samples(resp.content.decode())
    assert value(found, "aftersales_orders", status=order["status"]) == 1
    # The intake above was counted under its route pattern and status, with a latency.
    assert value(found, "aftersales_http_requests_total", route="/api/v1/orders", method="POST", status="201") >= 1
    assert value(found, "aftersales_http_request_duration_seconds_count", route="/api/v1/orders", method="POST") >= 1
    for state in ("running", "at_risk", "breached", "paused"):
        assert ("aftersales_sla_clocks", (("state", state),)) in found
    assert sum(value(found, "aftersales_sla_clocks", state=s) for s in ("running", "at_risk", "breached")) >= 1
    assert value(found, "aftersales_outbox_messages", status="pending") == OutboxMessage.objects.filter(status="pending").count()
    assert ("aftersales_outbox_oldest_due_age_seconds", ()) in found
    assert ("aftersales_task_queue", (("status", "READY"),)) in found
    assert value(found, "aftersales_workers_alive") == 1  # the stopped one is not counted
    assert [k for k in found if k[0] == "aftersales_worker_heartbeat_age_seconds"] == [
        ("aftersales_worker_heartbeat_age_seconds", (("host", WorkerHeartbeat.objects.get(worker_id="w-alive").hostname),
                                                     ("worker", "w-alive")))]
    if connection.vendor == "postgresql":
        assert value(found, "aftersales_db_connections", database="default", state="max_connections") > 0
        assert value(found, "aftersales_db_connections", database="default", state="active") >= 1

    client.force_login(net.admin)  # staff in a browser
    assert client.get("/metrics").status_code == 200


def test_the_request_id_follows_the_order_into_its_outbox_messages_and_their_delivery_log(net, api, caplog):
    owner, machine = shandong_farmer()
    status, order = create(api, net, repair_body(owner, machine), HTTP_X_REQUEST_ID="lb-7f3a9c2e11")
    assert status == 201
    messages = OutboxMessage.objects.filter(order_id=order["id"])
    assert messages.exists() and {m.request_id for m in messages} == {"lb-7f3a9c2e11"}

    with caplog.at_level(logging.INFO, logger="aftersales.notify"):
        outbox_deliver()
    sent = [r for r in caplog.records if r.getMessage().endswith(" sent")]
    assert sent and {r.request_id for r in sent} == {"lb-7f3a9c2e11"}

    # A header that is not an id (log injection) is replaced by one of ours, and answered.
    resp = api.client.get("/healthz", HTTP_X_REQUEST_ID="x\nFAKE LOG LINE")
    assert "\n" not in resp["X-Request-ID"] and len(resp["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("aftersales.service", logging.INFO, __file__, 1, "order %s taken", ("SO-1",), None)
    RequestIdFilter().filter(record)
    line = json.loads(JsonLogFormatter().format(record))
    assert line["message"] == "order SO-1 taken" and line["level"] == "INFO" and line["logger"] == "aftersales.service"
    assert line["request_id"] == "-" and "time" in line


@pytest.mark.django_db(transaction=True)  # the worker closes its connection between tasks
def test_readyz_wants_a_live_worker_and_a_flowing_outbox(client):
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.json()["workers"] == {"alive": 0, "ok": False, "stale_after_seconds": 90}
    # The load balancer's check: this node and its database only.
    assert client.get("/readyz?scope=node").json() == {"database": {"ok": True}, "status": "ready"}

    call_command("worker", "--once")  # a real worker loop: it reports, runs its tasks, says it stopped
    beat = WorkerHeartbeat.objects.get()
    assert beat.stopped
    worker_beat(worker_id=beat.worker_id)  # running again
    body = client.get("/readyz").json()
    assert body["status"] == "ready" and body["database"] == {"ok": True} and body["outbox"]["ok"]

    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=5))  # silent worker
    assert client.get("/readyz").status_code == 503
    worker_beat(worker_id=beat.worker_id)
    with transaction.atomic():
        outbox_enqueue(channel="email", recipient="ops@example.com", template="sla_breach", context={},
                       available_at=timezone.now() - timedelta(hours=1), webhooks=False)
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.json()["outbox"]["ok"] is False


def test_a_task_queued_in_a_request_logs_the_request_id_and_runs_under_its_own(db, caplog):
    from aftersales.ops.context import current_request_id, reset_request_id, set_request_id
    from aftersales.ops import signals
    from aftersales.sla.tasks import recompute_clocks

    token = set_request_id("req-0123456789")
    try:
        with caplog.at_level(logging.INFO, logger="aftersales.tasks"):
            result = recompute_clocks.enqueue()
    finally:
        reset_request_id(token)
    queued = [r for r in caplog.records if r.getMessage() == "task queued"]
    assert [(r.queued_by, r.task_id) for r in queued] == [("req-0123456789", str(result.id))]
    # The worker's side: between start and finish, every line (and outbox message) says task-<id>.
    signals._started(None, task_result=result)
    assert current_request_id() == f"task-{result.id}"
    signals._finished(None, task_result=result)
    assert current_request_id() == ""


@task()
def _task_that_fails():
    raise RuntimeError("打印机卡纸")


@pytest.mark.django_db(transaction=True)  # the worker closes its connection between tasks
def test_the_worker_log_shows_failed_tasks_not_each_periodic_success(caplog):
    """Every half minute the worker runs nine periodic tasks; at the default level their start and
    success lines are not logged (they buried everything else), a failure still is, with its error."""
    _task_that_fails.enqueue()
    with caplog.at_level(logging.DEBUG):
        call_command("worker", "--once")
    tasks = [r for r in caplog.records if r.name.startswith("django_tasks")]
    assert not [r for r in tasks if "state=SUCCESSFUL" in r.getMessage() or "state=RUNNING" in r.getMessage()]
    failed = [r for r in tasks if r.levelno >= logging.ERROR]
    assert failed and "打印机卡纸" in "".join(str(r.exc_info[1]) for r in failed if r.exc_info), [r.getMessage() for r in tasks]
