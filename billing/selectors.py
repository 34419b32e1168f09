"""Reads of the billing area (STYLE 3): orders scoped to a partner for the portal, the
data an order is priced from, VAT rates valid on a day (GEN-2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from billing import documents, pricing, rules, sepa
from billing.exceptions import VatRateMissing
from billing.models import Invoice, InvoiceLine, Order, OrderLine, SepaMandate, ServicePlan, VatRate
from licensing.models import Bundle, Installation, License, Product
from vendorportal.formats import format_date_de


def orders_for_partner(partner):
    """The partner's orders, newest first — the only orders a partner login may see."""
    return Order.objects.filter(partner=partner).select_related("installation", "installation__customer")


def order_lines(order: Order):
    return OrderLine.objects.filter(order=order).select_related("product", "upgrade_from").order_by("position", "id")


def active_paid_license(installation: Installation, product: Product) -> License | None:
    """An active purchased or subscribed key of ``product`` bound to ``installation`` (ORD-6 decision)."""
    return (
        License.objects.filter(
            bindings__installation=installation, product=product, state=License.ACTIVE, kind__in=License.PAID_KINDS
        )
        .order_by("-issued_at")
        .first()
    )


def bundle_articles() -> dict[str, list[str]]:
    """Active bundles by name with their modules' article numbers (ORD-3), in one query."""
    bundles: dict[str, list[str]] = {}
    for name, article in Bundle.objects.filter(active=True).values_list("name", "products__article"):
        bundles.setdefault(name, [])
        if article:
            bundles[name].append(article)
    return bundles


