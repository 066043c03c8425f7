"""The default time promises, busy seasons, working hours and escalation levels (editable in the
admin and the API), from ../shared/docs/warranty.md (company service commitments)."""

from datetime import time

from django.db import migrations

REMOTE_PROVINCES = ["新疆", "西藏", "青海", "内蒙古", "黑龙江"]

POLICIES = [
    # name, target, amount, unit, basis, filters
    ("信息传递 15 分钟", "handoff", 15, "minutes", "working", {"order_types": ["repair", "consultation"]}),
    ("回访客户 1 小时", "callback", 1, "hours", "working", {"order_types": ["repair", "consultation"]}),
    ("派工接单 2 小时", "dispatch_accept", 2, "hours", "working", {"order_types": ["repair"]}),
    ("到达现场 6 小时", "on_site", 6, "hours", "working", {"order_types": ["repair"], "service_modes": ["on_site", "paid"]}),
    ("到达现场 8 小时（边远省份）", "on_site", 8, "hours", "working",
     {"order_types": ["repair"], "service_modes": ["on_site", "paid"], "provinces": REMOTE_PROVINCES}),
    ("农忙修复 12 小时", "fixed", 12, "hours", "working", {"order_types": ["repair"], "season": "busy"}),
    ("三包修理 30 个工作日", "repair_ceiling", 30, "days", "working", {"order_types": ["repair"], "warranty_only": True}),
    ("投诉首次响应 1 小时", "complaint_response", 1, "hours", "working", {"order_types": ["complaint"]}),
]

SEASONS = [
    ("春耕春播", "03-10", "06-15", [], ""),
    ("秋收秋种", "09-15", "11-15", [], ""),
    ("三夏麦收（河南、安徽）", "05-20", "06-10", ["河南", "安徽"], "小麦"),
    ("三夏麦收（河北、山东）", "06-01", "06-30", ["河北", "山东"], "小麦"),
]

LEVELS = [(1, 30, "repair_coordinator", "holder_org"), (2, 120, "supervisor", "service_center")]


def ensure_defaults(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    BusySeason = apps.get_model("sla", "BusySeason")
    WorkingHours = apps.get_model("sla", "WorkingHours")
    EscalationLevel = apps.get_model("sla", "EscalationLevel")
    if not SlaPolicy.objects.exists():
        for name, target, amount, unit, basis, filters in POLICIES:
            SlaPolicy.objects.create(name=name, target=target, amount=amount, unit=unit, basis=basis, **filters)
    if not BusySeason.objects.exists():
        for name, start, end, provinces, crop in SEASONS:
            BusySeason.objects.create(name=name, start=start, end=end, provinces=provinces, crop=crop)
    WorkingHours.objects.get_or_create(organization=None, defaults={"start": time(8), "end": time(18)})
    for level, after, role, scope in LEVELS:
        EscalationLevel.objects.get_or_create(level=level, defaults={"after_minutes": after, "role": role, "scope": scope})


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(ensure_defaults, migrations.RunPython.noop)]
