"""Concurrent conflicting actions on the same orders through the real server: one wins, the rest
get 409, and the timeline holds exactly the winner's step."""

import threading

from tests.reliability.live import assert_timelines_complete

CONTENDERS = 8


def test_concurrent_actions_on_one_order_have_exactly_one_winner(site):
    agent, coordinator = site.token("agent"), site.token("coordinator")
    machines = site.machines()
    for round_ in range(4):
        machine_id, owner_id = machines[round_]
        status, order = site.call("POST", "/orders", agent, {
            "order_type": "repair", "customer_id": owner_id, "machine_id": machine_id, "symptom": "发动机冒黑烟"})
        assert status == 201, order
        # Forward (either hotline role) races cancel (the owner) on the same version.
        contenders = [(agent, "cancel") if i % 3 == 0 else (coordinator if i % 2 else agent, "forward")
                      for i in range(CONTENDERS)]
        answers: list[tuple[int, str, dict]] = []
        barrier = threading.Barrier(CONTENDERS)

        def act(token, action):
            data = {"reason": "客户已自行修好"} if action == "cancel" else {}
            barrier.wait()
            status, body = site.call("POST", f"/orders/{order['id']}/actions/{action}", token,
                                     {"version": order["version"], "data": data}, timeout=20)
            answers.append((status, action, body))

        threads = [threading.Thread(target=act, args=c) for c in contenders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [a for a in answers if a[0] == 200]
        assert len(winners) == 1, answers
        assert sorted(a[0] for a in answers) == [200] + [409] * (CONTENDERS - 1), answers
        assert {a[2]["code"] for a in answers if a[0] == 409} <= {"stale_version", "invalid_transition"}
        winner = winners[0]
        (version, status_now, event_seq), = site.sql(
            "SELECT version, status, event_seq FROM service_serviceorder WHERE id = ?", (order["id"],))
        assert (version, event_seq) == (2, 2)
        assert status_now == winner[2]["status"]
        actions = site.sql("SELECT action FROM service_orderevent WHERE order_id = ? ORDER BY seq", (order["id"],))
        assert [a for (a,) in actions] == ["create", winner[1]]
    assert_timelines_complete(site)
