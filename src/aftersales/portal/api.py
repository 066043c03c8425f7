"""The customer's phone portal as an API (客户门户接口), for a WeChat mini-program or an app: the same
things the /m/ pages offer, through the same portal services and selectors (the SMS-code login and
its limits, the customer's machines and orders, the fault report through the hotline's intake with
its duplicate guard and the files' checks, confirmation, rating, complaint).

Who calls: a customer's phone, with a portal token (``Authorization: Bearer pt_...``) from
``POST /portal/login/token``. The token stands for the proved phone, as the pages' session does;
a staff token opens none of these endpoints and a portal token none of the staff's."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, File, Form, Header, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from aftersales.api.errors import ErrorOut
from aftersales.core import throttle
from aftersales.core.types import DbId
from aftersales.portal import selectors, services
from aftersales.portal.facts import order_facts
from aftersales.portal.status import machine_status


class PortalBearer(HttpBearer):
    """门户令牌 ``pt_...`` only (staff tokens start ``as_`` and are refused here)."""

    def authenticate(self, request, token):
        phone = services.portal_token_authenticate(token)
        if phone is not None:
            request.portal_phone = phone
        return phone


router = Router(tags=["Customer portal / 客户门户"], auth=PortalBearer())
ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ErrorOut, 413: ErrorOut}


def _client(request) -> str:
    return throttle.client_ip(request)


# --- login ----------------------------------------------------------------------------------------

class PortalCodeIn(Schema):
    phone: str = Field(..., min_length=1, max_length=30, examples=["13912345678"],
                       description="The customer's mobile number as on record. / 客户登记的手机号")


class PortalCodeSentOut(Schema):
    sent: bool = Field(..., description="Always true: the answer does not tell whether the number is a customer's. "
                                        "/ 无论是否为客户号码都回答相同")
    expires_in: int = Field(..., description="Seconds the code is valid. / 验证码有效秒数")


# No credential: the OpenAPI document says so (``security: []``), for the app's generated client.
NO_AUTH = {"security": []}


@router.post("/login/code", auth=None, response={202: PortalCodeSentOut, **ERRORS}, openapi_extra=NO_AUTH,
             summary="Send an SMS login code / 发送短信验证码")
def login_code(request, payload: PortalCodeIn):
    """Sends a 6-digit code by SMS if the number is a customer's (the answer is the same either way).
    At most 3 codes per phone in 15 minutes and 20 per client address an hour, as on the /m/ page:
    over it, 429 with ``Retry-After``. A number that is not a valid Chinese phone is a 422 on ``phone``.
    同一手机号15分钟内最多3条，同一地址每小时最多20条；超出返回429。"""
    services.login_code_send(phone=payload.phone, client=_client(request))
    return Status(202, {"sent": True, "expires_in": int(services.CODE_TTL.total_seconds())})


class PortalTokenIn(Schema):
    phone: str = Field(..., min_length=1, max_length=30, examples=["13912345678"], description="手机号")
    code: str = Field(..., min_length=1, max_length=12, examples=["123456"], description="The code from the SMS. / 短信验证码")


class PortalTokenOut(Schema):
    token: str = Field(..., description="Send as ``Authorization: Bearer <token>``; shown once. / 访问令牌（仅显示一次）")
    token_type: str = "Bearer"
    expires_at: datetime = Field(..., description="After this, log in again. / 过期时间")
    phone: str = Field(..., description="The proved phone, E.164. / 已验证的手机号")


@router.post("/login/token", auth=None, response={200: PortalTokenOut, **ERRORS}, openapi_extra=NO_AUTH,
             summary="Exchange phone and code for a portal token / 用验证码换取令牌")
def login_token(request, payload: PortalTokenIn):
    """The newest code of the phone, once: a wrong or expired code is a 422 on ``code``; 5 wrong tries
    spend a code, and 10 wrong codes per phone or per client address in 15 minutes answer 429 until
    the pause ends. 验证码错误或过期返回422（字段code）；错误过多返回429。"""
    phone = services.login_code_verify(phone=payload.phone, code=payload.code, client=_client(request))
    token, key = services.portal_token_issue(phone=phone)
    return {"token": key, "expires_at": token.expires_at, "phone": phone}


@router.post("/logout", response={204: None, **ERRORS}, summary="Revoke this portal token / 退出登录")
def logout(request):
    services.portal_token_revoke(key=request.headers.get("Authorization", "").partition(" ")[2].strip())
    return Status(204, None)


# --- machines -------------------------------------------------------------------------------------

class PortalWarrantyOut(Schema):
    covered: bool = Field(..., description="The whole machine is under 三包 today. / 整机三包期内")
    end: date | None = Field(None, description="The whole machine's 三包 end. / 整机三包截止")
    engine_covered: bool = Field(..., description="The engine is covered today. / 发动机三包期内")
    engine_end: date | None = None
    parts_wait_days: int = Field(0, description="Days added for repairs that waited for parts. / 待件顺延天数")
    note: str = Field("", description="Why there is no answer (e.g. no purchase date on record). / 说明")


class PortalMachineOut(Schema):
    id: int
    serial_number: str = Field(..., description="出厂编号")
    engine_number: str = Field("", description="发动机号")
    model: str = Field(..., description="The model's name. / 机型")
    owner: str = Field(..., description="The customer who owns it. / 机主")
    warranty: PortalWarrantyOut


def _machine_out(machine) -> dict:
    status = machine_status(machine)
    return {"id": machine.pk, "serial_number": machine.serial_number, "engine_number": machine.engine_number or "",
            "model": machine.model.name, "owner": machine.owner.name,
            "warranty": {**status, "parts_wait_days": status.get("parts_wait_days", 0), "note": str(status["note"])}}


class PortalOrderOut(Schema):
    number: str = Field(..., description="任务单号")
    order_type: str = Field(..., description="repair, complaint, ...")
    order_type_display: str
    status: str
    status_display: str
    channel: str = Field(..., description="How it reached us (portal, phone, ...). / 受理渠道")
    machine_id: int | None
    machine_serial: str | None
    symptom: str = Field(..., description="The fault as reported. / 故障描述")
    created_at: datetime
    version: int = Field(..., description="Send it back with confirm and rate. / 版本号")


def _order_out(order) -> dict:
    return {"number": order.number, "order_type": order.order_type, "order_type_display": str(order.get_order_type_display()),
            "status": order.status, "status_display": str(order.get_status_display()), "channel": order.channel,
            "machine_id": order.machine_id, "machine_serial": order.machine.serial_number if order.machine_id else None,
            "symptom": order.symptom, "created_at": order.created_at, "version": order.version}


class PortalMachineDetailOut(PortalMachineOut):
    history: list[PortalOrderOut] = Field(..., description="This machine's orders you may see, newest first. / 维修记录")


@router.get("/machines", response={200: list[PortalMachineOut], **ERRORS}, summary="My machines / 我的机器")
def machine_list(request):
    """The machines of the customers who hold this phone, each with its 三包 status today."""
    return [_machine_out(m) for m in selectors.machine_queryset(request.portal_phone)]


@router.get("/machines/{machine_id}", response={200: PortalMachineDetailOut, **ERRORS},
            summary="A machine and its service history / 机器与维修记录")
def machine_detail(request, machine_id: DbId):
    """Another customer's machine is a 404."""
    machine = selectors.machine_get(request.portal_phone, machine_id)
    history = selectors.order_queryset(request.portal_phone).filter(machine=machine)
    return {**_machine_out(machine), "history": [_order_out(o) for o in history]}


