"""Reads of the billing area (STYLE 3): orders scoped to a partner for the portal, the
data an order is priced from, VAT rates valid on a day (GEN-2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, Exists, OuterRef, Q, Subquery, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from billing import documents, pricing, rules, sepa
from billing.exceptions import VatRateMissing
from billing.models import Invoice, InvoiceLine, Order, OrderLine, SepaMandate, ServicePlan, Subscription, VatRate
from licensing.models import Bundle, Installation, License, Product
from vendorportal.formats import format_date
from vendorportal.i18n import partner_language


def orders_for_partner(partner):
    """The partner's orders, newest first — the only orders a partner login may see."""
    return Order.objects.filter(partner=partner)


def order_lines(order: Order):
    return (
        OrderLine.objects.filter(order=order)
        .select_related("product", "upgrade_from", "installation", "installation__customer")
        .order_by("position", "id")
    )


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
            % {"category": category, "date": format_date(on)},
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


def invoice_credited_gross(invoice: Invoice) -> Decimal:
    """The gross its credit notes took back so far (one aggregate query)."""
    total = Invoice.objects.filter(credited_invoice=invoice, kind=Invoice.CREDIT_NOTE).aggregate(
        gross=Sum("gross_total")
    )["gross"]
    return total if total is not None else Decimal("0.00")


def credited_gross_subquery() -> Subquery:
    """For ``Invoice.objects.annotate(credited_sum=credited_gross_subquery())``: the gross the
    credit notes of each invoice took back, in the invoices' own query (``None`` for none)."""
    notes = (
        Invoice.objects.filter(credited_invoice=OuterRef("pk"), kind=Invoice.CREDIT_NOTE)
        .order_by()
        .values("credited_invoice")
        .annotate(total=Sum("gross_total"))
        .values("total")
    )
    return Subquery(notes, output_field=DecimalField(max_digits=12, decimal_places=2))


def invoice_amount_due(invoice: Invoice, credited_gross: Decimal | None = None) -> Decimal:
    """Gross less what credit notes took back less what was paid; never below 0.
    ``credited_gross`` when the caller has read it already (:func:`invoice_credited_gross`)."""
    if credited_gross is None:
        credited_gross = invoice_credited_gross(invoice)
    return rules.invoice_open_amount(gross=invoice.gross_total, credited=credited_gross, paid=invoice.paid_amount)


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
        legal_info=vendor_legal_info(),
    )


def vendor_legal_info() -> str:
    """The vendor's § 35a GmbHG facts in one German sentence (the Factur-X BT-33):
    "GmbH, Sitz Nürtingen, Amtsgericht Stuttgart HRB 999999, Geschäftsführer: Erika Musterfrau, Max Mustermann"."""
    vendor = settings.VENDOR
    parts = [
        vendor.get("legal_form", ""),
        _("Sitz %(seat)s") % {"seat": vendor["seat"]} if vendor.get("seat") else "",
        " ".join(p for p in (vendor.get("register_court", ""), vendor.get("register_number", "")) if p),
        _("Geschäftsführer: %(names)s") % {"names": ", ".join(vendor["managing_directors"])}
        if vendor.get("managing_directors")
        else "",
    ]
    return ", ".join(p for p in parts if p)


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
    language = partner_language(invoice.partner)  # issue 21: the PDF's labels; the XML has none
    with translation.override(language):
        notes = [n for n in (invoice.reason and _("Grund: %(reason)s") % {"reason": invoice.reason},) if n]
    return documents.InvoiceDocument(
        language=language,
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
        cancels_invoice=invoice.correction_kind == rules.CANCELLATION,
        charges_only=invoice.charges_only,
        notes=tuple(notes),
    )


def _rate_vat(invoice: Invoice, rate: Decimal, vat_by_rate: dict) -> Decimal:
    # A document has one VAT treatment, so one rate: its VAT is the stored total, which
    # the breakdown must equal to the cent. (A credit note that takes back the rest of
    # an invoice takes back exactly the rest of its VAT, see credit_note_issue.)
    return invoice.vat_total if len(vat_by_rate) == 1 else vat_by_rate[rate]


