"""Invoices and corrections (INV-1…INV-4, ORD-2, ORD-8, GEN-2): the one invoice writer
(:func:`invoice_write`, STYLE 18) that the order invoice, the monthly run and corrections call,
the PDF stored once after commit, resending and the outbox attachment hook."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from billing import pricing, rules, selectors
from billing.constants import CREDIT_NOTE_KIND, INVOICE_KIND
from billing.exceptions import (
    InvoiceRefused,
)
from billing.models import (
    BilledPeriod,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    SepaMandate,
    ServicePlan,
    Subscription,
)
from vendorportal import clock
from vendorportal.documents import document_bytes, sha256_hex
from vendorportal.formats import format_date, format_decimal
from vendorportal.i18n import for_partner
from vendorportal.models import OutboxMessage
from vendorportal.money import ZERO, format_eur, round_cents
from vendorportal.outbox import outbox_enqueue, outbox_resend
from vendorportal.parties.models import Partner
from vendorportal.periods import month_period_end
from vendorportal.sequences import next_document_number
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import webhook_event_emit

logger = logging.getLogger(__name__)

# --- Invoices and credit notes (INV-1…INV-4, ORD-2, ORD-8, GEN-2) ------------------------------
#
# An invoice is issued in one transaction, by one writer (:func:`invoice_write`): number
# (gap-free per year and kind, taken in that transaction), lines, billed periods, totals,
# payment terms (ORD-8, decided once in :func:`billing.rules.payment_terms`) and the e-mail
# written to the outbox. A rolled-back issue leaves no number, no row and no e-mail.
#
# The PDF is rendered AFTER that transaction, never inside it: rendering takes ~0.1–0.2 s, and
# inside the issuing transaction it held SQLite's one write lock (on PostgreSQL the invoice
# number's sequence row) so every other issuer waited. :func:`invoice_pdf_ensure` is the one
# function that renders and stores it — at most once per document, never replaced (the model
# allows writing a first PDF only) — and everything that reads the PDF calls it:
#
# - the issuing code queues it with ``on_commit`` (right after commit, in the same process,
#   before the e-mail's wake-up message is queued, so the worker normally finds it stored);
# - the outbox's attachment function for the invoice e-mails (the safety net: a process killed
#   between commit and render left the outbox row, and the next send renders it);
# - the portal and admin downloads and ``export_invoices`` (a document whose PDF is not
#   rendered yet is rendered then, and every later read returns the same stored bytes).

UNIT_CODES = {pricing.UNIT_ONCE: "C62", pricing.UNIT_MONTH: "MON", pricing.UNIT_YEAR: "ANN"}
NUMBER_WIDTH = rules.NUMBER_DIGITS


def _invoice_refuse(message: str, code: str):
    raise InvoiceRefused(message, code=code)


def _render_invoice_pdf(doc) -> bytes:
    """The one call into the invoice PDF renderer (INV-2, INV-4): PDF/A-3 with the Factur-X XML."""
    from billing.invoice_pdf import invoice_pdf

    with translation.override(doc.language):
        return invoice_pdf(doc)


def _next_number(kind: str, year: int) -> str:
    prefix = rules.INVOICE_PREFIX if kind == Invoice.INVOICE else rules.CREDIT_NOTE_PREFIX
    return next_document_number(prefix, year, width=NUMBER_WIDTH)


def _store_pdf(invoice: Invoice, pdf_bytes: bytes) -> None:
    # Called with the invoice row locked (PostgreSQL) or the write lock held (SQLite) and its
    # PDF still empty: the file is written only by the one caller that stores it.
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf_bytes), save=False)
    invoice.pdf_sha256 = sha256_hex(pdf_bytes)  # GoBD: the file proves itself later
    invoice.save(update_fields=["pdf", "pdf_sha256"])


def invoice_pdf_ensure(invoice: Invoice) -> Invoice:
    """The invoice or credit note with its PDF stored (INV-2, INV-4): rendered and stored now
    if it has none yet, else untouched. Idempotent and safe from any number of processes at
    once: one PDF is stored per document, and every caller gets that one (byte-identical
    downloads and attachments). Returns the invoice as stored (``pdf`` set).

    PostgreSQL: the invoice row is locked (``SELECT … FOR UPDATE``) before rendering, so a
    second caller waits for the first and finds its PDF — nothing is rendered twice, and only
    this one invoice waits. SQLite has no row locks and a write transaction takes the whole
    database's write lock, which must not be held for a render: the PDF is rendered outside,
    then stored under the write lock if the row still has none (a caller that lost a race
    rendered in vain and returns the stored PDF, never its own).
    """
    if invoice.pdf:
        return invoice
    if connection.features.has_select_for_update:
        with transaction.atomic():
            locked = _locked_invoice(invoice)
            if not locked.pdf:
                _store_pdf(locked, _render_invoice_pdf(selectors.invoice_document(locked)))
            return locked
    current = Invoice.objects.get(pk=invoice.pk)
    if current.pdf:
        return current
    pdf_bytes = _render_invoice_pdf(selectors.invoice_document(current))
    with transaction.atomic():
        current = Invoice.objects.get(pk=invoice.pk)  # BEGIN IMMEDIATE: no other writer now
        if not current.pdf:
            _store_pdf(current, pdf_bytes)
        return current


def _pdf_after_commit(invoice_pk: int) -> None:
    """``on_commit`` of an issue: render the PDF now that the invoice is committed. A failure
    is logged and left to the outbox worker, which renders it before sending."""
    try:
        invoice_pdf_ensure(Invoice.objects.get(pk=invoice_pk))
    except Exception:
        logger.exception("Rendering the PDF of invoice %s after issue failed; the e-mail's send renders it", invoice_pk)


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    """The stored PDF's bytes, rendering it first if it is not stored yet; raises
    ``FileNotFoundError`` / ``DocumentChanged`` when the stored file is gone or was changed
    (an e-mail then fails and is retried rather than sending another document)."""
    return document_bytes(invoice_pdf_ensure(invoice))


def _line_description(line: OrderLine) -> str:
    if line.is_maintenance:
        return ", ".join(
            [
                line.product.name,
                line.get_swp_kind_display(),
                _("System %(serial)s") % {"serial": line.installation.identifier},
            ]
        )
    parts = [line.product.name]
    if line.tier:
        parts.append(_("Staffel %(tier)s Benutzer") % {"tier": line.tier})
    if line.upgrade_kind == OrderLine.UPGRADE_TIER:
        parts.append(_("Staffel-Upgrade"))
    elif line.upgrade_kind == OrderLine.UPGRADE_VERSION:
        parts.append(_("Versions-Upgrade"))
    if line.kind == OrderLine.SUBSCRIPTION:
        parts.append(_("Abo, Mindestlaufzeit %(months)s Monate") % {"months": line.term_months})
    else:
        parts.append(_("Kauf"))
    # ORD-1: an order covers several installations; each line says which one (and whose).
    parts.append(f"{line.installation.customer.company} · {line.installation.identifier}")
    return ", ".join(parts)


def _invoice_mail(invoice: Invoice) -> tuple[str, str]:
    with for_partner(invoice.partner):
        if invoice.is_credit_note:  # INV-1: a Rechnungskorrektur or Stornorechnung, never "Gutschrift"
            facts = {
                "title": invoice.document_title,
                "number": invoice.number,
                "gross": format_eur(invoice.gross_total),
                "invoice": invoice.credited_invoice.number,
                "date": format_date(invoice.credited_invoice.issue_date),
            }
            subject = _("%(title)s %(number)s zur Rechnung %(invoice)s vom %(date)s") % facts
            intro = (
                _(
                    "anbei erhalten Sie die %(title)s %(number)s über %(gross)s zu unserer Rechnung %(invoice)s vom %(date)s."
                )
                % facts
            )
        else:
            subject = _("%(title)s %(number)s") % {"title": invoice.document_title, "number": invoice.number}
            if invoice.order_id:
                subject += " – " + _("Bestellung %(ref)s") % {"ref": invoice.order.reference}
            intro = _("anbei erhalten Sie unsere %(title)s %(number)s über %(gross)s.") % {
                "title": invoice.document_title,
                "number": invoice.number,
                "gross": format_eur(invoice.gross_total),
            }
        body = "\n".join(
            [
                _("Guten Tag,"),
                "",
                intro,
                invoice.payment_terms,
                "",
                _("Die Rechnung liegt als PDF mit eingebetteter E-Rechnung (ZUGFeRD / Factur-X) bei."),
                "",
                _("Mit freundlichen Grüßen"),
                settings.VENDOR["name"],
            ]
        )
    return subject, body


def _enqueue_document_mail(
    invoice: Invoice, dedup_key: str, after: list[OutboxMessage] | None = None, fresh_key: bool = False
):
    subject, body = _invoice_mail(invoice)
    return outbox_enqueue(
        after=after,
        fresh_key=fresh_key,
        kind=CREDIT_NOTE_KIND if invoice.is_credit_note else INVOICE_KIND,
        dedup_key=dedup_key,
        recipients=[invoice.email],
        subject=subject,
        body=body,
        document=invoice,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )


def _buyer_fields(partner: Partner) -> dict:
    return {
        "partner": partner,
        "buyer_name": partner.company,
        "buyer_street": partner.street,
        "buyer_postal_code": partner.postal_code,
        "buyer_city": partner.city,
        "buyer_country": partner.country,
        "buyer_vat_id": partner.vat_id,
    }


def invoice_vat(partner: Partner, issue_date: date, *, rates: dict | None = None) -> tuple[rules.VatTreatment, Decimal]:
    """The partner's VAT treatment (GEN-2) and the rate of its category valid on the issue
    date. ``rates`` caches the rate per category for a caller issuing many invoices on one day."""
    # The exemption note is stored (and sent as Factur-X BT-120) in German, the wording of
    # § 14a UStG; an English PDF prints its translation beside it (issue 21, docs/i18n.md).
    with translation.override("de"):
        treatment = rules.vat_treatment(partner.country, partner.vat_id)
    if rates is None:
        return treatment, selectors.vat_rate_on(treatment.code, issue_date)
    if treatment.code not in rates:
        rates[treatment.code] = selectors.vat_rate_on(treatment.code, issue_date)
    return treatment, rates[treatment.code]


def _service_period(line: OrderLine, issue_date: date) -> tuple[date, date]:
    """The service period an order invoice bills (INV-2), both ends inclusive.

    Decision: a purchase is delivered on the issue date (start = end = that day); a
    monthly subscription amount bills the month from the issue date (GEN-1:
    21.11.2026 → 20.12.2026), a yearly one the year. Later periods are billed by the
    subscription billing, not by the order.
    """
    if line.period_start and line.period_end:  # Softwarepflege: the coverage it books
        return line.period_start, line.period_end
    if line.price_unit == pricing.UNIT_MONTH:
        return issue_date, month_period_end(issue_date, 1)
    if line.price_unit == pricing.UNIT_YEAR:
        return issue_date, month_period_end(issue_date, 12)
    return issue_date, issue_date


# --- the one invoice writer (STYLE 18) ------------------------------------------------------------


@dataclass
class LineDraft:
    """One line of an invoice or correction before it is written (INV-2): what it bills and,
    for a subscription period or plan year, the owner whose period it bills once (INV-3).

    ``purchase``: a purchase line (ORD-8: collected with the invoice, not counted towards its
    monthly amount). Lines with a ``subscription`` or ``service_plan`` are the recurring
    lines whose monthly amount decides the payment means; anything else (support time, …)
    neither counts nor decides. ``net`` defaults to quantity × unit price, rounded (GEN-2)."""

    article: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    period_start: date | None = None
    period_end: date | None = None
    net: Decimal | None = None
    subscription: Subscription | None = None
    service_plan: ServicePlan | None = None
    order_line: OrderLine | None = None
    credited_line: InvoiceLine | None = None
    vat_category: str = ""  # default: the invoice's
    vat_percent: Decimal | None = None  # default: the invoice's rate
    purchase: bool = False
    recurring: bool = False  # counts towards ORD-8's monthly amount (set for subscriptions and plans)

    def __post_init__(self):
        if self.net is None:
            self.net = round_cents(self.quantity * self.unit_price)
        if self.subscription is not None or self.service_plan is not None:
            self.recurring = True


_ACTIVE_MANDATE = object()  # invoice_write: read the partner's active mandate


def invoice_payment_terms(
    *, partner: Partner, drafts: list[LineDraft], issue_date: date, mandate=_ACTIVE_MANDATE
) -> tuple[rules.PaymentTerms, SepaMandate | None]:
    """ORD-8 for the lines of an invoice, as every invoice writer decides it: the monthly
    amount of its subscription and plan lines (:func:`billing.rules.invoice_monthly_amount`),
    whether it holds purchases, the partner's active mandate (``mandate``: given by a caller
    that read it already, else read now) and its "auch über 50 €" → :func:`billing.rules.payment_terms`."""
    if mandate is _ACTIVE_MANDATE:
        mandate = selectors.partner_mandate(partner)
    recurring = [(d.net, d.period_start, d.period_end) for d in drafts if d.recurring]
    terms = rules.payment_terms(
        monthly_amount=rules.invoice_monthly_amount(recurring) if recurring else None,
        has_purchases=any(d.purchase for d in drafts),
        has_mandate=mandate is not None,
        mandate_above_limit=bool(mandate is not None and mandate.above_limit),
        prepayment_required=partner.prepayment_required,
        invoice_date=issue_date,
        mandate_suspended=bool(mandate is not None and mandate.suspended_on is not None),
    )
    return terms, (mandate if terms.means == rules.DIRECT_DEBIT else None)


def invoice_write(
    *,
    partner: Partner,
    issue_date: date,
    email: str,
    drafts: list[LineDraft],
    vat_category: str,
    vat_note: str,
    vat_percent: Decimal | None,
    mandate=_ACTIVE_MANDATE,
    terms: rules.PaymentTerms | None = None,
    order: Order | None = None,
    credited_invoice: Invoice | None = None,
    reason: str = "",
    buyer: dict | None = None,
    totals: tuple[Decimal, Decimal] | None = None,
    by=None,
    validate: bool = True,
    render_pdf: bool = True,
    charges_only: bool = False,
) -> tuple[Invoice, list[InvoiceLine]]:
    """The one writer of invoices and corrections (STYLE 18; INV-1…INV-3, GEN-2, ORD-8): the
    document, its lines (positions 1…n), one :class:`BilledPeriod` per subscription period or
    plan year (INV-3: the unique constraint refuses billing a period twice), the gap-free
    number and the e-mail in the outbox — in the caller's transaction, so all of it commits
    together or nothing does. The PDF is rendered after commit (:func:`invoice_pdf_ensure`).

    The order invoice, the monthly run and corrections call it. Payment terms are ORD-8's
    (:func:`invoice_payment_terms`) unless ``terms`` is given (a correction is settled,
    never collected). ``credited_invoice`` makes it a correction of that invoice; ``buyer``
    (default: the partner as it is today) and ``totals`` (net, VAT; default: GEN-2 over the
    lines) let a correction repeat the corrected invoice exactly. ``mandate``: the partner's
    active mandate if the caller read it already (``None``: none). ``validate=False`` skips
    ``full_clean`` for a caller that built every value itself (the run; the database's
    constraints still hold). ``charges_only``: a "Rechnung über Nebenforderungen"
    (:func:`billing.services.charges.charges_bill`). Returns the invoice and its lines, in the
    drafts' order.
    """
    chosen_mandate = None
    if terms is None:
        terms, chosen_mandate = invoice_payment_terms(
            partner=partner, drafts=drafts, issue_date=issue_date, mandate=mandate
        )
    for draft in drafts:
        draft.vat_category = draft.vat_category or vat_category
        draft.vat_percent = vat_percent if draft.vat_percent is None else draft.vat_percent
    if totals is None:
        nets = [(d.net, d.vat_percent) for d in drafts]
        totals = (sum(rules.net_by_rate(nets).values(), ZERO), sum(rules.vat_amounts(nets).values(), ZERO))
    net, vat = totals
    kind = Invoice.CREDIT_NOTE if credited_invoice is not None else Invoice.INVOICE
    invoice = Invoice(
        kind=kind,
        issue_date=issue_date,
        issued_at=clock.now(),
        issued_by=by,
        email=email,
        order=order,
        credited_invoice=credited_invoice,
        reason=reason,
        charges_only=charges_only,
        vat_category=vat_category,
        vat_note=vat_note,
        net_total=net,
        vat_total=vat,
        gross_total=net + vat,
        payment_means=terms.means,
        due_date=terms.due_date,
        payment_terms=terms.text,
        mandate_reference=chosen_mandate.reference if chosen_mandate else "",
        debtor_iban=chosen_mandate.iban if chosen_mandate else "",
        **(buyer if buyer is not None else _buyer_fields(partner)),
    )
    if validate:
        invoice.full_clean(exclude=["pdf", "number"], validate_constraints=False)
    # An order invoice: number and row in one savepoint, so a refused insert (the order invoiced
    # by a concurrent request, which the caller then returns) takes its number back — no gap
    # (INV-1). The run rolls its whole transaction back on any conflict and needs none.
    with transaction.atomic(savepoint=order is not None):
        invoice.number = _next_number(kind, issue_date.year)
        invoice.save()
    lines = InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            article=d.article,
            description=d.description[:300],
            quantity=d.quantity,
            unit=d.unit,
            unit_price=d.unit_price,
            net_total=d.net,
            vat_category=d.vat_category,
            vat_percent=d.vat_percent,
            period_start=d.period_start,
            period_end=d.period_end,
            order_line=d.order_line,
            credited_line=d.credited_line,
        )
        for position, d in enumerate(drafts, start=1)
    )
    periods = [
        BilledPeriod(
            subscription=d.subscription,
            service_plan=d.service_plan,
            period_start=d.period_start,
            period_end=d.period_end,
            amount=line.net_total,
            invoice_line=line,
        )
        for d, line in zip(drafts, lines, strict=True)
        if d.subscription is not None or d.service_plan is not None
    ]
    if periods:
        BilledPeriod.objects.bulk_create(periods)
    _pdf_queue(invoice, render_pdf)
    mail_kind = CREDIT_NOTE_KIND if invoice.is_credit_note else INVOICE_KIND
    # ORD-2: an order's invoice goes out after its delivery notes (the outbox holds it back).
    after = _delivery_mails_unsent(invoice.order) if invoice.order_id and not invoice.is_credit_note else None
    # The key names the invoice inserted just now: no row can hold it yet (no savepoint needed).
    _enqueue_document_mail(invoice, f"{mail_kind}:{invoice.pk}:initial", after=after, fresh_key=True)
    webhook_event_emit(
        partner=partner,
        event=webhook_events.INVOICE_ISSUED,
        payload=webhook_payloads.invoice_payload(invoice),
        dedup_key=f"{webhook_events.INVOICE_ISSUED}:{invoice.pk}",
    )
    return invoice, lines


def _delivery_mails_unsent(order: Order) -> list[OutboxMessage]:
    """ORD-2: the order's delivery-note e-mails not sent yet — its invoice goes out after them
    (the outbox enforces it for the worker and the periodic dispatch alike)."""
    from licensing.models import DeliveryNote
    from licensing.services.delivery import OUTBOX_KIND as DELIVERY_NOTE_KIND

    notes = DeliveryNote.objects.filter(licenses__order_lines__order=order).values("pk")
    return list(
        OutboxMessage.objects.filter(
            kind=DELIVERY_NOTE_KIND,
            document_type=ContentType.objects.get_for_model(DeliveryNote),
            document_id__in=notes,
            sent_at__isnull=True,
        )
    )


def _order_invoice_drafts(order: Order, lines: list[OrderLine], issue_date: date) -> list[LineDraft]:
    """The drafts of an order invoice, each with the owner of its billed period (INV-3):

    - purchases (and lines without a subscription or plan): as priced, :func:`_service_period`;
    - a subscription signed after the 1st: the first partial month (SUB-2), signing day to
      the day before the term start, ``first_month_charge(monthly price × licences)`` as one
      line of quantity 1; signed on the 1st: the first regular billing period (SUB-3,
      term start … period end), months × (monthly price × licences);
    - a service plan (SUB-8): the first plan year, yearly in advance.

    The period stands in its own column only, never in the description.
    """
    subscriptions = {s.order_line_id: s for s in Subscription.objects.filter(order_line__order=order)}
    plans = {p.order_line_id: p for p in ServicePlan.objects.filter(order_line__order=order)}
    drafts = []
    for line in lines:
        description = _line_description(line)
        subscription = subscriptions.get(line.pk)
        plan = plans.get(line.pk)
        if subscription is not None:
            per_month = subscription.monthly_price * subscription.quantity
            if subscription.signed_on < subscription.term_start:
                start, end = subscription.signed_on, subscription.term_start - timedelta(days=1)
                amount = rules.first_month_charge(per_month, subscription.signed_on)
                quantity, unit, unit_price = Decimal(1), "C62", amount
                description += ", " + _("erster Monat anteilig: %(days)s von %(month)s Tagen") % {
                    "days": (end - start).days + 1,
                    "month": end.day,
                }
            else:
                period = rules.billing_period_on(
                    subscription.term_start,
                    subscription.minimum_months,
                    subscription.billing_months,
                    subscription.term_start,
                )
                start, end = period.start, period.end
                quantity, unit, unit_price = Decimal(rules.months_in_period(start, end)), "MON", per_month
                amount = None
            if subscription.quantity > 1:
                description += ", " + _("%(count)s Lizenzen") % {"count": subscription.quantity}
            description += ", " + _("Abo %(reference)s") % {"reference": subscription.reference}
            owner = {"subscription": subscription}
        elif plan is not None:
            year = rules.service_plan_year(plan.starts_on, plan.billed_from)
            start, end = year.start, year.end
            quantity, unit, unit_price, amount = Decimal(1), "ANN", plan.yearly_price, plan.yearly_price
            description += ", " + _("Service-Plan %(reference)s") % {"reference": plan.reference}
            owner = {"service_plan": plan}
        else:
            start, end = _service_period(line, issue_date)
            quantity, unit, unit_price, amount = (
                Decimal(line.quantity),
                UNIT_CODES[line.price_unit],
                line.unit_net,
                line.line_net,
            )
            owner = {}
        drafts.append(
            LineDraft(
                article=line.product.article,
                description=description,
                quantity=quantity,
                unit=unit,
                unit_price=unit_price,
                net=amount,
                period_start=start,
                period_end=end,
                order_line=line,
                purchase=not owner and line.kind == OrderLine.PURCHASE,
                recurring=line.kind == OrderLine.SUBSCRIPTION,
                **owner,
            )
        )
    return drafts


def _pdf_queue(invoice: Invoice, render_pdf: bool = True) -> None:
    if render_pdf:
        transaction.on_commit(partial(_pdf_after_commit, invoice.pk), robust=True)


def invoice_issue_for_order(*, order: Order, by=None) -> Invoice:
    """Issue the invoice of a confirmed order (INV-1, INV-2, GEN-2, ORD-8): lines as
    priced (the order's stored breakdown), VAT by the partner's treatment and the rate
    valid on the issue date, totals per rate, payment terms; PDF stored; e-mail to the
    order's invoice e-mail through the outbox. An order is invoiced once: a second call
    returns the invoice (the ``invoice_once_per_order`` constraint decides races)."""
    with for_partner(order.partner):  # line texts and payment terms in the partner's language (issue 21)
        return _invoice_issue_for_order(order=order, by=by)


@transaction.atomic
def _invoice_issue_for_order(*, order: Order, by=None) -> Invoice:
    order = Order.objects.select_for_update(of=("self",)).select_related("partner").get(pk=order.pk)
    existing = Invoice.objects.filter(order=order, kind=Invoice.INVOICE).first()
    if existing is not None:
        return existing
    if order.state not in (Order.CONFIRMED, Order.FULFILLED):
        _invoice_refuse(
            _("Die Bestellung %(ref)s ist „%(state)s“; nur bestätigte Bestellungen werden berechnet.")
            % {"ref": order.reference, "state": order.get_state_display()},
            "order_not_confirmed",
        )
    lines = list(selectors.order_lines(order))
    if not lines:
        _invoice_refuse(_("Die Bestellung %(ref)s hat keine Positionen.") % {"ref": order.reference}, "no_lines")
    issue_date = clock.today()
    partner = order.partner
    treatment, percent = invoice_vat(partner, issue_date)
    try:
        invoice, _lines = invoice_write(
            partner=partner,
            issue_date=issue_date,
            email=order.invoice_email,
            drafts=_order_invoice_drafts(order, lines, issue_date),
            vat_category=treatment.code,
            vat_note=treatment.note,
            vat_percent=percent,
            order=order,
            by=by,
        )
    except IntegrityError:  # a concurrent issue for this order committed first
        existing = Invoice.objects.filter(order=order, kind=Invoice.INVOICE).first()
        if existing is None:
            raise
        return existing
    return invoice


def _locked_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)


def _settle_state(invoice: Invoice, credited: Decimal | None = None) -> None:
    """State from the amounts: fully credited → cancelled; the rest paid → paid.
    ``credited``: the gross its credit notes took back, when the caller has read it."""
    if credited is None:
        credited = selectors.invoice_credited_gross(invoice)
    if credited >= invoice.gross_total:
        invoice.move_to(Invoice.CANCELLED)
    elif invoice.paid_amount + credited >= invoice.gross_total:
        invoice.move_to(Invoice.PAID)


def credit_note_issue(*, invoice: Invoice, lines=None, reason: str, by=None) -> Invoice:
    """A correction (Rechnungskorrektur; Stornorechnung when it takes back the whole invoice, INV-1) for all of an invoice (``lines=None``) or some of
    its lines, ``[(invoice_line, quantity), …]``: own number ``GS-YYYY-NNNNNN``, references
    the invoice, same VAT treatment. Refuses crediting more than was invoiced (less what
    earlier credit notes took back). A fully credited invoice becomes cancelled.
    """
    with for_partner(invoice.partner):  # line texts and payment terms in the partner's language (issue 21)
        return _credit_note_issue(invoice=invoice, lines=lines, reason=reason, by=by)


@transaction.atomic
def _credit_note_issue(*, invoice: Invoice, lines=None, reason: str, by=None) -> Invoice:
    invoice = _locked_invoice(invoice)
    reason = (reason or "").strip()
    if invoice.is_credit_note:
        _invoice_refuse(_("Eine Rechnungskorrektur wird nicht noch einmal korrigiert."), "credit_of_credit_note")
    if not reason:
        _invoice_refuse(_("Bitte den Grund der Korrektur angeben."), "no_reason")
    if len(reason) > Invoice._meta.get_field("reason").max_length:
        _invoice_refuse(_("Der Grund ist zu lang (höchstens 300 Zeichen)."), "reason_too_long")
    credited = selectors.invoice_credited(invoice)
    all_lines = list(selectors.invoice_lines(invoice))
    remaining = {
        line.pk: (
            line.quantity - credited["lines"].get(line.pk, (0, 0))[0],
            line.net_total - credited["lines"].get(line.pk, (0, ZERO))[1],
        )
        for line in all_lines
    }
    if lines is None:
        wanted = [(line, remaining[line.pk][0]) for line in all_lines if remaining[line.pk][0] > 0]
        if not wanted:
            _invoice_refuse(
                _("%(number)s ist bereits vollständig storniert.") % {"number": invoice.number}, "fully_credited"
            )
    else:
        wanted = []
        by_pk = {line.pk: line for line in all_lines}
        for line, quantity in lines:
            if getattr(line, "pk", None) not in by_pk:
                _invoice_refuse(_("Die Position gehört nicht zu %(number)s.") % {"number": invoice.number}, "foreign")
            quantity = Decimal(quantity)
            if quantity <= 0:
                _invoice_refuse(_("Bitte eine Menge größer 0 korrigieren."), "quantity")
            wanted.append((by_pk[line.pk], quantity))
        if not wanted:
            _invoice_refuse(_("Bitte mindestens eine Position korrigieren."), "no_lines")
        if len({line.pk for line, _q in wanted}) < len(wanted):
            _invoice_refuse(_("Jede Position nur einmal angeben."), "duplicate_line")
    credit_lines = []
    for line, quantity in wanted:
        left_qty, left_net = remaining[line.pk]
        if quantity > left_qty:
            _invoice_refuse(
                _("Position %(pos)s (%(text)s): Korrigiert werden können höchstens noch %(left)s, nicht %(qty)s.")
                % {"pos": line.position, "text": line.description, "left": _qty(left_qty), "qty": _qty(quantity)},
                "more_than_invoiced",
            )
        # The rest of a line is exactly the rest of its net, so full credits add up to the cent.
        net = left_net if quantity == left_qty else round_cents(quantity * line.unit_price)
        credit_lines.append(
            LineDraft(
                article=line.article,
                description=line.description,
                quantity=quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                net=net,
                vat_category=line.vat_category,
                vat_percent=line.vat_percent,
                period_start=line.period_start,
                period_end=line.period_end,
                order_line=line.order_line,
                credited_line=line,
            )
        )
    nets = [(line.net, line.vat_percent) for line in credit_lines]
    net = sum(rules.net_by_rate(nets).values(), ZERO)
    vat = sum(rules.vat_amounts(nets).values(), ZERO)
    takes_rest = all(remaining[line.pk][0] == quantity for line, quantity in wanted) and len(wanted) == sum(
        1 for line in all_lines if remaining[line.pk][0] > 0
    )
    if takes_rest:  # the last credit note takes back exactly what is left, VAT included
        net = invoice.net_total - credited["net"]
        vat = invoice.vat_total - credited["vat"]
    issue_date = clock.today()
    note, _lines = invoice_write(
        partner=invoice.partner,
        issue_date=issue_date,
        email=invoice.email,
        drafts=credit_lines,
        vat_category=invoice.vat_category,
        vat_note=invoice.vat_note,
        vat_percent=None,
        terms=rules.PaymentTerms(
            rules.TRANSFER, None, _("Der Betrag wird mit offenen Rechnungen verrechnet oder auf Ihr Konto erstattet.")
        ),
        order=invoice.order,
        credited_invoice=invoice,
        reason=reason,
        buyer={
            "partner": invoice.partner,
            "buyer_name": invoice.buyer_name,
            "buyer_street": invoice.buyer_street,
            "buyer_postal_code": invoice.buyer_postal_code,
            "buyer_city": invoice.buyer_city,
            "buyer_country": invoice.buyer_country,
            "buyer_vat_id": invoice.buyer_vat_id,
        },
        totals=(net, vat),
        by=by,
    )
    _settle_state(invoice)
    invoice.save(update_fields=["state"])
    # A correction that settles the invoice releases a block for late payment as a payment does.
    from billing.services.dunning import dunning_blocks_release

    dunning_blocks_release(invoice=invoice, by=by, by_correction=True)
    return note


def _qty(value: Decimal) -> str:
    return format_decimal(value)


def invoice_resend(*, invoice: Invoice, by=None):
    """Staff: send the invoice or credit note again — the same stored PDF, to the same
    address. An e-mail still waiting is sent now instead of writing a second one."""
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(
            kind__in=[INVOICE_KIND, CREDIT_NOTE_KIND],
            document_type=ContentType.objects.get_for_model(Invoice),
            document_id=invoice.pk,
        )
        waiting = rows.filter(sent_at__isnull=True).order_by("pk").first()
        if waiting is not None:
            return outbox_resend(message=waiting)
        kind = CREDIT_NOTE_KIND if invoice.is_credit_note else INVOICE_KIND
        return _enqueue_document_mail(invoice, f"{kind}:{invoice.pk}:resend-{rows.count()}")


def invoice_attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    """Outbox hook: the stored PDF, byte-identical on every send (never re-rendered); rendered
    and stored first when the process that issued the invoice did not get to it (killed
    between commit and render)."""
    invoice = Invoice.objects.filter(pk=message.document_id).first()
    if invoice is None:
        raise InvoiceRefused(_("Zu dieser E-Mail gibt es keine Rechnung."), code="pdf_missing")
    return [(f"{invoice.number}.pdf", invoice_pdf_bytes(invoice), "application/pdf")]
