"""A partner's order search starts from its own documents (issue 19): whatever the rest of the
network holds, the index answers with the partner's newest matches and nothing of another
organization's, through every window of the walk and the GIN fallback."""

from __future__ import annotations

import pytest
from django.utils import timezone

from aftersales.knowledge import index
from aftersales.knowledge.models import SearchDocument
from aftersales.knowledge.text import Term

pytestmark = pytest.mark.django_db

MINE, OTHER, THIRD = 501, 502, 503


def _docs():
    """600 order documents; the partner (MINE) serves one in six (as org_a, or as org_b when it
    recorded it), and "发动机" is in every other document."""
    now = timezone.now()
    docs = []
    for i in range(1, 601):
        org_a, org_b = (MINE, OTHER) if i % 6 == 0 else (OTHER, MINE) if i % 12 == 1 else (OTHER, THIRD)
        words = "发动机 冒烟" if i % 2 == 0 else "液压 漏油"
        docs.append(SearchDocument(
            kind="order", object_id=i, org_a=org_a, org_b=org_b, status="closed", title=f"order {i}",
            tokens=f"{index.kind_token('order')} {index.org_token(org_a)} {index.org_token(org_b)} {words}",
            updated_at=now))
    index.index_upsert(docs)
    return {d.object_id: d for d in docs}


@pytest.mark.parametrize("probe, walk", [(2_000, 20_000), (7, 11), (3, 3)])
def test_a_partner_gets_its_own_newest_matches_only(monkeypatch, probe, walk):
    monkeypatch.setattr(index, "PROBE_ROWS", probe)
    monkeypatch.setattr(index, "WALK_ROWS", walk)
    docs = _docs()
    mine = sorted((i for i, d in docs.items() if MINE in (d.org_a, d.org_b) and "发动机" in d.tokens), reverse=True)
    assert len(mine) > 50
    for limit in (1, 10, 200):
        hits = index.index_query([[Term("发动机")]], ["order"], limit, require_all=True, rank=False, orgs=[MINE])
        assert [h.object_id for h in hits] == mine[:limit], (probe, walk, limit)
    # A word only other organizations' documents hold: nothing, whichever way it is found.
    assert index.index_query([[Term(index.org_token(THIRD))]], ["order"], 50, orgs=[MINE], rank=False) == []
    # An organization with no documents: nothing.
    assert index.index_query([[Term("发动机")]], ["order"], 50, orgs=[999], rank=False) == []
