"""Generate tests/knowledge/data/corpus.json once (committed; re-run only to change the corpus):
the demo's 40 articles plus 170 service orders in farmers' words, with customers, phones and
serial numbers. `python tests/knowledge/make_corpus.py`"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
from aftersales.knowledge.demo import ARTICLES  # noqa: E402

# (article index, model family, farmer phrasings)
FAULTS = [
    (0, "T", ["拖拉机冒黑烟，犁地拉不动", "一加油门就冒黑烟，没劲", "排气管黑烟很大，干活没力气", "机器冒黑烟还动力不足"]),
    (1, "T", ["早上发动起来冒白烟", "冷车冒白烟，抖得厉害"]),
    (3, "T", ["天冷了打不着火", "早上打不着火，起动机转得慢", "冬天拖拉机启动困难"]),
    (4, "C", ["收割机干着活自己熄火了，再打打不着", "换了柴油滤芯以后老熄火"]),
    (5, "T", ["液压提升器不升，旋耕机提不起来", "后面农具提不起来", "提升器不升了，手柄扳了没反应"]),
    (8, "T", ["离合器打滑，有焦糊味", "带上犁车走不动，离合器打滑"]),
    (9, "T", ["挂挡困难，齿轮打齿", "挂不上挡"]),
    (11, "T", ["方向盘很沉，转弯费劲"]),
    (13, "T", ["水温高，水箱开锅了", "干一会水温表就到红区"]),
    (16, "T", ["电瓶老没电，放一晚上就打不着"]),
    (18, "C", ["收割机割台堵塞，麦子送不进去", "割台老是堵草", "割台堵了，过桥也堵"]),
    (19, "C", ["滚筒堵了，闷车", "脱粒滚筒堵塞，皮带冒烟"]),
    (21, "C", ["收完地里掉的粮食太多", "尾筛跑粮严重"]),
    (25, "R", ["插秧机漏插，一行一行缺穴", "插秧机漏插严重，秧苗没插上", "漏秧太多了"]),
    (26, "R", ["秧苗浮在水上，漂秧"]),
    (30, "D", ["柴油机飞车了，转速控制不住"]),
    (31, "D", ["柴油机游车，转速忽高忽低"]),
]
MODELS = {"T": ["LX904", "LX1004", "SK504", "SK354"], "C": ["4LZ-6", "4LZ-4.0Z", "4YZ-3"], "R": ["2ZGQ-6", "2ZS-4"],
          "D": ["S195", "ZS1115"]}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ["建国", "建华", "国强", "志刚", "秀英", "桂英", "海涛", "文军", "德明", "玉兰", "春生", "长林", "红旗", "永福",
         "金山", "宝田", "振华", "丰收", "满仓", "大勇"]
# The people the query table looks for by name, pinyin initials and phone.
NAMED = [("张三", "13912345678"), ("李四", "13800001111"), ("王五", "15866667777"), ("刘大壮", "13700002222"),
         ("欧阳丰收", "18655554321"), ("赵铁柱", "13309871234")]


def main() -> None:
    rng = random.Random(2026)
    articles = [
        {"key": f"A{i:02d}", "title": t, "models": m, "categories": c, "component": comp, "symptom": s, "cause": cause,
         "steps": steps, "tags": tags}
        for i, (t, m, c, comp, s, cause, steps, tags) in enumerate(ARTICLES)
    ]
    customers = [{"key": name, "name": name, "phone": phone} for name, phone in NAMED]
    taken = {c["phone"] for c in customers}
    names = {c["name"] for c in customers}
    while len(customers) < 120:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = rng.choice(["138", "139", "150", "151", "186", "187", "135"]) + f"{rng.randrange(10**8):08d}"
        if name in names or phone in taken:
            continue
        names.add(name)
        taken.add(phone)
        customers.append({"key": name, "name": name, "phone": phone})
    orders, machines, seq = [], [], 0
    for i in range(170):
        art, family, phrasings = FAULTS[i % len(FAULTS)]
        customer = customers[i % len(customers)]
        model = MODELS[family][(i // len(FAULTS)) % len(MODELS[family])]
        seq += 1
        serial = f"{model.replace('.', '')}-{rng.choice(['SD', 'HL', 'HA', 'JS'])}-{seq:04d}"
        machines.append({"serial": serial, "model": model, "owner": customer["key"]})
        solved = i % 3 != 0
        orders.append({
            "key": f"O{i:03d}", "customer": customer["key"], "serial": serial, "symptom": rng.choice(phrasings),
            "article": f"A{art:02d}", "solved": solved,
            "solution": "；".join(ARTICLES[art][6][:2]) if solved else "",
            "agency": "heilongjiang" if i % 4 == 1 else ("shandong" if i % 4 == 2 else ""),
        })
    out = {"articles": articles, "customers": customers, "machines": machines, "orders": orders}
    path = Path(__file__).parent / "data" / "corpus.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(articles)} articles, {len(orders)} orders, {len(customers)} customers -> {path}")


if __name__ == "__main__":
    main()
