from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from aftersales.api.errors import COMMON_ERRORS
from aftersales.core.errors import ValidationFailed
from aftersales.registry.selectors import machine_get
from aftersales.warranty import services

router = Router(tags=["warranty (三包)"])


class MachineFactsIn(Schema):
    category: Literal[
        "tractor", "combine_harvester", "rice_transplanter", "diesel_engine_single", "diesel_engine_multi",
        "implement", "other",
    ]
    rated_power_kw: Decimal | None = Field(None, gt=0)
    invoice_date: date | None = None
    delivery_date: date | None = None
    exchanges: list[date] = []
    host_category: str | None = None
    main_parts: list[str] | None = None
    wear_parts: list[str] | None = None
    first_season_start: date | None = None


class RepairIn(Schema):
    component: str
    started: date
    finished: date | None = None
    days_waiting_parts: int = Field(0, ge=0)
    serious: bool = False
    kind: Literal["repair", "main_part_replacement", "exchange"] = "repair"
    under_warranty: bool = True
    workshop: bool = False


class FaultIn(Schema):
    component: str | None = None
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
    components: list[str] = []
    repairs: list[RepairIn] = []
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
    return services.evaluate(
        machine=machine,
        facts=payload.machine.dict() if payload.machine else None,
        on=payload.on,
        components=payload.components,
        repairs=[r.dict() for r in payload.repairs],
        fault=payload.fault.dict() if payload.fault else None,
    )
