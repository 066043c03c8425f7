"""The demo service network of 开拓机械: its organizations, their service areas and one user per role.

The shape follows the seed document: a service (call) center in Guangzhou as the single entry, a
technical center, a repair center that serves Guangdong and supports every region, direct branches
as regional technical cores, authorized agencies with a partial area each, and dealers who sell.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db import transaction

from aftersales.accounts.models import Coverage, Organization, OrganizationKind, RoleCode, User
from aftersales.accounts.services import roles_ensure, user_set_roles
from aftersales.core.choices import ProductCategory
from aftersales.demo import names

DEMO_PASSWORD = "demo1234"

K = OrganizationKind
R = RoleCode
C = ProductCategory

# The terms of domain.md, for the login table the demo prints (the role labels are English msgids).
ROLE_LABELS_ZH = {
    R.CALL_AGENT: "话务代表",
    R.INFORMATION_COORDINATOR: "信息协调员",
    R.HOTLINE_TECHNICIAN: "热线技术员",
    R.REPAIR_COORDINATOR: "维修协调员",
    R.FIELD_TECHNICIAN: "维修技术员",
    R.TECHNICAL_ENGINEER: "技术工程师",
    R.SUPERVISOR: "督查",
    R.ADMINISTRATOR: "系统管理员",
}


@dataclass(frozen=True)
class OrgSpec:
    code: str
    name: str
    kind: str
    province: str
    city: str
    county: str
    address: str
    contact_name: str
    contact_phone: str
    parent: str | None = None
    # (province, city, county); blank city or county means the whole province or city.
    coverage: tuple[tuple[str, str, str], ...] = ()


ORGANIZATIONS: tuple[OrgSpec, ...] = (
    OrgSpec("SC", "开拓机械服务中心", K.SERVICE_CENTER, "广东省", "广州市", "黄埔区",
            "广州市黄埔区科学城开拓路1号", "陈丽娟", "020-8206 6800"),
    OrgSpec("TC", "开拓机械技术中心", K.TECHNICAL_CENTER, "广东省", "广州市", "黄埔区",
            "广州市黄埔区科学城开拓路1号研发楼", "吴振华", "020-8206 6860", parent="SC"),
    OrgSpec("RC", "开拓机械维修中心", K.REPAIR_CENTER, "广东省", "广州市", "番禺区",
            "广州市番禺区石楼镇开拓工业园3栋", "梁伟强", "020-3482 1190", parent="SC",
            coverage=(("广东省", "", ""),)),
    OrgSpec("BR-HA", "开拓机械郑州直营分店", K.DIRECT_BRANCH, "河南省", "郑州市", "中牟县",
            "郑州市中牟县郑开大道农机市场12号", "张建军", "0371-6255 3301", parent="SC",
            coverage=(("河南省", "", ""),)),
    OrgSpec("BR-SD", "开拓机械济南直营分店", K.DIRECT_BRANCH, "山东省", "济南市", "章丘区",
            "济南市章丘区明水经济开发区工业二路8号", "孙立军", "0531-8321 7702", parent="SC",
            coverage=(("山东省", "", ""),)),
    OrgSpec("BR-HL", "开拓机械哈尔滨直营分店", K.DIRECT_BRANCH, "黑龙江省", "哈尔滨市", "呼兰区",
            "哈尔滨市呼兰区利民开发区学院路66号", "王立新", "0451-5761 2203", parent="SC",
            coverage=(("黑龙江省", "", ""),)),
    OrgSpec("AG-HE", "石家庄丰农农机维修服务站", K.AUTHORIZED_AGENCY, "河北省", "石家庄市", "藁城区",
            "石家庄市藁城区廉州镇307国道北侧", "刘振江", "0311-8805 4417",
            coverage=(("河北省", "石家庄市", ""), ("河北省", "衡水市", "深州市"), ("河北省", "衡水市", "安平县"))),
    OrgSpec("AG-AH", "阜阳金穗农机维修有限公司", K.AUTHORIZED_AGENCY, "安徽省", "阜阳市", "临泉县",
            "阜阳市临泉县城关镇沈丘路88号", "杨永胜", "0558-6512 3390",
            coverage=(("安徽省", "阜阳市", ""), ("安徽省", "亳州市", "利辛县"), ("安徽省", "亳州市", "蒙城县"))),
    OrgSpec("AG-JS", "盐城沃野农机服务有限公司", K.AUTHORIZED_AGENCY, "江苏省", "盐城市", "射阳县",
            "盐城市射阳县合德镇振阳路206号", "徐海波", "0515-8232 6618",
            coverage=(("江苏省", "盐城市", ""), ("江苏省", "淮安市", "涟水县"))),
    OrgSpec("AG-XJ", "昌吉天山农机维修服务中心", K.AUTHORIZED_AGENCY, "新疆维吾尔自治区", "昌吉回族自治州", "玛纳斯县",
            "昌吉回族自治州玛纳斯县玛纳斯镇农机城5号", "马国庆", "0994-6622 518",
            coverage=(("新疆维吾尔自治区", "昌吉回族自治州", ""), ("新疆维吾尔自治区", "塔城地区", "沙湾市"))),
    OrgSpec("DL-ZK", "周口丰收农机经销部", K.DEALER, "河南省", "周口市", "商水县",
            "周口市商水县S102省道农机大市场", "郭建华", "0394-5432 118"),
    OrgSpec("DL-DZ", "德州鲁丰农机销售有限公司", K.DEALER, "山东省", "德州市", "齐河县",
            "德州市齐河县晏城街道农机城A区6号", "田宝山", "0534-5321 689"),
    OrgSpec("DL-SH", "绥化黑土地农机经销处", K.DEALER, "黑龙江省", "绥化市", "海伦市",
            "绥化市海伦市海北路农机大市场", "于长海", "0455-5762 233"),
)


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    org: str
    roles: tuple[str, ...]
    employee_no: str = ""
    skills: tuple[str, ...] | None = None
    # A technician's home is where the dispatcher expects him to start from.
    home: tuple[str, str, str] = ("", "", "")
    superuser: bool = False


_ALL_CATEGORIES = tuple(ProductCategory.values)

USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "赵文博", "SC", (R.ADMINISTRATOR,), superuser=True),
    UserSpec("agent", "李晓燕", "SC", (R.CALL_AGENT,), employee_no="8001"),
    UserSpec("coordinator", "陈丽娟", "SC", (R.INFORMATION_COORDINATOR,), employee_no="8101"),
    UserSpec("hotline", "黄志强", "SC", (R.HOTLINE_TECHNICIAN,), employee_no="8201"),
    UserSpec("dispatcher", "林国栋", "SC", (R.REPAIR_COORDINATOR,), employee_no="8301"),
    UserSpec("engineer", "吴振华", "TC", (R.TECHNICAL_ENGINEER,), employee_no="8401",
             skills=_ALL_CATEGORIES),
    UserSpec("supervisor", "郑德明", "SC", (R.SUPERVISOR,), employee_no="8501"),
    UserSpec("tech_rc", "梁伟强", "RC", (R.FIELD_TECHNICIAN,), employee_no="8601",
             skills=_ALL_CATEGORIES, home=("广东省", "广州市", "番禺区")),
    UserSpec("tech_ha", "张建军", "BR-HA", (R.FIELD_TECHNICIAN,), employee_no="8611",
             skills=(C.TRACTOR, C.COMBINE_HARVESTER, C.DIESEL_ENGINE_SINGLE, C.DIESEL_ENGINE_MULTI, C.IMPLEMENT),
             home=("河南省", "郑州市", "中牟县")),
    UserSpec("tech_sd", "孙立军", "BR-SD", (R.FIELD_TECHNICIAN,), employee_no="8621",
             skills=(C.TRACTOR, C.COMBINE_HARVESTER, C.DIESEL_ENGINE_MULTI, C.IMPLEMENT),
             home=("山东省", "济南市", "章丘区")),
    # 站长: the Jinan branch's manager accepts what is dispatched to the branch, assigns it, and
    # repairs himself when the branch is short of hands.
    UserSpec("manager_sd", "高建国", "BR-SD", (R.REPAIR_COORDINATOR, R.FIELD_TECHNICIAN), employee_no="8620",
             skills=(C.TRACTOR, C.COMBINE_HARVESTER, C.DIESEL_ENGINE_MULTI, C.IMPLEMENT),
             home=("山东省", "济南市", "章丘区")),
    UserSpec("tech_hl", "王立新", "BR-HL", (R.FIELD_TECHNICIAN,), employee_no="8631",
             skills=(C.TRACTOR, C.COMBINE_HARVESTER, C.RICE_TRANSPLANTER, C.IMPLEMENT),
             home=("黑龙江省", "哈尔滨市", "五常市")),
    # Agency staff are the partner's employees: no 开拓 employee number.
    UserSpec("tech_he", "刘振江", "AG-HE", (R.FIELD_TECHNICIAN,),
             skills=(C.TRACTOR, C.COMBINE_HARVESTER, C.DIESEL_ENGINE_SINGLE),
             home=("河北省", "石家庄市", "藁城区")),
    UserSpec("tech_ah", "杨永胜", "AG-AH", (R.FIELD_TECHNICIAN,),
             skills=(C.TRACTOR, C.COMBINE_HARVESTER, C.RICE_TRANSPLANTER, C.DIESEL_ENGINE_SINGLE),
             home=("安徽省", "阜阳市", "临泉县")),
    UserSpec("tech_js", "徐海波", "AG-JS", (R.FIELD_TECHNICIAN,),
             skills=(C.RICE_TRANSPLANTER, C.COMBINE_HARVESTER, C.TRACTOR),
             home=("江苏省", "盐城市", "射阳县")),
    UserSpec("tech_xj", "马国庆", "AG-XJ", (R.FIELD_TECHNICIAN,),
             skills=(C.TRACTOR, C.COMBINE_HARVESTER, C.IMPLEMENT, C.OTHER),
             home=("新疆维吾尔自治区", "昌吉回族自治州", "玛纳斯县")),
    # A dealer's clerk reports problems for the customers the dealer sold to (代理商报修).
    UserSpec("dealer_zk", "郭建华", "DL-ZK", (R.CALL_AGENT,)),
)


@dataclass
class DemoNetwork:
    """What the demo built, handed to later stages (the archive, the service-order hook)."""

    orgs: dict[str, Organization]
    users: dict[str, User]
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    coverage: list[Coverage] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Organization]:
        return [o for o in self.orgs.values() if o.kind == kind]

    @property
    def service_center(self) -> Organization:
        return self.orgs["SC"]

    @property
    def technical_center(self) -> Organization:
        return self.orgs["TC"]

    @property
    def repair_center(self) -> Organization:
        return self.orgs["RC"]

    @property
    def technicians(self) -> list[User]:
        return [u for u in self.users.values() if R.FIELD_TECHNICIAN in self.roles[u.username]]

    def provider_for(self, province: str, city: str = "", county: str = "") -> Organization:
        """The organization whose area holds this place most specifically; the repair center otherwise,
        because it "supports every region" (seed)."""
        best, best_depth = None, -1
        for area in self.coverage:
            if area.province != province or (area.city and area.city != city) or (area.county and area.county != county):
                continue
            depth = bool(area.city) + bool(area.county)
            if depth > best_depth:
                best, best_depth = area.organization, depth
        return best or self.repair_center

    def logins(self) -> list[tuple[str, str, str, str]]:
        """(username, role in Chinese, organization, password) for the table the demo prints."""
        return [
            (u.username, "、".join(ROLE_LABELS_ZH[r] for r in self.roles[u.username]), u.organization.name, DEMO_PASSWORD)
            for u in self.users.values()
        ]


def organization_create(spec: OrgSpec, *, parent: Organization | None) -> tuple[Organization, list[Coverage]]:
    # No organization service exists yet; this is the seeding tool's own writer, not a pattern.
    org = Organization.objects.create(
        code=spec.code, name=spec.name, kind=spec.kind, parent=parent,
        province=spec.province, city=spec.city, county=spec.county, address=spec.address,
        contact_name=spec.contact_name, contact_phone=spec.contact_phone,
    )
    areas = Coverage.objects.bulk_create(
        [Coverage(organization=org, province=p, city=c, county=n) for p, c, n in spec.coverage]
    )
    return org, areas


@transaction.atomic
def build_network(*, rng: random.Random, password_hash: str) -> DemoNetwork:
    """The organizations and the demo users. ``password_hash`` is made once by the caller: hashing
    per user would cost a full argon2 round each."""
    roles_ensure()
    orgs: dict[str, Organization] = {}
    coverage: list[Coverage] = []
    for spec in ORGANIZATIONS:
        org, areas = organization_create(spec, parent=orgs[spec.parent] if spec.parent else None)
        orgs[spec.code] = org
        coverage.extend(areas)

    users: dict[str, User] = {}
    phones: set[str] = set()
    for spec in USERS:
        province, city, county = spec.home
        user = User.objects.create(
            username=spec.username, password=password_hash, display_name=spec.display_name,
            first_name=spec.display_name[1:], last_name=spec.display_name[:1],
            organization=orgs[spec.org], employee_no=spec.employee_no, phone=names.mobile(rng, phones),
            home_province=province, home_city=city, home_county=county,
            is_staff=spec.superuser, is_superuser=spec.superuser,
        )
        user_set_roles(user=user, roles=list(spec.roles), skills=list(spec.skills) if spec.skills is not None else None)
        users[spec.username] = user
    return DemoNetwork(orgs=orgs, users=users, roles={s.username: s.roles for s in USERS}, coverage=coverage)
