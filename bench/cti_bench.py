"""cti_events_per_s: a burst of the simulator's call events into the running server (issue 16).

A day of calls planned by `aftersales.calls.simulate` (ringing, answered, transferred, ended) is
posted by 16 senders as fast as the server takes them, signed like a phone system (before the
clock starts); one event in twenty is sent a second time (a phone system's retry). Afterwards every event id must be stored once:
the figure is None (with the counts in the note) if any was lost or doubled."""

from __future__ import annotations

EVENTS = 1200


def measure(bench) -> dict:
    import random
    import time
    from datetime import datetime, timezone

    from django.db import connection

    from aftersales.accounts.models import Organization
    from aftersales.calls import services, simulate
    from aftersales.calls.client import EventPoster
    from aftersales.calls.models import Call, CallEvent

    sc = Organization.objects.get(code="SC")
    system, token, secret = services.phone_system_create(name="bench", organization_id=sc.pk)
    seed = random.randrange(1_000_000)
    planned = simulate.plan_day(calls=EVENTS // 3, extensions=["8001", "8002", "8003", "8004"], known_numbers=[],
                                seed=seed, transfer_to="8201")
    # The day's own times (today, from 08:00 Shanghai), set before signing.
    day_start = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    events = simulate.day_offsets_to_times(planned, day_start)
    rng = random.Random(seed)
    retries = rng.sample(events, len(events) // 20)
    connection.close()
    poster = EventPoster(f"http://127.0.0.1:{bench.port}", token, secret, timeout=30)
    # Signed before the clock starts (the burst lasts seconds; the site's window is minutes), so the
    # 16 senders only send: on a 2-core machine the client's CPU is the server's loss.
    signed = [poster.sign(e) for e in events + retries]
    cpu0 = time.process_time()
    counts = simulate.burst(signed, poster.post, rate=5000, threads=16)
    client_ms = (time.process_time() - cpu0) * 1000 / max(1, counts["sent"] + counts["failed"])
    stored = CallEvent.objects.filter(system=system).count()
    ids = len({e["event_id"] for e in events})
    lost, doubled = ids - stored, counts["duplicate"] - len(retries)
    calls = Call.objects.filter(system=system).count()
    bench.note("cti_events_per_s", f"{counts['sent']} signed events ({len(retries)} of them retries) from 16 senders in "
               f"{counts['seconds']:.1f} s; failed {counts['failed']}, stored {stored} of {ids} ids, "
               f"lost {lost}, answered as duplicates {counts['duplicate']}, {calls} calls; the senders' CPU "
               f"{client_ms:.2f} ms an event (pre-signed, kept-alive connections)")
    ok = counts["failed"] == 0 and lost == 0 and stored == ids and counts["duplicate"] >= len(retries)
    return {"cti_events_per_s": round(counts["sent"] / counts["seconds"], 1) if ok else None}
