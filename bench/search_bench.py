"""Chinese search: p95 of 100 symptom queries through ``knowledge.selectors.search`` and the index
build rate.

Standalone (builds its own index in bulk, N orders + M articles written straight into the
search table with the real tokenizer):

    python bench/search_bench.py --orders 100000 --articles 10000      # SQLite file in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/search_bench python bench/search_bench.py ...

As a plug-in of bench/run.py (``measure(bench)``): rebuilds the index over the real dataset
(``aftersales reindex``'s code) and measures the same queries.

Reported, never asserted. Synthetic documents point at no real rows, so in standalone mode the
selectors' visibility query runs but keeps nothing: the figure covers segmentation, the index
query, the re-ranking and the scoping query; building the result dicts is left out.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

FAULT_PHRASES = [
    "拖拉机冒黑烟，犁地拉不动", "一加油门就冒黑烟没劲", "早上发动起来冒白烟", "天冷了打不着火", "起动机转得慢打不着火",
    "收割机干着活自己熄火了", "液压提升器不升，旋耕机提不起来", "离合器打滑有焦糊味", "挂挡困难齿轮打齿", "方向盘很沉转弯费劲",
    "水温高水箱开锅了", "电瓶老没电", "收割机割台堵塞麦子送不进去", "割台老是堵草", "滚筒堵了闷车", "收完地里掉的粮食太多",
    "插秧机漏插一行一行缺穴", "秧苗浮在水上漂秧", "柴油机飞车转速控制不住", "柴油机游车转速忽高忽低", "机油压力低报警",
    "发动机敲缸有异响", "前桥漏油转弯有响声", "仪表不亮保险丝断了", "履带跑偏老掉", "卸粮筒不转", "籽粒破碎严重",
    "增压器漏油冒蓝烟", "后输出轴不转", "刹车刹不住往一边跑",
]
QUERIES = [
    "发动机冒黑烟", "拖拉机打不着火", "液压提升器不升", "割台堵塞", "插秧机漏插", "离合器打滑", "水温高开锅", "冒白烟",
    "铁牛没劲", "联合收获机堵草", "滚筒闷车", "漏秧", "飞车", "游车", "机油压力低", "敲缸", "前桥漏油", "仪表不亮",
    "履带跑偏", "卸粮筒不转", "LX904 液压", "4LZ-6 割台", "2ZGQ-6 漏插", "S195 游车", "籽粒破碎", "增压器漏油",
    "后输出轴不转", "刹车失灵", "方向盘沉", "挂不上挡",
]
MODELS = ["LX904", "LX1004", "SK504", "SK354", "4LZ-6", "4LZ-4.0Z", "4YZ-3", "2ZGQ-6", "2ZS-4", "S195", "ZS1115", "4L88"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = ["建国", "建华", "国强", "志刚", "秀英", "桂英", "海涛", "文军", "德明", "玉兰", "春生", "长林", "永福", "满仓"]


def symptom_queries(rng: random.Random) -> list[str]:
    """100 queries: the fixed list, then farmers' phrasings with a model or a word around them."""
    queries = list(QUERIES)
    while len(queries) < 100:
        queries.append(rng.choice(["", rng.choice(MODELS) + " ", "我家"]) + rng.choice(FAULT_PHRASES))
    return queries


def _timed(fn, queries) -> dict:
    fn(queries[0])  # warm: jieba's dictionary, the synonym table, connections
    samples = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
            "max_ms": round(samples[-1], 2)}


