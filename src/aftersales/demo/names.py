"""Chinese material for the demo: people, places and crops.

Places are real (province, prefecture, county as they are named today) so that coverage,
address search and region statistics look like the maker's own data. Townships and villages are
composed from common name parts: real ones would pin demo "customers" to real people's homes.
Every helper draws from the ``random.Random`` it is given and from nothing else, so one seed
gives one data set.
"""

from __future__ import annotations

import random

# Roughly in order of frequency; the weights below make 王/李/张 common and 汤 rare, as in a real archive.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = tuple(1.0 / (i + 4) for i in range(len(SURNAMES)))
# The south has its own common names; a Guangdong archive full of 王 would look imported.
_SOUTHERN_SURNAMES = "陈黄梁林李张吴刘何罗郑谢冯邓曾叶钟蔡苏卢关麦"

GIVEN_MALE = "建国军华明强伟勇峰林刚斌海波辉龙志平东新春生永福德庆祥文涛鹏磊超杰成兵亮宝金山忠全才发富贵友保根喜振兴家宏卫民俊凯浩宇立学荣利长"
GIVEN_FEMALE = "秀英兰芳娟霞丽敏燕玲梅琴萍红艳凤桂珍玉云莲翠菊丹静婷雪慧"

# Xinjiang's farmers include Uyghur and Kazakh families; names are written given·father's name.
XINJIANG_GIVEN = (
    "买买提", "艾力", "阿不都", "吐尔逊", "艾尔肯", "热合曼", "努尔兰", "阿迪力", "库尔班", "依明",
    "赛买提", "叶尔兰", "哈力克", "木拉提", "托合提",
)
XINJIANG_FATHER = ("吐尔洪", "托乎提", "哈力木", "阿不力孜", "司马义", "肉孜", "吾守尔", "热依木", "沙吾提", "加肯")

# province -> prefecture -> counties (县, 县级市, and the rural districts farmers live in).
PROVINCES: dict[str, dict[str, tuple[str, ...]]] = {
    "广东省": {
        "广州市": ("从化区", "增城区", "花都区", "番禺区"),
        "湛江市": ("雷州市", "遂溪县", "徐闻县", "廉江市", "吴川市"),
        "茂名市": ("高州市", "化州市", "信宜市", "电白区"),
        "肇庆市": ("四会市", "广宁县", "怀集县", "封开县", "德庆县"),
        "韶关市": ("南雄市", "仁化县", "翁源县", "乐昌市", "始兴县"),
        "梅州市": ("兴宁市", "五华县", "平远县", "蕉岭县", "大埔县"),
    },
    "河南省": {
        "郑州市": ("中牟县", "新郑市", "登封市", "荥阳市", "新密市"),
        "周口市": ("太康县", "鹿邑县", "郸城县", "沈丘县", "项城市", "商水县", "西华县", "扶沟县", "淮阳区"),
        "驻马店市": ("上蔡县", "汝南县", "平舆县", "正阳县", "确山县", "遂平县", "西平县", "泌阳县", "新蔡县"),
        "商丘市": ("永城市", "夏邑县", "虞城县", "睢县", "宁陵县", "柘城县", "民权县"),
        "南阳市": ("邓州市", "唐河县", "新野县", "社旗县", "方城县", "镇平县"),
        "新乡市": ("原阳县", "延津县", "封丘县", "长垣市", "获嘉县"),
    },
    "山东省": {
        "济南市": ("章丘区", "济阳区", "商河县", "平阴县", "长清区"),
        "潍坊市": ("寿光市", "青州市", "诸城市", "高密市", "昌邑市", "安丘市"),
        "德州市": ("齐河县", "禹城市", "陵城区", "临邑县", "平原县", "夏津县", "武城县", "乐陵市", "庆云县", "宁津县"),
        "聊城市": ("东阿县", "茌平区", "高唐县", "冠县", "莘县", "阳谷县", "临清市"),
        "菏泽市": ("曹县", "单县", "成武县", "巨野县", "郓城县", "鄄城县", "东明县"),
        "临沂市": ("沂水县", "沂南县", "郯城县", "兰陵县", "费县", "平邑县", "莒南县", "蒙阴县", "临沭县"),
    },
    "黑龙江省": {
        "哈尔滨市": ("五常市", "双城区", "尚志市", "宾县", "巴彦县", "呼兰区", "阿城区", "依兰县", "木兰县", "通河县", "延寿县"),
        "绥化市": ("海伦市", "望奎县", "兰西县", "青冈县", "庆安县", "明水县", "绥棱县", "安达市", "肇东市"),
        "齐齐哈尔市": ("讷河市", "依安县", "克山县", "拜泉县", "富裕县", "龙江县", "甘南县", "泰来县", "克东县"),
        "佳木斯市": ("富锦市", "桦南县", "桦川县", "汤原县", "同江市", "抚远市"),
        "黑河市": ("北安市", "五大连池市", "嫩江市", "孙吴县", "逊克县"),
    },
    "河北省": {
        "石家庄市": ("藁城区", "辛集市", "晋州市", "新乐市", "正定县", "无极县", "赵县", "深泽县", "元氏县", "栾城区"),
        "保定市": ("清苑区", "徐水区", "望都县", "安国市", "高阳县", "蠡县", "博野县", "唐县"),
        "衡水市": ("冀州区", "深州市", "枣强县", "武邑县", "故城县", "景县", "阜城县", "饶阳县", "安平县"),
        "邢台市": ("宁晋县", "柏乡县", "隆尧县", "巨鹿县", "南宫市", "威县", "清河县", "临西县"),
        "邯郸市": ("永年区", "肥乡区", "曲周县", "鸡泽县", "馆陶县", "大名县", "魏县", "成安县", "广平县"),
    },
    "安徽省": {
        "阜阳市": ("临泉县", "太和县", "阜南县", "颍上县", "界首市"),
        "亳州市": ("涡阳县", "蒙城县", "利辛县", "谯城区"),
        "宿州市": ("砀山县", "萧县", "灵璧县", "泗县", "埇桥区"),
        "蚌埠市": ("怀远县", "五河县", "固镇县"),
        "六安市": ("霍邱县", "寿县", "舒城县", "霍山县"),
    },
    "江苏省": {
        "盐城市": ("东台市", "大丰区", "射阳县", "阜宁县", "滨海县", "响水县", "建湖县"),
        "淮安市": ("涟水县", "盱眙县", "金湖县", "洪泽区"),
        "宿迁市": ("沭阳县", "泗阳县", "泗洪县"),
        "徐州市": ("沛县", "丰县", "睢宁县", "邳州市", "新沂市"),
        "连云港市": ("东海县", "灌云县", "灌南县"),
    },
    "新疆维吾尔自治区": {
        "昌吉回族自治州": ("昌吉市", "阜康市", "呼图壁县", "玛纳斯县", "奇台县", "吉木萨尔县", "木垒哈萨克自治县"),
        "塔城地区": ("沙湾市", "乌苏市", "额敏县", "托里县"),
        "伊犁哈萨克自治州": ("伊宁县", "察布查尔锡伯自治县", "霍城县", "巩留县", "新源县", "昭苏县", "特克斯县"),
        "阿克苏地区": ("阿克苏市", "库车市", "沙雅县", "新和县", "拜城县", "温宿县", "阿瓦提县"),
        "博尔塔拉蒙古自治州": ("博乐市", "精河县", "温泉县"),
    },
}

