"""The API's request parser: ninja's JSON parser, refusing the NUL character.

PostgreSQL cannot store NUL in text; psycopg raises ValueError deep in the ORM and the caller got a
500. Refusing it here answers 422 in the one error format, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from ninja.errors import ValidationError
from ninja.parser import Parser


def _nul_locations(value, loc: tuple) -> list[tuple]:
    if isinstance(value, str):
        return [loc] if "\x00" in value else []
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _nul_locations(v, (*loc, k))] + (
            [loc] if any("\x00" in str(k) for k in value) else [])
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _nul_locations(v, (*loc, i))]
    return []


def _refuse_nul(data, where: str):
    hits = _nul_locations(data, (where,))
    if hits:
        raise ValidationError([{"loc": hit, "type": "nul_character", "msg": "NUL characters are not allowed."}
                               for hit in hits])
    return data


class NulRefusingParser(Parser):
    def parse_body(self, request):
        return _refuse_nul(super().parse_body(request), "body")

    def parse_querydict(self, data, list_fields, request):
        return _refuse_nul(super().parse_querydict(data, list_fields, request), "query")
