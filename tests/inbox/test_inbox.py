"""Fax and e-mail against a real IMAP server (dovecot): messages become drafts exactly once even with
two workers reading at the same time, a too-large message is refused by its size before it is
fetched, attachments are kept by their bytes, and an agent completes a draft into an order whose
sender is e-mailed the order number."""

from __future__ import annotations

import threading
from email.message import EmailMessage

import pytest
from django.db import connection

from aftersales.inbox import services
from aftersales.inbox.models import IntakeDraft
from aftersales.notify.models import OutboxMessage
from aftersales.service.models import Attachment, ServiceOrder
from tests.inbox.dovecot import PASSWORD, USER, Dovecot
from tests.service.helpers import png_bytes, shandong_farmer

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fax_tiff(pages: int = 3) -> bytes:
    """A real multi-page fax: bilevel A4-ish pages at fax resolution, CCITT Group 4, made by Pillow."""
    import io

    from PIL import Image, ImageDraw

    frames = []
    for n in range(pages):
        page = Image.new("1", (1728, 1100), 1)
        ImageDraw.Draw(page).rectangle((100 + 40 * n, 100, 600 + 40 * n, 300), fill=0)  # a different mark per page
        frames.append(page)
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", compression="group4", save_all=True, append_images=frames[1:], dpi=(204, 196))
    return out.getvalue()


TIFF = fax_tiff()


@pytest.fixture
def imap(settings):
    server = Dovecot()
    settings.INBOX_HOST, settings.INBOX_PORT, settings.INBOX_SSL = "127.0.0.1", server.port, False
    settings.INBOX_USER, settings.INBOX_PASSWORD = USER, PASSWORD
    settings.INBOX_MAX_BYTES = 200_000
    yield server
    server.stop()


