"""Builders for the service-order tests: a customer with a tractor in the agency's region, intake
through the API, and actions that carry the order's current version."""

from __future__ import annotations

import io
import struct
import zlib

from aftersales.notify.models import OutboxMessage
from aftersales.service.models import OrderEvent, ServiceOrder
from tests.support import make_customer, make_machine


def shandong_farmer(phone: str = "13912345678", serial: str = "LX904-SD-0001", **customer):
    """A farmer in 潍坊市寿光市 (the Shandong agency's area) with a tractor still under warranty."""
    fields = dict(province="山东省", city="潍坊市", county="寿光市", **customer)
    owner = make_customer("刘大壮", phone, **fields)
    return owner, make_machine(serial, owner)


def repair_body(customer, machine, **overrides) -> dict:
    body = {
        "order_type": "repair", "customer_id": customer.pk, "machine_id": machine.pk, "channel": "phone",
        "crop": "小麦", "operation": "犁地", "field_location": "寿光市田柳镇东地", "urgency": "urgent",
        "symptom": "拖拉机启动困难，冒黑烟",
    }
    body.update(overrides)
    return body


def create(api, net, body, user=None, **headers):
    token = net.token(user or net.agent)
    resp = api.client.post("/api/v1/orders", data=__import__("json").dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}", **headers)
    return resp.status_code, resp.json()


class Actor:
    """Takes actions as one persona, always sending the order's current version."""

    def __init__(self, api, net, user):
        self.api, self.net, self.user = api, net, user

    def __call__(self, order_id: int, action: str, note: str = "", version: int | None = None, **data):
        if version is None:
            version = ServiceOrder.objects.get(pk=order_id).version
        return self.api.post(f"/orders/{order_id}/actions/{action}", {"version": version, "note": note, "data": data},
                             token=self.net.token(self.user))

    def ok(self, order_id: int, action: str, **data) -> dict:
        status, body = self(order_id, action, **data)
        assert status == 200, (action, status, body)
        return body


def state(order_id: int) -> tuple[str, int, int]:
    """What a denied call must not change: status, version, number of events."""
    order = ServiceOrder.objects.get(pk=order_id)
    return order.status, order.version, OrderEvent.objects.filter(order_id=order_id).count()


def last_code(order_id: int) -> str:
    return OutboxMessage.objects.filter(order_id=order_id, template="confirmation_code").latest("id").context["code"]


def png_bytes() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def upload(api, net, user, order_id, content: bytes, name="photo.png", kind="photo"):
    f = io.BytesIO(content)
    f.name = name
    resp = api.client.post(f"/api/v1/orders/{order_id}/attachments", data={"file": f, "kind": kind},
                           HTTP_AUTHORIZATION=f"Bearer {net.token(user)}")
    return resp.status_code, resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else resp
