"""The API's endpoints: each calls the portal's services and partner-scoped selectors.

Lists paginate by cursor (``?cursor=…&page_size=…``, at most 100) and keep a fixed number of
queries whatever the data size. A write names the API token in the object's history.
"""

from datetime import date
from decimal import Decimal
from typing import Literal

from django.http import FileResponse, HttpResponse
from ninja import Field, Path, Query, Schema, Status
from ninja.pagination import CursorPagination, paginate
from simple_history.utils import update_change_reason

from api.api import api, require_scope
from api.common import PageCursorPagination
from api.models import SCOPE_KEYS, SCOPE_READ
from billing import selectors as billing_selectors
from billing.models import Invoice
from licensing.models import Installation
from licensing.portal_forms import vendor_of
from licensing.selectors import catalog as catalog_selectors
from licensing.selectors import portal as licensing_portal
from licensing.services import installations as installation_services
from licensing.services.licenses import license_diagnose
from vendorportal import clock
from vendorportal.parties import services as party_services
from vendorportal.parties.models import Customer

MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer are refused before they reach the database
PAGE = {"page_size": 50, "max_page_size": 100}


def _history(obj, request) -> None:
    update_change_reason(obj, f"API: {request.api_token.name} ({request.api_token.prefix}…)")


def _by(request):
    return request.api_token.created_by


# --- customers --------------------------------------------------------------------------------


class CustomerIn(Schema):
    company: str = Field(..., min_length=1, max_length=200)
    street: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=12)
    city: str = Field("", max_length=100)
    country: str = Field("DE", min_length=2, max_length=2)
    delivery_email: str = Field("", max_length=254, description="Liefer-E-Mail des Kunden (ORD-2); leer = keine")


class CustomerOut(Schema):
    id: int
    company: str
    street: str
    postal_code: str
    city: str
    country: str
    delivery_email: str


@api.get("/customers", response=list[CustomerOut], tags=["Kunden"], summary="Kunden des Partners")
@paginate(CursorPagination, ordering=("id",), **PAGE)
def customers_list(request):
    require_scope(request, SCOPE_READ)
    return Customer.objects.filter(partner=request.partner)


@api.post("/customers", response={201: CustomerOut}, tags=["Kunden"], summary="Kunden anlegen")
def customers_create(request, data: CustomerIn):
    require_scope(request, SCOPE_READ)
    customer = party_services.customer_create(partner=request.partner, by=_by(request), **data.dict())
    _history(customer, request)
    return Status(201, customer)


@api.get("/customers/{customer_id}", response=CustomerOut, tags=["Kunden"], summary="Ein Kunde")
def customers_detail(request, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    return licensing_portal.partner_customer(partner=request.partner, pk=customer_id)


@api.patch("/customers/{customer_id}", response=CustomerOut, tags=["Kunden"], summary="Kunden ändern")
def customers_update(request, data: CustomerIn, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    customer = licensing_portal.partner_customer(partner=request.partner, pk=customer_id)
    customer = party_services.customer_update(customer=customer, by=_by(request), **data.dict())
    _history(customer, request)
    return customer


# --- installations ----------------------------------------------------------------------------


class InstallationIn(Schema):
    customer_id: int = Field(..., ge=1, le=MAX_ID)
    vendor: str | None = Field(None, max_length=12, description="leer = aus der Edition (wie im Portal)")
    edition: str = Field(..., max_length=24)
    identifier: str = Field(..., min_length=1, max_length=64)
    name: str = Field("", max_length=120)
    pbx_users: int = Field(0, ge=0, le=100_000)
    user_light_licenses: int = Field(0, ge=0, le=100_000)
    pbx_version: str = Field("", max_length=20)
    delivery_email: str = Field("", max_length=254, description="Liefer-E-Mail dieser Anlage (ORD-2)")
    secondary_of_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Redundanz: die Primäranlage desselben Kunden (LIC-9)"
    )


class InstallationPatch(Schema):
    vendor: str | None = Field(None, max_length=12)
    edition: str | None = Field(None, max_length=24)
    identifier: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, max_length=120)
    pbx_users: int | None = Field(None, ge=0, le=100_000)
    user_light_licenses: int | None = Field(None, ge=0, le=100_000)
    pbx_version: str | None = Field(None, max_length=20)
    delivery_email: str | None = Field(None, max_length=254)
    secondary_of_id: int | None = Field(None, ge=1, le=MAX_ID, description="fehlt = unverändert")


class InstallationOut(Schema):
    id: int
    customer_id: int
    customer: str = Field(..., alias="customer.company")
    name: str
    vendor: str
    edition: str
    identifier_kind: str
    identifier: str
    pbx_users: int
    user_light_licenses: int
    pbx_version: str
    delivery_email: str
    secondary_of_id: int | None