def invoices_issued_in(year: int, month: int):
    """Invoices and corrections with an issue date in that month, by number."""
    return (
        Invoice.objects.filter(issue_date__year=year, issue_date__month=month)
        .select_related("partner", "credited_invoice")
        .order_by("kind", "number")
    )


def partner_mandate(partner) -> SepaMandate | None:
    """The partner's active SEPA mandate (signed, not revoked; at most one, ORD-8), or ``None``.
    It may be suspended after a returned debit (``suspended_on``, issue 18): still the partner's
    mandate until a new one replaces it, but ORD-8 (:func:`billing.rules.payment_terms`)
    collects nothing under it."""
    return SepaMandate.objects.filter(partner=partner, revoked_on__isnull=True, signed_on__isnull=False).first()


def partner_sepa_mandate(partner, pk) -> SepaMandate:
    """One mandate of the partner (any state); another partner's id raises ``DoesNotExist``."""
    return SepaMandate.objects.select_related("partner").filter(partner=partner).get(pk=pk)


def partner_pending_mandate(partner) -> SepaMandate | None:
    """The partner's mandate that waits for its signature (at most one), or ``None``."""
    return SepaMandate.objects.filter(partner=partner, revoked_on__isnull=True, signed_on__isnull=True).first()


def sepa_creditor() -> sepa.Creditor:
    """The vendor as SEPA creditor, from the ``SEPA_CREDITOR_*`` settings."""
    return sepa.Creditor(
        name=settings.SEPA_CREDITOR_NAME,
        iban=settings.SEPA_CREDITOR_IBAN,
        bic=settings.SEPA_CREDITOR_BIC,
        creditor_id=settings.SEPA_CREDITOR_ID,
    )


def open_direct_debits(*, partner=None, mandate_reference: str | None = None):
    """Direct-debit invoices not collected yet (ORD-8 / SEPA): open or overdue, paid by SEPA
    direct debit, in no direct-debit file — the debits still to be collected on their
    announced day (``due_date``); optionally of one partner or naming one mandate."""
    from billing.models import SepaBatchItem

    qs = Invoice.objects.filter(
        kind=Invoice.INVOICE,
        payment_means=rules.DIRECT_DEBIT,
        state__in=[Invoice.OPEN, Invoice.OVERDUE],
    ).exclude(number__in=SepaBatchItem.objects.values("end_to_end_id"))
    if partner is not None:
        qs = qs.filter(partner=partner)
    if mandate_reference is not None:
        qs = qs.filter(mandate_reference=mandate_reference)
    return qs.order_by("due_date", "number")


def direct_debits_naming_inactive_mandates():
    """Open direct debits whose mandate is revoked or unknown — none may exist (ORD-8: a
    mandate change moves them); for tests and the admin's check."""
    active = SepaMandate.objects.filter(revoked_on__isnull=True, suspended_on__isnull=True).values("reference")
    return open_direct_debits().exclude(mandate_reference__in=active)


def direct_debits_due(through: date) -> list[sepa.DueCollection]:
    """What a direct-debit file written now collects (ORD-8 / SEPA): every open direct debit
    (:func:`open_direct_debits`) announced for a day up to ``through``, each on exactly its
    announced day, for the amount still due (gross less corrections less payments), by day
    and number. Debits that can no longer be collected on their day are announced again
    first (:func:`billing.services.direct_debits_reannounce`)."""
    due = []
    for invoice in open_direct_debits().filter(due_date__lte=through):
        amount = invoice_amount_due(invoice)
        if amount > 0:
            due.append(
                sepa.DueCollection(
                    end_to_end_id=invoice.number,
                    amount=amount,
                    mandate_reference=invoice.mandate_reference,
                    collection_date=invoice.due_date,
                )
            )
    return due


