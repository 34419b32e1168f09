"""Reads of the billing area (STYLE 3): orders scoped to a partner for the portal, the
data an order is priced from, VAT rates valid on a day (GEN-2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from billing import pricing, rules, sepa
from billing.exceptions import VatRateMissing
from billing.models import Order, OrderLine, SepaMandate, VatRate
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
