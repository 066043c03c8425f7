"""A realistic day of calls for demos and load (`aftersales cti simulate`).

Calls arrive over 08:00-21:30 with the hotline's morning and early-evening peaks; most are answered
within three rings, about one in ten rings longer, about one in twelve is abandoned, a few are
transferred to the hotline technicians; talk times of one to eight minutes. Callers are a mix of
known customers' numbers and new numbers. ``speed`` compresses the day (60: a minute per second)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# Share of the day's calls per hour (Asia/Shanghai), 8:00 to 21:00.
HOURLY = {8: 10, 9: 14, 10: 12, 11: 9, 12: 5, 13: 6, 14: 8, 15: 8, 16: 7, 17: 6, 18: 5, 19: 5, 20: 4, 21: 2}


@dataclass
class PlannedEvent:
    offset: float  # seconds after the day's first call
    event: dict


def plan_day(*, calls: int, extensions: list[str], known_numbers: list[str], seed: int = 2026,
             transfer_to: str = "") -> list[PlannedEvent]:
    """The day's events in time order, each with its offset in (day) seconds."""
    rng = random.Random(seed)
    hours = list(HOURLY)
    weights = [HOURLY[h] for h in hours]
    day_start = 8 * 3600
    planned = []
    for n in range(calls):
        hour = rng.choices(hours, weights)[0]
        start = hour * 3600 + rng.uniform(0, 3600 if hour < 21 else 1800) - day_start
        call_id = f"sim-{seed}-{n:05d}"
        known = known_numbers and rng.random() < 0.7
        caller = rng.choice(known_numbers) if known else f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
        ext = rng.choice(extensions)
        queue = rng.choice(["repair", "repair", "repair", "consultation", "complaint"])
        ring = rng.lognormvariate(1.9, 0.5)  # median about 7 s; about one in ten past 15 s
        base = {"call_id": call_id, "caller": caller, "queue": queue}
        planned.append(PlannedEvent(start, {**base, "event_id": f"{call_id}:r", "kind": "ringing", "extension": ext}))
        if rng.random() < 0.08:  # abandoned while ringing
            planned.append(PlannedEvent(start + ring + rng.uniform(5, 25), {**base, "event_id": f"{call_id}:e", "kind": "ended", "extension": ext}))
            continue
        answered = start + ring
        planned.append(PlannedEvent(answered, {**base, "event_id": f"{call_id}:a", "kind": "answered", "extension": ext}))
        talk = rng.uniform(60, 480)
        if transfer_to and rng.random() < 0.1:
            planned.append(PlannedEvent(answered + talk / 2, {**base, "event_id": f"{call_id}:t", "kind": "transferred",
                                                              "extension": transfer_to}))
        planned.append(PlannedEvent(answered + talk, {**base, "event_id": f"{call_id}:e", "kind": "ended", "extension": ext,
                                                      "recording": f"monitor/{call_id}.wav"}))
    planned.sort(key=lambda p: p.offset)
    return planned


def play(planned: list[PlannedEvent], post, *, speed: float = 60.0, log=None) -> int:
    """Send the events at the day's pace divided by ``speed``; each event's ``at`` is the real time it
    is sent. Returns how many were sent."""
    t0 = time.monotonic()
    first = planned[0].offset if planned else 0
    for p in planned:
        wait = (p.offset - first) / speed - (time.monotonic() - t0)
        if wait > 0:
            time.sleep(wait)
        event = {**p.event, "at": datetime.now(timezone.utc).isoformat()}
        post(event)
        if log:
            log(event)
    return len(planned)


def burst(events: list, post, *, rate: float, threads: int = 8) -> dict:
    """Send ``events`` at ``rate`` per second from ``threads`` senders; count the answers. An event
    is a dict (its ``at`` set now if missing) or anything ``post`` takes as is (a pre-signed one)."""
    lock = threading.Lock()
    counts = {"sent": 0, "duplicate": 0, "failed": 0}
    slots = iter(range(len(events)))
    t0 = time.monotonic()

    def worker():
        while True:
            with lock:
                i = next(slots, None)
            if i is None:
                return
            wait = t0 + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                item = events[i]
                if isinstance(item, dict):
                    item = {**item, "at": item.get("at") or datetime.now(timezone.utc).isoformat()}
                answer = post(item)
                with lock:
                    counts["sent"] += 1
                    counts["duplicate"] += bool(answer.get("duplicate"))
            except Exception:  # noqa: BLE001 - counted, the caller reports
                with lock:
                    counts["failed"] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    counts["seconds"] = time.monotonic() - t0
    return counts


def day_offsets_to_times(planned: list[PlannedEvent], day_start: datetime) -> list[dict]:
    """The planned events with ``at`` set on a given day (for a burst that keeps the day's times)."""
    return [{**p.event, "at": (day_start + timedelta(seconds=p.offset)).isoformat()} for p in planned]