def invoice_recurring_lines(invoice: Invoice) -> list[tuple[Decimal, date, date]]:
    """The invoice's subscription periods and plan years as ``(net, start, end)``, for ORD-8's
    monthly amount (:func:`billing.rules.invoice_monthly_amount`)."""
    return list(
        InvoiceLine.objects.filter(invoice=invoice, billed_period__isnull=False)
        .order_by("position")
        .values_list("net_total", "period_start", "period_end")
    )


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


# --- the partner portal: everything scoped to the login's partner (STYLE 3) ----------------


def partner_order(partner, pk) -> Order:
    """One of the partner's orders; another partner's id raises ``Order.DoesNotExist`` (→ 404)."""
    return orders_for_partner(partner).get(pk=pk)


def portal_orders(partner):
    """The partner's orders for the list page: net per order and its invoice, in one query."""
    from django.db.models import Count, OuterRef, Subquery, Sum

    invoices = Invoice.objects.filter(order=OuterRef("pk"), kind=Invoice.INVOICE)
    return (
        orders_for_partner(partner)
        .annotate(
            net=Sum("lines__line_net"),
            installations_count=Count("lines__installation", distinct=True),
            invoice_id=Subquery(invoices.values("pk")[:1]),
            invoice_number=Subquery(invoices.values("number")[:1]),
        )
        .order_by("-order_date", "-id")
    )


def order_invoice(order: Order) -> Invoice | None:
    return Invoice.objects.filter(order=order, kind=Invoice.INVOICE).first()


def order_delivery_notes(order: Order):
    """The delivery notes of the keys an order produced (ORD-2): one per installation."""
    from licensing.models import DeliveryNote

    return (
        DeliveryNote.objects.filter(licenses__order_lines__order=order)
        .select_related("installation", "installation__customer")
        .distinct()
        .order_by("number")
    )


def order_installations(order: Order) -> list[Installation]:
    """The installations an order's lines name (decision ORD-1/ORD-4), by customer and identifier."""
    return list(
        Installation.objects.filter(order_lines__order=order)
        .select_related("customer")
        .distinct()
        .order_by("customer__company", "identifier")
    )


def order_delivery_note(order: Order, pk):
    """One delivery note of ``order``; any other id raises ``DoesNotExist`` (→ 404)."""
    return order_delivery_notes(order).get(pk=pk)


