"""Message texts, in Chinese and English, by template code.

The outbox stores the code and its context, not the text: a message is rendered when it is sent, in
the language set by AFTERSALES_NOTIFY_LANGUAGE, so a corrected text applies to messages still queued.
"""

from __future__ import annotations

from collections import defaultdict

TEMPLATES: dict[str, dict[str, str]] = {
    # To the customer.
    "order_created": {
        "zh-hans": "【开拓机械】您的服务单 {number} 已受理，我们会尽快与您联系。",
        "en": "Kaituo Machinery: your service request {number} is registered; we will call you shortly.",
    },
    "order_dispatched": {
        "zh-hans": "【开拓机械】服务单 {number} 已派给 {organization}（电话 {organization_phone}）{technician}，请保持电话畅通。",
        "en": "Kaituo Machinery: request {number} is with {organization} (tel. {organization_phone}) {technician}; "
              "they will call you.",
    },
    "confirmation_code": {
        "zh-hans": "【开拓机械】服务单 {number} 的完工确认码：{code}。请在服务人员完成维修后告知。",
        "en": "Kaituo Machinery: the completion code of request {number} is {code}. Tell it to the technician "
              "once the work is done.",
    },
    "order_completed": {
        "zh-hans": "【开拓机械】服务单 {number} 已完工，感谢您的信任。请为本次服务评价：{rating_path}",
        "en": "Kaituo Machinery: request {number} is complete, thank you. Please rate the service: {rating_path}",
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
        "zh-hans": "【开拓机械】任务单 {number} 已派给您，请及时处理。",
        "en": "Kaituo Machinery: order {number} is now yours; please take it on.",
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


def render(template: str, context: dict, language: str = "zh-hans") -> str:
    lang = "en" if language.lower().startswith("en") else "zh-hans"
    texts = TEMPLATES.get(template)
    values = defaultdict(str, {k: "" if v is None else v for k, v in (context or {}).items()})
    if "target" in values:
        values["target_name"] = TARGET_NAMES.get(values["target"], {}).get(lang, values["target"])
    if texts is None:
        # An unknown code still goes out with its data rather than being dropped.
        return f"{template}: " + ", ".join(f"{k}={v}" for k, v in sorted(values.items()) if k != "code")
    return texts[lang].format_map(values)
