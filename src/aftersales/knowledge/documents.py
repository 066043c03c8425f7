"""What each searchable object looks like to the index, and keeping the index current.

The hooks run inside the saving transaction (service.hooks, registry.hooks, and the article
services call ``index_article`` directly), so the index never disagrees with committed data.
``rebuild`` recreates everything in batches (``aftersales reindex``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

from django.db.models import Prefetch
from django.utils import timezone

from aftersales.knowledge import index, text
from aftersales.knowledge.models import Article, ArticleStatus, DocumentKind, SearchDocument
from aftersales.warranty.parts import part_label


def _join(kind: str, tokens: Iterable[str]) -> str:
    return " ".join([index.kind_token(kind), *tokens])


def _model_tokens(model) -> list[str]:
    if model is None:
        return []
    return [text.code_token(model.code), *text.segment(model.name), *text.segment(text.CATEGORY_WORDS.get(model.category, ""))]


def _phone_tokens(e164: str) -> list[str]:
    digits = text.national_digits(e164)
    return [text.phone_token(digits)] if digits else []


def article_document(article: Article) -> SearchDocument:
    steps = [str(s) for s in article.solution_steps or []]
    part_names = [str(p.get("name", "")) if isinstance(p, dict) else str(p) for p in article.parts or []]
    categories = [c for c in article.categories or [] if c]
    tokens = [
        # The title twice: a word in the title says more about the article than one in step 7.
        *text.segment(article.title), *text.segment(article.title),
        *text.segment(article.symptom), *text.segment(article.cause), *text.segment(" ".join(steps)),
        *text.segment(" ".join(part_names)), *text.segment(" ".join(article.tags or [])),
        *(text.code_token(code) for code in article.product_models or []),
        *(t for c in categories for t in text.segment(text.CATEGORY_WORDS.get(c, ""))),
    ]
    if article.component:
        tokens += [text.code_token(article.component), *text.segment(part_label(article.component))]
    # Pinyin and initials of the title and the symptom (fdjmhy -> 发动机冒黑烟).
    tokens += [*text.phrase_tokens(article.title), *text.phrase_tokens(article.symptom)]
    return SearchDocument(
        kind=DocumentKind.ARTICLE, object_id=article.pk, status=article.status, category=" ".join(categories),
        title=article.title[:300], body="\n".join([article.symptom, article.cause, *steps])[:2000],
        tokens=_join(DocumentKind.ARTICLE, tokens),
        # An article that solved orders before is likelier to solve this one.
        boost=round(math.log1p(article.useful_count) * 0.5, 3), updated_at=article.updated_at or timezone.now(),
    )


def order_document(order) -> SearchDocument:
    record = service_record_of(order)
    machine = order.machine
    model = machine.model if machine else None
    parts = [order.symptom, order.answer, order.crop, order.operation]
    if record is not None:
        parts += [record.fault_found, record.cause, record.solution]
    tokens = [
        text.code_token(order.number), *text.name_tokens(order.customer.name), *text.name_tokens(order.contact_name),
        *_phone_tokens(order.contact_phone), *text.segment(" ".join(p for p in parts if p)),
        *_model_tokens(model),
    ]
    if machine is not None:
        tokens.append(text.code_token(machine.serial_number))
    tokens += [index.org_token(org) for org in {order.assigned_org_id, order.owning_org_id} if org]
    if record is not None and record.component:
        tokens += text.segment(part_label(record.component))
    body = "\n".join(p for p in (order.symptom, record.fault_found if record else "", record.solution if record else "") if p)
    return SearchDocument(
        kind=DocumentKind.ORDER, object_id=order.pk, org_a=order.assigned_org_id, org_b=order.owning_org_id,
        status=order.status, category=model.category if model else "",
        title=f"{order.number} {order.customer.name} {order.symptom[:60]}".strip()[:300], body=body[:2000],
        tokens=_join(DocumentKind.ORDER, tokens), boost=0.0, updated_at=order.updated_at or timezone.now(),
    )


def service_record_of(order):
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return order.service_record
    except ObjectDoesNotExist:
        return None


def customer_document(customer) -> SearchDocument:
    tokens = [*text.name_tokens(customer.name), *text.segment(customer.region), *text.segment(customer.address)]
    for phone in customer.phones.all():
        tokens += _phone_tokens(phone.number)
    return SearchDocument(
        kind=DocumentKind.CUSTOMER, object_id=customer.pk, org_a=customer.registered_by_id, org_b=None,
        status="", category="", title=customer.name[:300], body=customer.region[:2000],
        tokens=_join(DocumentKind.CUSTOMER, tokens), boost=0.0, updated_at=customer.updated_at or timezone.now(),
    )


def machine_document(machine) -> SearchDocument:
    tokens = [text.code_token(machine.serial_number), *_model_tokens(machine.model)]
    if machine.engine_number:
        tokens.append(text.code_token(machine.engine_number))
    if machine.owner is not None:
        tokens += text.name_tokens(machine.owner.name)
    return SearchDocument(
        kind=DocumentKind.MACHINE, object_id=machine.pk, org_a=machine.registered_by_id, org_b=machine.selling_dealer_id,
        status=machine.status, category=machine.model.category,
        title=f"{machine.serial_number} {machine.model.code} {machine.model.name}"[:300],
        body=(machine.owner.name if machine.owner else "")[:2000],
        tokens=_join(DocumentKind.MACHINE, tokens), boost=0.0, updated_at=machine.updated_at or timezone.now(),
    )


def index_article(article: Article) -> None:
    if article.status == ArticleStatus.ARCHIVED:
        index.index_delete(DocumentKind.ARTICLE, [article.pk])
    else:
        index.index_upsert([article_document(article)])


# --- hooks ----------------------------------------------------------------------------------

def on_order_changed(order, events) -> None:
    # The document needs the customer, the machine with its model and the service record: use the
    # order in hand when it holds them (a new order does), else read it again with them.
    def held(obj, name):
        return obj._meta.get_field(name).is_cached(obj)

    machine_held = order.machine_id is None or (held(order, "machine") and held(order.machine, "model"))
    if not (held(order, "customer") and machine_held and held(order, "service_record")):
        order = _orders().get(pk=order.pk)
    index.index_upsert([order_document(order)])


def on_customer_changed(customer) -> None:
    from aftersales.registry.models import Customer

    docs = [customer_document(Customer.objects.prefetch_related("phones").get(pk=customer.pk))]
    # An order's document carries its customer's name; a renamed customer must find their orders.
    docs += [order_document(o) for o in _orders().filter(customer_id=customer.pk)]
    docs += [machine_document(m) for m in _machines().filter(owner_id=customer.pk)]
    index.index_upsert(docs)


def on_machine_changed(machine) -> None:
    index.index_upsert([machine_document(_machines().get(pk=machine.pk))])


# --- rebuild --------------------------------------------------------------------------------

def _orders():
    from aftersales.service.models import ServiceOrder

    return ServiceOrder.objects.select_related("customer", "machine__model", "service_record")


def _machines():
    from aftersales.registry.models import Machine

    return Machine.objects.select_related("model", "owner")


def _sources() -> list[tuple[str, Callable[[], object], Callable[[object], SearchDocument]]]:
    from aftersales.registry.models import Customer, CustomerPhone

    customers = Customer.objects.prefetch_related(Prefetch("phones", queryset=CustomerPhone.objects.order_by("id")))
    return [
        (DocumentKind.ARTICLE, lambda: Article.objects.exclude(status=ArticleStatus.ARCHIVED), article_document),
        (DocumentKind.ORDER, _orders, order_document),
        (DocumentKind.CUSTOMER, lambda: customers, customer_document),
        (DocumentKind.MACHINE, _machines, machine_document),
    ]


def teach_model_words() -> None:
    """Product model codes and names become dictionary words, so "东方红LX904" segments whole."""
    from aftersales.registry.models import ProductModel

    rows = list(ProductModel.objects.values_list("code", "name"))
    text.add_words([code for code, _ in rows], codes=True)
    text.add_words([name for _, name in rows])


def _batches(qs, size: int) -> Iterator[list]:
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def rebuild(*, batch_size: int = 1000, progress: Callable[[int], None] | None = None,
            totals: Callable[[int], None] | None = None) -> int:
    """Drop and rebuild the whole index. Returns the number of documents written."""
    teach_model_words()
    sources = _sources()
    if totals is not None:
        totals(sum(make().count() for _, make, _ in sources))
    SearchDocument.objects.all().delete()
    written = 0
    for _, make, build in sources:
        for batch in _batches(make(), batch_size):
            docs = [build(obj) for obj in batch]
            # Plain inserts: the table was emptied above, so no conflict handling is needed.
            SearchDocument.objects.bulk_create(docs, batch_size=batch_size)
            written += len(docs)
            if progress is not None:
                progress(len(docs))
    return written