class InstallationFilter(Schema):
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)


@api.get("/installations", response=list[InstallationOut], tags=["Installationen"], summary="Installationen")
@paginate(CursorPagination, ordering=("id",), **PAGE)
def installations_list(request, filters: Query[InstallationFilter]):
    require_scope(request, SCOPE_READ)
    qs = Installation.objects.for_partner(request.partner).select_related("customer")
    if filters.customer_id:
        qs = qs.filter(customer_id=filters.customer_id)
    return qs


@api.post("/installations", response={201: InstallationOut}, tags=["Installationen"], summary="Installation anlegen")
def installations_create(request, data: InstallationIn):
    require_scope(request, SCOPE_READ)
    fields = data.dict()
    customer = licensing_portal.partner_customer(partner=request.partner, pk=fields.pop("customer_id"))
    if not fields["vendor"]:  # as the portal's form: the vendor follows from the edition
        try:
            fields["vendor"] = vendor_of(fields["edition"])
        except StopIteration:
            fields["vendor"] = ""  # an unknown edition: the model's validation names the field
    fields["secondary_of"] = _primary(request, fields.pop("secondary_of_id"))
    installation = installation_services.installation_create(customer=customer, by=_by(request), **fields)
    _history(installation, request)
    return Status(201, installation)


def _primary(request, pk: int | None, exclude: int | None = None):
    """The primary installation of a redundancy pair (LIC-9), as the portal's form offers it:
    one of the partner's installations that is not itself a secondary (else 404)."""
    if pk is None:
        return None
    primaries = licensing_portal.partner_installations(request.partner).filter(secondary_of__isnull=True)
    if exclude is not None:
        primaries = primaries.exclude(pk=exclude)
    return primaries.get(pk=pk)


