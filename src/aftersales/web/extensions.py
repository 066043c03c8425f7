"""Seams for apps that land later: SLA clocks (app ``aftersales.sla``) and search (app
``aftersales.knowledge``). The pages ask here; while an app is not installed the answer is empty
and the page leaves its slot out, so the workbenches never import what may not exist."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps


def _selectors(app: str):
    if not apps.is_installed(app):
        return None
    try:
        return import_module(f"{app}.selectors")
    except ImportError:
        return None


def sla_enabled() -> bool:
    return _selectors("aftersales.sla") is not None


def sla_clocks(user, orders) -> dict[int, list]:
    """{order id: [clock, ...]} for the countdown badges; one query for the whole page.

    The SLA app provides ``clocks_for_orders(user, order_ids)`` returning objects with
    ``hop``, ``due_at``, ``state`` (running/at_risk/breached/met) and ``remaining_minutes`` (negative
    once breached)."""
    module = _selectors("aftersales.sla")
    fn = getattr(module, "clocks_for_orders", None) if module else None
    if fn is None:
        return {}
    return fn(user, [o.pk for o in orders])


def sla_breaches_by_hop(user) -> list:
    """[(hop label, breached count)] for the supervisor, from ``breaches_by_hop(user)``."""
    module = _selectors("aftersales.sla")
    fn = getattr(module, "breaches_by_hop", None) if module else None
    return list(fn(user)) if fn else []


def knowledge_search(user, q: str) -> dict[str, list[dict]] | None:
    """{kind: [hit, ...]} from ``knowledge.selectors.search`` (articles, orders, customers and
    machines, with ``title_html``/``snippet_html`` escaped except the ``<mark>`` it adds); None
    while the knowledge app is absent (the page then searches orders and customers only)."""
    module = _selectors("aftersales.knowledge")
    fn = getattr(module, "search", None) if module else None
    if fn is None:
        return None
    return fn(user, q, limit=8)
