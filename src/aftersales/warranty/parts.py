"""The component vocabulary: codes (as the regime, product models and service records use them)
and their names in Chinese and English. Codes keep matching exact across languages; names are
for people."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def part_labels() -> dict[str, dict[str, str]]:
    text = resources.files(__package__).joinpath("data/parts.json").read_text("utf-8")
    return json.loads(text)["parts"]


def part_label(code: str, language: str = "zh-hans") -> str:
    """The name of a component in a language; an unknown code (a maker's own part) shows as itself."""
    names = part_labels().get(code)
    if not names:
        return code
    return names.get(language) or names.get("zh-hans") or code


def known_part(code: str) -> bool:
    return code in part_labels()