@api.get("/installations/{installation_id}", response=InstallationOut, tags=["Installationen"])
def installations_detail(request, installation_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    return licensing_portal.partner_installation(partner=request.partner, pk=installation_id)


@api.patch("/installations/{installation_id}", response=InstallationOut, tags=["Installationen"])
def installations_update(request, data: InstallationPatch, installation_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    installation = licensing_portal.partner_installation(partner=request.partner, pk=installation_id)
    fields = {k: v for k, v in data.dict().items() if v is not None}
    secondary_of = installation.secondary_of
    if "secondary_of_id" in fields:
        secondary_of = _primary(request, fields.pop("secondary_of_id"), exclude=installation.pk)
    installation = installation_services.installation_update(
        installation=installation, secondary_of=secondary_of, by=_by(request), **fields
    )
    _history(installation, request)
    return installation


# --- catalog ----------------------------------------------------------------------------------


class ArticleOut(Schema):
    article: str
    name: str
    kind: str
    tier: str
    term_months: int
    price: Decimal
    unit: str


@api.get("/catalog", response=list[ArticleOut], tags=["Katalog"], summary="Artikel und Preise des Tages")
def catalog(request):
    require_scope(request, SCOPE_READ)
    return [
        ArticleOut(
            article=row.article,
            name=row.name,
            kind=row.kind,
            tier=row.tier or "",
            term_months=row.term_months or 0,
            price=row.price_net,
            unit=row.unit,
        )
        for row in catalog_selectors.article_rows(clock.today())
    ]


# --- licences and the key check -----------------------------------------------------------------


class LicenseOut(Schema):
    id: int
    serial: int
    article: str = Field(..., alias="product.article")
    product: str = Field(..., alias="product.name")
    installation_id: int
    kind: str
    tier: str
    state: str
    valid_until: date | None
    issued_at: str
    key: str | None = Field(None, description="der Schlüsseltext; nur mit dem Recht „keys“")

    @staticmethod
    def resolve_issued_at(obj):
        return obj.issued_at.isoformat()

    @staticmethod
    def resolve_key(obj, context):
        return obj.key if SCOPE_KEYS in context["request"].api_token.scope_list else None


class LicenseFilter(Schema):
    order: str | None = Field(None, min_length=1, max_length=40, description="Bestellnummer, z. B. B-000042")


@api.get("/licenses", response=list[LicenseOut], tags=["Lizenzen"], summary="Lizenzschlüssel")
@paginate(CursorPagination, ordering=("id",), **PAGE)
def licenses_list(request, filters: Query[LicenseFilter]):
    require_scope(request, SCOPE_READ)
    qs = licensing_portal.partner_licenses(request.partner).order_by("id")
    if filters.order:
        qs = qs.filter(order_reference=filters.order)
    return qs


class KeyCheckIn(Schema):
    key: str = Field(..., min_length=1, max_length=400)
    identifier: str = Field(..., min_length=1, max_length=64)
    identifier_kind: str = Field("server_key", pattern="^(server_key|hardware_id|serial)$")
    module: str | None = Field(None, max_length=40)
    installed_version: str | None = Field(None, max_length=20)


class KeyCheckOut(Schema):
    verdict: str
    message: str


@api.post("/keys/check", response=KeyCheckOut, tags=["Lizenzen"], summary="Schlüssel prüfen (LIC-3)")
def key_check(request, data: KeyCheckIn):
    require_scope(request, SCOPE_READ)
    diagnosis = license_diagnose(
        key_text=data.key,
        identifier=data.identifier,
        identifier_kind=data.identifier_kind,
        module_code=data.module or None,
        installed_version=data.installed_version or None,
        today=clock.today(),
    )
    return KeyCheckOut(verdict=diagnosis.verdict, message=diagnosis.message)


# --- invoices ---------------------------------------------------------------------------------


class DunningOut(Schema):
    """Where the invoice stands in dunning (issue 18), as the portal shows it."""

    level: int = Field(..., ge=0, le=3, description="0 keine, 1 Zahlungserinnerung, 2 1. Mahnung, 3 letzte Mahnung")
    code: Literal["none", "reminder", "first_notice", "final_notice"]
    title: str = Field(..., description="die Stufe, wie der Brief sie nennt; leer ohne Mahnung")
    issued_on: date | None = Field(None, description="Datum des Briefs der erreichten Stufe")
    deadline: date | None = Field(None, description="Frist dieses Briefs (einschließlich)")
    paused: bool = Field(..., description="Mahnwesen für die Rechnung oder den Partner pausiert")
    fees: Decimal = Field(..., description="Mahnpauschale (§ 288 Abs. 5 BGB), gesondert berechnet")
    interest: Decimal = Field(..., description="Verzugszinsen (§ 288 Abs. 2 BGB), gesondert berechnet")
    keys_blocked: bool = Field(..., description="Abo-Schlüssel wegen dieser Rechnung gesperrt")


class InvoiceOut(Schema):
    id: int
    number: str
    kind: str
    issue_date: date
    due_date: date | None
    state: str
    payment_means: str
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    paid_amount: Decimal
    dunning: DunningOut | None = Field(None, description="Mahnstand; bei Rechnungskorrekturen null")

    @staticmethod
    def resolve_dunning(obj):
        state = getattr(obj, "dunning_state", None)
        if state is None:
            return None
        return {
            "level": state.level,
            "code": state.code,
            "title": state.title,
            "issued_on": state.issued_on,
            "deadline": state.deadline,
            "paused": state.paused,
            "fees": state.fees,
            "interest": state.interest,
            "keys_blocked": state.keys_blocked,
        }


def _enrich_invoices(rows, request) -> None:
    """The page's dunning states in three queries (the portal's selector), none per row."""
    states = billing_selectors.invoice_dunning_states(rows)
    for invoice in rows:
        invoice.dunning_state = None if invoice.is_credit_note else states[invoice.pk]


class InvoiceFilter(Schema):
    state: str | None = Field(None, pattern="^(open|paid|overdue|cancelled)$")
    kind: str | None = Field(None, pattern="^(invoice|credit_note)$")
    year: int | None = Field(None, ge=2000, le=2999)


@api.get("/invoices", response=list[InvoiceOut], tags=["Rechnungen"], summary="Rechnungen und Korrekturen")
@paginate(PageCursorPagination, ordering=("-id",), enrich=_enrich_invoices, **PAGE)
def invoices_list(request, filters: Query[InvoiceFilter]):
    require_scope(request, SCOPE_READ)
    return billing_selectors.invoices_for_partner(
        request.partner, state=filters.state or "", year=filters.year, kind=filters.kind or ""
    )


def _invoice(request, invoice_id: int) -> Invoice:
    return billing_selectors.partner_invoice(request.partner, invoice_id)


@api.get("/invoices/{invoice_id}/pdf", tags=["Rechnungen"], summary="PDF (mit Factur-X)", response={200: None})
def invoice_pdf(request, invoice_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    from billing.services import invoice_pdf_ensure

    invoice = invoice_pdf_ensure(_invoice(request, invoice_id))
    return FileResponse(invoice.pdf.open("rb"), filename=f"{invoice.number}.pdf", content_type="application/pdf")


@api.get("/invoices/{invoice_id}/xml", tags=["Rechnungen"], summary="Factur-X-XML (EN 16931)", response={200: None})
def invoice_xml(request, invoice_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    from facturx import get_xml_from_pdf

    from billing.services import invoice_pdf_bytes

    invoice = _invoice(request, invoice_id)
    _filename, xml = get_xml_from_pdf(invoice_pdf_bytes(invoice), check_xsd=False)
    response = HttpResponse(xml, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}-factur-x.xml"'
    return response