def vat_rate_on(category: str, on: date) -> Decimal:
    """The percentage of VAT category ``category`` valid on ``on`` (GEN-2: rates are data)."""
    rate = (
        VatRate.objects.filter(category=category, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("-valid_from")
        .first()
    )
    if rate is None:
        raise VatRateMissing(
            _(
                "Für die Steuerkategorie %(category)s ist am %(date)s kein Umsatzsteuersatz hinterlegt; bitte die Buchhaltung fragen."
            )
            % {"category": category, "date": format_date_de(on)},
            code="vat_rate_missing",
        )
    return rate.percent


def order_vat_treatment(order: Order) -> rules.VatTreatment:
    """How the order is taxed: by the invoice recipient, the partner (GEN-2)."""
    return rules.vat_treatment(order.partner.country, order.partner.vat_id)


def order_breakdown(order: Order) -> pricing.OrderBreakdown:
    """The order's stored price breakdown with totals and VAT on the order date (GEN-2)."""
    treatment = order_vat_treatment(order)
    lines = [pricing.stored_breakdown(line) for line in order_lines(order)]
    return pricing.order_breakdown(lines, treatment, vat_rate_on(treatment.code, order.order_date))


# --- invoices and credit notes ------------------------------------------------------------


def invoice_lines(invoice: Invoice):
    return InvoiceLine.objects.filter(invoice=invoice).order_by("position")


def invoice_credited(invoice: Invoice) -> dict:
    """What the credit notes of ``invoice`` took back so far: net, VAT, gross and the
    quantity and net per invoice line id."""
    notes = Invoice.objects.filter(credited_invoice=invoice, kind=Invoice.CREDIT_NOTE)
    totals = {"net": Decimal("0.00"), "vat": Decimal("0.00"), "gross": Decimal("0.00")}
    for net, vat, gross in notes.values_list("net_total", "vat_total", "gross_total"):
        totals["net"] += net
        totals["vat"] += vat
        totals["gross"] += gross
    by_line: dict[int, tuple[Decimal, Decimal]] = {}
    for line_id, qty, net in InvoiceLine.objects.filter(invoice__in=notes, credited_line__isnull=False).values_list(
        "credited_line_id", "quantity", "net_total"
    ):
        old_qty, old_net = by_line.get(line_id, (Decimal(0), Decimal("0.00")))
        by_line[line_id] = (old_qty + qty, old_net + net)
    return {**totals, "lines": by_line}


def invoice_amount_due(invoice: Invoice) -> Decimal:
    """Gross less what credit notes took back less what was paid; never below 0."""
    due = invoice.gross_total - invoice_credited(invoice)["gross"] - invoice.paid_amount
    return max(due, Decimal("0.00"))


_MEANS_CODE = {
    rules.TRANSFER: documents.PAYMENT_TRANSFER,
    rules.PREPAYMENT: documents.PAYMENT_TRANSFER,
    rules.DIRECT_DEBIT: documents.PAYMENT_DIRECT_DEBIT,
}


def _seller() -> documents.Party:
    vendor = settings.VENDOR
    return documents.Party(
        name=vendor["name"],
        street=vendor.get("street", ""),
        postal_code=vendor.get("postal_code", ""),
        city=vendor.get("city", ""),
        country=vendor.get("country", "DE"),
        vat_id=vendor.get("vat_id", ""),
        email=vendor.get("email", ""),
        tax_number=vendor.get("tax_number", ""),
        legal_registration=vendor.get("legal_registration", ""),
    )


def invoice_document(invoice: Invoice) -> documents.InvoiceDocument:
    """What the invoice or credit note says, as plain values (billing.documents): from the
    stored snapshot only, so a re-render shows what was issued."""
    lines = tuple(
        documents.DocumentLine(
            position=line.position,
            article=line.article,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            net_total=line.net_total,
            vat_category=line.vat_category,
            vat_percent=line.vat_percent,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for line in invoice_lines(invoice)
    )
    breakdown = []
    pairs = [(line.net_total, line.vat_percent) for line in lines]
    net_by_rate = rules.net_by_rate(pairs)
    vat_by_rate = rules.vat_amounts(pairs)
    for rate, basis in net_by_rate.items():
        breakdown.append(
            documents.VatBreakdown(
                category=invoice.vat_category,
                percent=rate,
                basis=basis,
                amount=_rate_vat(invoice, rate, vat_by_rate),
                exemption_reason=invoice.vat_note,
            )
        )
    vendor = settings.VENDOR
    payment = documents.Payment(
        means=_MEANS_CODE[invoice.payment_means],
        due_date=invoice.due_date,
        terms=invoice.payment_terms,
        payee_iban=vendor.get("iban", ""),
        payee_bic=vendor.get("bic", ""),
        creditor_id=vendor.get("creditor_id", "") if invoice.payment_means == rules.DIRECT_DEBIT else "",
        mandate_reference=invoice.mandate_reference,
        debtor_iban=invoice.debtor_iban,
    )
    credited = invoice.credited_invoice
    # The VAT note (reverse charge, not taxable) is the breakdown's exemption reason, which the
    # PDF prints in its own box and the XML carries as BT-120: not repeated as a free note.
    notes = [n for n in (invoice.reason and _("Grund: %(reason)s") % {"reason": invoice.reason},) if n]
    return documents.InvoiceDocument(
        kind=documents.CREDIT_NOTE if invoice.is_credit_note else documents.INVOICE,
        number=invoice.number,
        issue_date=invoice.issue_date,
        seller=_seller(),
        buyer=documents.Party(
            name=invoice.buyer_name,
            street=invoice.buyer_street,
            postal_code=invoice.buyer_postal_code,
            city=invoice.buyer_city,
            country=invoice.buyer_country,
            vat_id=invoice.buyer_vat_id,
            email=invoice.email,
        ),
        lines=lines,
        vat_breakdown=tuple(breakdown),
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        gross_total=invoice.gross_total,
        payment=payment,
        order_reference=invoice.order.reference if invoice.order_id else "",
        preceding_invoice=credited.number if credited else "",
        preceding_invoice_date=credited.issue_date if credited else None,
        notes=tuple(notes),
    )


def _rate_vat(invoice: Invoice, rate: Decimal, vat_by_rate: dict) -> Decimal:
    # A document has one VAT treatment, so one rate: its VAT is the stored total, which
    # the breakdown must equal to the cent. (A credit note that takes back the rest of
    # an invoice takes back exactly the rest of its VAT, see credit_note_issue.)
    return invoice.vat_total if len(vat_by_rate) == 1 else vat_by_rate[rate]


def invoices_issued_in(year: int, month: int):
    """Invoices and credit notes with an issue date in that month, by number."""
    return (
        Invoice.objects.filter(issue_date__year=year, issue_date__month=month)
        .select_related("partner")
        .order_by("kind", "number")
    )


def partner_mandate(partner) -> SepaMandate | None:
    """The partner's active SEPA mandate (at most one, ORD-8), or ``None``."""
    return SepaMandate.objects.filter(partner=partner, revoked_on__isnull=True).first()


def sepa_creditor() -> sepa.Creditor:
    """The vendor as SEPA creditor, from the ``SEPA_CREDITOR_*`` settings."""
    return sepa.Creditor(
        name=settings.SEPA_CREDITOR_NAME,
        iban=settings.SEPA_CREDITOR_IBAN,
        bic=settings.SEPA_CREDITOR_BIC,
        creditor_id=settings.SEPA_CREDITOR_ID,
    )


def direct_debits_due(collection_date: date) -> list[sepa.DueCollection]:
    """What a direct-debit file for ``collection_date`` collects (ORD-8): every open or
    overdue invoice paid by SEPA direct debit whose collection date (the invoice's due date,
    announced on it as pre-notification) is on or before that day, not yet in a batch, for
    the amount still due (gross less credit notes less payments), by number."""
    from billing.models import SepaBatchItem

    collected = SepaBatchItem.objects.values("end_to_end_id")
    candidates = (
        Invoice.objects.filter(
            kind=Invoice.INVOICE,
            payment_means=rules.DIRECT_DEBIT,
            state__in=[Invoice.OPEN, Invoice.OVERDUE],
            due_date__lte=collection_date,
        )
        .exclude(number__in=collected)
        .order_by("number")
    )
    due = []
    for invoice in candidates:
        amount = invoice_amount_due(invoice)
        if amount > 0:
            due.append(
                sepa.DueCollection(
                    end_to_end_id=invoice.number, amount=amount, mandate_reference=invoice.mandate_reference
                )
            )
    return due


def service_plan_in_force(installation: Installation, on: date) -> ServicePlan | None:
    """The Premium/Enterprise plan on the installation's server key on day ``on`` (SUB-8), or None."""
    return (
        ServicePlan.objects.filter(installation=installation, starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .first()
    )


def service_plan_on(installation: Installation, on: date) -> str:
    """The plan name in force on the server key on ``on``: ``"premium"``, ``"enterprise"`` or
    ``"free"`` without a plan (SUB-8). Feeds paid-upgrade prices (ORD-7) and support (SUP-1/3)."""
    plan = service_plan_in_force(installation, on)
    return plan.plan if plan is not None else rules.PLAN_FREE


def subscription_monthly_price_on(subscription, day: date) -> Decimal:
    """The monthly net price per licence of ``subscription`` for a billing period starting on
    ``day`` (SUB-4, SUB-7): the latest tier change (:class:`SubscriptionPriceChange`) effective
    on or before ``day``, else the price fixed at signing. Uses prefetched ``price_changes``
    when the caller loaded them (the invoicing run, one query per partner), else one query."""
    cache = getattr(subscription, "_prefetched_objects_cache", {})
    if "price_changes" in cache:
        changes = [c for c in cache["price_changes"] if c.effective_from <= day]
        latest = max(changes, key=lambda c: c.effective_from, default=None)
    else:
        latest = subscription.price_changes.filter(effective_from__lte=day).order_by("-effective_from").first()
    return latest.monthly_price if latest is not None else subscription.monthly_price