# Main crops by province, in the order a farmer would name them.
CROPS: dict[str, tuple[str, ...]] = {
    "广东省": ("水稻", "甘蔗", "花生", "玉米", "蔬菜"),
    "河南省": ("小麦", "玉米", "花生", "大豆", "芝麻"),
    "山东省": ("小麦", "玉米", "花生", "大蒜", "棉花"),
    "黑龙江省": ("玉米", "大豆", "水稻", "马铃薯"),
    "河北省": ("小麦", "玉米", "棉花", "谷子"),
    "安徽省": ("小麦", "水稻", "大豆", "玉米", "油菜"),
    "江苏省": ("水稻", "小麦", "油菜", "玉米"),
    "新疆维吾尔自治区": ("棉花", "玉米", "小麦", "番茄", "甜菜"),
}
RICE_PROVINCES = frozenset(p for p, crops in CROPS.items() if "水稻" in crops)

_TOWN_HEAD = "新老大小东西南北高黄白石双三桥河马杨柳刘王张李孙龙青金沙古"
_TOWN_TAIL = "集庄店寨桥河岗楼营湖沟口坡堡铺湾园坝塘冈圩镇屯"
_VILLAGE_TAIL = "庄营寨屯楼湾洼店岗圩台堡"
_VILLAGE_PREFIX = "东西南北前后大小上下"
_VILLAGE_FIXED = (
    "幸福村", "团结村", "红旗村", "胜利村", "光明村", "和平村", "前进村", "永丰村", "丰收村", "新华村",
    "联合村", "向阳村", "红星村", "建设村", "长青村",
)
# Northeastern villages are 屯, Guangdong's are 围 and 坑; the rest of the north plain is 庄 and 营.
_VILLAGE_REGIONAL = {
    "黑龙江省": "屯窝堡岗",
    "广东省": "围坑岭塘",
    "新疆维吾尔自治区": "渠湖泉",
}

# For the names of co-operatives, farms and dealers.
FIRM_WORDS = (
    "丰收", "金穗", "沃土", "兴农", "绿源", "惠民", "益农", "丰源", "众诚", "宏达", "田丰", "禾丰",
    "金田", "富民", "新农", "农丰", "福满", "康庄", "瑞丰", "嘉禾", "鑫隆", "润田", "春耕", "穗丰",
)