# --- orders ---------------------------------------------------------------------------------------

class PortalStepOut(Schema):
    label: str
    done: bool
    current: bool


class PortalCallOut(Schema):
    label: str = Field(..., description="Whom you call. / 联系对象")
    number: str = Field(..., description="A public number (the hotline, the service point). / 电话")
    href: str = Field(..., description="tel: link")


class PortalFileOut(Schema):
    kind: str = Field(..., description="photo, video, audio, ...")
    content_type: str
    original_name: str


class PortalRatingOut(Schema):
    score: int
    comment: str


class PortalOrderDetailOut(PortalOrderOut):
    plain: str = Field(..., description="Where the order stands, in a sentence. / 当前进度说明")
    steps: list[PortalStepOut] = Field(..., description="The progress as the tracking page shows it (none once cancelled). / 进度")
    organization: str | None = Field(None, description="The service point. / 服务网点")
    technician: str | None = Field(None, description="By name only. / 服务技师")
    appointment_at: datetime | None = None
    may_confirm: bool = Field(..., description="Awaiting your confirmation with the completion code. / 可确认完工")
    may_rate: bool = Field(..., description="Completed: you may rate it. / 可评价")
    may_complain: bool = Field(..., description="You may file a complaint about it. / 可投诉")
    rating: PortalRatingOut | None = None
    files: list[PortalFileOut]
    calls: list[PortalCallOut] = Field(..., description="Numbers to call about it. / 联系电话")


def _detail(order) -> dict:
    facts = order_facts(order)
    rating = facts["rating"]
    # The labels are lazy translations: made text here, in the request's language.
    return {**_order_out(order), "plain": facts["plain"],
            "steps": [{**s, "label": str(s["label"])} for s in facts["steps"]],
            "organization": order.assigned_org.name if order.assigned_org_id else None,
            "technician": str(order.assigned_technician) if order.assigned_technician_id else None,
            "appointment_at": order.appointment_at, "may_confirm": facts["may_confirm"], "may_rate": facts["may_rate"],
            "may_complain": facts["may_complain"],
            "rating": {"score": rating.score, "comment": rating.comment} if rating else None,
            "files": facts["files"], "calls": [{**c, "label": str(c["label"])} for c in facts["calls"]]}


@router.get("/orders", response={200: list[PortalOrderOut], **ERRORS}, summary="My orders / 我的服务单")
def order_list(request):
    """The newest 30 orders of the customers who hold this phone, or reported from it."""
    return [_order_out(o) for o in selectors.order_queryset(request.portal_phone)[:30]]


