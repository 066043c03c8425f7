
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from aftersales.api.errors import COMMON_ERRORS
from aftersales.core.errors import ValidationFailed
from aftersales.core.types import DbInt
from aftersales.registry.selectors import machine_get
from aftersales.warranty import services

router = Router(tags=["warranty (三包)"])

Category = Literal[
    "tractor", "combine_harvester", "rice_transplanter", "diesel_engine_single", "diesel_engine_multi",
    "implement", "other",
]
# Every string has a limit: a component code is at most 40 characters (as stored on the records).
ComponentCode = Annotated[str, Field(min_length=1, max_length=40, examples=["gearbox"])]


class MachineFactsIn(Schema):
    category: Category
    rated_power_kw: Decimal | None = Field(None, gt=0, le=10000)
    invoice_date: date | None = None
    delivery_date: date | None = None
    exchanges: list[date] = Field([], max_length=20)
    host_category: Category | None = None
    main_parts: list[ComponentCode] | None = Field(None, max_length=100, description="The model's own main parts (free codes).")
    wear_parts: list[ComponentCode] | None = Field(None, max_length=100, description="The model's own wear parts (free codes).")
    first_season_start: date | None = None


class RepairIn(Schema):
    component: ComponentCode
    started: date
    finished: date | None = None
    days_waiting_parts: int = Field(0, ge=0, le=3650)
    serious: bool = False
    kind: Literal["repair", "main_part_replacement", "exchange"] = "repair"
    under_warranty: bool = True
    workshop: bool = False


class FaultIn(Schema):
    component: ComponentCode | None = None
    exclusions: list[
        Literal["no_proof", "misuse", "modification", "improper_handling", "man_made_damage", "force_majeure"]
    ] = []
    serious: bool = False
    same_model_available: bool = True
    customer_requests_exchange: bool = False
    repair_intake_date: date | None = None


class EvaluateIn(Schema):
    machine_id: int | None = Field(None, description="A stored machine; or give `machine` inline.")
    machine: MachineFactsIn | None = None
    on: date | None = Field(None, description="The date to evaluate on (default: today, Asia/Shanghai).")
    components: list[ComponentCode] = Field([], max_length=50)
    repairs: list[RepairIn] = Field([], max_length=200)
    fault: FaultIn | None = None


class EvaluationOut(Schema):
    coverage: dict[str, Any]
    remedy: str
    service_mode: str
    reasons: list[dict[str, Any]]
    policy: dict[str, Any]


@router.post("/evaluate", response={200: EvaluationOut, **COMMON_ERRORS}, summary="Evaluate the 三包 warranty of a machine")
def evaluate(request, payload: EvaluateIn):
    """Coverage of the whole machine and of each component, the remedy due now, the suggested
    service mode and the reasons, each naming the rule that produced it."""
    if (payload.machine_id is None) == (payload.machine is None):
        raise ValidationFailed(
            _("Give either machine_id or machine."), fields={"machine_id": _("Give either machine_id or machine, not both or neither.")}
        )
    machine = machine_get(request.user, pk=payload.machine_id) if payload.machine_id is not None else None
    _check(payload, machine)
    return services.evaluate(
        machine=machine,
        facts=payload.machine.dict() if payload.machine else None,
        on=payload.on,
        components=payload.components,
        repairs=[r.dict() for r in payload.repairs],
        fault=payload.fault.dict() if payload.fault else None,
    )


def _check(payload: EvaluateIn, machine) -> None:
    """Refuse, naming the field, what the engine would otherwise answer wrongly: a sale dated in the
    future (the period would not have started, and a typo would read as years of cover), and a
    component code nobody knows (a misspelt main part would get the general part's period)."""
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if payload.machine is not None:
        for key in ("invoice_date", "delivery_date"):
            value = getattr(payload.machine, key)
            if value is not None and value > today:
                errors[f"machine.{key}"] = _("The date %(date)s is in the future.") % {"date": value.isoformat()}
    named = {f"components[{i}]": c for i, c in enumerate(payload.components)}
    named.update({f"repairs[{i}].component": r.component for i, r in enumerate(payload.repairs)})
    if payload.fault is not None:
        named["fault.component"] = payload.fault.component
    if machine is not None:
        errors.update(services.component_errors(named, category=machine.model.category, model=machine.model))
    else:
        own = _OwnParts(payload.machine.main_parts or (), payload.machine.wear_parts or ())
        errors.update(services.component_errors(named, category=payload.machine.category, model=own))
    if errors:
        raise ValidationFailed(_("The warranty cannot be evaluated from these facts."), fields=errors)


class _OwnParts:
    """Inline facts' own part lists, shaped like a product model's for ``component_errors``."""

    def __init__(self, main, wear) -> None:
        self.main_components, self.wear_parts = list(main), list(wear)


class HistoryOut(Schema):
    component: str
    started: date
    finished: date | None
    serious: bool
    kind: str
    under_warranty: bool
    workshop: bool


@router.get("/machines/{machine_id}/history", response={200: list[HistoryOut], **COMMON_ERRORS},
            summary="The repair record the warranty engine sees for a stored machine")
def machine_history(request, machine_id: DbInt):
    """Repairs (per component, repaired or replaced, serious or not), open repairs with their
    intake date, and the exchange the machine came from: exactly what /evaluate counts."""
    machine = machine_get(request.user, pk=machine_id)
    return [HistoryOut(component=r.component, started=r.started, finished=r.finished, serious=r.serious, kind=r.kind,
                       under_warranty=r.under_warranty, workshop=r.workshop) for r in services.machine_history(machine)]
