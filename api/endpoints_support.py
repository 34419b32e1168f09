"""Support through the API (issue 19): tickets (list, open, reply), attachments (upload,
download) and the knowledge base — scope ``support``, through support's services and
partner-scoped selectors, as the portal's support pages.

Attachments follow SUP-4 as in the portal: a customer's file that is log data (marked so,
an archive, or log-like by content or name) is stored but stays locked for the support
until a data-processing agreement (AV-Vertrag) for the customer is on file; the answer says
so (``is_log``, ``log_reason``, ``locked_for_support``).
"""

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from api.api import require_scope
from api.common import MAX_ID, PAGE, PageCursorPagination, acting_user
from api.history import api_write
from api.models import SCOPE_SUPPORT
from licensing.models import Product
from licensing.selectors import portal as licensing_portal
from support import rules as support_rules
from support import selectors as support_selectors
from support import services as support_services
from support.exceptions import SupportError
from support.models import Ticket
from vendorportal import clock

router = Router(tags=["Support"])

TOKEN_FIELD_MAX = 40  # the services' one-time token column
MAX_FILES_PER_TICKET = 50  # the portal takes 5 per message; the API takes files one by one


def _token_for(request, key: str | None) -> str:
    """The service's one-time token for an ``Idempotency-Key``: the same key from the same API
    token opens one ticket / stores one reply (the services' unique constraints decide)."""
    if not key:
        return ""
    import hashlib

    return "api-" + hashlib.sha256(f"{request.api_token.pk}:{key}".encode()).hexdigest()[: TOKEN_FIELD_MAX - 4]


# --- output -------------------------------------------------------------------------------------


class TicketOut(Schema):
    id: int
    number: str
    kind: str
    status: str
    urgency: str
    subject: str
    customer_id: int | None
    installation_id: int | None
    pbx_version: str
    module: str | None = None
    module_version: str
    received_at: datetime
    updated_at: datetime
    sla_due_at: datetime | None

    @staticmethod
    def resolve_module(obj):
        return obj.product.article if obj.product_id else None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    is_log: bool
    log_reason: str
    from_staff: bool
    locked_for_support: bool = Field(False, description="Logdaten ohne AV-Vertrag: für den Support gesperrt (SUP-4)")
    created_at: datetime


class MessageOut(Schema):
    id: int
    from_staff: bool
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    attachments_without_message: list[AttachmentOut]
    dpa_on_file: bool = Field(..., description="AV-Vertrag für den Kunden liegt vor (SUP-4)")
    version_notice: str | None = Field(None, description="SUP-7: nicht die neueste Modulversion")


def _attachment(att, dpa: bool) -> dict:
    return {
        "id": att.pk,
        "filename": att.filename,
        "content_type": att.content_type,
        "size": att.size,
        "is_log": att.is_log,
        "log_reason": att.log_reason,
        "from_staff": att.from_staff,
        "locked_for_support": att.is_log and not dpa,
        "created_at": att.created_at,
    }


def _ticket_detail(ticket: Ticket) -> dict:
    dpa = support_selectors.dpa_on_file(ticket.customer, clock.today())
    notice = support_selectors.version_notice(ticket)
    out = TicketOut.from_orm(ticket).dict()
    out.update(
        messages=[
            {
                "id": m.pk,
                "from_staff": m.from_staff,
                "body": m.body,
                "created_at": m.created_at,
                "attachments": [_attachment(a, dpa) for a in m.attachments.all()],
            }
            for m in support_selectors.public_messages(ticket).order_by("created_at", "pk")
        ],
        attachments_without_message=[_attachment(a, dpa) for a in ticket.attachments.filter(message__isnull=True)],
        dpa_on_file=dpa,
        version_notice=notice.message if notice else None,
    )
    return out


def _ticket(request, ticket_id: int) -> Ticket:
    return support_selectors.partner_ticket(partner=request.partner, pk=ticket_id)


# --- tickets ------------------------------------------------------------------------------------


class TicketFilter(Schema):
    status: Literal["new", "open", "waiting", "solved", "closed"] | None = None
    kind: Literal["support", "installation", "bug", "feature"] | None = None


@router.get("/tickets", response=list[TicketOut], summary="Tickets")
@paginate(PageCursorPagination, ordering=("-id",), **PAGE)
def tickets_list(request, filters: Query[TicketFilter]):
    require_scope(request, SCOPE_SUPPORT)
    qs = support_selectors.tickets_for_partner(request.partner)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs


@router.get("/tickets/{ticket_id}", response=TicketDetailOut, summary="Ticket mit Nachrichten und Anhängen")
def ticket_detail(request, ticket_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_SUPPORT)
    return _ticket_detail(_ticket(request, ticket_id))


class TicketIn(Schema):
    kind: Literal["support", "installation", "bug", "feature"] = "support"
    urgency: Literal["critical", "high", "normal", "low"] = "normal"
    subject: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=50_000)
    installation_id: int | None = Field(None, ge=1, le=MAX_ID)
    pbx_version: str = Field("", max_length=20, description="STARFACE-Version (Pflicht bei support und bug, SUP-7)")
    module: str | None = Field(None, max_length=40, description="Artikelnummer des Moduls")
    module_version: str = Field("", max_length=20)


