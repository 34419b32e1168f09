"""Orders through the API (issue 19): price preview, place (and confirm) with an
``Idempotency-Key``, confirm, cancel, list and detail with delivery notes and licences, the
delivery note PDF; Softwarepflege quotes of Auerswald systems.

Every call goes through billing's order services — the very ``order_draft_place`` the
portal's "Preis berechnen" runs (decision ORD-1/ORD-4: lines across installations, a bundle
as its modules per installation), ``order_draft_preview`` for the live price (rolled back,
so the API price is the portal's), ``order_confirm`` (idempotent by itself) — and through
partner-scoped selectors: another partner's order, installation or licence is 404.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from api.api import problem, require_scope
from api.common import MAX_ID, PAGE, PageCursorPagination, acting_user, stored_pdf
from api.history import api_write
from api.models import SCOPE_KEYS, SCOPE_ORDER, SCOPE_READ
from api.services import idempotency_order_token, order_place_idempotent, request_fingerprint
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import Order, OrderLine
from licensing.models import DeliveryNote, Installation, License, Product
from licensing.selectors import portal as licensing_portal
from licensing.selectors.systems import auerswald_systems
from vendorportal import clock
from vendorportal.money import ZERO, round_cents

router = Router(tags=["Bestellungen"])

Id = Annotated[int, Field(ge=1, le=MAX_ID)]

MAX_LINES = 50
MAX_INSTALLATIONS = 500  # per line; a larger order is several requests (or the portal's CSV)


# --- input --------------------------------------------------------------------------------------


class OrderLineIn(Schema):
    """A module (``article``) or a bundle (``bundle_id``: all its modules, ORD-3) for the
    listed installations — one licence per installation (LIC-1)."""

    article: str | None = Field(None, min_length=1, max_length=40, description="Artikelnummer, z. B. INTERCOM")
    bundle_id: int | None = Field(None, ge=1, le=MAX_ID, description="statt article: alle Module des Bundles")
    installation_ids: list[Id] = Field(..., min_length=1, max_length=MAX_INSTALLATIONS)
    kind: Literal["purchase", "subscription"] = "purchase"
    term_months: Literal[0, 1, 12, 24, 36] = Field(0, description="Abo-Mindestlaufzeit; 0 beim Kauf")
    users: int | None = Field(None, ge=1, le=100_000, description="Teams Presence Sync: Benutzer (CAT-4)")
    as_package: bool = Field(False, description="Abos als Paket (ORD-4)")
    billing_months: Literal[0, 1, 3, 6, 12] = Field(1, description="Abrechnung (SUB-3); 0 = ganze Mindestlaufzeit")


class MaintenanceIn(Schema):
    """A Softwarepflege quote of an Auerswald system (SWP-3…SWP-7) in the order."""

    installation_id: int = Field(..., ge=1, le=MAX_ID)
    kind: Literal["add_users", "renewal"]
    users: int | None = Field(None, ge=1, le=10_000, description="add_users: neue Benutzer")
    months: Literal[12, 36] | None = Field(None, description="renewal: 12 oder 36 Monate")


class OrderIn(Schema):
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=MAX_LINES)
    tier_upgrades: list[Id] = Field(
        default_factory=list, max_length=MAX_LINES, description="Lizenz-IDs für das Staffel-Upgrade (ORD-6)"
    )
    maintenance: MaintenanceIn | None = None
    delivery_email: str = Field("", max_length=254, description="leer = Liefer-E-Mail des Partners")
    invoice_email: str = Field("", max_length=254, description="leer = Rechnungs-E-Mail des Partners")


class OrderPlaceIn(OrderIn):
    confirm: bool = Field(False, description="gleich verbindlich bestellen (sonst bleibt ein Entwurf)")


def _email(value: str, field: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    value = value.strip()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({field: [_("Bitte eine gültige E-Mail-Adresse angeben.")]}) from None
    return value


def _invalid(field: str, message: str):
    from django.core.exceptions import ValidationError

    return ValidationError({field: [message]})


def _place_kwargs(request, data: OrderIn) -> dict:
    """The order as ``order_draft_place`` takes it, the portal's way: each line's
    installations and products looked up partner-scoped (another partner's id → 404)."""
    partner = request.partner
    wanted = {pk for line in data.lines for pk in line.installation_ids}
    if data.maintenance is not None:
        wanted.add(data.maintenance.installation_id)
    installations = {
        inst.pk: inst
        for inst in Installation.objects.for_partner(partner).filter(pk__in=wanted).select_related("customer")
    }
    if wanted - set(installations):
        raise Http404("installation")
    products = {p.article.upper(): p for p in billing_selectors.orderable_products()}
    bundles = (
        {b.pk: b for b in billing_selectors.active_bundles()} if any(line.bundle_id for line in data.lines) else {}
    )
    wishes = []
    for number, line in enumerate(data.lines):
        if (line.article is None) == (line.bundle_id is None):
            raise _invalid(f"lines.{number}.article", _("Bitte entweder einen Artikel oder ein Bundle angeben."))
        if line.article is not None:
            product = products.get(line.article.strip().upper())
            if product is None:
                raise _invalid(
                    f"lines.{number}.article",
                    _("Unbekannter Artikel „%(article)s“ (siehe /catalog).") % {"article": line.article},
                )
            chosen = [product]
        else:
            bundle = bundles.get(line.bundle_id)
            if bundle is None:
                raise _invalid(f"lines.{number}.bundle_id", _("Dieses Bundle wird nicht angeboten."))
            chosen = list(bundle.products.all())
        kind = OrderLine.SUBSCRIPTION if line.kind == "subscription" else OrderLine.PURCHASE
        wishes += [
            billing_services.LineWish(
                product=product,
                kind=kind,
                installation=installations[pk],
                term_months=line.term_months,
                users=line.users if product.pricing_model == Product.PER_STARTED_5_USERS else None,
                as_package=line.as_package,
                billing_months=line.billing_months,
            )
            for pk in dict.fromkeys(line.installation_ids)
            for product in chosen
        ]
    if data.tier_upgrades:
        licenses = {
            lic.pk: lic
            for lic in License.objects.filter(
                installation__customer__partner=partner, pk__in=data.tier_upgrades
            ).select_related("product", "installation", "installation__customer")
        }
        if set(data.tier_upgrades) - set(licenses):
            raise Http404("license")
        wishes += [
            billing_services.LineWish(
                product=lic.product,
                kind=OrderLine.PURCHASE,
                installation=lic.installation,
                upgrade=OrderLine.UPGRADE_TIER,
                upgrade_from=lic,
            )
            for lic in (licenses[pk] for pk in dict.fromkeys(data.tier_upgrades))
        ]
    place = {
        "partner": partner,
        "lines": wishes,
        "delivery_email": _email(data.delivery_email, "delivery_email"),
        "invoice_email": _email(data.invoice_email, "invoice_email"),
        "by": acting_user(request),
    }
    if data.maintenance is not None:
        m = data.maintenance
        place.update(
            swp_installation=installations[m.installation_id],
            swp_kind=m.kind,
            swp_users=m.users if m.kind == OrderLine.SWP_ADD_USERS else None,
            swp_months=m.months if m.kind == OrderLine.SWP_RENEWAL else None,
        )
    return place


# --- output -------------------------------------------------------------------------------------


class PriceStepOut(Schema):
    code: str
    label: str
    percent: Decimal | None
    change: Decimal
    subtotal: Decimal
    display: str = Field(..., description="so, wie das Portal den Schritt zeigt")


class PriceLineOut(Schema):
    installation: str
    customer: str
    article: str
    name: str
    kind: str
    term_months: int
    tier: str
    quantity: int
    users: int | None
    unit: str = Field(..., description="once | month | year")
    list_price: Decimal
    bundle_percent: Decimal
    volume_percent: Decimal
    partner_percent: Decimal
    upgrade_plan_percent: Decimal
    upgrade_time_percent: Decimal
    steps: list[PriceStepOut]
    unit_net: Decimal
    line_net: Decimal
    delivery_email: str


class TotalOut(Schema):
    unit: str
    net: Decimal
    vat: Decimal
    gross: Decimal


class BreakdownOut(Schema):
    lines: list[PriceLineOut]
    totals: list[TotalOut]
    vat_percent: Decimal
    vat_note: str


def _breakdown(breakdown) -> dict:
    return {
        "lines": [
            {
                **{
                    name: getattr(line, name)
                    for name in PriceLineOut.model_fields
                    if name not in ("steps", "unit") and hasattr(line, name)
                },
                "unit": line.unit,
                "steps": [
                    {
                        "code": s.code,
                        "label": s.label,
                        "percent": s.percent,
                        "change": s.change,
                        "subtotal": s.subtotal,
                        "display": s.display,
                    }
                    for s in line.steps
                ],
            }
            for line in breakdown.lines
        ],
        "totals": [{"unit": t.unit, "net": t.net, "vat": t.vat, "gross": t.gross} for t in breakdown.totals],
        "vat_percent": breakdown.vat_percent,
        "vat_note": breakdown.treatment.note or "",
    }


class OrderSummaryOut(Schema):
    id: int
    reference: str
    state: str
    order_date: date
    net: Decimal
    installations_count: int
    invoice_id: int | None
    invoice_number: str | None

    @staticmethod
    def resolve_net(obj):
        return round_cents(obj.net or ZERO)  # a sum of cents; SQLite drops the trailing zeros


class DeliveryNoteOut(Schema):
    id: int
    number: str
    created_at: datetime
    installation_id: int
    installation: str = Field(..., alias="installation.identifier")
    recipient_email: str
    pdf_available: bool

    @staticmethod
    def resolve_pdf_available(obj):
        return bool(obj.pdf)


class OrderLicenseOut(Schema):
    id: int
    serial: int
    article: str
    installation_id: int
    tier: str
    state: str
    key: str | None = Field(None, description="nur mit dem Recht „keys“")


class InvoiceRefOut(Schema):
    id: int
    number: str
    gross_total: Decimal
    state: str


class OrderOut(Schema):
    id: int
    reference: str
    state: str
    order_date: date
    delivery_email: str
    invoice_email: str
    price: BreakdownOut
    invoice: InvoiceRefOut | None
    delivery_notes: list[DeliveryNoteOut]
    licenses: list[OrderLicenseOut]


def _order_out(request, order: Order) -> dict:
    with_keys = SCOPE_KEYS in request.api_token.scope_list
    licenses = License.objects.filter(order_lines__order=order).select_related("product").distinct().order_by("serial")
    return {
        "id": order.pk,
        "reference": order.reference,
        "state": order.state,
        "order_date": order.order_date,
        "delivery_email": order.delivery_email,
        "invoice_email": order.invoice_email,
        "price": _breakdown(billing_selectors.order_breakdown(order)),
        "invoice": billing_selectors.order_invoice(order),
        "delivery_notes": list(billing_selectors.order_delivery_notes(order)),
        "licenses": [
            {
                "id": lic.pk,
                "serial": lic.serial,
                "article": lic.product.article,
                "installation_id": lic.installation_id,
                "tier": lic.tier,
                "state": lic.state,
                "key": lic.key if with_keys else None,
            }
            for lic in licenses
        ],
    }


def _order(request, order_id: int) -> Order:
    return billing_selectors.partner_order(request.partner, order_id)


# --- endpoints ----------------------------------------------------------------------------------


class BundleOut(Schema):
    id: int
    name: str
    articles: list[str]


@router.get("/catalog/bundles", response=list[BundleOut], tags=["Katalog"], summary="Bundles (ORD-3)")
def bundles_list(request):
    require_scope(request, SCOPE_READ)
    return [
        {"id": b.pk, "name": b.name, "articles": sorted(p.article for p in b.products.all())}
        for b in billing_selectors.active_bundles()
    ]


@router.post("/orders/preview", response=BreakdownOut, summary="Preisvorschau (nichts wird gespeichert)")
def order_preview(request, data: OrderIn):
    """The portal's live price for these lines: the same service, rolled back."""
    require_scope(request, SCOPE_ORDER)
    return _breakdown(billing_services.order_draft_preview(**_place_kwargs(request, data)))


@router.post(
    "/orders",
    response={200: OrderOut, 201: OrderOut},
    summary="Bestellung anlegen (und bestätigen) — mit Idempotency-Key",
)
@api_write
def order_place(
    request,
    response: HttpResponse,
    data: OrderPlaceIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
):
    """Places a priced draft (``confirm: true``: and confirms it). The same
    ``Idempotency-Key`` from the same token returns the same order (200, header
    ``Idempotent-Replayed: true``); the same key with another body is refused (422)."""
    require_scope(request, SCOPE_ORDER)
    body = data.dict()

    def place(row):
        order = billing_services.order_draft_place(token=idempotency_order_token(row), **_place_kwargs(request, data))
        if data.confirm:
            billing_services.order_confirm(order=order, by=acting_user(request))
            order.refresh_from_db()
        return order

    order, replayed = order_place_idempotent(
        token=request.api_token, key=idempotency_key, fingerprint=request_fingerprint(body), place=place
    )
    order = billing_selectors.partner_order(request.partner, order.pk)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(200 if replayed else 201, _order_out(request, order))


class OrderFilter(Schema):
    state: Literal["draft", "confirmed", "fulfilled", "cancelled"] | None = None
    year: int | None = Field(None, ge=2000, le=2999)


@router.get("/orders", response=list[OrderSummaryOut], summary="Bestellungen")
@paginate(PageCursorPagination, ordering=("-id",), **PAGE)
def orders_list(request, filters: Query[OrderFilter]):
    require_scope(request, SCOPE_READ)
    qs = billing_selectors.portal_orders(request.partner)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.year:
        qs = qs.filter(order_date__year=filters.year)
    return qs


@router.get("/orders/{order_id}", response=OrderOut, summary="Bestellung mit Preis, Rechnung, Lieferscheinen")
def order_detail(request, order_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    return _order_out(request, _order(request, order_id))


@router.post("/orders/{order_id}/confirm", response=OrderOut, summary="Verbindlich bestellen")
@api_write
def order_confirm(request, order_id: int = Path(..., ge=1, le=MAX_ID)):
    """Idempotent: an order confirmed before is returned as it is. A draft priced on an
    earlier day is priced again for today and answered 409 ``repriced`` with the new price —
    check it and confirm again (as the portal shows it once more)."""
    require_scope(request, SCOPE_ORDER)
    order = _order(request, order_id)
    if order.is_draft and order.order_date != clock.today():
        breakdown = billing_services.order_price(order=order)
        return problem(
            request,
            409,
            "repriced",
            _("Die Preise wurden für heute neu berechnet. Bitte prüfen und dann erneut bestätigen."),
            price=_breakdown(breakdown),
        )
    billing_services.order_confirm(order=order, by=acting_user(request))
    return _order_out(request, _order(request, order_id))


@router.post("/orders/{order_id}/cancel", response=OrderOut, summary="Stornieren (bis der Schlüssel erzeugt ist)")
@api_write
def order_cancel(request, order_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_ORDER)
    billing_services.order_cancel(order=_order(request, order_id), by=acting_user(request))
    return _order_out(request, _order(request, order_id))


@router.get(
    "/orders/{order_id}/delivery-notes/{note_id}/pdf",
    response={200: None},
    summary="Lieferschein-PDF (mit den Schlüsseln)",
)
def order_delivery_note_pdf(
    request, order_id: int = Path(..., ge=1, le=MAX_ID), note_id: int = Path(..., ge=1, le=MAX_ID)
):
    require_scope(request, SCOPE_KEYS)
    note = billing_selectors.order_delivery_note(_order(request, order_id), note_id)
    return stored_pdf(note, filename=f"{note.number}.pdf")


# --- licences: one licence, delivery notes ----------------------------------------------------------


class LicenseDetailOut(Schema):
    id: int
    serial: int
    article: str = Field(..., alias="product.article")
    product: str = Field(..., alias="product.name")
    version: str = Field(..., alias="module_version.version")
    installation_id: int
    kind: str
    tier: str
    user_limit: int | None
    state: str
    valid_until: date | None
    issued_at: datetime
    order_reference: str
    key: str | None = Field(None, description="der Schlüsseltext; nur mit dem Recht „keys“")
    delivery_notes: list[DeliveryNoteOut] = Field(..., alias="stored_notes")

    @staticmethod
    def resolve_key(obj, context):
        return obj.key if SCOPE_KEYS in context["request"].api_token.scope_list else None


@router.get("/licenses/{license_id}", response=LicenseDetailOut, tags=["Lizenzen"], summary="Eine Lizenz")
def license_detail(request, license_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    notes = DeliveryNote.objects.exclude(pdf="").select_related("installation").order_by("-created_at")
    return (
        licensing_portal.partner_licenses(request.partner)
        .prefetch_related(None)
        .prefetch_related(Prefetch("delivery_notes", queryset=notes, to_attr="stored_notes"))
        .get(pk=license_id)
    )


@router.get("/delivery-notes/{note_id}/pdf", response={200: None}, tags=["Lizenzen"], summary="Lieferschein-PDF")
def delivery_note_pdf(request, note_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_KEYS)
    note = licensing_portal.partner_delivery_note(partner=request.partner, pk=note_id)
    return stored_pdf(note, filename=f"{note.number}.pdf")


# --- Softwarepflege: Auerswald systems and quotes (SWP-3…SWP-8) --------------------------------------


class SystemOut(Schema):
    id: int
    serial: str = Field(..., alias="identifier")
    customer_id: int
    customer: str = Field(..., alias="customer.company")
    edition: str
    coverage_end: date | None = Field(None, description="Softwarepflege bis")
    swp_state: str | None = Field(None, description="active | expiring | lapsed | lapsed_surcharge | … (SWP-8)")
    call_assist_users: int

    @staticmethod
    def resolve_swp_state(obj):
        return obj.swp_state if obj.coverage_end else None


@router.get("/systems", response=list[SystemOut], tags=["Softwarepflege"], summary="Auerswald-Systeme")
@paginate(PageCursorPagination, ordering=("id",), **PAGE)
def systems_list(request):
    require_scope(request, SCOPE_READ)
    return auerswald_systems(today=clock.today(), partner=request.partner)


class QuoteIn(Schema):
    kind: Literal["add_users", "renewal"]
    users: int | None = Field(None, ge=1, le=10_000)
    months: Literal[12, 36] | None = None


class QuoteLineOut(Schema):
    article: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal


class QuoteOut(Schema):
    kind: str
    serial: str
    order_date: date
    users: int
    new_users: int
    months: int | None
    coverage_start: date
    coverage_end: date
    lapsed_days: int
    surcharge_days: int
    lines: list[QuoteLineOut]
    net_total: Decimal
    sample_prices: bool


@router.post(
    "/systems/{system_id}/maintenance-quote",
    response=QuoteOut,
    tags=["Softwarepflege"],
    summary="Softwarepflege-Angebot (Benutzer hinzufügen oder verlängern)",
)
def maintenance_quote(request, data: QuoteIn, system_id: int = Path(..., ge=1, le=MAX_ID)):
    """licensing's quote as the portal's order form shows it; order it with ``maintenance`` in
    ``POST /orders``. Nothing is written."""
    require_scope(request, SCOPE_READ)
    system = auerswald_systems(today=clock.today(), partner=request.partner).get(pk=system_id)
    return billing_services.maintenance_quote(
        installation=system,
        swp_kind=data.kind,
        users=data.users if data.kind == OrderLine.SWP_ADD_USERS else None,
        months=data.months if data.kind == OrderLine.SWP_RENEWAL else None,
        today=clock.today(),
    )
