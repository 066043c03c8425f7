"""The first synonym groups: words farmers, agents and the catalogue use for the same thing.
Editable in the admin afterwards."""

from django.db import migrations

GROUPS = [
    ("收割机 联合收割机 联合收获机 收获机 康拜因", "combine harvester"),
    ("拖拉机 铁牛 四轮 大拖", "tractor"),
    ("插秧机 插秧 栽秧机", "rice transplanter"),
    ("柴油机 发动机 机器头 马达头", "engine"),
    ("打不着火 打不着 启动困难 起动困难 不好启动 发动不了 点不着", "hard start"),
    ("动力不足 没劲 没有劲 拉不动 无力", "low power"),
    ("水温高 水温过高 开锅", "overheating"),
    ("电瓶 蓄电池", "battery"),
    ("起动机 启动机 马达", "starter"),
    ("喷油嘴 喷油器", "injector"),
    ("刹车 制动", "brake"),
    ("漏插 漏秧 缺穴", "missed planting"),
    ("异响 响声 怪响 有响声", "noise"),
    ("滚筒 脱粒滚筒", "threshing drum"),
    ("提升器 液压提升器 悬挂", "hitch"),
]


def seed(apps, schema_editor):
    Synonym = apps.get_model("knowledge", "Synonym")
    Synonym.objects.bulk_create([Synonym(words=words, note=note) for words, note in GROUPS])


def unseed(apps, schema_editor):
    apps.get_model("knowledge", "Synonym").objects.filter(words__in=[w for w, _ in GROUPS]).delete()


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_fulltext")]

    operations = [migrations.RunPython(seed, unseed)]
