"""The warranty engine's reasons in words: the message table (Simplified Chinese and English, with
the values in ``params``), the labels of codes, and the explainer that fills them. Pure; the engine
(warranty.engine) re-exports ``MESSAGES``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .facts import WHOLE_MACHINE, Reason, _json_safe

# code -> (Simplified Chinese, English). Placeholders are filled from the reason's params; params
# named in _LABELS are shown through that label table in each language.
MESSAGES: dict[str, tuple[str, str]] = {
    "start_invoice": (
        "三包有效期自发票日期 {start} 起算。",
        "The warranty period starts on the invoice date {start}.",
    ),
    "start_delivery_later": (
        "交付日期 {delivery} 晚于发票日期 {invoice}，按有利于用户的原则自交付日期起算。",
        "Delivery on {delivery} was later than the invoice of {invoice}; the period starts on the later date, in the user's favour.",
    ),
    "start_delivery_only": (
        "无发票日期，三包有效期自交付日期 {start} 起算。",
        "No invoice date is recorded; the period starts on the delivery date {start}.",
    ),
    "no_start_date": (
        "无发票日期和交付日期，无法证明产品在三包有效期内，按有偿服务处理。",
        "Neither an invoice nor a delivery date is recorded, so there is no proof the machine is within its warranty period; paid service.",
    ),
    "restart_after_exchange": (
        "整机已于 {exchange} 更换，三包有效期自更换之日起重新计算。",
        "The whole machine was exchanged on {exchange}; the warranty period restarts from that day.",
    ),
    "host_machine": (
        "发动机作为{host}的配套动力，三包有效期随主机。",
        "The engine is the power unit of a {host}, so it follows the host machine's periods.",
    ),
    "tractor_large": (
        "额定功率 {power} kW 大于 {threshold} kW，按大中型拖拉机计。",
        "Rated power {power} kW is above {threshold} kW: a large tractor.",
    ),
    "tractor_small": (
        "额定功率 {power} kW 不大于 {threshold} kW，按小型拖拉机计。",
        "Rated power {power} kW is not above {threshold} kW: a small tractor.",
    ),
    "tractor_power_unknown": (
        "未记录额定功率，按有利于用户的原则以大于 {threshold} kW 的拖拉机计。",
        "No rated power is recorded; treated as a tractor above {threshold} kW, in the user's favour.",
    ),
    "period_whole_machine": (
        "{period_class}整机三包有效期 {months} 个月。",
        "Whole-machine period for a {period_class}: {months} months.",
    ),
    "period_counting": (
        "起算日 {start} 不计入，期间至到期月的对应日 {nominal_end}（无对应日的为月末日）。",
        "The start day {start} is not counted; the period runs to the same-numbered day of the final month, {nominal_end} (the month's last day if there is none).",
    ),
    "extension": (
        "三包期内修理及等待配件 {days} 天不计入三包有效期，期间顺延。",
        "{days} days in warranty repair or waiting for parts are not counted; the period is extended by them.",
    ),
    "extension_parts_wait": (
        "其中等待配件 {days} 天（备件申请 {references}），三包有效期相应顺延。",
        "Of these, {days} days were spent waiting for parts (parts requisition {references}); the period is extended accordingly.",
    ),
    "holiday_rollover": (
        "期间最后一日 {last_day} 为法定休假日（公休日或节假日），以休假日结束的次日 {end} 为最后一日。",
        "The last day {last_day} is a rest day (a weekend or a public holiday); the period ends on the first working day after it, {end}.",
    ),
    "calendar_fallback": (
        "{year} 年的放假安排尚未公布，按周六、周日及固定日期节假日（元旦、劳动节、国庆节）推算休假日，公布后可能变化。",
        "No holiday notice for {year} is on file: rest days are taken as Saturdays, Sundays and the fixed-date holidays (New Year's Day, Labour Day, National Day), and may change once the notice is out.",
    ),
    "calendar_provisional": (
        "{year} 年的节假日数据为暂定，待国务院通知公布后核对。",
        "The holiday data for {year} is provisional until the State Council's notice is checked against it.",
    ),
    "whole_machine_not_started": (
        "三包有效期自 {start} 起算，评估日 {on} 尚未开始。",
        "The warranty period starts on {start}; on {on} it has not started yet.",
    ),
    "component_not_started": (
        "{component}（{part}）的三包有效期自 {start} 起算，尚未开始。",
        "{component} ({part}): the warranty period starts on {start} and has not started yet.",
    ),
    "unknown_component": (
        "“{component}”不是已知的部件代码，按一般部件处理；请核对部件名称。",
        "'{component}' is not a known component code; treated as a general part. Check the component.",
    ),
    "workshop_guarantee": (
        "{component} 于 {finished} 完成修理厂修理，享有 {months} 个月质量保证，至 {end}。",
        "{component} was repaired in a workshop, finished {finished}; that repair is guaranteed for {months} months, through {end}.",
    ),
    "whole_machine_covered": (
        "整机在三包有效期内，至 {end}。",
        "The whole machine is within its warranty period, through {end}.",
    ),
    "whole_machine_expired": (
        "整机三包有效期已于 {end} 届满。",
        "The whole machine's warranty period ended on {end}.",
    ),
    "component_covered": (
        "{component}（{part}）在三包有效期内，至 {end}。",
        "{component} ({part}) is within its warranty period, through {end}.",
    ),
    "component_expired": (
        "{component}（{part}）三包有效期已于 {end} 届满。",
        "{component} ({part}): the warranty period ended on {end}.",
    ),
    "component_unknown": (
        "{component}（{part}）无法证明在三包有效期内。",
        "{component} ({part}): no proof that it is within its warranty period.",
    ),
    "main_part_period": (
        "{component} 为主要部件，三包有效期 {months} 个月。",
        "{component} is a main part: {months}-month period.",
    ),
    "wear_part": (
        "{component} 为易损件，不属三包免费范围，按有偿服务处理。",
        "{component} is a wear part, not covered free of charge; paid service.",
    ),
    "excluded": (
        "{target}不实行三包：{exclusion}。",
        "{target} is not covered: {exclusion}.",
    ),
    "burden_of_proof": (
        "不实行三包的情形由销售者、生产者或修理者负责举证。",
        "The seller, maker or repairer bears the burden of proving an exclusion.",
    ),
    "exclusion_not_in_regime": (
        "本政策不将“{exclusion}”列为免责情形，不影响三包。",
        "This policy does not list '{exclusion}' as an exclusion; coverage is unaffected.",
    ),
    "not_covered": (
        "{target}状态为“{state}”，不承担三包责任，按有偿服务处理。",
        "{target} is {state}: no warranty remedy; paid service.",
    ),
    "free_repair": (
        "三包有效期内免费修理，包括工时费、材料费和合理的运输费用。",
        "Free repair within the warranty period: labour, materials and reasonable transport.",
    ),
    "repair_deadline_running": (
        "修理自 {intake} 受理，应在 {working_days} 个工作日内（{deadline} 前）完成。",
        "The repair taken in on {intake} must be finished within {working_days} working days, by {deadline}.",
    ),
    "repair_deadline_passed": (
        "修理自 {intake} 受理，已超过 {working_days} 个工作日（期限 {deadline}），用户可选择继续修理或更换整机。",
        "The repair taken in on {intake} passed the {working_days}-working-day deadline ({deadline}); the user may choose further repair or an exchange.",
    ),
    "main_part_replacement_serious": (
        "{component} 因同一严重质量问题已修理 {count} 次，三包有效期内再次出现，免费更换主要部件。",
        "{component} was repaired {count} times for the same serious problem and it recurs within the period: free main-part replacement.",
    ),
    "main_part_replacement_first_season": (
        "第一个作业季开始（{season_start}）30日内，{component} 因同一一般质量问题已修理 {count} 次后又出现（至 {window_end}），免费更换主要部件。",
        "Within 30 days of the first operating season starting on {season_start} (through {window_end}), {component} was repaired {count} times for the same problem and it recurs: free main-part replacement.",
    ),
    "exchange_after_replacement": (
        "{component} 已于 {replaced} 更换主要部件后仍出现同一问题，予以更换整机。",
        "The problem with {component} recurs after its main part was replaced on {replaced}: whole-machine exchange.",
    ),
    "exchange_on_request": (
        "修理超过期限，用户要求更换，予以更换整机。",
        "The repair deadline has passed and the user asks for an exchange: whole-machine exchange.",
    ),
    "return_after_exchange": (
        "整机已于 {exchanged} 更换后 {component} 仍出现同一问题，予以退货（退还发票价款）。",
        "The problem with {component} recurs after the exchange of {exchanged}: return, refunding the invoice price.",
    ),
    "return_no_same_model": (
        "应予换货但无同型号产品，予以退货（退还发票价款）。",
        "An exchange is due but no machine of the same model is available: return, refunding the invoice price.",
    ),
    "service_mode_covered": (
        "{period_class}在保，建议{mode}。",
        "Covered {period_class}: suggested service mode {mode}.",
    ),
    "service_mode_not_covered": (
        "状态为“{state}”，建议{mode}。",
        "State {state}: suggested service mode {mode}.",
    ),
}

_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "period_class": {
        "tractor_large": ("大中型拖拉机", "large tractor"),
        "tractor_small": ("小型拖拉机", "small tractor"),
        "combine_harvester": ("联合收割机", "combine harvester"),
        "rice_transplanter": ("插秧机", "rice transplanter"),
        "diesel_engine_multi": ("多缸柴油机", "multi-cylinder diesel engine"),
        "diesel_engine_single": ("单缸柴油机", "single-cylinder diesel engine"),
        "implement": ("农机具", "implement"),
        "other": ("其他农业机械", "other agricultural machine"),
    },
    "host": {
        "tractor": ("拖拉机", "tractor"),
        "combine_harvester": ("联合收割机", "combine harvester"),
        "rice_transplanter": ("插秧机", "rice transplanter"),
        "diesel_engine_single": ("单缸柴油机", "single-cylinder diesel engine"),
        "diesel_engine_multi": ("多缸柴油机", "multi-cylinder diesel engine"),
        "implement": ("农机具", "implement"),
        "other": ("其他农业机械", "other agricultural machine"),
    },
    "part": {
        "main": ("主要部件", "main part"),
        "general": ("一般部件", "general part"),
        "wear": ("易损件", "wear part"),
    },
    "state": {
        "covered": ("在保", "covered"),
        "not_started": ("三包期未开始", "not started yet"),
        "expired": ("已过三包期", "expired"),
        "excluded": ("不实行三包", "excluded"),
        "wear_part": ("易损件", "a wear part"),
        "unknown": ("无法证明在保", "without proof of coverage"),
    },
    "mode": {
        "on_site": ("上门服务", "on_site (on-site service)"),
        "carry_in": ("送修", "carry_in (carry-in repair)"),
        "mail_in": ("寄修", "mail_in (mail-in repair)"),
        "paid": ("有偿服务", "paid (paid service)"),
        "phone": ("电话应答", "phone (answered by phone)"),
    },
    "exclusion": {
        "no_proof": ("无法证明在三包有效期内", "no proof that it is within the warranty period"),
        "misuse": ("未按使用说明书要求使用、维护、保养", "used, serviced or maintained against the manual"),
        "modification": ("擅自改装、拆卸", "modified or dismantled without authorisation"),
        "improper_handling": (
            "发生故障后处置不当，致使无法判定故障原因",
            "handled wrongly after the fault, so the cause cannot be determined",
        ),
        "man_made_damage": ("人为损坏", "man-made damage"),
        "force_majeure": ("不可抗力", "force majeure"),
    },
}

# Component names are codes; these stand in for "the machine" where a reason names its target.
_WHOLE_MACHINE_LABEL = ("整机", "The whole machine")


class _Explainer:
    """Collects reasons; fills each text from the message table in both languages."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []

    def add(self, rule: str, code: str, **params: Any) -> None:
        zh, en = MESSAGES[code]
        safe = {k: _json_safe(v) for k, v in params.items()}
        self.reasons.append(
            Reason(
                rule=rule,
                code=code,
                text_zh=zh.format(**self._localise(safe, 0)),
                text_en=en.format(**self._localise(safe, 1)),
                params=safe,
            )
        )

    @staticmethod
    def _localise(params: Mapping[str, Any], lang: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in params.items():
            table = _LABELS.get(key)
            if table is not None and value in table:
                out[key] = table[value][lang]
            elif key in ("component", "target") and value == WHOLE_MACHINE:
                out[key] = _WHOLE_MACHINE_LABEL[lang]
            else:
                out[key] = value
        return out
