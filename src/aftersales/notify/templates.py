"""Message texts, in Chinese and English, by template code.

The outbox stores the code and its context, not the text: a message is rendered when it is sent, in
the language set by AFTERSALES_NOTIFY_LANGUAGE, so a corrected text applies to messages still queued.
The in-app inbox (``notify.inbox``) renders the same codes in the reader's language.

Links are absolute, built from ``settings.SITE_URL`` when the text is rendered: a context carries
site-relative paths (``tracking_path``, ``rating_path``, ``order_path``) and the text names
``{tracking_url}`` etc.; ``{hotline}`` and ``{company}`` come from settings too.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django.conf import settings

TEMPLATES: dict[str, dict[str, str]] = {
    # To the customer.
    "inbox_order_created": {
        "zh-hans": "【{company}】您发来的“{subject}”已受理，服务单号 {number}。查看进度：{tracking_url} 服务热线 {hotline}",
        "en": "{company}: your message \"{subject}\" is registered as service request {number}. "
              "Follow it at {tracking_url} Hotline {hotline}",
    },
    "order_created": {
        "zh-hans": "【{company}】您的服务单 {number} 已受理，我们会尽快与您联系。查看进度：{tracking_url} 服务热线 {hotline}",
        "en": "{company}: your service request {number} is registered; we will call you shortly. "
              "Follow it at {tracking_url} Hotline {hotline}",
    },
    "portal_code": {
        "zh-hans": "【{company}】您的登录验证码：{code}，{minutes}分钟内有效。请勿告诉他人。",
        "en": "{company}: your login code is {code}, valid for {minutes} minutes. Do not share it.",
    },
    "order_dispatched": {
        "zh-hans": "【{company}】服务单 {number} 已派给 {organization}（电话 {organization_phone}）{technician}，"
                   "请保持电话畅通。服务热线 {hotline}",
        "en": "{company}: request {number} is with {organization} (tel. {organization_phone}) {technician}; "
              "they will call you. Hotline {hotline}",
    },
    "confirmation_code": {
        "zh-hans": "【{company}】服务单 {number} 的完工确认码：{code}。请在服务人员完成维修后告知。",
        "en": "{company}: the completion code of request {number} is {code}. Tell it to the technician "
              "once the work is done.",
    },
    "order_completed": {
        "zh-hans": "【{company}】服务单 {number} 已完工，感谢您的信任。请为本次服务评价：{rating_url} 服务热线 {hotline}",
        "en": "{company}: request {number} is complete, thank you. Please rate the service: {rating_url} "
              "Hotline {hotline}",
    },
    # To staff: the statistics centre's reports (统计报告), by e-mail.
    "stats_report_weekly": {
        "zh-hans": "【统计周报】{period}：受理 {intake} 单；15分钟传递率 {handoff}；到达时长中位数 {arrival} 小时；"
                   "一次修复率 {first_time_fix}；满意度 {rating}；投诉率 {complaints}。详情：{link}",
        "en": "Weekly service report {period}: {intake} orders received; handed on within 15 minutes {handoff}; "
              "median arrival {arrival} h; first-time fix {first_time_fix}; rating {rating}; complaints {complaints}. "
              "Details: {link}",
    },
    "stats_report_monthly": {
        "zh-hans": "【统计月报】{period}：受理 {intake} 单；15分钟传递率 {handoff}；到达时长中位数 {arrival} 小时；"
                   "一次修复率 {first_time_fix}；满意度 {rating}；投诉率 {complaints}。详情：{link}",
        "en": "Monthly service report {period}: {intake} orders received; handed on within 15 minutes {handoff}; "
              "median arrival {arrival} h; first-time fix {first_time_fix}; rating {rating}; complaints {complaints}. "
              "Details: {link}",
    },
    # To staff.
    "staff_assigned": {
        "zh-hans": "【{company}】任务单 {number} 已派给您，请及时处理。{order_url}",
        "en": "{company}: order {number} is now yours; please take it on. {order_url}",
    },
    # To staff, in the app's inbox (the bell): who must act next on a hop.
    "inbox_new_order": {
        "zh-hans": "新任务单 {number} 待转交热线技术员（15分钟内）。",
        "en": "New order {number}: forward it to a hotline technician (within 15 minutes).",
    },
    "inbox_forwarded": {
        "zh-hans": "任务单 {number} 已转给您，请回访客户。",
        "en": "Order {number} was forwarded to you: call the customer back.",
    },
    "inbox_forwarded_pool": {
        "zh-hans": "任务单 {number} 待热线技术员回访客户。",
        "en": "Order {number} awaits a hotline technician's call-back.",
    },
    "inbox_awaiting_dispatch": {
        "zh-hans": "任务单 {number} 待派工。",
        "en": "Order {number} is waiting for dispatch.",
    },
    "inbox_rejected": {
        "zh-hans": "任务单 {number} 被{organization}拒单，请重新派工。",
        "en": "Order {number} was rejected by {organization}: dispatch it again.",
    },
    "inbox_dispatched": {
        "zh-hans": "任务单 {number} 已派到{organization}，请接单。",
        "en": "Order {number} was dispatched to {organization}: accept it.",
    },
    "inbox_to_assign": {
        "zh-hans": "任务单 {number} 待指派维修人员。",
        "en": "Order {number} needs a field technician.",
    },
    "inbox_new_complaint": {
        "zh-hans": "新投诉 {number}，请在时限内首次响应。",
        "en": "New complaint {number}: give the first response in time.",
    },
    "inbox_escalation_answered": {
        "zh-hans": "任务单 {number} 的疑难升级已有答复。",
        "en": "The escalation of order {number} has been answered.",
    },
    # A large Excel export written by the worker (exports app); the notification links to the file.
    "inbox_export_ready": {
        "zh-hans": "导出文件 {name} 已生成，点击下载。",
        "en": "The export {name} is ready: open to download.",
    },
    "inbox_export_failed": {
        "zh-hans": "导出 {name} 未能完成，请缩小筛选范围后重试。",
        "en": "The export {name} could not be written; narrow the filters and try again.",
    },
    "sla_warning": {
        "zh-hans": "【服务时限预警】任务单 {number} 的“{target_name}”将于 {due} 到期。",
        "en": "SLA warning: \"{target_name}\" of order {number} is due at {due}.",
    },
    "sla_breach": {
        "zh-hans": "【服务时限超时】任务单 {number} 的“{target_name}”已于 {due} 超时，请立即处理。",
        "en": "SLA breached: \"{target_name}\" of order {number} was due at {due}; act now.",
    },
    "sla_escalation": {
        "zh-hans": "【超时升级 第{level}级】任务单 {number} 的“{target_name}”已于 {due} 超时，当前责任方：{holder}。",
        "en": "SLA escalation level {level}: \"{target_name}\" of order {number} was due at {due}; held by {holder}.",
    },
}

TARGET_NAMES: dict[str, dict[str, str]] = {
    "handoff": {"zh-hans": "15分钟信息传递", "en": "handoff to a hotline technician"},
    "callback": {"zh-hans": "回访客户", "en": "call-back"},
    "dispatch_accept": {"zh-hans": "派工接单", "en": "dispatch accepted"},
    "on_site": {"zh-hans": "到达现场", "en": "on site"},
    "fixed": {"zh-hans": "修复", "en": "fixed"},
    "repair_ceiling": {"zh-hans": "三包30个工作日修复期限", "en": "30-working-day repair ceiling"},
    "complaint_response": {"zh-hans": "投诉首次响应", "en": "complaint first response"},
}


_URLS = {"tracking_url": "tracking_path", "rating_url": "rating_path", "order_url": "order_path"}
_SENDER = re.compile(r"^【[^】]*】")


def absolute_url(path: str) -> str:
    """A site path as a link that works outside the site (SMS, e-mail, QR codes)."""
    return f"{settings.SITE_URL}{path}" if path else ""


def render(template: str, context: dict, language: str = "zh-hans", *, plain: bool = False) -> str:
    """The text of a message. ``plain``: without the SMS sender mark (【...】), for the inbox."""
    lang = "en" if language.lower().startswith("en") else "zh-hans"
    texts = TEMPLATES.get(template)
    values = defaultdict(str, {k: "" if v is None else v for k, v in (context or {}).items()})
    values.setdefault("company", settings.COMPANY_NAME)
    values.setdefault("hotline", settings.HOTLINE)
    for url, path in _URLS.items():
        if values.get(path):
            values[url] = absolute_url(values[path])
    if "target" in values:
        values["target_name"] = TARGET_NAMES.get(values["target"], {}).get(lang, values["target"])
    if texts is None:
        # An unknown code still goes out with its data rather than being dropped.
        return f"{template}: " + ", ".join(f"{k}={v}" for k, v in sorted(values.items()) if k != "code")
    text = texts[lang].format_map(values)
    return _SENDER.sub("", text).strip() if plain else text
