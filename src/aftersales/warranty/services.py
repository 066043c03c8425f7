"""The warranty engine meets the database: which policy version applies, the facts of a stored
machine, and evaluations that record the version they used."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core import config
from aftersales.core.calendar import adjusted_workdays, statutory_holidays, years_covered
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.warranty import engine
from aftersales.warranty.engine import FaultFacts, MachineFacts, PartsWait, RepairRecord
from aftersales.warranty.models import WarrantyPolicy
from aftersales.warranty.parts import part_labels
from aftersales.warranty.policy import PolicyError, Regime, default_regime


def policy_ensure_default() -> WarrantyPolicy:
    """The bundled statutory regime as version 1, if no policy has been stored yet."""
    regime = default_regime()
    policy = WarrantyPolicy.objects.filter(name=regime.name).order_by("-version").first()
    if policy is None:
        policy, _created = WarrantyPolicy.objects.get_or_create(
            name=regime.name, version=regime.version,
            defaults={"effective_from": regime.effective_from, "data": regime.to_dict(), "note": "bundled default"},
        )
    return policy


def policy_current(*, on: date | None = None) -> WarrantyPolicy:
    """The newest active version in force on the date (the default regime when none is stored)."""
    on = on or timezone.localdate()
    versions = config.cached("warranty.active_policies", lambda: list(
        WarrantyPolicy.objects.filter(is_active=True).order_by("-effective_from", "-version")))
    policy = next((p for p in versions if p.effective_from <= on), None)
    return policy or policy_ensure_default()


@lru_cache(maxsize=32)
def _regime_of(policy_id: int, name: str, version: int) -> Regime:
    # Keyed by (id, name, version): a version never changes once saved, so the cache is never stale.
    return Regime.from_dict(WarrantyPolicy.objects.get(pk=policy_id).data)


def policy_regime(policy: WarrantyPolicy) -> Regime:
    return _regime_of(policy.pk, policy.name, policy.version)


def policy_validate(data) -> Regime:
    try:
        return Regime.from_dict(data)
    except PolicyError as exc:
        raise ValidationFailed(_("The warranty policy is not valid."), fields={getattr(exc, "key", "data"): str(exc)})


def policy_create_version(*, base: WarrantyPolicy, data: dict, effective_from: date, note: str = "", user=None) -> WarrantyPolicy:
    """Save an edited policy as the next version of its name. The old version stays as it was."""
    for attempt in range(3):
        version = (WarrantyPolicy.objects.filter(name=base.name).aggregate(m=Max("version"))["m"] or 0) + 1
        data = {**data, "name": base.name, "version": version, "effective_from": effective_from.isoformat()}
        policy_validate(data)
        try:
            with transaction.atomic():
                return WarrantyPolicy.objects.create(
                    name=base.name, version=version, effective_from=effective_from, data=data,
                    note=note[:200], created_by=user,
                )
        except IntegrityError:
            continue  # another administrator saved the same version number first: take the next one
    raise Conflict(_("The policy was changed by someone else at the same time; try again."))


def calendar_sets() -> tuple[frozenset[date], frozenset[date]]:
    return statutory_holidays(), adjusted_workdays()


# --- components -----------------------------------------------------------------------------

def known_components(*, model=None) -> frozenset[str]:
    """The component codes a record may name: the vocabulary (warranty/data/parts.json) and the
    product model's own part lists (a maker's part the vocabulary does not have yet)."""
    codes = set(part_labels())
    if model is not None:
        codes.update(model.main_components or ())
        codes.update(model.wear_parts or ())
    return frozenset(codes)


def category_components(category: str, *, model=None) -> list[str]:
    """The codes to offer for one product category: the whole machine, then its main parts and
    wear parts (the model's own lists where it has them, else the current regime's)."""
    regime = policy_regime(policy_current())
    main = list(model.main_components) if model is not None and model.main_components else list(
        regime.main_parts.by_category.get(category, ()))
    wear = list(model.wear_parts) if model is not None and model.wear_parts else list(
        regime.wear_parts.by_category.get(category, ()))
    return list(dict.fromkeys([engine.WHOLE_MACHINE, *main, *wear]))


def component_errors(fields: dict[str, str | None], *, category: str, model=None) -> dict[str, str]:
    """``{field: message}`` for every named component that is not a known code; the message lists
    the codes known for the machine's category, so the caller can correct a misspelt main part
    (``gear_box``) instead of losing a year of its cover to the general-part period."""
    known = known_components(model=model)
    errors = {}
    for name, code in fields.items():
        if code and code not in known:
            errors[name] = _("Unknown component %(code)s. Known for this product category: %(known)s.") % {
                "code": code[:40], "known": ", ".join(category_components(category, model=model))}
    return errors


# --- evaluation -----------------------------------------------------------------------------

# The service-order app knows a machine's repair history; it registers a provider here in its
# AppConfig.ready so that this app does not import it (dependencies point towards warranty).
_repair_history: list[Callable[[object], list[RepairRecord]]] = []
_exchange_history: list[Callable[[object], list[RepairRecord]]] = []


def register_repair_history(provider: Callable[[object], list[RepairRecord]]) -> None:
    if provider not in _repair_history:
        _repair_history.append(provider)


# The parts app knows when a machine waited for parts (its requisitions); it registers here the
# same way, so the days extend the periods (三包: 无维修配件待修的时间不计入) without this app importing it.
_parts_waits: list[Callable[[object], list[PartsWait]]] = []


def register_parts_waits(provider: Callable[[object], list[PartsWait]]) -> None:
    if provider not in _parts_waits:
        _parts_waits.append(provider)


def machine_waits(machine) -> list[PartsWait]:
    """The days a stored machine waited for parts, as the engine counts them."""
    return [w for provider in _parts_waits for w in provider(machine)]


def machine_facts(machine) -> MachineFacts:
    """The engine's facts about a stored machine (设备档案 + its product model). Its exchange is
    part of its history (``machine_history``), with the fault that caused it."""
    model = machine.model
    return MachineFacts(
        category=model.category,
        rated_power_kw=model.rated_power_kw,
        invoice_date=machine.invoice_date,
        delivery_date=machine.delivery_date,
        main_parts=tuple(model.main_components) or None,
        wear_parts=tuple(model.wear_parts) or None,
    )


def _exchanges(machine) -> list[RepairRecord]:
    """The exchange that put this machine in the user's hands (退换机记录 with this machine as the
    replacement): it restarts the periods, and the same fault recurring after it gives a return."""
    rows = machine.exchanges_in.filter(kind="exchange").order_by("happened_on", "pk")
    return [RepairRecord(component=x.component or engine.WHOLE_MACHINE, started=x.happened_on, finished=x.happened_on,
                         serious=x.serious, kind="exchange") for x in rows]


def machine_history(machine) -> list[RepairRecord]:
    """Exactly what the engine sees of a stored machine's past: its repairs (with main-part
    replacements and open repairs, from the service records) and the exchange it came from."""
    return _exchanges(machine) + [r for provider in _repair_history for r in provider(machine)]


def calendar_years() -> dict[int, str]:
    return years_covered()


def _repairs(items) -> list[RepairRecord]:
    return [r if isinstance(r, RepairRecord) else RepairRecord(**r) for r in items]


def _fault(data) -> FaultFacts | None:
    if data is None or isinstance(data, FaultFacts):
        return data
    return FaultFacts(**{**data, "exclusions": frozenset(data.get("exclusions") or ())})


def evaluate(
    *, machine=None, facts: dict | None = None, on: date | None = None, components=(), repairs=(), fault=None
) -> dict:
    """Evaluate a stored machine (with its recorded repairs) or inline facts; JSON-ready result.

    The policy is the version in force on the evaluation date; the result names it, and callers
    that keep the result (an order at intake) keep that name and version with it.
    """
    on = on or timezone.localdate()
    policy = policy_current(on=on)
    regime = policy_regime(policy)
    try:
        if machine is not None:
            subject = machine_facts(machine)
            history = machine_history(machine)
            waits = machine_waits(machine)
        else:
            subject = MachineFacts(**facts)
            history, waits = [], []
        holidays, workdays = calendar_sets()
        result = engine.evaluate(
            machine=subject, on=on, regime=regime, components=tuple(components),
            repairs=history + _repairs(repairs), fault=_fault(fault), holidays=holidays, workdays=workdays,
            calendar_years=calendar_years(),
            known_components=known_components(model=machine.model if machine is not None else None),
            waits=tuple(waits),
        )
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("The warranty cannot be evaluated from these facts."), fields={"facts": str(exc)})
    data = result.to_dict()
    data["policy"] = {**data["policy"], "name": policy.name, "version": policy.version, "id": policy.pk}
    return data


def evaluate_machine(*, machine, on: date | None = None, components=(), fault=None) -> dict:
    """The intake question: what does this machine's owner get today, and why."""
    return evaluate(machine=machine, on=on, components=components, fault=fault)
