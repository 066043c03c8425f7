"""The names of the statistics centre's figures and units, shared by the pages and the report workbook."""

from django.utils.translation import gettext_lazy

MEASURE_LABELS = {
    "intake": gettext_lazy("Orders received"),
    "handoff": gettext_lazy("Handoff time"),
    "handoff_attainment": gettext_lazy("Handed on within 15 minutes"),
    "callback": gettext_lazy("Callback time"),
    "dispatch_acceptance": gettext_lazy("Dispatch acceptance time"),
    "arrival": gettext_lazy("Arrival time"),
    "fix": gettext_lazy("Fix time"),
    "turnaround": gettext_lazy("Total turnaround"),
    "escalation_answer": gettext_lazy("Escalation answer time"),
    "complaint_resolution": gettext_lazy("Complaint resolution time"),
    "first_time_fix_rate": gettext_lazy("First-time fix rate"),
    "phone_resolution_rate": gettext_lazy("Solved by phone"),
    "escalation_rate": gettext_lazy("Escalation rate"),
    "rating": gettext_lazy("Average rating"),
    "low_rating_rate": gettext_lazy("Ratings of 2 or lower"),
    "complaint_rate": gettext_lazy("Complaint rate"),
    "compliance_30wd_rate": gettext_lazy("Repaired within 30 working days"),
    "repeat_repair_30_rate": gettext_lazy("Repeat repair within 30 days"),
    "repeat_repair_90_rate": gettext_lazy("Repeat repair within 90 days"),
    "visit_satisfaction": gettext_lazy("Return-visit satisfaction"),
    "visit_reach_rate": gettext_lazy("Return visits reached"),
    "warranty_cost": gettext_lazy("三包 cost"),
    "warranty_cost_part": gettext_lazy("Parts"),
    "warranty_cost_labour": gettext_lazy("Labour"),
    "warranty_cost_travel": gettext_lazy("Travel"),
    "failures_per_1000": gettext_lazy("Failures per 1,000 machines in the field"),
    "hours_to_first_failure": gettext_lazy("Mean hours to first failure"),
    "sla_attainment": gettext_lazy("SLA attainment"),
}
UNIT_LABELS = {"minutes": gettext_lazy("min"), "hours": gettext_lazy("h"), "orders": "", "ratio": "", "score": "",
               "yuan": gettext_lazy("yuan"), "per_1000": "‰", "meter_hours": gettext_lazy("h (meter)")}