def build_synthetic(*, orders: int, articles: int, seed: int, batch: int = 5000) -> float:
    """Write the documents in bulk; returns documents per second (tokenizing + inserting)."""
    from django.db import transaction
    from django.utils import timezone

    from aftersales.knowledge import text
    from aftersales.knowledge.index import kind_token, org_token
    from aftersales.knowledge.models import SearchDocument

    rng = random.Random(seed)
    now = timezone.now()
    partner_org = _users()[1].organization_id
    SearchDocument.objects.all().delete()
    text.add_words(MODELS, codes=True)
    started, written = time.monotonic(), 0

    def order_doc(i):
        symptom = rng.choice(FAULT_PHRASES)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        model = rng.choice(MODELS)
        serial = f"{model}-{rng.choice(['SD', 'HL', 'HA'])}-{i:06d}"
        digits = f"1{rng.randrange(3, 9)}{rng.randrange(10**9):09d}"
        # One order in twenty is dispatched to the bench's agency; the rest to 19 others.
        org = partner_org if rng.random() < 0.05 else partner_org + rng.randrange(1, 20)
        tokens = [kind_token("order"), text.code_token(f"FW2026-{i:06d}"), *text.name_tokens(name), text.phone_token(digits),
                  *text.segment(symptom), text.code_token(model), text.code_token(serial), org_token(org), org_token(partner_org + 100)]
        return SearchDocument(kind="order", object_id=i, org_a=org, org_b=partner_org + 100, status="completed",
                              category="tractor", title=f"FW2026-{i:06d} {name} {symptom}", body=symptom,
                              tokens=" ".join(tokens), updated_at=now)

    def article_doc(i):
        phrases = rng.sample(FAULT_PHRASES, 3)
        title = phrases[0]
        body = "。".join(phrases)
        tokens = [kind_token("article"), *text.segment(title), *text.segment(body), *(text.code_token(m) for m in rng.sample(MODELS, 3))]
        return SearchDocument(kind="article", object_id=i, status="published", category="tractor", title=title,
                              body=body, tokens=" ".join(tokens), updated_at=now)

    for kind, count, make in (("order", orders, order_doc), ("article", articles, article_doc)):
        for start in range(1, count + 1, batch):
            docs = [make(i) for i in range(start, min(count, start + batch - 1) + 1)]
            with transaction.atomic():
                SearchDocument.objects.bulk_create(docs, batch_size=1000)
            written += len(docs)
            print(f"\r{kind}: {written} documents", end="", file=sys.stderr)
    print(file=sys.stderr)
    return written / (time.monotonic() - started)


def _users():
    from aftersales.accounts.models import Organization, OrganizationKind, User

    admin, _ = User.objects.get_or_create(username="search-bench-admin", defaults={"is_superuser": True})
    org, _ = Organization.objects.get_or_create(code="SB-AG", defaults={"name": "bench agency", "kind": OrganizationKind.AUTHORIZED_AGENCY})
    partner, _ = User.objects.get_or_create(username="search-bench-agency", defaults={"organization": org})
    return admin, partner


def run_queries(seed: int) -> dict:
    from aftersales.knowledge.selectors import search, suggest

    from aftersales.knowledge import text

    text.add_words(MODELS, codes=True)
    admin, partner = _users()
    queries = symptom_queries(random.Random(seed))
    return {
        "network_wide": _timed(lambda q: search(admin, q), queries),
        "agency": _timed(lambda q: search(partner, q), queries),
        "suggest": _timed(lambda q: suggest(admin, symptom=q, category="tractor"), queries),
    }


def measure(bench) -> dict:
    """Plug-in for bench/run.py: rebuild over the real dataset, then the query set."""
    from django.db import transaction

    from aftersales.knowledge.documents import rebuild

    started = time.monotonic()
    with transaction.atomic():
        written = rebuild()
    rate = written / (time.monotonic() - started)
    from django.db import connection

    if connection.vendor == "postgresql":
        # The rebuild replaced every row; give the planner what autovacuum would (it is off on the
        # machine these figures come from), or it plans on the dead rows' statistics.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE knowledge_searchdocument")
    result = run_queries(2026)
    bench.note("search_zh_p95_ms", f"100 symptom queries through search(); rebuild {written} docs at {rate:.0f}/s; {result}")
    # The figure is the slower of the two searchers: the whole network's and an agency's, whose
    # every candidate passes its visibility rules.
    p95 = max(result["network_wide"]["p95_ms"], result["agency"]["p95_ms"])
    return {"search_zh_p95_ms": p95, "search_rebuild_per_s": round(rate)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="Keep the index already in the database.")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/search_bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    rate = None
    if not args.reuse:
        rate = build_synthetic(orders=args.orders, articles=args.articles, seed=args.seed)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    result = run_queries(args.seed)
    print({"database": connection.vendor, "orders": args.orders, "articles": args.articles,
           "build_docs_per_s": round(rate) if rate else None, **result})


if __name__ == "__main__":
    main()
