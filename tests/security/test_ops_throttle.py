"""Issue 12, M5: throttles count in a counter every process shares, key on the real client behind the
configured proxies, lock out per (user, address) with growing delays, and administrators can lift them."""

from __future__ import annotations

import http.client
import urllib.parse
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from aftersales.core import throttle
from aftersales.core.errors import Throttled
from aftersales.core.models import ThrottleCounter
from tests.reliability.conftest import site  # noqa: F401  (the real server fixture)

PROXY = "10.0.0.2"  # the reverse proxy: REMOTE_ADDR of every request that came through it


def _login(username, password, *, forwarded=None, remote=PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return authenticate(RequestFactory().post("/login/", **extra), username=username, password=password)


def _lock_passes(key_start: str) -> None:
    """Time passes: the current lockout of these keys ends (what the clock would do)."""
    ThrottleCounter.objects.filter(key__startswith=key_start).update(
        locked_until=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_behind_a_proxy_one_client_locks_only_itself_not_the_user_everywhere(net, settings):
    settings.TRUSTED_PROXIES = 1
    for _ in range(5):
        assert _login("agent", "wrong", forwarded="203.0.113.9") is None
    # The attacker's address is locked for agent, even with the right password ...
    assert _login("agent", "pass-agent", forwarded="203.0.113.9") is None
    # ... the agent at her own desk, through the same proxy, still logs in,
    assert _login("agent", "pass-agent", forwarded="198.51.100.7") is not None
    # and so does the administrator from anywhere.
    assert _login("admin", "pass-admin", forwarded="203.0.113.9") is not None


@pytest.mark.django_db
def test_a_client_cannot_choose_its_address_by_sending_its_own_forwarded_header(net, settings):
    settings.TRUSTED_PROXIES = 1
    for i in range(5):
        # The proxy appends the real client (203.0.113.9) after whatever the client sent.
        assert _login("agent", "wrong", forwarded=f"192.0.2.{i}, 203.0.113.9") is None
    assert _login("agent", "pass-agent", forwarded="192.0.2.77, 203.0.113.9") is None


@pytest.mark.django_db
def test_without_trusted_proxies_the_forwarded_header_is_ignored(net, settings):
    settings.TRUSTED_PROXIES = 0
    for i in range(5):
        assert _login("agent", "wrong", forwarded=f"192.0.2.{i}", remote="203.0.113.9") is None
    assert _login("agent", "pass-agent", forwarded="198.51.100.7", remote="203.0.113.9") is None
    assert _login("agent", "pass-agent", remote="198.51.100.7") is not None


@pytest.mark.django_db
def test_each_further_failure_doubles_the_lockout(net, settings):
    settings.TRUSTED_PROXIES = 0
    for _ in range(5):
        _login("agent", "wrong", remote="203.0.113.9")
    key = throttle.key("login", "agent", "203.0.113.9")
    first = throttle.locked(key)
    assert 55 <= first <= 61
    _lock_passes("login:agent")
    assert _login("agent", "wrong", remote="203.0.113.9") is None
    second = throttle.locked(key)
    assert 115 <= second <= 121
    _lock_passes("login:agent")
    _login("agent", "wrong", remote="203.0.113.9")
    assert 235 <= throttle.locked(key) <= 241
    # A success after the lockout ends forgets the failures.
    _lock_passes("login:agent")
    assert _login("agent", "pass-agent", remote="203.0.113.9") is not None
    assert not ThrottleCounter.objects.filter(key=key).exists()


@pytest.mark.django_db
def test_the_counter_is_shared_not_per_process(net):
    for _ in range(5):
        _login("agent", "wrong", remote="203.0.113.9")
    cache.clear()  # what another worker process or a restart sees of a per-process cache
    assert _login("agent", "pass-agent", remote="203.0.113.9") is None
    assert ThrottleCounter.objects.get(key=throttle.key("login", "agent", "203.0.113.9")).count == 5


@pytest.mark.django_db
def test_administrator_clears_a_lockout_in_the_admin(net, client):
    for _ in range(5):
        _login("agent", "wrong", remote="203.0.113.9")
    row = ThrottleCounter.objects.get(key=throttle.key("login", "agent", "203.0.113.9"))
    client.force_login(net.admin)
    page = client.get("/admin/core/throttlecounter/")
    assert page.status_code == 200 and "login:agent|203.0.113.9" in page.content.decode()
    resp = client.post("/admin/core/throttlecounter/", {"action": "clear_selected", "_selected_action": [row.pk]})
    assert resp.status_code == 302
    assert _login("agent", "pass-agent", remote="203.0.113.9") is not None


@pytest.mark.django_db
def test_administrator_clears_a_lockout_from_the_command_line(net):
    for _ in range(5):
        _login("agent", "wrong", remote="203.0.113.9")
        _login("hotline", "wrong", remote="203.0.113.9")
    call_command("unlock", "agent")
    assert _login("agent", "pass-agent", remote="203.0.113.9") is not None
    assert _login("hotline", "pass-hotline", remote="203.0.113.9") is None  # only the named user
    call_command("unlock", "--address", "203.0.113.9")
    assert _login("hotline", "pass-hotline", remote="203.0.113.9") is not None


@pytest.mark.django_db
def test_the_reusable_throttle_counts_per_window_and_says_when_to_retry():
    key = throttle.key("lookup", 42)
    for _ in range(3):
        throttle.hit(key, limit=3, window=60)
    with pytest.raises(Throttled) as exc:
        throttle.hit(key, limit=3, window=60)
    assert exc.value.status == 429 and 1 <= exc.value.retry_after <= 61
    assert "请" in exc.value.message or "try again" in exc.value.message
    ThrottleCounter.objects.filter(key=key).update(window_start=timezone.now() - timedelta(seconds=61))
    throttle.hit(key, limit=3, window=60)  # a new window
    long_a, long_b = throttle.key("x", "a" * 300), throttle.key("x", "a" * 299 + "b")
    assert len(long_a) <= 200 and long_a != long_b


def test_tracking_failures_survive_a_restart_and_count_across_workers(site):
    """The customer's tracking page on the real server (two worker processes): ten failed look-ups
    from one address, then the server restarts; the next look-up is still refused (429)."""
    def lookup():
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        conn.request("GET", "/track/")
        resp = conn.getresponse()
        resp.read()
        cookie = resp.getheader("Set-Cookie", "")
        token = cookie.split("csrftoken=")[1].split(";")[0]
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        body = urllib.parse.urlencode({"number": "WO-NOPE", "phone": "13800138000", "csrfmiddlewaretoken": token})
        conn.request("POST", "/track/", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={token}",
            "Referer": f"http://127.0.0.1:{site.port}/track/"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.status

    assert [lookup() for _ in range(10)] == [404] * 10
    site.stop()
    site.start()
    assert lookup() == 429
