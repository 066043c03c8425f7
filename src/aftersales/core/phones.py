"""Chinese phone numbers: one normal form so that a caller is found by any way they say it.

Stored as E.164 (+8613812345678, +861088886666). Agents type numbers with spaces, dashes,
a leading 0 for the area code, +86 or 0086; all of those map to the same stored value.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed

MOBILE = "mobile"
LANDLINE = "landline"


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """Return the E.164 form of a Chinese mobile or landline number, or raise ValidationFailed."""
    text = (raw or "").strip()
    if not text:
        raise ValidationFailed(_("Phone number is required."), fields={field: _("This field is required.")})
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            _("Not a valid Chinese phone number: %(value)s") % {"value": text},
            fields={field: _("Enter an 11-digit mobile number or a landline with area code, e.g. 13812345678 or 010-88886666.")},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_kind(e164: str) -> str:
    number = phonenumbers.parse(e164, None)
    kind = phonenumbers.number_type(number)
    return MOBILE if kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE) else LANDLINE


def display_phone(e164: str) -> str:
    """The form people read in China: 138 1234 5678 / 010-8888 6666."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def mask_phone(e164: str) -> str:
    """Keep the first three and last four digits (138****5678): enough to confirm with a caller."""
    national = str(phonenumbers.parse(e164, None).national_number) if e164.startswith("+") else e164
    if len(national) <= 7:
        return "*" * len(national)
    return national[:3] + "*" * (len(national) - 7) + national[-4:]


def phone_search_digits(raw: str) -> str:
    """Digits of a search fragment, with a +86/0086 prefix dropped, for suffix lookups."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) > 11:
        digits = digits[2:]
    return digits


def public_number(e164: str) -> str:
    """An organization's own published number (a branch, an agency) as people read it. Not for
    customers' numbers: those are shown only through registry.policies.phone_for."""
    return display_phone(e164)
