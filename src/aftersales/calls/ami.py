"""Asterisk's manager interface (AMI) to the call-event API: the plain AMI protocol over TCP (a banner
line, then blocks of ``Key: Value`` lines ended by an empty line), no library needed.

Queue events are mapped to the API's events; the call id is the caller channel's Linkedid (the same
through transfers), and each event id is derived from the call and what happened, so an event the
adapter sends twice (after a reconnect) is recorded once by the site.

  AgentCalled          -> ringing      (extension from the member's Interface, e.g. PJSIP/8001)
  AgentConnect         -> answered
  BlindTransfer /
  AttendedTransfer     -> transferred  (extension: the transfer target)
  AgentComplete        -> ended        (answered earlier)
  QueueCallerAbandon   -> ended        (never answered: the site makes it a callback task)
  VarSet MIXMONITOR_FILENAME           the recording reference, sent with the end of the call
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from datetime import datetime, timezone

logger = logging.getLogger("aftersales.cti.ami")
_EXT = re.compile(r"/(\w+)(?:[@-].*)?$")


def _ext(interface: str) -> str:
    match = _EXT.search(interface or "")
    return match.group(1)[:20] if match else ""


def read_blocks(sock: socket.socket) -> Iterator[dict]:
    """The AMI stream as dicts (the banner line is skipped); ends when the server closes."""
    buffer = b""
    banner_seen = False
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buffer += chunk
        if not banner_seen and b"\r\n" in buffer:
            line, _sep, rest = buffer.partition(b"\r\n")
            if line.startswith(b"Asterisk Call Manager"):
                buffer = rest
            banner_seen = True
        while b"\r\n\r\n" in buffer:
            block, _sep, buffer = buffer.partition(b"\r\n\r\n")
            fields = {}
            for line in block.decode("utf-8", "replace").split("\r\n"):
                key, sep, value = line.partition(":")
                if sep:
                    fields[key.strip()] = value.strip()
            if fields:
                yield fields


class Translator:
    """AMI events to API events; remembers each call's recording until the call ends."""

    def __init__(self):
        self.recordings: dict[str, str] = {}

    def __call__(self, ev: dict) -> dict | None:
        name = ev.get("Event", "")
        call_id = ev.get("Linkedid") or ev.get("Uniqueid") or ev.get("TransfereeLinkedid") or ""
        if name == "VarSet" and ev.get("Variable") == "MIXMONITOR_FILENAME":
            self.recordings[call_id] = ev.get("Value", "")[:200]
            return None
        kinds = {"AgentCalled": "ringing", "AgentConnect": "answered", "BlindTransfer": "transferred",
                 "AttendedTransfer": "transferred", "AgentComplete": "ended", "QueueCallerAbandon": "ended"}
        kind = kinds.get(name)
        if kind is None or not call_id:
            return None
        caller = ev.get("CallerIDNum") or ev.get("TransfereeCallerIDNum") or ""
        extension = _ext(ev.get("Interface") or ev.get("DestChannel") or "")
        if kind == "transferred":
            extension = (ev.get("Extension") or _ext(ev.get("SecondTransfererChannel", "")))[:20]
        try:
            at = datetime.fromtimestamp(float(ev["Timestamp"]), tz=timezone.utc)
        except (KeyError, ValueError, OverflowError):
            at = datetime.now(timezone.utc)
        event_id = f"ami:{call_id}:{kind}" + (f":{extension}" if kind in ("ringing", "transferred") else "")
        out = {"event_id": event_id[:80], "call_id": call_id[:80], "kind": kind, "at": at.isoformat(),
               "caller": caller[:32] or "unknown", "extension": extension, "queue": ev.get("Queue", "")[:40]}
        if kind == "ended":
            out["recording"] = self.recordings.pop(call_id, "")
        return out


def login(sock: socket.socket, username: str, secret: str) -> None:
    sock.sendall(f"Action: Login\r\nUsername: {username}\r\nSecret: {secret}\r\nEvents: call,agent\r\n\r\n".encode())


def run(*, host: str, port: int, username: str, secret: str, post, max_events: int | None = None,
        timeout: float | None = None) -> int:
    """Connect, log in, translate and post every call event until the server closes (or
    ``max_events`` were posted). Returns how many events were posted."""
    translate = Translator()
    posted = 0
    with socket.create_connection((host, port), timeout=timeout) as sock:
        login(sock, username, secret)
        for block in read_blocks(sock):
            if block.get("Response") == "Error":
                raise PermissionError(block.get("Message", "AMI login refused"))
            if "Event" not in block:
                continue
            event = translate(block)
            if event is None:
                continue
            post(event)
            posted += 1
            if max_events is not None and posted >= max_events:
                break
    return posted