# Mobile prefixes every carrier hands to ordinary subscribers and phonenumbers accepts as mobile;
# 13x/15x/18x are listed twice because rural customers mostly have numbers from those ranges.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159",
    "182", "183", "186", "187", "188", "189", "166", "177", "191", "198", "199",
)


def person_name(rng: random.Random, *, province: str = "", female: bool | None = None) -> str:
    if province == "新疆维吾尔自治区" and rng.random() < 0.25:
        return f"{rng.choice(XINJIANG_GIVEN)}·{rng.choice(XINJIANG_FATHER)}"
    if province == "广东省" and rng.random() < 0.6:
        surname = rng.choice(_SOUTHERN_SURNAMES)
    else:
        surname = rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    if female is None:
        # Machines are mostly registered in the husband's name; a realistic archive shows that.
        female = rng.random() < 0.12
    pool = GIVEN_FEMALE if female else GIVEN_MALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
    return surname + given


def place_stem(county: str) -> str:
    """太康县 -> 太康, 曹县 -> 曹县: the name people use in firm names (two characters at least)."""
    for suffix in ("哈萨克自治县", "锡伯自治县", "县", "市", "区"):
        if county.endswith(suffix) and len(county) - len(suffix) >= 2:
            return county[: -len(suffix)]
    return county


def township(rng: random.Random) -> str:
    name = rng.choice(_TOWN_HEAD) + rng.choice(_TOWN_TAIL)
    if name.endswith("镇"):
        return name
    return name + ("镇" if rng.random() < 0.7 else "乡")


def village(rng: random.Random, province: str) -> str:
    roll = rng.random()
    if roll < 0.12:
        return rng.choice(_VILLAGE_FIXED)
    tails = _VILLAGE_REGIONAL.get(province, _VILLAGE_TAIL) if rng.random() < 0.6 else _VILLAGE_TAIL
    surname = rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    name = surname + rng.choice(tails)
    if roll < 0.35:
        name = rng.choice(_VILLAGE_PREFIX) + name
    return name + "村"


def mobile(rng: random.Random, taken: set[str]) -> str:
    """A fresh 11-digit mobile number, added to ``taken``."""
    while True:
        number = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if number not in taken:
            taken.add(number)
            return number


def farming(rng: random.Random, province: str, *, scale: str = "farmer") -> str:
    """耕作状况 as a call agent would note it: crops and land, the facts a hotline technician asks for."""
    crops = CROPS.get(province, ("小麦", "玉米"))
    grown = rng.sample(crops, k=min(len(crops), rng.choice((1, 2, 2, 3))))
    if scale == "key_account":
        mu = rng.choice((800, 1500, 3000, 6000, 12000))
        return f"经营土地约 {mu} 亩，主要种植{'、'.join(grown)}；农忙季节对外承接机收、机耕作业。"
    mu = rng.choice((15, 30, 50, 80, 120, 200, 350))
    extra = "，农闲时跨区作业" if rng.random() < 0.2 else ""
    return f"种植{'、'.join(grown)}约 {mu} 亩{extra}。"


# 中文 names of the part codes the warranty regime uses (regime_cn_2010.json). Product models store
# the codes, because the warranty engine matches a fault's component against them literally.
PART_LABELS_ZH = {
    "engine_block": "机体", "cylinder_head": "气缸盖", "crankshaft": "曲轴", "camshaft": "凸轮轴",
    "fuel_injection_pump": "喷油泵", "clutch_housing": "离合器壳体", "gearbox": "变速箱",
    "rear_axle": "后桥", "front_drive_axle": "前驱动桥", "drive_axle": "驱动桥", "hydraulic_lift": "液压提升器",
    "hydraulic_pump": "液压泵", "frame": "机架", "threshing_drum": "脱粒滚筒", "header_frame": "割台架",
    "transplanting_gearbox": "插植箱", "seedling_feed_mechanism": "送秧机构", "connecting_rod": "连杆",
    "flywheel": "飞轮", "turbocharger": "增压器", "rotor_shaft": "刀轴",
    "belt": "皮带", "filter_element": "滤芯", "clutch_disc": "离合器片", "brake_lining": "制动蹄片",
    "injector_nozzle": "喷油嘴", "piston_ring": "活塞环", "seal": "油封", "bulb": "灯泡", "fuse": "保险丝",
    "tyre": "轮胎", "chain": "链条", "knife_section": "动刀片", "guard_finger": "护刃器", "rasp_bar": "纹杆",
    "rubber_track": "橡胶履带", "planting_claw": "秧爪", "float_plate": "浮板", "spark_plug": "火花塞",
    "gasket": "垫片", "blade": "旋耕刀", "tine": "弹齿", "share": "犁铧", "bearing": "轴承", "nozzle": "喷头",
}