def message(sender: str, subject: str, text: str = "", files=(), msg_id: str = "") -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "service@kaituo.example", subject
    if msg_id:
        m["Message-ID"] = msg_id
    m.set_content(text or "")
    for name, payload, maintype, subtype in files:
        m.add_attachment(payload, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def _two_workers() -> list[dict]:
    results, barrier = [], threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            results.append(services.inbox_poll())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_faxes_and_mails_become_drafts_once_and_a_draft_becomes_an_order(imap, net, client):
    customer, machine = shandong_farmer(phone="13912345678")
    imap.append(message("传真服务 <fax-gateway@fax.example>", "传真 来自 0536-8123456 / 13912345678",
                        files=[("page1.pdf", PDF, "application", "pdf"), ("page2.tif", TIFF, "image", "tiff"),
                               ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, "application", "octet-stream")],
                        msg_id="<fax-1@fax.example>"))
    imap.append(message("王师傅 <wang@example.com>", "收割机割台堵塞", "割台一直堵，麻烦派人来看看。", msg_id="<m-2@example.com>"))
    imap.append(message("bomb@example.com", "big", "x", files=[("big.pdf", PDF + b"0" * 300_000, "application", "pdf")],
                        msg_id="<big@example.com>"))
    results = _two_workers()
    assert sum(r["stored"] for r in results) == 2 and sum(r["refused"] for r in results) == 1, results
    assert IntakeDraft.objects.count() == 3 and imap.unseen() == 0
    assert services.inbox_poll() == {"stored": 0, "refused": 0, "skipped": 0}

    fax = IntakeDraft.objects.get(message_key="<fax-1@fax.example>")
    assert (fax.kind, fax.state, fax.customer, fax.phone) == ("fax", "draft", customer, "+8613912345678")
    assert sorted(a.content_type for a in fax.attachments.all()) == ["application/pdf", "image/tiff"]  # not the .exe
    mail = IntakeDraft.objects.get(message_key="<m-2@example.com>")
    assert (mail.kind, mail.customer, mail.sender) == ("email", None, "wang@example.com")
    big = IntakeDraft.objects.get(message_key__startswith="uid:")
    assert (big.state, big.body, big.size > 200_000) == ("refused", "", True)

    # The agent sees the drafts, completes the fax into an order and discards nothing yet.
    client.force_login(net.agent)
    page = client.get("/mailbox/")
    assert page.status_code == 200 and "收割机割台堵塞" in page.content.decode()
    assert client.get(f"/mailbox/{fax.pk}/").status_code == 200
    answer = client.post(f"/mailbox/{fax.pk}/complete", {"customer": customer.pk, "machine": machine.pk,
                                                           "order_type": "repair", "symptom": "传真报修：拖拉机漏油"})
    order = ServiceOrder.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/orders/{order.pk}/"
    assert (order.channel, order.customer, order.machine, order.symptom) == ("fax", customer, machine, "传真报修：拖拉机漏油")
    assert Attachment.objects.filter(order=order, content_type="application/pdf").count() == 1
    # The TIFF moved too: kept as sent, and each of its three pages beside it as a PNG the browser shows.
    tiff = Attachment.objects.get(order=order, content_type="image/tiff")
    with tiff.file.open("rb") as fh:
        assert fh.read() == TIFF
    pages = list(Attachment.objects.filter(order=order, content_type="image/png").order_by("id"))
    assert [p.original_name for p in pages] == ["page2 p1.png", "page2 p2.png", "page2 p3.png"]
    from PIL import Image
    import io
    for n, p in enumerate(pages):
        with p.file.open("rb") as fh:
            img = Image.open(io.BytesIO(fh.read()))
            assert (img.format, img.size) == ("PNG", (1728, 1100))
            assert img.getpixel((110 + 40 * n, 150)) == 0 and img.getpixel((90 + 40 * n, 150)) != 0  # its own mark
    attach = order.events.get(action="attach", data__content_type="image/tiff")
    assert attach.data["pages"] == [p.pk for p in pages]
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert page.count("file-tile\">TIFF") == 1 and all(f"/files/{p.pk}\"" in page for p in pages)
    sent = OutboxMessage.objects.get(template="inbox_order_created")
    assert (sent.channel, sent.recipient, sent.context["number"]) == ("email", "fax-gateway@fax.example", order.number)
    fax.refresh_from_db()
    assert (fax.state, fax.order, fax.handled_by) == ("completed", order, net.agent)
    # Completing it again changes nothing.
    again = client.post(f"/mailbox/{fax.pk}/complete", {"customer": customer.pk, "order_type": "repair"})
    assert again.status_code == 409 and ServiceOrder.objects.count() == 1

    # The unknown sender's mail: a new customer from the form, channel email; then nothing left.
    answer = client.post(f"/mailbox/{mail.pk}/complete", {"c_name": "王师傅", "phone": "13788889999",
                                                            "order_type": "consultation"})
    assert answer.status_code == 302, [l for l in answer.content.decode().splitlines() if "msg-error" in l]
    order2 = ServiceOrder.objects.exclude(pk=order.pk).get()
    assert (order2.channel, order2.customer.name, order2.symptom.startswith("收割机割台堵塞")) == ("email", "王师傅", True)
    # A partner never sees the inbox.
    client.force_login(net.agency_tech)
    assert client.get("/mailbox/").status_code == 403
    assert client.get(f"/mailbox/{big.pk}/").status_code == 403


def test_the_worker_reads_the_inbox_and_a_draft_can_be_discarded(imap, net, client):
    from django.core.management import call_command

    imap.append(message("spam@example.com", "促销", "广告", msg_id="<spam@example.com>"))
    call_command("worker", "--once")
    assert imap.unseen() == 0
    draft = IntakeDraft.objects.get()
    client.force_login(net.agent)
    assert client.post(f"/mailbox/{draft.pk}/discard", {"note": "广告"}).status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.note, draft.handled_by) == ("discarded", "广告", net.agent)
    assert not ServiceOrder.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=False)
def test_a_tiff_upload_keeps_the_original_and_shows_its_pages_and_a_broken_one_is_refused(net, api):
    from tests.service.helpers import create, repair_body, upload

    customer, machine = shandong_farmer()
    status, body = create(api, net, repair_body(customer, machine))
    assert status == 201, body
    order_id = body["id"]
    status, err = upload(api, net, net.agent, order_id, b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64, name="bad.tif",
                         kind="document")
    assert status == 422 and err["errors"][0]["field"] == "file"
    assert not Attachment.objects.filter(order_id=order_id).exists()
    status, out = upload(api, net, net.agent, order_id, fax_tiff(2), name="传真.tif", kind="document")
    assert status in (200, 201) and out["content_type"] == "image/tiff", out
    assert sorted(Attachment.objects.filter(order_id=order_id).values_list("content_type", "original_name")) == [
        ("image/png", "传真 p1.png"), ("image/png", "传真 p2.png"), ("image/tiff", "传真.tif")]
