"""The Asterisk AMI adapter against a local AMI stand-in: a TCP server speaking the manager protocol
(banner, Login, event blocks) whose queue events reach the live site as call events."""

from __future__ import annotations

import socket
import threading

import pytest

from aftersales.calls import ami, services
from aftersales.calls.client import EventPoster
from aftersales.calls.models import Call, CallbackTask, CallEvent
from tests.support import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def block(**fields) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


def ami_stand_in(events: list[bytes], *, secret: str = "amipass"):
    """One connection: the banner, the login checked, then the events in two TCP chunks (a block split
    across them) and close. Returns (port, thread, what the client sent)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = []

    def serve():
        conn, _addr = server.accept()
        with conn:
            conn.sendall(b"Asterisk Call Manager/7.0.3\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            received.append(data.decode())
            if f"Secret: {secret}\r\n" not in data.decode():
                conn.sendall(block(Response="Error", Message="Authentication failed"))
                return
            conn.sendall(block(Response="Success", Message="Authentication accepted"))
            stream = b"".join(events)
            half = len(stream) // 2 + 7
            conn.sendall(stream[:half])
            conn.sendall(stream[half:])
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], thread, received


def test_ami_queue_events_become_call_events(live_server, net):
    customer = make_customer("赵铁柱", "13812340000", registered_by=net.service_center)
    _system, token, secret = services.phone_system_create(name="Asterisk", organization_id=net.service_center.pk)
    services.extension_set(user=net.agent, extension="8001")
    services.extension_set(user=net.hotline_tech, extension="8101")
    t = 1_764_489_600  # the stand-in's clock (timestampevents=yes)
    events = [
        block(Event="FullyBooted", Status="Fully Booted"),
        block(Event="AgentCalled", Timestamp=f"{t}.000100", Queue="repair", Uniqueid="1764489600.11",
              Linkedid="1764489600.11", CallerIDNum="13812340000", Interface="PJSIP/8001", MemberName="小李"),
        block(Event="AgentConnect", Timestamp=f"{t + 6}.2", Queue="repair", Uniqueid="1764489600.11",
              Linkedid="1764489600.11", CallerIDNum="13812340000", Interface="PJSIP/8001", HoldTime="6", RingTime="6"),
        # The same event again (Asterisk sends it per channel): recorded once.
        block(Event="AgentConnect", Timestamp=f"{t + 6}.2", Queue="repair", Uniqueid="1764489600.11",
              Linkedid="1764489600.11", CallerIDNum="13812340000", Interface="PJSIP/8001"),
        block(Event="VarSet", Uniqueid="1764489600.11", Linkedid="1764489600.11", Variable="MIXMONITOR_FILENAME",
              Value="/var/spool/asterisk/monitor/1764489600.11.wav"),
        block(Event="BlindTransfer", Timestamp=f"{t + 60}", TransfereeUniqueid="1764489600.11",
              TransfereeLinkedid="1764489600.11", TransfereeCallerIDNum="13812340000", Extension="8101"),
        block(Event="AgentComplete", Timestamp=f"{t + 186}", Queue="repair", Uniqueid="1764489600.11",
              Linkedid="1764489600.11", CallerIDNum="13812340000", Interface="PJSIP/8101", TalkTime="180",
              Reason="caller"),
        block(Event="AgentCalled", Timestamp=f"{t + 300}", Queue="complaint", Uniqueid="1764489900.12",
              Linkedid="1764489900.12", CallerIDNum="13655557777", Interface="PJSIP/8001"),
        block(Event="QueueCallerAbandon", Timestamp=f"{t + 330}", Queue="complaint", Uniqueid="1764489900.12",
              Linkedid="1764489900.12", CallerIDNum="13655557777", HoldTime="30"),
    ]
    port, thread, received = ami_stand_in(events)
    poster = EventPoster(live_server.url, token, secret)
    posted = ami.run(host="127.0.0.1", port=port, username="aftersales", secret="amipass", post=poster.post, timeout=10)
    thread.join(5)
    assert "Action: Login\r\nUsername: aftersales\r\n" in received[0]
    assert posted == 7
    first = Call.objects.get(call_id="1764489600.11")
    assert (first.customer, first.state, first.outcome, first.queue) == (customer, "ended", "answered", "repair")
    assert first.ring_seconds == pytest.approx(6.2, abs=0.01) and first.talk_seconds == pytest.approx(179.8, abs=0.01)
    assert first.transfers == 1 and first.agent == net.hotline_tech and first.extension == "8101"
    assert first.recording == "/var/spool/asterisk/monitor/1764489600.11.wav"
    assert CallEvent.objects.filter(call=first).count() == 4  # ringing, answered (once), transferred, ended
    second = Call.objects.get(call_id="1764489900.12")
    assert (second.outcome, second.caller, second.agent) == ("abandoned", "+8613655557777", net.agent)
    assert CallbackTask.objects.get().call == second


def test_a_refused_ami_login_is_an_error():
    port, thread, _received = ami_stand_in([], secret="right")
    with pytest.raises(PermissionError):
        ami.run(host="127.0.0.1", port=port, username="aftersales", secret="wrong", post=lambda e: None, timeout=10)
    thread.join(5)


def test_the_simulated_day_reaches_the_site_whole(live_server, net):
    from aftersales.calls import simulate

    _system, token, secret = services.phone_system_create(name="Asterisk", organization_id=net.service_center.pk)
    services.extension_set(user=net.agent, extension="8001")
    planned = simulate.plan_day(calls=400, extensions=["8001"], known_numbers=["13812340000"], seed=7)
    calls = {p.event["call_id"] for p in planned}
    abandoned = {p.event["call_id"] for p in planned if p.event["kind"] == "ended"} - {
        p.event["call_id"] for p in planned if p.event["kind"] == "answered"}
    # A believable day: some calls abandoned, most answered.
    assert 0.03 < len(abandoned) / len(calls) < 0.15
    day = [p for p in planned if p.event["call_id"] in sorted(calls)[:12]]
    sent = simulate.play(day, EventPoster(live_server.url, token, secret).post, speed=1e9)
    assert sent == len(day) == CallEvent.objects.count()
    assert Call.objects.count() == 12 and not Call.objects.exclude(state="ended").exists()
