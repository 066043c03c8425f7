"""Chinese-aware tokens for the search index and for queries.

Full-text engines treat a run of Chinese characters as one word, so both sides are segmented here
with jieba (search mode, with a machinery dictionary shipped in data/dict.txt) and the engines see
only space-separated tokens. Codes (model numbers, serial numbers, order numbers) keep their
letters and digits together without separators; phone numbers are stored reversed (``p`` + the
national digits backwards) so "the last four digits" becomes a prefix match; names also give
their pinyin and its initials ("zs" finds 张三), and so do the phrases of an article's title and
symptom ("fdjmhy" finds 发动机冒黑烟: agents type initials on a phone keyboard while the farmer talks).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_CODE = re.compile(r"[a-z0-9]+(?:[-_/.][a-z0-9]+)*")
_WORD = re.compile(r"^[0-9a-z\u3400-\u9fff]+$")
_HAN = re.compile(r"[\u3400-\u9fff]+")
_DIGITS_ONLY = re.compile(r"^\+?[0-9][0-9 \-]{2,}$")

# Words that carry no meaning in a fault description; they would match almost every document.
STOPWORDS = frozenset(
    "的 了 是 在 有 和 就 都 也 还 又 很 我 你 他 她 它 我们 我家 家里 咱家 这个 那个 一个 什么 怎么 怎么办 为什么 一下 时候 "
    "现在 今天 昨天 没有 不是 就是 但是 而且 然后 有点 有些 一些 一直 总是 老是 突然 一点 这样 那样 出现 问题 "
    "情况 感觉 好像 可能 需要 请问 师傅 严重 厉害 特别 老是 经常 谢谢 麻烦 之后 以后 以前 时 后 会 能 要 把 被 给 让 吗 呢 吧 啊".split()
)

# Chinese names of the product categories (core.choices.ProductCategory codes), so "拖拉机" finds
# a document of the category without the word in its text.
CATEGORY_WORDS = {
    "tractor": "拖拉机",
    "combine_harvester": "联合收割机",
    "rice_transplanter": "插秧机",
    "diesel_engine_single": "单缸柴油机",
    "diesel_engine_multi": "多缸柴油机",
    "implement": "农机具",
    "other": "",
}

_lock = threading.Lock()


@cache
def _tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    with resources.files(__package__).joinpath("data/dict.txt").open("rb") as dictionary:
        tokenizer.load_userdict(dictionary)
    return tokenizer


def warm_up() -> None:
    """Load the segmenter's dictionaries now (about a second), not inside the first request's
    write transaction: the web server calls this once per process at start."""
    _tokenizer().initialize()
    list(_tokenizer().cut("拖拉机冒黑烟"))
    name_tokens("张长生")  # and pypinyin's dictionary


# Product model codes seen so far (as code tokens): a query for one is an exact match. A prefix
# match would also be right but walks every serial number of the model (tens of thousands of
# distinct index terms); the model code is in those documents anyway.
_model_codes: set[str] = set()


def add_words(words, *, codes: bool = False) -> None:
    """Teach the segmenter more words (product model codes and names, at index time)."""
    tokenizer = _tokenizer()
    with _lock:
        for word in words:
            word = normalize(word).strip()
            if codes:
                _model_codes.add(code_token(word))
            if word and tokenizer.FREQ.get(word) is None:
                tokenizer.add_word(word, freq=2000)


def normalize(text: str) -> str:
    # NFKC turns full-width letters, digits and punctuation (ＬＸ９０４，) into their plain forms.
    return unicodedata.normalize("NFKC", text or "").lower()


def code_token(code: str) -> str:
    """A model, serial or order number without its separators: LX904-SD-0001 -> lx904sd0001."""
    return re.sub(r"[^0-9a-z]", "", normalize(code))


def phone_token(digits: str) -> str:
    return "p" + digits[::-1]


def national_digits(e164: str) -> str:
    return e164[3:] if e164.startswith("+86") else "".join(ch for ch in e164 if ch.isdigit())


def _keep(token: str) -> bool:
    if not token or token in STOPWORDS or not _WORD.match(token):
        return False
    # A single Chinese character matches too much; single letters and digits too.
    return len(token) > 1


def segment(text: str) -> list[str]:
    """Index tokens of free text: jieba search-mode words plus whole codes."""
    text = normalize(text)
    tokens = [code_token(m.group()) for m in _CODE.finditer(text) if any(ch.isdigit() for ch in m.group())]
    with _lock:
        words = list(_tokenizer().cut_for_search(text))
    tokens.extend(w.strip() for w in words)
    return [t for t in tokens if _keep(t)]


@cache
def _pinyin():
    # Names are read character by character: pypinyin's phrase dictionary (tens of thousands of
    # words, ~45 MB in every web worker) would only choose between readings of common words, and
    # a name's characters take their usual reading anyway. Set before pypinyin is first imported.
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin, Style


def name_tokens(name: str) -> list[str]:
    """A person's or firm's name: the name, its words, its pinyin and the pinyin initials."""
    name = normalize(name).strip()
    if not name:
        return []
    lazy_pinyin, style = _pinyin()
    han = "".join(_HAN.findall(name))
    tokens = [name.replace(" ", ""), *segment(name)]
    if han:
        syllables = lazy_pinyin(han[:8])
        tokens.append("".join(syllables))
        tokens.append("".join(s[0] for s in syllables if s))
    return [t for t in tokens if _WORD.match(t) and len(t) > 1]


# A symptom is read as at most this many phrases of at most this many characters: enough for the
# words a caller says, without a token per clause of a long description.
PHRASES, PHRASE_CHARS = 8, 12


def phrase_tokens(value: str) -> list[str]:
    """Pinyin and initials of the Chinese phrases of an article's title or symptom, and of each
    word in them: 发动机冒黑烟 gives fadongjimaoheiyan, fdjmhy, and fdj/mhy for its words, so that
    the whole phrase is found by its initials (or their first letters, as a prefix) and a word by
    its own."""
    lazy_pinyin, _style = _pinyin()
    tokens: list[str] = []
    for run in _HAN.findall(normalize(value))[:PHRASES]:
        run = run[:PHRASE_CHARS]
        if len(run) < 2:
            continue
        syllables = lazy_pinyin(run)
        tokens += ["".join(syllables), "".join(s[0] for s in syllables if s)]
        with _lock:
            words = [w for w in _tokenizer().cut(run) if len(w) > 1 and w != run and w not in STOPWORDS]
        for word in words:
            syllables = lazy_pinyin(word)
            tokens += ["".join(syllables), "".join(s[0] for s in syllables if s)]
    return [t for t in dict.fromkeys(tokens) if _WORD.match(t) and len(t) > 1]


# --- queries --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False
    # A sub-word (发动 of 发动机) counts for less than the word itself or a synonym.
    share: float = 1.0


@dataclass
class Group:
    """One thing the user asked for, with the alternatives that count as it (its sub-words,
    synonyms, a code's prefix). A document matches the group if it holds any alternative."""

    label: str
    weight: float
    terms: list[Term] = field(default_factory=list)

    def add(self, text: str, prefix: bool = False, share: float = 1.0) -> None:
        if text and all(t.text != text for t in self.terms):
            self.terms.append(Term(text, prefix, share))


@dataclass
class Query:
    groups: list[Group]
    highlights: list[str]

    @property
    def required(self) -> int:
        """Minimum number of groups a hit must match: every one of one or two, then a half.
        Enough to keep "发动机 冒黑烟 怠速" from returning everything about engines."""
        n = len(self.groups)
        return n if n <= 1 else max(1, math.ceil(n / 2))

    def terms(self) -> list[Term]:
        seen: dict[Term, None] = {}
        for group in self.groups:
            for term in group.terms:
                seen.setdefault(term, None)
        return list(seen)


def parse_query(q: str, synonyms: dict[str, list[str]] | None = None) -> Query:
    synonyms = synonyms or {}
    text = normalize(q).strip()
    groups: list[Group] = []
    highlights: list[str] = []
    compact = text.replace(" ", "").replace("-", "")
    if _DIGITS_ONLY.match(text) and len(compact.lstrip("+")) >= 4:
        from aftersales.core.phones import phone_search_digits

        digits = phone_search_digits(compact)
        group = Group(label=digits, weight=4.0)
        group.add(phone_token(digits), prefix=True)
        group.add(digits, prefix=True)
        return Query([group], [digits])
    rest = text
    for match in _CODE.finditer(text):
        raw = match.group()
        token = code_token(raw)
        if len(token) < 2:
            continue
        rest = rest.replace(raw, " ", 1)
        has_digit = any(ch.isdigit() for ch in token)
        group = Group(label=raw, weight=3.0 if has_digit else 2.0)
        # Codes are typed as prefixes (a serial's first part, an order number's date); short
        # letter runs are pinyin initials and must match whole.
        group.add(token, prefix=(has_digit or len(token) >= 4) and token not in _model_codes)
        for word in synonyms.get(token, ()):
            group.add(word)
        groups.append(group)
        highlights.append(raw)
    tokenizer = _tokenizer()
    words: list[str] = []
    for run in _HAN.findall(rest):
        with _lock:
            cut = [w.strip() for w in tokenizer.cut(run)]
        if 2 <= len(run) <= 4 and len(cut) > 1 and any(len(w) == 1 for w in cut):
            # A short run split into single characters is usually a name (张三 -> 张 + 三): keep it whole.
            group = Group(label=run, weight=float(len(run)))
            group.add(run)
            for w in cut:
                if len(w) > 1:
                    group.add(w, share=0.6)
            groups.append(group)
            highlights.append(run)
            continue
        words.extend(w for w in cut if w and w not in STOPWORDS)
    for word in words:
        if len(word) == 1 and len(words) > 1:
            continue
        group = Group(label=word, weight=float(min(len(word), 4)))
        group.add(word)
        highlights.append(word)
        for alt in synonyms.get(word, ()):
            group.add(alt)
            highlights.append(alt)
        if len(word) > 2:
            with _lock:
                subwords = [s for s in tokenizer.cut_for_search(word) if len(s) > 1 and s != word and s not in STOPWORDS]
            for sub in subwords:
                group.add(sub, share=0.6)
        if not any(g.label == word for g in groups):
            groups.append(group)
    return Query(groups, highlights)


def doc_matches(query: Query, tokens: set[str]) -> list[tuple[Group, Term]]:
    """The query groups a document's tokens satisfy, each with its best-matching term."""
    matched = []
    for group in query.groups:
        hits = [t for t in group.terms
                if t.text in tokens or (t.prefix and any(token.startswith(t.text) for token in tokens))]
        if hits:
            matched.append((group, max(hits, key=lambda t: t.share)))
    return matched
