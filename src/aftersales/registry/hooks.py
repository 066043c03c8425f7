"""Who else must know when a customer or a machine changes (the search index), registered in a
later app's AppConfig.ready so the registry does not import it.

A hook runs inside the saving transaction, after the row is written: what it writes commits or
rolls back with the change itself. Hooks must not do I/O.
"""

from __future__ import annotations

from collections.abc import Callable

_customer_changed: list[Callable[[object], None]] = []
_machine_changed: list[Callable[[object], None]] = []


def register_customer_changed(hook: Callable[[object], None]) -> None:
    if hook not in _customer_changed:
        _customer_changed.append(hook)


def register_machine_changed(hook: Callable[[object], None]) -> None:
    if hook not in _machine_changed:
        _machine_changed.append(hook)


def customer_changed(customer) -> None:
    for hook in _customer_changed:
        hook(customer)


def machine_changed(machine) -> None:
    for hook in _machine_changed:
        hook(machine)