@router.get("/orders/{number}", response={200: PortalOrderDetailOut, **ERRORS}, summary="Follow an order / 跟踪服务单")
def order_detail(request, number: str):
    """What you may see of it: the progress, the service point and technician by name, the files' kinds,
    the numbers to call. No internal notes. Another customer's order is a 404."""
    return _detail(selectors.order_get(request.portal_phone, number))


class PortalReportIn(Schema):
    machine_id: DbId = Field(..., description="One of your machines (GET /portal/machines). / 机器")
    symptom: str = Field(..., max_length=4000, description="What is wrong. / 故障描述")
    stopped: bool = Field(False, description="The machine is stopped in the field (an emergency). / 是否停机")
    address: str = Field("", max_length=200, description="Where the machine is. / 机器所在位置")
    latitude: str = Field("", max_length=20, description="From the phone's position, with longitude. / 纬度")
    longitude: str = Field("", max_length=20, description="经度")
    duplicate_reason: str = Field("", max_length=500, description="Send after a 409 duplicate_order to report anyway. / 重复报修原因")


@router.post("/reports", response={201: PortalOrderDetailOut, **WRITE_ERRORS}, summary="Report a fault / 报修")
def report(request, payload: Form[PortalReportIn], photos: File[list[UploadedFile]] = None,
           video: File[UploadedFile] = None, voice: File[UploadedFile] = None,
           idempotency_key: str = Header("", alias="Idempotency-Key", max_length=80)):
    """``multipart/form-data``: the fields, up to 6 ``photos`` (JPEG, PNG, WebP), one ``video`` (MP4, MOV,
    WebM) and one ``voice`` note (M4A, AMR, MP3, AAC, Ogg, WAV, WebM), each at most 10 MB, typed by
    content; at most 20 files per phone an hour. A repair order (channel ``portal``) through the
    hotline's intake: the same machine with an open order answers 409 ``duplicate_order`` with it in
    ``current`` (send ``duplicate_reason`` to report anyway). Send an ``Idempotency-Key`` to make a
    retry safe: the same key answers with the first order, never a second.
    以表单提交；重复报修返回409；使用Idempotency-Key保证重试不重复建单。"""
    rep = services.FaultReport(
        machine_id=payload.machine_id, symptom=payload.symptom, stopped=payload.stopped, address=payload.address,
        latitude=payload.latitude, longitude=payload.longitude, duplicate_reason=payload.duplicate_reason,
        photos=list(photos or []), video=video, voice=voice)
    result = services.fault_report(phone=request.portal_phone, report=rep, idempotency_key=idempotency_key)
    return Status(201, _detail(selectors.order_get(request.portal_phone, result.order.number)))


class PortalConfirmIn(Schema):
    version: int = Field(..., description="The version you read. / 版本号")
    code: str = Field(..., min_length=1, max_length=12, examples=["123456"],
                      description="The completion code the technician's check-out sent by SMS. / 完工验证码")


class PortalRateIn(Schema):
    version: int
    score: int = Field(..., ge=1, le=5, examples=[5], description="1-5 stars. / 评分")
    comment: str = Field("", max_length=2000, examples=["师傅来得快，修得好"])


class PortalComplaintIn(Schema):
    category: str = Field(..., max_length=20, description="attitude, delay, quality, product, charges or other. / 投诉类别")
    text: str = Field(..., min_length=1, max_length=4000, description="What happened. / 投诉内容")


@router.post("/orders/{number}/confirm", response={200: PortalOrderDetailOut, **WRITE_ERRORS},
             summary="Confirm the repair / 确认完工")
def confirm(request, payload: PortalConfirmIn, number: str):
    """With the completion code; a stale ``version`` is a 409 with the order as it is now."""
    services.order_confirm(phone=request.portal_phone, number=number, version=payload.version, code=payload.code)
    return _detail(selectors.order_get(request.portal_phone, number))


@router.post("/orders/{number}/rate", response={200: PortalOrderDetailOut, **WRITE_ERRORS}, summary="Rate the service / 评价")
def rate(request, payload: PortalRateIn, number: str):
    services.order_rate(phone=request.portal_phone, number=number, version=payload.version, score=payload.score,
                        comment=payload.comment)
    return _detail(selectors.order_get(request.portal_phone, number))


@router.post("/orders/{number}/complaints", response={201: PortalOrderDetailOut, **WRITE_ERRORS},
             summary="Complain about an order / 投诉")
def complain(request, payload: PortalComplaintIn, number: str,
             idempotency_key: str = Header("", alias="Idempotency-Key", max_length=80)):
    """A complaint order about one of your orders, sent to a supervisor at once; answers the complaint."""
    complaint = services.complaint_file(phone=request.portal_phone, number=number, category=payload.category,
                                        text=payload.text, idempotency_key=idempotency_key)
    return Status(201, _detail(selectors.order_get(request.portal_phone, complaint.number)))
