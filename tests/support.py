"""Builders for tests: the service network with its personas, customers and machines, and a small
API client that sends a persona's token."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from aftersales.accounts.models import Coverage, Organization, OrganizationKind, RoleCode, User
from aftersales.accounts.services import api_token_create, roles_ensure, user_set_roles
from aftersales.registry import services as registry
from aftersales.registry.models import CustomerClass


def make_org(code: str, name: str, kind: str, province: str = "", city: str = "", county: str = "", parent=None,
             coverage: list[tuple[str, str, str]] = ()) -> Organization:
    org = Organization.objects.create(code=code, name=name, kind=kind, province=province, city=city, county=county, parent=parent)
    for prov, cty, cnty in coverage:
        Coverage.objects.create(organization=org, province=prov, city=cty, county=cnty)
    return org


def make_user(username: str, org: Organization | None, *roles: str, skills: list[str] | None = None, name: str = "") -> User:
    user = User.objects.create_user(username=username, password="pass-" + username, organization=org, display_name=name or username)
    user_set_roles(user=user, roles=list(roles), skills=skills)
    return user


def make_customer(name: str, phone: str, *, registered_by=None, customer_class=CustomerClass.FARMER, **address):
    return registry.customer_create(
        data=registry.CustomerInput(name=name, phones=[phone], customer_class=customer_class, **address),
        registered_by=registered_by,
    )


def make_model(code="LX904", name="东方红LX904拖拉机", category="tractor", power="66.2", **kw):
    from aftersales.registry.models import ProductModel

    existing = ProductModel.objects.filter(code=code).first()
    return existing or registry.product_model_create(code=code, name=name, category=category, rated_power_kw=power, **kw)


def make_machine(serial: str, owner=None, *, model=None, invoice=date(2026, 3, 1), delivery=None, registered_by=None, dealer=None):
    model = model or make_model()
    return registry.machine_create(
        data=registry.MachineInput(
            serial_number=serial, model_code=model.code, owner_id=owner.pk if owner else None,
            invoice_date=invoice, delivery_date=delivery, selling_dealer_id=dealer.pk if dealer else None,
        ),
        registered_by=registered_by,
    )


@dataclass
class Network:
    service_center: Organization
    technical_center: Organization
    repair_center: Organization
    branch_henan: Organization
    agency_shandong: Organization
    agency_heilongjiang: Organization
    dealer_henan: Organization
    admin: User
    agent: User
    info_coordinator: User
    hotline_tech: User
    repair_coordinator: User
    engineer: User
    supervisor: User
    branch_tech: User
    agency_tech: User
    other_agency_tech: User
    dealer_clerk: User
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: User) -> str:
        if user.username not in self.tokens:
            _, key = api_token_create(user=user, name="test")
            self.tokens[user.username] = key
        return self.tokens[user.username]


def build_network() -> Network:
    roles_ensure()
    K = OrganizationKind
    sc = make_org("SC", "开拓机械服务中心", K.SERVICE_CENTER, "广东省", "广州市")
    tc = make_org("TC", "技术中心", K.TECHNICAL_CENTER, "广东省", "广州市", parent=sc)
    rc = make_org("RC", "维修中心", K.REPAIR_CENTER, "广东省", "广州市", parent=sc, coverage=[("广东省", "", "")])
    br = make_org("BR-HA", "郑州直营分店", K.DIRECT_BRANCH, "河南省", "郑州市", parent=sc, coverage=[("河南省", "", "")])
    ag1 = make_org("AG-SD", "潍坊金丰农机维修站", K.AUTHORIZED_AGENCY, "山东省", "潍坊市", coverage=[("山东省", "潍坊市", "")])
    ag2 = make_org("AG-HL", "佳木斯北大荒农机服务站", K.AUTHORIZED_AGENCY, "黑龙江省", "佳木斯市", coverage=[("黑龙江省", "", "")])
    dl = make_org("DL-HA", "周口丰收农机经销部", K.DEALER, "河南省", "周口市")
    R = RoleCode
    admin = make_user("admin", sc, R.ADMINISTRATOR)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return Network(
        service_center=sc, technical_center=tc, repair_center=rc, branch_henan=br,
        agency_shandong=ag1, agency_heilongjiang=ag2, dealer_henan=dl,
        admin=admin,
        agent=make_user("agent", sc, R.CALL_AGENT, name="话务代表小李"),
        info_coordinator=make_user("infoco", sc, R.INFORMATION_COORDINATOR),
        hotline_tech=make_user("hotline", sc, R.HOTLINE_TECHNICIAN),
        repair_coordinator=make_user("repairco", sc, R.REPAIR_COORDINATOR),
        engineer=make_user("engineer", tc, R.TECHNICAL_ENGINEER),
        supervisor=make_user("supervisor", sc, R.SUPERVISOR),
        branch_tech=make_user("branchtech", br, R.FIELD_TECHNICIAN, skills=["tractor"]),
        agency_tech=make_user("agencytech", ag1, R.FIELD_TECHNICIAN, skills=["tractor", "combine_harvester"]),
        other_agency_tech=make_user("othertech", ag2, R.FIELD_TECHNICIAN, skills=["combine_harvester"]),
        dealer_clerk=make_user("dealer", dl, R.CALL_AGENT),
    )


class ApiClient:
    """Calls /api/v1 as a persona (by token), returning (status, json)."""

    def __init__(self, client):
        self.client = client

    def _call(self, method: str, path: str, user_token: str | None, body=None, **params):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {user_token}"} if user_token else {}
        url = "/api/v1" + path
        fn = getattr(self.client, method)
        if method in ("get", "delete"):
            resp = fn(url, data=params or None, **headers)
        else:
            resp = fn(url, data=json.dumps(body if body is not None else {}), content_type="application/json", **headers)
        try:
            data = resp.json()
        except ValueError:
            data = None
        return resp.status_code, data

    def get(self, path, token=None, **params):
        return self._call("get", path, token, **params)

    def post(self, path, body=None, token=None):
        return self._call("post", path, token, body)

    def put(self, path, body=None, token=None):
        return self._call("put", path, token, body)

    def delete(self, path, token=None):
        return self._call("delete", path, token)
