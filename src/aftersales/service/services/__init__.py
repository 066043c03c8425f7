"""Writes to service orders: one keyword-only function per action of the transition table
(``order_<action>``), plus creation and attachments, in one module per flow:

- ``intake``: 受理 (creation, the duplicate guard, numbers, idempotent retries)
- ``handoff``: 信息传递 and diagnosis by the hotline (forward, callback, diagnose, solve by phone, mode)
- ``dispatch``: 派工, acceptance, assignment, the technician's acceptance, the appointment
- ``quotes``: charges for paid work
- ``fieldwork``: check-in / receipt, the service record, check-out
- ``confirmation``: the customer's confirmation by SMS code or signature
- ``escalation``: 技术支持 by the technical center
- ``returns``: 退换货
- ``complaints``: 投诉
- ``feedback``: 服务反馈 (ratings)
- ``lifecycle``: close, cancel, follow-up, SLA pauses
- ``attachments``: photos, signatures, documents
- ``common``: ``_perform`` (the one engine every action runs through) and the shared helpers

Every action runs in one transaction: it locks the order row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers), checks the table and the
caller's version, changes the order with ``UPDATE ... WHERE id=? AND version=?``, appends the
timeline event and queues the outbox messages. Any error rolls all of it back.

Callers import this package (``from aftersales.service import services``); the names below are its
public surface.
"""

from aftersales.service.services.attachments import MAX_ATTACHMENT_BYTES, attachment_add, sniff_content_type
from aftersales.service.services.complaints import (
    order_customer_accept,
    order_customer_reject,
    order_investigate,
    order_resolve,
)
from aftersales.service.services.confirmation import order_confirm, order_confirm_by_customer, order_resend_code
from aftersales.service.services.dispatch import (
    order_accept,
    order_assign,
    order_dispatch,
    order_reject,
    order_schedule,
    order_tech_accept,
    order_tech_decline,
)
from aftersales.service.services.escalation import order_answer_escalation, order_escalate
from aftersales.service.services.feedback import LOW_RATING, order_rate, order_rate_by_customer
from aftersales.service.services.fieldwork import (
    PartInput,
    order_check_in,
    order_check_out,
    order_receive,
    order_record_service,
)
from aftersales.service.services.handoff import (
    order_answer,
    order_callback,
    order_confirm_mode,
    order_diagnose,
    order_forward,
    order_solve_by_phone,
)
from aftersales.service.services.intake import (
    IDEMPOTENCY_KEY_MAX,
    CreateResult,
    OrderInput,
    find_duplicate,
    order_create,
    order_proposal,
    propose_service_level,
    warranty_evaluate,
)
from aftersales.service.services.lifecycle import (
    order_cancel,
    order_close,
    order_follow_up,
    order_pause_clock,
    order_resume_clock,
)
from aftersales.service.services.quotes import order_quote, order_quote_accept, order_quote_decline
from aftersales.service.services.returns import (
    order_approve_return,
    order_complete_exchange,
    order_record_refund,
    order_reject_return,
)

__all__ = [
    "MAX_ATTACHMENT_BYTES", "IDEMPOTENCY_KEY_MAX", "LOW_RATING", "CreateResult", "OrderInput", "PartInput",
    "attachment_add", "sniff_content_type", "find_duplicate", "order_create", "order_proposal",
    "propose_service_level", "warranty_evaluate",
    "order_accept", "order_answer", "order_answer_escalation", "order_approve_return", "order_assign",
    "order_callback", "order_cancel", "order_check_in", "order_check_out", "order_close",
    "order_complete_exchange", "order_confirm", "order_confirm_by_customer", "order_confirm_mode", "order_customer_accept",
    "order_customer_reject", "order_diagnose", "order_dispatch", "order_escalate", "order_follow_up",
    "order_forward", "order_investigate", "order_pause_clock", "order_quote", "order_quote_accept",
    "order_quote_decline", "order_rate", "order_rate_by_customer", "order_receive", "order_record_refund",
    "order_record_service", "order_reject", "order_reject_return", "order_resend_code", "order_resolve",
    "order_resume_clock", "order_schedule", "order_solve_by_phone", "order_tech_accept", "order_tech_decline",
]
