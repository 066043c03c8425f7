"""The product-quality API: quality issues (质量问题单), their actions and service campaigns."""


from datetime import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.core.types import DbInt
from aftersales.quality import selectors, services
from aftersales.quality.models import IssueStatus, QualityIssue

router = Router(tags=["Quality"])


class IssueIn(Schema):
    model_id: int = Field(..., description="The product model. / 产品型号")
    component: str = Field(..., max_length=40, description="A component code (warranty/data/parts.json). / 部件代码")
    batch: str = Field("", max_length=40, description="Production batch (serial prefix). / 生产批次")
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=5000)
    order_ids: list[int] = Field([], description="Orders that show the problem (ids you may see).")


class EventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    actor_id: int | None
    data: dict


class CampaignOut(Schema):
    id: int
    title: str
    instructions: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    owner_id: int
    progress: dict = Field(..., description="total, created, skipped, waiting: machines of the campaign.")


class IssueOut(Schema):
    id: int
    number: str | None
    title: str
    source: str
    status: str
    status_display: str
    model_id: int
    model_code: str
    component: str
    batch: str
    machines_in_field: int
    failures: int
    expected: float | None
    p_value: float | None
    description: str
    analysis: str
    countermeasure: str
    verification: str
    owner_id: int | None
    detected_at: datetime
    closed_at: datetime | None
    version: int
    order_ids: list[int]
    allowed_actions: list[str]


class IssueDetailOut(IssueOut):
    events: list[EventOut]
    campaigns: list[CampaignOut]


class ActionIn(Schema):
    version: int
    text: str = Field("", max_length=5000, description="analysis, countermeasure, verification or the reason to close")


class CampaignIn(Schema):
    title: str = Field(..., max_length=200, description="服务活动名称, e.g. 2406批次变速箱检查")
    instructions: str = Field(..., max_length=5000, description="What the technicians check or replace.")
    owner_id: int | None = Field(None, description="First-contact owner of the orders (default: you).")


def issue_out(user, issue: QualityIssue) -> dict:
    return {
        "id": issue.pk, "number": issue.number, "title": issue.title, "source": issue.source, "status": issue.status,
        "status_display": str(issue.get_status_display()), "model_id": issue.model_id, "model_code": issue.model.code,
        "component": issue.component, "batch": issue.batch, "machines_in_field": issue.machines_in_field,
        "failures": issue.failures, "expected": issue.expected, "p_value": issue.p_value,
        "description": issue.description, "analysis": issue.analysis, "countermeasure": issue.countermeasure,
        "verification": issue.verification, "owner_id": issue.owner_id, "detected_at": issue.detected_at,
        "closed_at": issue.closed_at, "version": issue.version,
        "order_ids": list(issue.orders.values_list("pk", flat=True)),
        "allowed_actions": services.issue_allowed_actions(user, issue),
    }


def issue_detail(user, issue: QualityIssue) -> dict:
    return {
        **issue_out(user, issue),
        "events": [{"at": e.at, "action": e.action, "from_status": e.from_status, "to_status": e.to_status,
                    "actor_id": e.actor_id, "data": e.data} for e in issue.events.all()],
        "campaigns": [{"id": c.pk, "title": c.title, "instructions": c.instructions, "status": c.status,
                       "started_at": c.started_at, "finished_at": c.finished_at, "owner_id": c.owner_id,
                       "progress": selectors.campaign_progress(c)} for c in issue.campaigns.all()],
    }


@router.get("/quality/issues", response={200: list[IssueOut], **COMMON_ERRORS}, summary="Quality issues / 质量问题单")
def issue_list(request, status: Literal["open", "analysing", "countermeasure", "verified", "closed", "active"] = "active",
               limit: int = Query(100, ge=1, le=500)):
    """Quality issues of the maker's products, newest first. `active` (default) is every status but
    closed. Partners see none. 质量问题单（批量问题预警或人工上报）。"""
    qs = selectors.issue_queryset(request.user).prefetch_related("orders")
    qs = qs.exclude(status=IssueStatus.CLOSED) if status == "active" else qs.filter(status=status)
    return [issue_out(request.user, i) for i in qs[:limit]]


@router.post("/quality/issues", response={201: IssueDetailOut, 409: ErrorOut, **COMMON_ERRORS},
             summary="Report a quality issue / 上报质量问题")
def issue_create(request, payload: IssueIn):
    issue = services.issue_report(actor=request.user, **payload.model_dump())
    return Status(201, issue_detail(request.user, issue))


@router.get("/quality/issues/{issue_id}", response={200: IssueDetailOut, **COMMON_ERRORS}, summary="A quality issue")
def issue_get(request, issue_id: DbInt):
    return issue_detail(request.user, selectors.issue_get(request.user, issue_id))


ISSUE_ACTION_DOCS = {
    "analyse": "open → analysing; the analysis text is optional. / 开始分析",
    "countermeasure": "analysing → countermeasure; the countermeasure is required. / 记录对策",
    "verify": "countermeasure → verified; the verification is required. / 记录验证结果",
    "close": "any open status → closed; the reason is required. / 关闭问题单",
}


def _issue_action_operation(action: str):
    # One operation per action (like the order actions), so each is its own entry of the OpenAPI document.
    def operation(request, issue_id: DbInt, payload: ActionIn):
        issue = services.issue_act(actor=request.user, issue_id=issue_id, version=payload.version, action=action,
                                   text=payload.text)
        return issue_detail(request.user, issue)

    operation.__name__ = f"issue_{action}"
    operation.__doc__ = ISSUE_ACTION_DOCS[action]
    router.post(f"/quality/issues/{{issue_id}}/actions/{action}", response={200: IssueDetailOut, 409: ErrorOut, **COMMON_ERRORS},
                summary=f"Quality issue: {action}", operation_id=f"quality_issue_{action}")(operation)


for _action in ISSUE_ACTION_DOCS:
    _issue_action_operation(_action)


@router.post("/quality/issues/{issue_id}/campaigns", response={201: CampaignOut, **COMMON_ERRORS},
             summary="Start a service campaign / 启动服务活动")
def campaign_create(request, issue_id: DbInt, payload: CampaignIn):
    """One repair order per machine of the issue's batch still in the field: the first 10 at once, the
    rest in batches of 50 by the worker; a retry never makes a second order for a machine."""
    campaign = services.campaign_start(actor=request.user, issue_id=issue_id, **payload.model_dump())
    return Status(201, {"id": campaign.pk, "title": campaign.title, "instructions": campaign.instructions,
                        "status": campaign.status, "started_at": campaign.started_at,
                        "finished_at": campaign.finished_at, "owner_id": campaign.owner_id,
                        "progress": selectors.campaign_progress(campaign)})
