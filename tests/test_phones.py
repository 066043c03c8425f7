import pytest

from aftersales.core.errors import ValidationFailed
from aftersales.core.phones import display_phone, mask_phone, normalize_phone, phone_kind, phone_search_digits


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("010-88886666", "+861088886666"),
        ("(010) 8888 6666", "+861088886666"),
        ("0371-66881234", "+8637166881234"),
        ("037166881234", "+8637166881234"),
        ("19912345678", "+8619912345678"),
    ],
)
def test_every_spelling_of_a_number_normalises_to_one_form(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "12345", "1381234567", "138123456789", "abc", "11012345678", "00000000000"])
def test_malformed_numbers_are_refused_with_the_field_named(raw):
    with pytest.raises(ValidationFailed) as exc:
        normalize_phone(raw, field="contact_phone")
    assert "contact_phone" in exc.value.fields


def test_kind_display_and_mask():
    assert phone_kind("+8613812345678") == "mobile"
    assert phone_kind("+861088886666") == "landline"
    assert display_phone("+8613812345678").replace(" ", "") == "13812345678"
    assert display_phone("+861088886666").startswith("010")
    assert mask_phone("+8613812345678") == "138****5678"
    assert "8888" not in mask_phone("+861088886666")[:-4]


def test_search_digits_drop_country_prefix():
    assert phone_search_digits("+86 138-1234-5678") == "13812345678"
    assert phone_search_digits("5678") == "5678"
