"""The customer's own calls (公开接口): view, confirm and rate an order with the tracking token from the
SMS, rate-limited per client address. No account: the token is the credential."""


from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from aftersales.api.errors import ErrorOut
from aftersales.api.throttle import public_throttle
from aftersales.core.errors import NotFound
from aftersales.service import services
from aftersales.service.schemas import (
    ConflictOut,
    RatingOut,
)

# --- the customer's own calls (公开接口): the tracking token from the SMS is the credential --------

public_router = Router(tags=["customer (public, by tracking token)"], auth=None)
PUBLIC_ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ConflictOut, 422: ErrorOut, 429: ErrorOut}


class PublicOrderOut(Schema):
    number: str
    status: str
    status_display: str
    version: int
    may_confirm: bool = Field(description="Awaiting the customer's confirmation (with the SMS code).")
    may_rate: bool = Field(description="Completed and not rated yet.")
    organization: str | None
    technician: str | None
    rating: RatingOut | None


class PublicRateIn(Schema):
    version: int = Field(..., description="The version read from GET /public/orders/{token}.")
    score: int = Field(..., ge=1, le=5, examples=[5])
    comment: str = Field("", max_length=2000, examples=["师傅来得快，修得好"])


class PublicConfirmIn(Schema):
    version: int
    code: str = Field(..., min_length=1, max_length=12, description="The 6-digit code sent by SMS at check-out.",
                      examples=["123456"])


def _public_order(token: str):
    from aftersales.service.models import ServiceOrder

    order = (ServiceOrder.objects.select_related("assigned_org", "assigned_technician")
             .filter(tracking_token=token).first()) if token and len(token) <= 64 else None
    if order is None:
        raise NotFound(_("Service order not found."))
    return order


def _public_out(order) -> dict:
    rating = getattr(order, "rating", None)
    return {
        "number": order.number, "status": order.status, "status_display": str(order.get_status_display()),
        "version": order.version, "may_confirm": order.status == "awaiting_confirmation" and order.order_type == "repair",
        "may_rate": order.status == "completed" and rating is None,
        "organization": order.assigned_org.name if order.assigned_org_id else None,
        # The technician by name only: the customer's own order, no phone numbers of staff.
        "technician": str(order.assigned_technician) if order.assigned_technician_id else None,
        "rating": None if rating is None else {"score": rating.score, "comment": rating.comment,
                                               "recorded_at": rating.recorded_at},
    }


@public_router.get("/orders/{token}", response={200: PublicOrderOut, **PUBLIC_ERRORS},
                   summary="Your order by its tracking token / 按查询码查看服务单")
def public_order(request, token: str):
    """The order the SMS link ``/t/<token>`` points at: its status and what you may do now. No account
    needed; rate-limited per client address (429 with ``Retry-After``)."""
    public_throttle(request)
    return _public_out(_public_order(token))


@public_router.post("/orders/{token}/confirm", response={200: PublicOrderOut, **PUBLIC_ERRORS},
                    summary="Confirm the repair / 客户确认维修完成")
def public_confirm(request, token: str, payload: PublicConfirmIn):
    """The customer confirms the finished repair with the code sent by SMS at check-out. A wrong code
    is a 422 on ``code``; after five wrong codes the technician must send a new one."""
    public_throttle(request)
    order = services.order_confirm_by_customer(token=token, version=payload.version, code=payload.code)
    return _public_out(_public_order(order.tracking_token))


@public_router.post("/orders/{token}/rate", response={200: PublicOrderOut, **PUBLIC_ERRORS},
                    summary="Rate the service / 客户评价")
def public_rate(request, token: str, payload: PublicRateIn):
    """服务反馈: 1 to 5 stars and a comment; the rating closes the order, and 2 or fewer opens a complaint."""
    public_throttle(request)
    order = services.order_rate_by_customer(token=token, version=payload.version, score=payload.score,
                                            comment=payload.comment)
    return _public_out(_public_order(order.tracking_token))
