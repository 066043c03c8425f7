"""Languages: the Simplified Chinese catalog is complete and compiled, and pages and API errors
answer in Chinese by default and in English when the client asks for it."""

from __future__ import annotations

import ast
import gettext
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import aftersales

LOCALE_DIR = Path(aftersales.__file__).resolve().parent / "locale"
ZH_PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.mo"


# --- A small .po reader -------------------------------------------------------------------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry, n for msgstr[n]
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def label(self) -> str:
        ctxt = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {ctxt}{self.msgid!r}"


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(token: str, where: str) -> str:
    value = ast.literal_eval(token)  # a C-style string literal reads as a Python one for what .po files use
    assert isinstance(value, str), where
    return value


def read_po(path: Path) -> list[PoEntry]:
    """Entries of a .po file, obsolete (#~) entries left out; continuation lines are joined."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    flags: set[str] = set()
    target: tuple[str, int] | None = None  # the keyword a continuation line extends

    def finish():
        nonlocal entry
        if entry is not None:
            entries.append(entry)
        entry = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                target = None
            continue
        if line.startswith("#,"):
            if entry is not None and entry.msgstr:
                finish()
            flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            if entry is not None and entry.msgstr:
                finish()
            continue
        where = f"{path.name}:{number}"
        match = _KEYWORD.match(line)
        if match:
            keyword, index, token = match.groups()
            text = _unquote(token, where)
            # msgctxt, or a msgid not preceded by its msgctxt, starts the next entry
            if keyword == "msgctxt" or (keyword == "msgid" and (entry is None or entry.msgstr)):
                finish()
                entry = PoEntry(flags=flags, line=number)
                flags = set()
            assert entry is not None, f"{where}: {keyword} outside an entry"
            if keyword == "msgctxt":
                entry.msgctxt = text
                target = ("msgctxt", 0)
            elif keyword == "msgid":
                entry.msgid = text
                target = ("msgid", 0)
            elif keyword == "msgid_plural":
                entry.msgid_plural = text
                target = ("msgid_plural", 0)
            else:
                n = int(index) if index is not None else 0
                entry.msgstr[n] = text
                target = ("msgstr", n)
            continue
        if line.startswith('"'):
            assert entry is not None and target is not None, f"{where}: continuation line outside an entry"
            text = _unquote(line, where)
            kind, n = target
            if kind == "msgstr":
                entry.msgstr[n] += text
            else:
                setattr(entry, kind, getattr(entry, kind) + text)
            continue
        raise AssertionError(f"{where}: cannot read {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def zh_entries() -> list[PoEntry]:
    entries = read_po(ZH_PO)
    assert entries, f"no entries read from {ZH_PO}"
    return entries


def _messages(entries):
    return [e for e in entries if not e.is_header]


def test_po_reader_handles_multiline_plural_and_context(tmp_path):
    po = tmp_path / "t.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgid ""\n"one %(n)s "\n"two"\nmsgstr "一 %(n)s 二"\n\n'
        'msgctxt "menu"\nmsgid "File"\nmsgid_plural "Files"\nmsgstr[0] ""\n"文件"\n'
        '#, fuzzy\nmsgid "Say \\"hi\\""\nmsgstr ""\n\n'
        '#~ msgid "old"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    header, multi, plural, quoted = read_po(po)
    assert header.is_header and "Language: zh_Hans\n" in header.msgstr[0]
    assert (multi.msgid, multi.msgstr, multi.flags) == ("one %(n)s two", {0: "一 %(n)s 二"}, {"python-format"})
    assert (plural.msgctxt, plural.msgid, plural.msgid_plural, plural.msgstr) == ("menu", "File", "Files", {0: "文件"})
    assert (quoted.msgid, quoted.msgstr, quoted.flags) == ('Say "hi"', {0: ""}, {"fuzzy"})


# --- (a) the catalog is complete --------------------------------------------------------------


def test_every_zh_entry_is_translated_and_not_fuzzy(zh_entries):
    header = [e for e in zh_entries if e.is_header]
    assert len(header) == 1 and "fuzzy" not in header[0].flags, "the header must be present and not fuzzy"
    assert "Plural-Forms: nplurals=1; plural=0;" in header[0].msgstr[0]
    messages = _messages(zh_entries)
    assert messages
    untranslated = [e.label for e in messages if not e.msgstr or any(not s.strip() for s in e.msgstr.values())]
    fuzzy = [e.label for e in messages if "fuzzy" in e.flags]
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy entries (check, then drop the flag):\n" + "\n".join(fuzzy)
    plural_gaps = [e.label for e in messages if e.msgid_plural is not None and sorted(e.msgstr) != [0]]
    assert not plural_gaps, "Chinese has one plural form: msgstr[0] only\n" + "\n".join(plural_gaps)


def test_zh_catalog_has_no_duplicate_entries(zh_entries):
    keys = Counter((e.msgctxt, e.msgid) for e in _messages(zh_entries))
    assert [k for k, n in keys.items() if n > 1] == []


# --- (b) the compiled catalog matches the source ----------------------------------------------


def test_compiled_mo_is_up_to_date(zh_entries):
    assert ZH_MO.exists(), "compile with: msgfmt --check -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po"
    with ZH_MO.open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    stale = []
    for e in _messages(zh_entries):
        if e.msgid_plural is None:
            got = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt is not None else mo.gettext(e.msgid)
            if got != e.msgstr.get(0):
                stale.append(f"{e.label}: .mo has {got!r}, .po has {e.msgstr.get(0)!r}")
        else:
            for n, text in e.msgstr.items():
                got = (mo.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n) if e.msgctxt is not None
                       else mo.ngettext(e.msgid, e.msgid_plural, n))
                if got != text:
                    stale.append(f"{e.label}[{n}]: .mo has {got!r}, .po has {text!r}")
    # entries removed from the .po must not linger in the .mo either
    po_keys = {(f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid) for e in zh_entries}
    extra = sorted({(k[0] if isinstance(k, tuple) else k) for k in mo._catalog} - po_keys)
    assert not stale, "django.mo is stale; recompile it:\n" + "\n".join(stale)
    assert not extra, f"django.mo has entries the .po no longer has; recompile it: {extra}"


# --- (c) placeholders survive translation -----------------------------------------------------

_NAMED = re.compile(r"%\(([^)]+)\)[#0\- +]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa])")
_POSITIONAL = re.compile(r"%(?!\()[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_BRACES = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*|\d*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")
_TAGS = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\b[^>]*>")


def placeholders(text: str, *, printf: bool) -> tuple:
    text_no_percent = text.replace("%%", "")
    named = frozenset(name for name, _conv in _NAMED.findall(text_no_percent))
    positional = sorted(_POSITIONAL.findall(text_no_percent)) if printf else []
    return named, tuple(positional), frozenset(_BRACES.findall(text))


def test_placeholder_reader():
    assert placeholders("Hi %(name)s, %s of %d%% {count} {0}", printf=True) == (
        frozenset({"name"}), ("%d", "%s"), frozenset({"count", "0"}))
    assert placeholders("{{literal}}", printf=True)[2] == frozenset()


def test_translations_keep_the_placeholders_and_markup(zh_entries):
    wrong = []
    for e in _messages(zh_entries):
        printf = "python-format" in e.flags or "c-format" in e.flags
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid_plural]
        expected = placeholders(sources[0], printf=printf)
        tags = Counter(_TAGS.findall(sources[0]))
        for n, text in e.msgstr.items():
            got = placeholders(text, printf=printf)
            if got != expected:
                wrong.append(f"{e.label}[{n}]: expected {expected}, got {got} in {text!r}")
            if Counter(_TAGS.findall(text)) != tags:
                wrong.append(f"{e.label}[{n}]: HTML tags differ in {text!r}")
    assert not wrong, "\n".join(wrong)


def test_zh_catalog_formats_with_the_source_arguments(zh_entries):
    # The translated string must accept exactly the arguments the code passes for the English one.
    for e in _messages(zh_entries):
        if "python-format" not in e.flags:
            continue
        named = _NAMED.findall(e.msgid.replace("%%", ""))
        if not named:
            continue
        # 7 for numeric conversions (a string there raises TypeError), "X" for the rest.
        args = {name: 7 if conv in "diouxXeEfFgG" else "X" for name, conv in named}
        marker = "X" if "X" in args.values() else "7"
        for text in e.msgstr.values():
            assert marker in text % args, e.label


# --- (d) pages answer in the visitor's language ------------------------------------------------


@pytest.mark.django_db
def test_admin_login_is_chinese_by_default(client):
    resp = client.get("/admin/login/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert resp.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans"' in html
    assert "用户名" in html and "登录" in html  # Django's own Chinese
    assert "售后服务管理后台" in html  # our site header
    assert "Username" not in html and "After-sales service administration" not in html


@pytest.mark.django_db
def test_admin_login_is_english_when_asked(client):
    resp = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert resp.headers["Content-Language"] == "en"
    assert "Username" in html and "Log in" in html
    assert "After-sales service administration" in html
    assert "用户名" not in html and "售后服务管理后台" not in html


@pytest.mark.django_db
def test_unlisted_language_falls_back_to_chinese(client):
    html = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "售后服务管理后台" in html and "用户名" in html


# --- (e) API errors answer in the caller's language --------------------------------------------


def _post_customer(client, token: str, body: dict, **headers):
    resp = client.post(
        "/api/v1/customers", data=json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}", **headers,
    )
    return resp.status_code, resp.json()


@pytest.mark.django_db
def test_api_schema_error_is_chinese_by_default_and_english_when_asked(client, net):
    token = net.token(net.agent)
    invalid = {"phones": "not a list"}  # no name, phones of the wrong type
    status, zh = _post_customer(client, token, invalid)
    assert status == 422 and zh["code"] == "validation_error"
    assert zh["message"] == "请求中有无效的字段。"
    status, en = _post_customer(client, token, invalid, HTTP_ACCEPT_LANGUAGE="en")
    assert status == 422 and en["code"] == "validation_error"
    assert en["message"] == "The request has invalid fields."
    assert {e["field"] for e in zh["errors"]} == {e["field"] for e in en["errors"]} >= {"name", "phones"}


@pytest.mark.django_db
def test_api_domain_error_and_field_messages_follow_the_language(client, net):
    token = net.token(net.agent)
    invalid = {"name": "", "phones": ["12345"], "customer_class": "vip"}
    status, zh = _post_customer(client, token, invalid)
    assert status == 422
    assert zh["message"] == "客户信息未保存。"
    zh_fields = {e["field"]: e["message"] for e in zh["errors"]}
    assert zh_fields["name"] == "这个字段是必填项。"
    assert zh_fields["customer_class"].startswith("未知的客户分类 vip")
    assert "11 位手机号码" in zh_fields["phones[0]"]

    status, en = _post_customer(client, token, invalid, HTTP_ACCEPT_LANGUAGE="en")
    assert status == 422
    assert en["message"] == "The customer was not saved."
    en_fields = {e["field"]: e["message"] for e in en["errors"]}
    assert en_fields["name"] == "This field is required."
    assert en_fields["customer_class"].startswith("Unknown customer class vip")
    assert en_fields["phones[0]"].startswith("Enter an 11-digit mobile number")


@pytest.mark.django_db
def test_api_unauthenticated_error_follows_the_language(client):
    zh = client.get("/api/v1/customers").json()
    en = client.get("/api/v1/customers", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["code"] == en["code"] == "unauthorized"
    assert zh["message"] == "请先登录，或提供有效的 API 令牌。"
    assert en["message"] == "Log in or send a valid API token."
