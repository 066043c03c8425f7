"""The query table: symptom phrasings, synonyms, pinyin initials, phone fragments, serial prefixes
and mixed scripts each find their items in the top 5, on SQLite and PostgreSQL alike."""

import pytest

from aftersales.knowledge.selectors import search
from tests.knowledge.corpus import load, queries

pytestmark = pytest.mark.django_db


def test_corpus_and_table_are_big_enough():
    import json

    from tests.knowledge.corpus import DATA

    corpus = json.loads((DATA / "corpus.json").read_text("utf-8"))
    assert len(corpus["articles"]) + len(corpus["orders"]) >= 200
    assert len(queries()) >= 50


def test_every_query_finds_its_items_in_the_top_five(net):
    corpus = load(net)
    failures = []
    for row in queries():
        kind = row["kind"]
        found = [corpus.key(kind, hit["id"]) for hit in search(net.agent, row["q"], kinds=[kind], limit=5)[kind]]
        if "expect" in row and not set(row["expect"]) <= set(found):
            failures.append((row["q"], row["expect"], found))
        if "any" in row and not set(row["any"]) & set(found):
            failures.append((row["q"], "any of", row["any"][:5], found))
    assert failures == []