@router.post("/tickets", response={201: TicketDetailOut}, summary="Ticket eröffnen")
@api_write
def ticket_open(
    request,
    data: TicketIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    """Opens a ticket (SUP-6/SUP-7 as in the portal). With an ``Idempotency-Key`` the same key
    opens one ticket, however often it is sent."""
    require_scope(request, SCOPE_SUPPORT)
    installation = None
    if data.installation_id:
        installation = licensing_portal.partner_installation(partner=request.partner, pk=data.installation_id)
    product = None
    if data.module:
        product = Product.objects.filter(article__iexact=data.module.strip(), kind=Product.MODULE).first()
        if product is None:
            raise ValidationError({"module": [_("Dieses Modul gibt es nicht.")]})
    ticket = support_services.ticket_open(
        partner=request.partner,
        by=acting_user(request),
        kind=data.kind,
        urgency=data.urgency if data.kind != support_rules.FEATURE_REQUEST else support_rules.NORMAL,
        subject=data.subject,
        body=data.body,
        installation=installation,
        pbx_version=data.pbx_version.strip(),
        product=product,
        module_version=data.module_version.strip(),
        portal_token=_token_for(request, idempotency_key),
    )
    return Status(201, _ticket_detail(_ticket(request, ticket.pk)))


class ReplyIn(Schema):
    body: str = Field(..., min_length=1, max_length=50_000)


@router.post("/tickets/{ticket_id}/messages", response={201: TicketDetailOut}, summary="Antworten")
@api_write
def ticket_reply(
    request,
    data: ReplyIn,
    ticket_id: int = Path(..., ge=1, le=MAX_ID),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    require_scope(request, SCOPE_SUPPORT)
    ticket = _ticket(request, ticket_id)
    support_services.ticket_reply(
        ticket=ticket,
        by=acting_user(request),
        body=data.body,
        from_staff=False,
        portal_token=_token_for(request, idempotency_key),
    )
    return Status(201, _ticket_detail(_ticket(request, ticket_id)))


@router.post(
    "/tickets/{ticket_id}/attachments",
    response={201: AttachmentOut},
    summary="Datei anhängen (multipart/form-data)",
)
@api_write
def attachment_upload(
    request,
    file: File[UploadedFile],
    ticket_id: int = Path(..., ge=1, le=MAX_ID),
    log_data: Form[bool] = False,
):
    """One file (at most 10 MB: text, log, PDF, images, ZIP). ``log_data=true`` marks it as
    log data; archives and log-like files are recognised anyway (SUP-4)."""
    require_scope(request, SCOPE_SUPPORT)
    ticket = _ticket(request, ticket_id)
    if ticket.attachments.count() >= MAX_FILES_PER_TICKET:
        raise SupportError(
            _("An diesem Ticket hängen schon %(n)s Dateien; bitte ein neues Ticket eröffnen.")
            % {"n": MAX_FILES_PER_TICKET},
            code="too_many_files",
        )
    attachment = support_services.attachment_add(
        ticket=ticket, upload=file, by=acting_user(request), from_staff=False, marked_log_data=log_data
    )
    dpa = support_selectors.dpa_on_file(ticket.customer, clock.today())
    return Status(201, _attachment(attachment, dpa))


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", response={200: None}, summary="Datei herunterladen")
def attachment_download(
    request, ticket_id: int = Path(..., ge=1, le=MAX_ID), attachment_id: int = Path(..., ge=1, le=MAX_ID)
):
    require_scope(request, SCOPE_SUPPORT)
    attachment = support_selectors.partner_attachment(partner=request.partner, ticket_pk=ticket_id, pk=attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


# --- knowledge base (SUP-8) ---------------------------------------------------------------------


class ArticleOut(Schema):
    slug: str
    title: str
    visibility: str
    tags: list[str]
    updated_at: datetime

    @staticmethod
    def resolve_tags(obj):
        return sorted(tag.name for tag in obj.tags.all())


class ArticleDetailOut(ArticleOut):
    body: str = Field(..., description="Markdown")


class ArticleFilter(Schema):
    q: str = Field("", max_length=100, description="Suchwörter")
    tag: str = Field("", max_length=60)


@router.get("/knowledge-base", response=list[ArticleOut], summary="Wissensdatenbank durchsuchen")
@paginate(PageCursorPagination, ordering=("id",), **PAGE)
def knowledge_base(request, filters: Query[ArticleFilter]):
    """Public articles for everybody; internal ones when one of the partner's customers has a
    contract (SUP-8)."""
    require_scope(request, SCOPE_SUPPORT)
    return support_selectors.articles_for_partner(
        partner=request.partner, on=clock.today(), query=filters.q.strip(), tag=filters.tag.strip()
    )


@router.get("/knowledge-base/{slug}", response=ArticleDetailOut, summary="Ein Artikel")
def knowledge_base_article(request, slug: str = Path(..., max_length=120, pattern=r"^[-a-zA-Z0-9_]+$")):
    require_scope(request, SCOPE_SUPPORT)
    return support_selectors.article_for_partner(partner=request.partner, on=clock.today(), slug=slug)
