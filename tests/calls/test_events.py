"""The phone system's event API: signed per integration, replays and forgeries refused, each event
acted on once; the call log, the agents' figures, late answers and abandoned calls turned callbacks."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from aftersales.calls import services
from aftersales.calls.models import Call, CallbackTask, CallEvent
from tests.calls.helpers import event, post_event
from tests.support import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cti(net):
    system, token, secret = services.phone_system_create(name="Asterisk", organization_id=net.service_center.pk)
    services.extension_set(user=net.agent, extension="8001")
    return system, token, secret


def test_signed_events_make_one_call_and_a_second_delivery_does_not_act_twice(client, net, cti):
    _system, token, secret = cti
    customer = make_customer("王建国", "13912345678", registered_by=net.service_center)
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    r = post_event(client, token, secret, event("e1", "c1", "ringing", at=start, queue="repair"))
    assert r.status_code == 200, r.content
    assert r.json() == {"call_id": "c1", "state": "ringing", "outcome": "", "duplicate": False}
    call = Call.objects.get(call_id="c1")
    assert call.customer == customer and call.agent == net.agent and call.caller == "+8613912345678"
    # The phone system retries the same event (new timestamp, so a new signature): recorded once.
    r = post_event(client, token, secret, event("e1", "c1", "ringing", at=start), timestamp=int(time.time()) - 1)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    post_event(client, token, secret, event("e2", "c1", "answered", at=start + timedelta(seconds=20)))
    r = post_event(client, token, secret, event("e3", "c1", "ended", at=start + timedelta(seconds=200),
                                                recording="rec/2026/c1.wav"))
    assert r.json() == {"call_id": "c1", "state": "ended", "outcome": "answered", "duplicate": False}
    assert CallEvent.objects.filter(call__call_id="c1").count() == 3
    call.refresh_from_db()
    assert call.ring_seconds == 20 and call.talk_seconds == 180 and call.late  # 20 s > three rings (15 s)
    assert call.recording == "rec/2026/c1.wav"
    assert not CallbackTask.objects.exists()
    # The customer's call log and the agent's figures, read by a supervisor.
    token_sup = net.token(net.supervisor)
    status, log = _get(client, f"/api/v1/calls?customer={customer.pk}", token_sup)
    assert status == 200 and [c["call_id"] for c in log] == ["c1"] and log[0]["caller"] == "+8613912345678"
    day = start.astimezone(timezone(timedelta(hours=8))).date().isoformat()
    status, agents = _get(client, f"/api/v1/calls/agents?day={day}", token_sup)
    assert agents == [{"agent_id": net.agent.pk, "agent": "话务代表小李", "extension": "8001", "answered": 1, "late": 1,
                       "ring_seconds": 20.0, "talk_seconds": 180.0}]
    # A partner sees only its own organization's calls: none of the service center's.
    status, log = _get(client, "/api/v1/calls", net.token(net.agency_tech))
    assert status == 200 and log == []
    status, _body = _get(client, f"/api/v1/calls?customer={customer.pk}", net.token(net.other_agency_tech))
    assert status == 404


def test_a_retry_naming_another_call_leaves_no_call_behind_and_an_event_costs_few_statements(client, net, cti):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _system, token, secret = cti
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    assert post_event(client, token, secret, event("r1", "c7", "ringing", at=start)).json()["duplicate"] is False
    # The same event id again, but naming a call never seen: answered as the duplicate it is, and the
    # call it named is not created (the transaction that would have made it is rolled back).
    r = post_event(client, token, secret, event("r1", "c8", "ringing", at=start))
    assert r.status_code == 200 and r.json()["duplicate"] is True and r.json()["call_id"] == "c7"
    assert list(Call.objects.values_list("call_id", flat=True)) == ["c7"]
    # An answer on a known call: the transaction (here a savepoint and its release, inside the
    # test's own transaction), the replay guard (which also checks the integration is still active),
    # the call's locked row, the event row, the call's update (the agent looked up inside it). The
    # integration comes from the process's cache; no callback statement when a call simply ends
    # (docs/performance.md, "Phone-system events").
    with CaptureQueriesContext(connection) as ctx:
        r = post_event(client, token, secret, event("r2", "c7", "answered", at=start + timedelta(seconds=5)))
    assert r.json()["state"] == "answered"
    assert len(ctx.captured_queries) == 6, [q["sql"][:80] for q in ctx.captured_queries]
    with CaptureQueriesContext(connection) as ctx:
        r = post_event(client, token, secret, event("r3", "c7", "ended", at=start + timedelta(seconds=65)))
    assert r.json() == {"call_id": "c7", "state": "ended", "outcome": "answered", "duplicate": False}
    assert len(ctx.captured_queries) == 6, [q["sql"][:80] for q in ctx.captured_queries]
    # A new call: its row is inserted (the caller's customer looked up inside) instead of read.
    with CaptureQueriesContext(connection) as ctx:
        r = post_event(client, token, secret, event("r4", "c9", "ringing", at=start + timedelta(seconds=70)))
    assert r.json()["state"] == "ringing"
    assert len(ctx.captured_queries) == 7, [q["sql"][:80] for q in ctx.captured_queries]
    assert CallEvent.objects.filter(call__call_id="c7").count() == 3
    c7 = Call.objects.get(call_id="c7")
    assert (c7.agent, c7.ring_seconds, c7.talk_seconds, c7.outcome) == (net.agent, 5.0, 60.0, "answered")
    assert not CallbackTask.objects.exists()


def test_an_integration_deactivated_or_moved_in_another_process_is_seen_on_the_next_event(client, net, cti):
    """The integration is cached per process; the replay guard checks it is still active in the same
    organization, so a change made elsewhere (the admin, another worker) counts from the next event."""
    system, token, secret = cti
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    assert post_event(client, token, secret, event("d1", "k1", "ringing", at=start)).status_code == 200
    assert services._SYSTEMS  # cached by the first event
    # Moved to the Henan branch behind this process's back: the next event's call belongs there.
    type(system).objects.filter(pk=system.pk).update(organization=net.branch_henan)
    r = post_event(client, token, secret, event("d2", "k2", "ringing", at=start))
    assert r.status_code == 200, r.content
    assert Call.objects.get(call_id="k2").organization == net.branch_henan
    # Deactivated the same way: refused at once, nothing recorded.
    type(system).objects.filter(pk=system.pk).update(is_active=False)
    r = post_event(client, token, secret, event("d3", "k3", "ringing", at=start))
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "X-CTI-Token"
    assert not Call.objects.filter(call_id="k3").exists() and not CallEvent.objects.filter(event_id="d3").exists()
    # Active again: accepted at once (an inactive integration is never cached).
    type(system).objects.filter(pk=system.pk).update(is_active=True)
    assert post_event(client, token, secret, event("d4", "k4", "ringing", at=start)).status_code == 200

def _get(client, url, token):
    r = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    return r.status_code, r.json()


def test_forged_stale_and_replayed_events_are_refused_and_change_nothing(client, net, cti):
    _system, token, secret = cti
    body = event("e1", "c1", "ringing")
    # Wrong secret.
    r = post_event(client, token, "0" * 64, body)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"
    assert r.json()["errors"][0]["field"] == "X-CTI-Signature"
    # Unknown token; no token.
    assert post_event(client, "cti_nobody", secret, body).status_code == 401
    assert client.post("/api/v1/calls/events", data=json.dumps(body), content_type="application/json").status_code == 401
    # A user's personal API token is no phone system.
    r = client.post("/api/v1/calls/events", data=json.dumps(body), content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {net.token(net.admin)}")
    assert r.status_code == 401
    # Outside the window, either side.
    r = post_event(client, token, secret, body, timestamp=int(time.time()) - 301)
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "X-CTI-Timestamp"
    assert post_event(client, token, secret, body, timestamp=int(time.time()) + 301).status_code == 401
    # The body changed after signing.
    ts = str(int(time.time()))
    raw = json.dumps(body).encode()
    sig = "sha256=" + services.sign(secret, ts, raw)
    tampered = raw.replace(b"13912345678", b"13800000000")
    r = client.post("/api/v1/calls/events", data=tampered, content_type="application/json",
                    HTTP_X_CTI_TOKEN=token, HTTP_X_CTI_TIMESTAMP=ts, HTTP_X_CTI_SIGNATURE=sig)
    assert r.status_code == 401
    assert not Call.objects.exists()
    # The same signed request twice: the second is a replay.
    first = client.post("/api/v1/calls/events", data=raw, content_type="application/json",
                        HTTP_X_CTI_TOKEN=token, HTTP_X_CTI_TIMESTAMP=ts, HTTP_X_CTI_SIGNATURE=sig)
    assert first.status_code == 200
    again = client.post("/api/v1/calls/events", data=raw, content_type="application/json",
                        HTTP_X_CTI_TOKEN=token, HTTP_X_CTI_TIMESTAMP=ts, HTTP_X_CTI_SIGNATURE=sig)
    assert again.status_code == 401 and again.json()["code"] == "replayed"
    assert CallEvent.objects.count() == 1
    # A valid signature over a bad body: the error contract names the field.
    r = post_event(client, token, secret, {**event("e9", "c9", "ringing"), "kind": "exploded"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"


def test_an_abandoned_call_becomes_a_callback_task_with_its_own_clock(client, net, cti):
    _system, token, secret = cti
    start = datetime.now(timezone.utc) - timedelta(minutes=2)
    post_event(client, token, secret, event("a1", "c2", "ringing", caller="13700001111", at=start))
    r = post_event(client, token, secret, event("a2", "c2", "ended", caller="13700001111", at=start + timedelta(seconds=40)))
    assert r.json()["outcome"] == "abandoned"
    task = CallbackTask.objects.get()
    assert task.number == "+8613700001111" and task.customer is None and task.due_at > task.started_at
    assert task.warn_at <= task.due_at
    token_sup = net.token(net.supervisor)
    status, tasks = _get(client, "/api/v1/calls/callbacks", token_sup)
    assert [t["id"] for t in tasks] == [task.pk] and tasks[0]["clock"] in ("running", "at_risk", "breached")
    r = client.post(f"/api/v1/calls/callbacks/{task.pk}/done", data=json.dumps({"note": "客户已找到配件"}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token_sup}")
    assert r.status_code == 200 and r.json()["state"] == "done"
    r = client.post(f"/api/v1/calls/callbacks/{task.pk}/done", data=json.dumps({}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token_sup}")
    assert r.status_code == 409
    # Another organization's callback is a 404.
    r = client.post(f"/api/v1/calls/callbacks/{task.pk}/done", data=json.dumps({}), content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {net.token(net.agency_tech)}")
    assert r.status_code == 404


def test_events_out_of_order_give_the_same_call(client, net, cti):
    _system, token, secret = cti
    start = datetime.now(timezone.utc) - timedelta(minutes=3)
    # "answered" arrives after "ended": the call was answered, no callback is left open.
    post_event(client, token, secret, event("o1", "c3", "ringing", at=start))
    post_event(client, token, secret, event("o3", "c3", "ended", at=start + timedelta(seconds=90)))
    assert CallbackTask.objects.get().state == "open"
    post_event(client, token, secret, event("o2", "c3", "answered", at=start + timedelta(seconds=5)))
    call = Call.objects.get(call_id="c3")
    assert (call.state, call.outcome, call.ring_seconds, call.late) == ("ended", "answered", 5, False)
    assert CallbackTask.objects.get().state == "cancelled"
