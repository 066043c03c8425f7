"""POST /floor/five: the body an intake sends, validated by a typed schema, then five inserts in one
transaction and a small JSON answer. GET /healthz for the bench's start-up check."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI, Schema

from bench.floor.models import FloorRow

api = NinjaAPI(urls_namespace="floor")


class FiveIn(Schema):
    order_type: str
    customer_id: int
    machine_id: int
    channel: str = "phone"
    symptom: str
    crop: str = ""
    operation: str = ""
    urgency: str = "normal"
    duplicate_reason: str = ""


class FiveOut(Schema):
    id: int
    rows: int


@api.post("/five", response={201: FiveOut})
def five(request, payload: FiveIn):
    now = timezone.now()
    with transaction.atomic():
        first = FloorRow.objects.create(kind="order", seq=1, text=payload.symptom, data=payload.dict(), at=now)
        for seq, kind in enumerate(("event", "clock", "outbox", "document"), start=2):
            FloorRow.objects.create(kind=kind, seq=seq, text=payload.symptom, data={"order": first.pk}, at=now)
    return 201, {"id": first.pk, "rows": 5}


urlpatterns = [
    path("floor/", api.urls),
    path("healthz", lambda request: HttpResponse("ok")),
]
