"""A machine's 三包 status as the customer reads it: the whole machine and the engine, each
covered until a date or not, from the warranty engine (the same answer the hotline gets)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.service.services.common import _shanghai_today

# The engine is what a farmer asks about after the whole machine (主要部件: 发动机).
ENGINE = "engine_block"


def machine_status(machine) -> dict:
    from aftersales.warranty.services import evaluate_machine

    try:
        answer = evaluate_machine(machine=machine, on=_shanghai_today(), components=(ENGINE,))
    except ValidationFailed:
        return {"covered": False, "end": None, "engine_covered": False, "engine_end": None,
                "note": _("Ask the hotline: the purchase date is not on record.")}
    whole = answer["coverage"]["whole_machine"]
    engine = answer["coverage"]["components"].get(ENGINE, {})
    return {"covered": whole.get("state") == "covered", "end": whole.get("end"),
            "engine_covered": engine.get("state") == "covered", "engine_end": engine.get("end"), "note": "",
            "parts_wait_days": whole.get("parts_wait_days", 0)}