def _credited_gross():
    from django.db.models import DecimalField, OuterRef, Subquery, Sum
    from django.db.models.functions import Coalesce

    notes = (
        Invoice.objects.filter(credited_invoice=OuterRef("pk"), kind=Invoice.CREDIT_NOTE)
        .values("credited_invoice")
        .annotate(total=Sum("gross_total"))
        .values("total")[:1]
    )
    return Coalesce(
        Subquery(notes, output_field=DecimalField(max_digits=12, decimal_places=2)),
        Decimal("0.00"),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def invoices_for_partner(partner, *, state: str = "", year: int | None = None, kind: str = ""):
    """The partner's invoices and credit notes, newest first, with what credit notes took
    back (``credited``) — the amount still due is gross − credited − paid."""
    qs = (
        Invoice.objects.filter(partner=partner)
        .select_related("order", "credited_invoice")
        .annotate(credited=_credited_gross())
    )
    if state:  # a payment state is an invoice's; corrections carry none of their own
        qs = qs.filter(state=state, kind=Invoice.INVOICE)
    if year:
        qs = qs.filter(issue_date__year=year)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-issue_date", "-number")


def invoice_years(partner) -> list[int]:
    return sorted({d.year for d in Invoice.objects.filter(partner=partner).dates("issue_date", "year")}, reverse=True)


def partner_invoice(partner, pk) -> Invoice:
    """One invoice or credit note of the partner; another partner's id raises ``DoesNotExist``."""
    return Invoice.objects.filter(partner=partner).get(pk=pk)


def open_invoices_summary(partner) -> dict:
    """Dashboard: the partner's open and overdue invoices with the amounts still due."""
    rows = list(
        invoices_for_partner(partner)
        .filter(kind=Invoice.INVOICE, state__in=[Invoice.OPEN, Invoice.OVERDUE])
        .order_by("due_date", "number")
    )
    dunning = dunning_notices_by_invoice(row.pk for row in rows)  # levels only: no pauses or blocks shown
    for row in rows:
        row.due = rules.invoice_open_amount(gross=row.gross_total, credited=row.credited, paid=row.paid_amount)
        notices = dunning.get(row.pk, [])
        row.dunning = notices[-1] if notices else None  # the highest level so far
    overdue = [row for row in rows if row.state == Invoice.OVERDUE]
    dunned = [row for row in rows if row.dunning is not None]
    return {
        "open_count": len(rows) - len(overdue),
        "overdue_count": len(overdue),
        "due_total": sum((row.due for row in rows), Decimal("0.00")),
        "overdue_total": sum((row.due for row in overdue), Decimal("0.00")),
        "rows": rows[:10],
        # Dunning (issue 18): invoices with a letter, and the fees and interest waiting for the
        # next invoice run — apart from the invoices' own open amounts above (once billed they
        # are an invoice of their own, "Rechnung über Nebenforderungen", and counted as one).
        "dunned_count": len(dunned),
        "final_count": sum(1 for row in dunned if row.dunning.level == rules.DUNNING_FINAL),
        "dunning_claims": dunning_claims_waiting(partner),
    }


def dunning_claims_waiting(partner) -> Decimal:
    """Dunning fees and default interest of the partner not billed yet (issue 18): what the next
    invoice run bills on the "Rechnung über Nebenforderungen"."""
    from django.db.models import Sum

    from billing.models import Charge

    waiting = Charge.objects.filter(
        partner=partner, billed_on__isnull=True, kind__in=[Charge.DUNNING_FEE, Charge.DEFAULT_INTEREST]
    ).aggregate(total=Sum("amount"))["total"]
    return waiting or Decimal("0.00")


def orderable_products():
    """What the portal's order form offers: active modules, SaaS and service plans."""
    from billing.constants import ORDERABLE_KINDS

    return Product.objects.filter(kind__in=ORDERABLE_KINDS, active=True).order_by("name")


def active_bundles():
    """Bundles the order form offers (ORD-3), with their modules."""
    return Bundle.objects.filter(active=True).prefetch_related("products").order_by("name")


def orderable_customers(partner, today: date):
    """The partner's customers with at least one installation that can be ordered for today."""
    from vendorportal.parties.models import Customer

    installations = orderable_installations(partner, today)
    return Customer.objects.filter(pk__in=installations.values("customer_id")).order_by("company")


def installations_by_identifier(identifiers) -> dict[str, Installation]:
    """Installations named by a server key, hardware ID or serial number as typed (any
    case, with or without dashes), keyed by the text as given — of any partner: the
    caller says "not yours" (a CSV row of a large order)."""
    from licensing.rules import HARDWARE_ID, SERIAL_NUMBER, SERVER_KEY, IdentifierFormatError, normalize_identifier

    candidates: dict[str, list[str]] = {}
    for raw in identifiers:
        forms_ = [raw.strip().upper()]
        for kind in (SERVER_KEY, HARDWARE_ID, SERIAL_NUMBER):
            try:
                forms_.append(normalize_identifier(kind, raw))
            except IdentifierFormatError:
                continue
        candidates[raw] = forms_
    wanted = {form for forms_ in candidates.values() for form in forms_}
    found = {
        inst.identifier: inst for inst in Installation.objects.filter(identifier__in=wanted).select_related("customer")
    }
    result = {}
    for raw, forms_ in candidates.items():
        match = next((found[form] for form in forms_ if form in found), None)
        if match is not None:
            result[raw] = match
    return result


def tier_upgrade_candidates(installation: Installation):
    """Active purchased keys of tiered modules on ``installation`` whose tier is below the
    installation's tier today (ORD-6: the way up)."""
    from licensing.rules import tier_rank

    if not installation.tier:
        return License.objects.none()
    keys = (
        License.objects.filter(
            bindings__installation=installation,
            state=License.ACTIVE,
            kind=License.PURCHASE,
            product__pricing_model=Product.TIERED,
        )
        .exclude(tier="")
        .exclude(tier__isnull=True)
        .values_list("pk", "tier")
    )
    below = [pk for pk, tier in keys if tier_rank(tier) < tier_rank(installation.tier)]
    return License.objects.filter(pk__in=below).select_related("product").order_by("product__name", "serial")


def orderable_installations(partner, today: date):
    """The partner's installations that can be ordered for today (ORD-1: not decommissioned)."""
    return (
        Installation.objects.filter(customer__partner=partner)
        .filter(Q(decommissioned_on__isnull=True) | Q(decommissioned_on__gt=today))
        .select_related("customer")
        .order_by("customer__company", "identifier")
    )


# --- subscriptions (SUB-1…SUB-7) and service plans (SUB-8) -------------------------------------


def subscriptions_for_partner(partner):
    """The partner's subscriptions (the only ones a partner login may see), newest first;
    the portal takes one with ``get_object_or_404(subscriptions_for_partner(p), pk=…)``."""
    from billing.models import Subscription

    return (
        Subscription.objects.filter(partner=partner)
        .select_related("installation", "installation__customer", "product")
        .prefetch_related("price_changes")
        .order_by("-signed_on", "-id")
    )


def service_plans_for_partner(partner):
    return ServicePlan.objects.filter(partner=partner).select_related("installation", "installation__customer")


def subscription_package(subscription) -> list:
    """The subscriptions that end together with ``subscription`` (ORD-4): the whole package,
    or the subscription alone; by reference."""
    from billing.models import Subscription

    if not subscription.package:
        return [subscription]
    return list(Subscription.objects.filter(package=subscription.package).select_related("product").order_by("pk"))


def _price_change_on(subscription, day: date):
    changes = [c for c in subscription.price_changes.all() if c.effective_from <= day]
    return max(changes, key=lambda c: c.effective_from, default=None)


def subscription_monthly_price_on(subscription, day: date) -> Decimal:
    """The monthly price per licence of ``subscription`` for a billing period starting on
    ``day``: the price fixed at signing (SUB-4) or that of the latest tier change effective
    by then (SUB-7). The invoicing run multiplies it by ``quantity`` and the period's months.
    Uses ``price_changes`` as prefetched (one query per batch, not per subscription); a
    subscription read with ``has_price_changes`` false (the run's read) has none to look at."""
    if not getattr(subscription, "has_price_changes", True):
        return subscription.monthly_price
    change = _price_change_on(subscription, day)
    return change.monthly_price if change is not None else subscription.monthly_price


def subscription_tier_on(subscription, day: date) -> tuple[str, int | None]:
    """(tier, users) in force on ``day``: signed, or of the latest tier change by then (SUB-7)."""
    change = _price_change_on(subscription, day)
    if change is None:
        return subscription.tier, subscription.users
    return change.tier, change.users


def subscription_next_billing(subscription, today: date) -> date | None:
    """Start of the next billing period after ``today`` (SUB-3), None when the subscription
    ends before it."""
    if today < subscription.term_start:
        start = subscription.term_start
    else:
        current = rules.billing_period_on(
            subscription.term_start, subscription.minimum_months, subscription.billing_months, today
        )
        start = current.end + timedelta(days=1)
    if subscription.ends_on is not None and start > subscription.ends_on:
        return None
    return start


def subscription_next_unbilled(subscription, today: date, billed_starts=None) -> date | None:
    """Start of the first billing period after today's that is not billed yet (SUB-7 decision,
    :func:`billing.rules.first_unbilled_period_start`): what a tier change applies from and
    what the portal shows as the next period. ``billed_starts`` may be passed by a list page
    that read them for all its rows at once."""
    from billing.models import BilledPeriod

    if billed_starts is None:
        billed_starts = BilledPeriod.objects.filter(subscription=subscription).values_list("period_start", flat=True)
    return rules.first_unbilled_period_start(
        subscription.term_start,
        subscription.minimum_months,
        subscription.billing_months,
        today=today,
        billed_starts=billed_starts,
        ends_on=subscription.ends_on,
    )


def subscriptions_billed_starts(subscriptions) -> dict[int, set[date]]:
    """The billed period starts of several subscriptions in one query (list pages)."""
    from billing.models import BilledPeriod

    starts: dict[int, set[date]] = {sub.pk: set() for sub in subscriptions}
    for sub_id, start in BilledPeriod.objects.filter(subscription__in=list(starts)).values_list(
        "subscription_id", "period_start"
    ):
        starts[sub_id].add(start)
    return starts


def subscription_special_termination(subscription, on: date) -> rules.SpecialTerminationGround | None:
    """SUB-6: whether ``subscription`` has the special termination right on ``on``, from
    licensing's PBX versions (of the installation's vendor) and the module versions tested
    with them (LIC-5: only tested combinations count as compatible). Modules only."""
    from django.db.models import Min

    from licensing.models import ModuleVersion, PbxVersion

    if subscription.product.kind != Product.MODULE:
        return None
    pbx_versions = list(
        PbxVersion.objects.filter(vendor=subscription.installation.vendor, released_on__lte=on).values_list(
            "pk", "number", "released_on"
        )
    )
    new_versions = rules.new_highest_pbx_versions((number, released) for _pk, number, released in pbx_versions)
    compatible = dict(
        ModuleVersion.objects.filter(product=subscription.product, tested_with__in=[pk for pk, *_x in pbx_versions])
        .values("tested_with__number")
        .annotate(first=Min("released_on"))
        .values_list("tested_with__number", "first")
    )
    return rules.special_termination_ground(
        new_versions=new_versions,
        compatible_since=compatible,
        signed_on=subscription.signed_on,
        minimum_end=subscription.minimum_end,
        on=on,
    )


def upgrade_service_plan(installation: Installation, license: License, on: date) -> str:
    """The plan a paid version upgrade (ORD-7) of ``license`` is priced with on ``on``: the plan
    in force on the server key (:func:`service_plan_on`) — but only for a module bought at or
    after the plan's start (SUB-8: the plan covers modules "zeitgleich oder nach Abschluss"
    bought); otherwise ``"free"``. A retroactive plan starts early, so it covers older purchases."""
    from django.utils import timezone

    plan = service_plan_in_force(installation, on)
    if plan is None:
        return rules.PLAN_FREE
    if timezone.localdate(license.issued_at) < plan.starts_on:
        return rules.PLAN_FREE
    return plan.plan


def purchases_before(installation: Installation, day: date) -> bool:
    """SUB-8: has the customer bought (paid purchase keys) for this installation before ``day``?"""
    from datetime import datetime

    from django.utils import timezone

    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return License.objects.filter(
        bindings__installation=installation, kind=License.PURCHASE, issued_at__lt=start
    ).exists()


# --- the partner portal's subscription and service-plan pages (issue 12) ---------------------------

SUBSCRIPTIONS_RUNNING = "laufend"
SUBSCRIPTIONS_ENDED = "beendet"


def portal_subscriptions(partner, *, today: date, status: str = ""):
    """The partner's subscriptions for the list page: ``laufend`` — not ended yet (notice given
    or not), ``beendet`` — the last day has passed, anything else — all. Price changes
    prefetched (the monthly price in force is computed per row without a query)."""
    qs = subscriptions_for_partner(partner)
    if status == SUBSCRIPTIONS_RUNNING:
        qs = qs.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    elif status == SUBSCRIPTIONS_ENDED:
        qs = qs.filter(ends_on__lt=today)
    return qs


def partner_subscription(partner, pk):
    """One of the partner's subscriptions; another partner's id raises ``DoesNotExist`` (→ 404)."""
    return subscriptions_for_partner(partner).select_related("order_line").get(pk=pk)


def partner_server_keys(partner):
    """The partner's STARFACE installations with a server licence key — what a service plan is
    booked on (SUB-8) — each with its plan (``service_plan`` joined, one query per page)."""
    from licensing.rules import SERVER_KEY

    return (
        Installation.objects.for_partner(partner)
        .filter(identifier_kind=SERVER_KEY)
        .select_related("customer", "service_plan")
        .order_by("customer__company", "identifier", "pk")
    )


def partner_server_key(partner, pk) -> Installation:
    """One of the partner's server-key installations; any other id raises ``DoesNotExist``."""
    return partner_server_keys(partner).get(pk=pk)


def partner_service_plan(partner, pk) -> ServicePlan:
    """One of the partner's service plans; another partner's id raises ``DoesNotExist`` (→ 404)."""
    return service_plans_for_partner(partner).get(pk=pk)


def service_plan_yearly_prices(on: date) -> dict[str, Decimal | None]:
    """The yearly list price of each bookable plan (SUB-8) valid on ``on``, ``None`` where the
    price list has none: ``{"premium": 828.00, "enterprise": 1548.00}`` in seed 001."""
    from billing.constants import PLAN_ARTICLE
    from licensing.selectors.catalog import price_for

    products = {p.article: p for p in Product.objects.filter(article__in=PLAN_ARTICLE.values())}
    prices: dict[str, Decimal | None] = {}
    for plan, article in PLAN_ARTICLE.items():
        product = products.get(article)
        price = (
            price_for(product=product, kind=OrderLine.SUBSCRIPTION, on=on, tier="", term_months=12) if product else None
        )
        prices[plan] = price.amount if price is not None else None
    return prices


def subscriptions_ending(partner, *, today: date, days: int):
    """Dashboard: the partner's subscriptions with notice given that end within ``days`` days
    (their last day from today on), soonest first."""
    return (
        subscriptions_for_partner(partner)
        .filter(ends_on__gte=today, ends_on__lte=today + timedelta(days=days))
        .order_by("ends_on", "reference")
    )


def service_plans_ending(partner, *, today: date, days: int):
    """Dashboard: the partner's service plans with notice given that end within ``days`` days."""
    return (
        service_plans_for_partner(partner)
        .filter(ends_on__gte=today, ends_on__lte=today + timedelta(days=days))
        .order_by("ends_on", "reference")
    )


# --- Dunning (issue 18) -------------------------------------------------------------------------


def invoices_past_final_deadline(partner, today: date):
    """The partner's overdue invoices whose letzte Mahnung's deadline has passed (``deadline`` <
    ``today``): what allows finance to block its subscription keys, and what must be paid for
    them to come back."""
    from billing.models import DunningNotice

    finals = DunningNotice.objects.filter(invoice=OuterRef("pk"), level=rules.DUNNING_FINAL, deadline__lt=today)
    return (
        Invoice.objects.filter(partner=partner, kind=Invoice.INVOICE, state=Invoice.OVERDUE)
        .filter(Exists(finals))
        .order_by("number")
    )


def partner_active_subscription_keys(partner):
    """The partner's active subscription keys (LIC-12) with their installations, by subscription."""
    refs = Subscription.objects.filter(partner=partner).values("reference")
    return (
        License.objects.filter(kind=License.SUBSCRIPTION, state=License.ACTIVE, subscription_reference__in=refs)
        .select_related("product", "installation__customer")
        .prefetch_related("bindings__installation")
        .order_by("subscription_reference", "pk")
    )


def dunning_notices_by_invoice(invoice_ids) -> dict[int, list]:
    """Every dunning notice of these invoices, lowest level first, by invoice id (one query)."""
    from billing.models import DunningNotice

    by_invoice: dict[int, list] = {}
    for notice in DunningNotice.objects.filter(invoice_id__in=list(invoice_ids)).order_by("invoice_id", "level"):
        by_invoice.setdefault(notice.invoice_id, []).append(notice)
    return by_invoice


#: API codes of the dunning levels (0 = none yet), as ``GET /invoices`` names them.
DUNNING_LEVEL_CODES = {
    0: "none",
    rules.DUNNING_REMINDER: "reminder",
    rules.DUNNING_FIRST: "first_notice",
    rules.DUNNING_FINAL: "final_notice",
}


@dataclass(frozen=True)
class DunningState:
    """Where one invoice stands in dunning (issue 18) — what the portal and the API show:
    the highest level written (0 = none) with its day and deadline, whether dunning is paused
    (for the invoice or its partner), the flat fee and default interest its letters claimed
    (charged on the next invoice, never part of its own open amount) and whether subscription
    keys are blocked because of it."""

    level: int
    issued_on: date | None
    deadline: date | None
    paused: bool
    fees: Decimal
    interest: Decimal
    keys_blocked: bool
    notices: tuple  # every DunningNotice of the invoice, lowest level first

    @property
    def code(self) -> str:
        return DUNNING_LEVEL_CODES[self.level]

    @property
    def title(self) -> str:
        return str(rules.dunning_level_title(self.level)) if self.level else ""


def invoice_dunning_states(invoices) -> dict[int, DunningState]:
    """The dunning state of each of these invoices by id, in three queries whatever their number
    (notices, open pauses, active blocks): the one reading portal and API share."""
    from billing.models import DunningBlock, DunningPause

    invoices = list(invoices)
    ids = [invoice.pk for invoice in invoices]
    if not ids:
        return {}
    notices = dunning_notices_by_invoice(ids)
    partner_ids = {invoice.partner_id for invoice in invoices}
    paused_invoices: set[int] = set()
    paused_partners: set[int] = set()
    pauses = DunningPause.objects.filter(resumed_at__isnull=True).filter(
        Q(invoice_id__in=ids) | Q(partner_id__in=partner_ids, invoice__isnull=True)
    )
    for invoice_id, partner_id in pauses.values_list("invoice_id", "partner_id"):
        if invoice_id:
            paused_invoices.add(invoice_id)
        else:
            paused_partners.add(partner_id)
    blocked = set(
        DunningBlock.invoices.through.objects.filter(
            dunningblock__released_at__isnull=True, invoice_id__in=ids
        ).values_list("invoice_id", flat=True)
    )
    states = {}
    for invoice in invoices:
        mine = tuple(notices.get(invoice.pk, ()))
        last = mine[-1] if mine else None
        states[invoice.pk] = DunningState(
            level=last.level if last else 0,
            issued_on=last.issued_on if last else None,
            deadline=last.deadline if last else None,
            paused=invoice.pk in paused_invoices or invoice.partner_id in paused_partners,
            fees=sum((n.fee for n in mine), Decimal("0.00")),
            interest=sum((n.interest for n in mine), Decimal("0.00")),
            keys_blocked=invoice.pk in blocked,
            notices=mine,
        )
    return states


def partner_dunning_notices(partner):
    """The partner's dunning notices (portal), newest first, with their invoices."""
    from billing.models import DunningNotice

    return DunningNotice.objects.filter(partner=partner).select_related("invoice").order_by("-issued_on", "-level")


def partner_dunning_notice(partner, pk):
    """One dunning notice of the partner; another partner's id raises ``DoesNotExist``."""
    from billing.models import DunningNotice

    return DunningNotice.objects.select_related("invoice").filter(partner=partner).get(pk=pk)
