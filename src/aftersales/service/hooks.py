"""Who else must know when an order changes: later apps (SLA clocks, the search index) register
here in their AppConfig.ready, so the service app does not import them.

A hook runs inside the action's transaction, after the order row and its new events are written:
what it writes commits or rolls back with the action itself. Hooks must not do I/O; side effects
outside the database go through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

OrderHook = Callable[[object, Sequence[object]], None]
_order_changed: list[OrderHook] = []


def register_order_changed(hook: OrderHook) -> None:
    """``hook(order, events)``: the order as saved and the OrderEvents this change appended."""
    if hook not in _order_changed:
        _order_changed.append(hook)


def order_changed(order, events: Sequence[object]) -> None:
    for hook in _order_changed:
        hook(order, events)
