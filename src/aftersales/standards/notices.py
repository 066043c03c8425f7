"""The inbox texts of the standards (站内通知), added to the notification templates at start-up so
the notify app does not know this app."""

from __future__ import annotations

TEMPLATES = {
    "standards_case": {
        "zh-hans": "待审批：{person} 的规范处理单 {number}。",
        "en": "To approve: conduct case {number} of {person}.",
    },
    "ownership_stalled": {
        "zh-hans": "首问负责：您受理的服务单 {number} 已 48 小时无进展，请跟进。",
        "en": "First-contact ownership: your request {number} has not moved for 48 hours; please follow it up.",
    },
}


def register() -> None:
    from aftersales.notify import templates

    for code, texts in TEMPLATES.items():
        templates.TEMPLATES.setdefault(code, texts)
