"""批量问题: finding a production batch whose machines fail more than comparable machines do.

Pure Python, no Django and no "now". The caller counts, per product model × component × production
batch, the machines in the field and the failures recorded on them in the window; the engine
compares each batch with the rest of the same model and component (the baseline) and raises an
alarm when the batch's failures are improbable under the baseline rate.

The test is a one-sided Poisson test: with the baseline rate r (failures per machine in the
window) a batch of n machines expects λ = r·n failures, and the chance of seeing x or more is
P(X ≥ x) = 1 − Σ_{k<x} e^−λ λ^k / k!. It is exact for small counts, where a normal approximation
would cry wolf at the first two failures of a small batch. A baseline without any failure is
given half a failure (r = 0.5 / machines), so a first cluster on a model that never failed is
judged against "rare", not against "impossible".
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp


@dataclass(frozen=True, slots=True)
class Cell:
    """The field population of one model × component × batch and its failures in the window."""

    model: str
    component: str
    batch: str
    machines: int
    failures: int


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_failures: int = 3  # fewer failures never make an alarm, however small the batch
    p_value: float = 0.001  # how improbable under the baseline
    min_ratio: float = 2.0  # observed at least this many times the expected


@dataclass(frozen=True, slots=True)
class Alarm:
    model: str
    component: str
    batch: str
    machines: int
    failures: int
    expected: float
    ratio: float
    p_value: float


def poisson_tail(x: int, lam: float) -> float:
    """P(X ≥ x) for X ~ Poisson(lam)."""
    if x <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    term = exp(-lam)
    below = term
    for k in range(1, x):
        term *= lam / k
        below += term
    return max(0.0, 1.0 - below)


def batch_of(serial: str, *, prefix_length: int = 0) -> str:
    """The production batch read from a serial number: its first ``prefix_length`` characters, or by
    default everything before the last group ("LX904-2406-0137" -> "LX904-2406")."""
    serial = serial.strip().upper()
    if prefix_length > 0:
        return serial[:prefix_length]
    for sep in ("-", "/", " "):
        if sep in serial:
            return serial.rsplit(sep, 1)[0]
    return serial[:-4] if len(serial) > 4 else serial


def find_alarms(cells: list[Cell], thresholds: Thresholds = Thresholds()) -> list[Alarm]:
    """Alarms for the batches that fail improbably often, the most improbable first."""
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for c in cells:
        n, f = totals.get((c.model, c.component), (0, 0))
        totals[(c.model, c.component)] = (n + c.machines, f + c.failures)
    alarms = []
    for c in cells:
        if c.failures < thresholds.min_failures or c.machines <= 0:
            continue
        n_all, f_all = totals[(c.model, c.component)]
        n_other, f_other = n_all - c.machines, f_all - c.failures
        if n_other <= 0:
            continue  # nothing comparable: a batch cannot be judged against itself
        rate = (f_other if f_other > 0 else 0.5) / n_other
        expected = rate * c.machines
        ratio = c.failures / expected
        p = poisson_tail(c.failures, expected)
        if p < thresholds.p_value and ratio >= thresholds.min_ratio:
            alarms.append(Alarm(c.model, c.component, c.batch, c.machines, c.failures, round(expected, 3),
                                round(ratio, 2), p))
    return sorted(alarms, key=lambda a: a.p_value)
