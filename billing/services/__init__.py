"""Orders: create, add lines, price, cancel (ORD-1, ORD-3…ORD-7, ORD-9). Every write of
the billing area goes through here; admin actions and portal views call these functions.

Each service is keyword-only, atomic, locks the order row (``select_for_update``, which
holds on PostgreSQL) before it changes the order or its lines, and validates with
``full_clean``. Refusals are :mod:`billing.exceptions` with German messages; a refused
call writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing import pricing, rules, selectors, sepa
from billing.exceptions import (
    InvoiceRefused,
    OrderNotCancellable,
    OrderRefused,
    PriceMissing,
    SepaCollectionRefused,
    SepaMandateRefused,
)
from billing.models import (
    BilledPeriod,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Payment,
    SepaBatch,
    SepaBatchItem,
    SepaMandate,
    ServicePlan,
    Subscription,
)
from licensing.constants import AUERSWALD
from licensing.models import Installation, License, Price, Product
from licensing.selectors.catalog import price_for
from vendorportal import clock
from vendorportal.formats import format_date_de
from vendorportal.models import OutboxMessage
from vendorportal.money import CENT, ZERO, D, format_eur, round_cents, sum_money
from vendorportal.outbox import outbox_enqueue, outbox_resend
from vendorportal.parties.models import Partner
from vendorportal.periods import month_period_end
from vendorportal.sequences import next_document_number

logger = logging.getLogger(__name__)

# SWP and Auerswald system licences are ordered through their quotes (issue 4), not here.
ORDERABLE_KINDS = (Product.MODULE, Product.SAAS, Product.SERVICE_PLAN)


def _refuse(message: str, code: str):
    raise OrderRefused(message, code=code)


def _locked_draft(order: Order) -> Order:
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("partner", "partner__level", "installation")
        .get(pk=order.pk)
    )
    if not locked.is_draft:
        _refuse(
            _("Die Bestellung %(ref)s ist „%(state)s“ und kann nicht mehr geändert werden.")
            % {"ref": locked.reference, "state": locked.get_state_display()},
            "not_draft",
        )
    return locked


def order_create_refusal(*, partner: Partner, installation: Installation, today: date) -> tuple[str, str] | None:
    """(message, code) when ``partner`` cannot order for ``installation`` today (ORD-1), else None."""
    if installation.customer.partner_id != partner.pk:
        return (
            _("Die Installation %(id)s gehört zu keinem Kunden von %(partner)s.")
            % {"id": installation.identifier, "partner": partner.company},
            "foreign_installation",
        )
    if not installation.is_active_on(today):
        return (
            _("Die Installation %(id)s ist seit %(date)s außer Betrieb; für sie kann nicht bestellt werden.")
            % {"id": installation.identifier, "date": format_date_de(installation.decommissioned_on)},
            "decommissioned",
        )
    return None


@transaction.atomic
def order_create(
    *, partner: Partner, installation: Installation, created_by=None, delivery_email: str = "", invoice_email: str = ""
) -> Order:
    """A draft order of ``partner`` for one of its customers' installations (ORD-1), dated
    today; the delivery and invoice e-mails default to the partner's."""
    today = clock.today()
    refusal = order_create_refusal(partner=partner, installation=installation, today=today)
    if refusal:
        _refuse(*refusal)
    order = Order(
        partner=partner,
        installation=installation,
        order_date=today,
        delivery_email=(delivery_email or partner.delivery_email).strip(),
        invoice_email=(invoice_email or partner.invoice_email).strip(),
        created_by=created_by,
    )
    order.full_clean()
    order.save()
    return order


def _check_product(product: Product, kind: str, term_months: int) -> None:
    if product.kind not in ORDERABLE_KINDS:
        _refuse(
            _("%(name)s wird über das Angebot für PBX Call Assist bzw. Auerswald-Systeme bestellt, nicht hier.")
            % {"name": product.name},
            "not_orderable",
        )
    if not product.active:
        _refuse(_("%(name)s wird nicht mehr angeboten.") % {"name": product.name}, "inactive")
    if kind == OrderLine.PURCHASE:
        if not product.purchase_allowed:
            _refuse(_("%(name)s gibt es nur im Abo.") % {"name": product.name}, "subscription_only")
        if term_months:
            _refuse(_("Ein Kauf hat keine Mindestlaufzeit."), "term_for_purchase")
    elif kind == OrderLine.SUBSCRIPTION:
        if not product.subscription_allowed:
            _refuse(_("%(name)s gibt es nicht im Abo.") % {"name": product.name}, "no_subscription")
        if term_months not in OrderLine.SUBSCRIPTION_TERMS:
            _refuse(_("Abos laufen mindestens 1, 12, 24 oder 36 Monate."), "invalid_term")
    else:
        _refuse(_("Bitte Kauf oder Abo wählen."), "invalid_kind")


def _tier_of(installation: Installation) -> str:
    """The installation's tier by its installed user licences (CAT-2)."""
    if installation.tier is None:
        _refuse(
            _(
                "Für %(id)s sind keine installierten Benutzerlizenzen eingetragen; die Staffel richtet sich nach ihnen "
                "(PBX-Benutzer + User Light). Bitte zuerst die Installation ergänzen."
            )
            % {"id": installation.identifier},
            "no_users",
        )
    return installation.tier


def _check_upgrade(*, order: Order, product: Product, kind: str, upgrade: str, upgrade_from: License | None) -> None:
    if upgrade not in (OrderLine.UPGRADE_NONE, OrderLine.UPGRADE_TIER, OrderLine.UPGRADE_VERSION):
        _refuse(_("Unbekannte Upgrade-Art."), "invalid_upgrade")
    if not upgrade:
        if upgrade_from is not None:
            _refuse(_("Bitte angeben, ob es ein Staffel- oder ein Versions-Upgrade ist."), "upgrade_kind_missing")
        return
    if upgrade_from is None:
        _refuse(_("Ein Upgrade braucht die Lizenz, die erweitert wird."), "upgrade_license_missing")
    if upgrade_from.product_id != product.pk:
        _refuse(_("Die Lizenz gehört nicht zu %(name)s.") % {"name": product.name}, "upgrade_other_module")
    if not upgrade_from.bindings.filter(installation=order.installation).exists():
        _refuse(_("Die Lizenz gehört nicht zu dieser Installation."), "upgrade_other_installation")
    if upgrade_from.state != License.ACTIVE:
        _refuse(_("Nur aktive Lizenzen können erweitert werden."), "upgrade_inactive")
    if upgrade_from.kind == License.SUBSCRIPTION:
        _refuse(
            _(
                "Im Abo sind Versions-Upgrades kostenlos, und ein Staffelwechsel ändert nur den Monatspreis ab der "
                "nächsten Abrechnungsperiode (ORD-6, ORD-7) – dafür ist keine Bestellung nötig."
            ),
            "upgrade_subscription",
        )
    if upgrade_from.kind != License.PURCHASE:
        _refuse(_("Nur gekaufte Lizenzen können kostenpflichtig erweitert werden."), "upgrade_not_purchase")
    if kind != OrderLine.PURCHASE:
        _refuse(_("Ein Upgrade wird gekauft, nicht gemietet."), "upgrade_not_purchase")
    if upgrade == OrderLine.UPGRADE_TIER and (product.pricing_model != Product.TIERED or not upgrade_from.tier):
        _refuse(
            _("%(name)s hat keine Benutzerstaffeln; ein Staffel-Upgrade gibt es nur für Module mit Staffelpreisen.")
            % {"name": product.name},
            "upgrade_not_tiered",
        )


@transaction.atomic
def order_line_add(
    *,
    order: Order,
    product: Product,
    kind: str,
    term_months: int = 0,
    quantity: int = 1,
    users: int | None = None,
    as_package: bool = False,
    upgrade: str = "",
    upgrade_from: License | None = None,
    service_plan: str = "",
    billing_months: int = rules.BILL_MONTHLY,
) -> OrderLine:
    """Add a line to a draft order and reprice the whole order (bundle and volume
    discounts depend on the other lines).

    The tier is the installation's (CAT-2); Teams Presence Sync is priced by ``users``
    (default: the installation's installed users, CAT-4). A module that already has an
    active paid key on the installation cannot be bought again: the refusal offers the
    tier upgrade (``upgrade="tier"`` with ``upgrade_from``, ORD-6). ``upgrade="version"``
    is a paid upgrade (ORD-7) priced with ``service_plan`` — when none is given, the plan in
    force on the server key today if it covers the upgraded licence (SUB-8,
    :func:`billing.selectors.upgrade_service_plan`). ``billing_months`` is a subscription's
    billing interval (SUB-3: 1, 3, 6, 12 or 0 = the whole minimum term; default monthly).
    SP-PREMIUM / SP-ENTERPRISE book the plan on confirmation: once per STARFACE server key.
    """
    order = _locked_draft(order)
    installation = order.installation
    _check_product(product, kind, term_months)
    _check_upgrade(order=order, product=product, kind=kind, upgrade=upgrade, upgrade_from=upgrade_from)
    if quantity < 1:
        _refuse(_("Bitte mindestens eine Lizenz bestellen."), "quantity")
    if as_package and kind != OrderLine.SUBSCRIPTION:
        _refuse(_("Nur Abos werden als Paket gebucht."), "package_not_subscription")
    if billing_months not in rules.BILLING_INTERVALS:
        _refuse(
            _(
                "Abrechnungsintervalle sind monatlich, vierteljährlich, halbjährlich, jährlich oder die ganze Mindestlaufzeit."
            ),
            "invalid_interval",
        )
    if billing_months != rules.BILL_MONTHLY and kind != OrderLine.SUBSCRIPTION:
        _refuse(_("Nur Abos haben ein Abrechnungsintervall."), "interval_not_subscription")
    _check_service_plan_line(installation, product, quantity)

    tier = ""
    if upgrade == OrderLine.UPGRADE_VERSION:
        tier = upgrade_from.tier  # the same tier in the new version
    elif product.pricing_model == Product.TIERED:
        tier = _tier_of(installation)
    if product.pricing_model == Product.PER_STARTED_5_USERS:
        users = users or installation.installed_users
        if not users:
            _refuse(_("Bitte die Anzahl der Benutzer angeben."), "users_missing")
    else:
        users = None

    if not upgrade:
        existing = selectors.active_paid_license(installation, product)
        if existing is not None:
            _refuse(
                _(
                    "Für %(name)s gibt es auf %(id)s bereits einen aktiven Schlüssel (Lizenz %(serial)s, Staffel %(tier)s); "
                    "ein Modul wird je Installation nur einmal gekauft. Für mehr Benutzer bitte das Staffel-Upgrade "
                    "bestellen – es kostet nur die Differenz der Kaufpreise."
                )
                % {
                    "name": product.name,
                    "id": installation.identifier,
                    "serial": existing.serial,
                    "tier": existing.tier or "—",
                },
                "already_licensed",
            )
        if order.lines.filter(product=product, upgrade_kind="").exists():
            _refuse(_("%(name)s steht bereits in dieser Bestellung.") % {"name": product.name}, "duplicate_line")
    elif order.lines.filter(upgrade_from=upgrade_from).exists():
        _refuse(_("Für diese Lizenz steht bereits ein Upgrade in der Bestellung."), "duplicate_upgrade")

    position = (order.lines.aggregate(m=Max("position"))["m"] or 0) + 1
    line = OrderLine(
        order=order,
        position=position,
        product=product,
        kind=kind,
        term_months=term_months,
        tier=tier,
        quantity=quantity,
        users=users,
        as_package=as_package,
        upgrade_kind=upgrade,
        upgrade_from=upgrade_from,
        service_plan=(
            service_plan
            or (
                selectors.upgrade_service_plan(installation, upgrade_from, order.order_date)
                if upgrade == OrderLine.UPGRADE_VERSION
                else ""
            )
        ).lower(),
        billing_months=billing_months,
    )
    line.full_clean()
    try:
        with transaction.atomic():
            line.save()
    except IntegrityError:  # a concurrent request added the same module
        _refuse(_("%(name)s steht bereits in dieser Bestellung.") % {"name": product.name}, "duplicate_line")
    _reprice(order)
    line.refresh_from_db()
    return line


def _check_service_plan_line(installation: Installation, product: Product, quantity: int) -> None:
    """SUB-8: a Premium/Enterprise plan is bound to one STARFACE server key, once per key."""
    from billing.services.subscriptions import SERVICE_PLAN_ARTICLES

    if product.article not in SERVICE_PLAN_ARTICLES:
        return
    from licensing.rules import SERVER_KEY

    if installation.identifier_kind != SERVER_KEY:
        _refuse(
            _("Service-Pläne werden an einen STARFACE-Serverlizenzschlüssel gebunden; %(id)s hat keinen.")
            % {"id": installation.identifier},
            "plan_not_server_key",
        )
    if quantity != 1:
        _refuse(_("Ein Service-Plan wird je Serverlizenzschlüssel einmal gebucht (Anzahl 1)."), "plan_quantity")
    existing = ServicePlan.objects.filter(installation=installation).first()
    if existing is not None:
        _refuse(
            _(
                "Für %(id)s ist bereits der Service-Plan %(ref)s gebucht; ein Service-Plan kann je "
                "Serverlizenzschlüssel nur einmal gebucht werden."
            )
            % {"id": installation.identifier, "ref": existing.reference},
            "plan_already_booked",
        )


@transaction.atomic
def order_price(*, order: Order) -> pricing.OrderBreakdown:
    """Reprice a draft from the rules and today's data: the order date moves to today, so
    the price list valid today (CAT-1), the installation's tier today (CAT-2) and the
    partner's conditions today (ORD-5) apply. Returns the new breakdown."""
    order = _locked_draft(order)
    _move_to_today(order)
    _reprice(order)
    maintenance = order.lines.filter(swp_kind__gt="").order_by("position").first()
    if maintenance is not None:
        # A Softwarepflege quote depends on the day (remaining days, lapse): quote it anew.
        order.lines.filter(swp_kind__gt="").delete()
        _maintenance_lines_add(
            order,
            swp_kind=maintenance.swp_kind,
            users=maintenance.swp_users if maintenance.swp_kind == OrderLine.SWP_ADD_USERS else None,
            months=maintenance.swp_months,
            position=maintenance.position,
        )
    return selectors.order_breakdown(order)


def _move_to_today(order: Order) -> None:
    today = clock.today()
    if order.order_date != today:
        order.order_date = today
        order.full_clean()
        order.save(update_fields=["order_date"])


# --- Softwarepflege (PBX Call Assist 5) in an order: issue 9 on top of SWP-3…SWP-9 ---------


def maintenance_quote(*, installation: Installation, swp_kind: str, users: int | None, months: int | None, today: date):
    """licensing's Call Assist quote for adding ``users`` to the running Softwarepflege
    (SWP-3) or renewing it for ``months`` (SWP-4…SWP-7), on ``today``; the rules'
    refusals come back as :class:`OrderRefused` with licensing's German message."""
    from licensing.exceptions import LicensingError
    from licensing.selectors.systems import system_facts
    from licensing.services.systems import call_assist_quote

    if swp_kind not in (OrderLine.SWP_ADD_USERS, OrderLine.SWP_RENEWAL):
        _refuse(_("Bitte „Benutzer hinzufügen“ oder „Verlängerung“ wählen."), "swp_kind")
    try:
        if installation.vendor == AUERSWALD and system_facts(installation).coverage_end is None:
            _refuse(
                _(
                    "Das System %(serial)s hat noch keine Softwarepflege. Die Erstbestellung von PBX Call Assist 5 "
                    "(Benutzerpakete mit Softwarepflege) nimmt der Vertrieb an; danach können Sie hier Benutzer "
                    "hinzufügen und verlängern."
                )
                % {"serial": installation.identifier},
                "swp_no_coverage",
            )
        if swp_kind == OrderLine.SWP_ADD_USERS:
            if users is None:
                _refuse(_("Bitte angeben, wie viele Benutzer hinzukommen."), "swp_users_missing")
            return call_assist_quote(installation=installation, users=users, months=None, today=today)
        if months is None:
            _refuse(_("Bitte 12 oder 36 Monate für die Verlängerung wählen."), "swp_months_missing")
        return call_assist_quote(installation=installation, users=None, months=months, today=today)
    except LicensingError as exc:
        _refuse(exc.message, f"swp_{exc.code}")


def _maintenance_lines_add(order: Order, *, swp_kind: str, users, months, position: int) -> list[OrderLine]:
    from licensing.rules import PACK_SIZES

    quote = maintenance_quote(
        installation=order.installation, swp_kind=swp_kind, users=users, months=months, today=order.order_date
    )
    products = {p.article: p for p in Product.objects.filter(article__in=[line.article for line in quote.lines])}
    lines = []
    for offset, item in enumerate(quote.lines):
        product = products.get(item.article)
        if product is None:
            _refuse(
                _("Artikel %(article)s fehlt im Katalog; bitte den Vertrieb fragen.") % {"article": item.article},
                "swp_article_missing",
            )
        is_pack = item.article in PACK_SIZES  # user licences: delivered on the day, no period
        line = OrderLine(
            order=order,
            position=position + offset,
            product=product,
            kind=OrderLine.PURCHASE,
            quantity=item.quantity,
            price_unit=pricing.UNIT_ONCE,
            list_price=item.unit_price,
            unit_net=item.unit_price,
            line_net=item.total,
            swp_kind=swp_kind,
            swp_users=quote.new_users if swp_kind == OrderLine.SWP_ADD_USERS else quote.users,
            swp_months=quote.months,
            period_start=None if is_pack else quote.coverage_start,
            period_end=None if is_pack else quote.coverage_end,
        )
        line.full_clean(validate_constraints=False)
        lines.append(line)
    return OrderLine.objects.bulk_create(lines)


@transaction.atomic
def order_maintenance_add(
    *, order: Order, swp_kind: str, users: int | None = None, months: int | None = None
) -> list[OrderLine]:
    """Put a Softwarepflege quote of the order's Auerswald system into a draft order: one
    line per article of licensing's quote (its article numbers and amounts; module
    discounts do not apply), with the coverage as the lines' service period.

    ``swp_kind="add_users"`` with ``users`` (SWP-3) or ``"renewal"`` with ``months`` 12 or
    36 for all the system's users (SWP-4…SWP-7). An order holds one quote (SWP-9: one
    purchase per system). Confirming the order books the coverage (:func:`order_confirm`).
    """
    order = _locked_draft(order)
    if order.lines.filter(swp_kind__gt="").exists():
        _refuse(
            _(
                "Diese Bestellung enthält bereits ein Softwarepflege-Angebot; je System und Bestellung gibt es eines "
                "(SWP-9)."
            ),
            "swp_twice",
        )
    _move_to_today(order)
    _reprice(order)
    position = (order.lines.aggregate(m=Max("position"))["m"] or 0) + 1
    return _maintenance_lines_add(order, swp_kind=swp_kind, users=users, months=months, position=position)


def _book_maintenance(order: Order, lines: list[OrderLine], by) -> None:
    """Confirming an order with Softwarepflege lines: quote again for today and book it
    through licensing's service (the one staff use). A quote that no longer matches the
    priced lines (another day, another booking on the system meanwhile) is refused, so
    the partner confirms only what was shown; the caller's draft → confirmed move makes
    this happen once per order."""
    from licensing.exceptions import LicensingError
    from licensing.services.systems import maintenance_confirm

    maintenance = [line for line in lines if line.is_maintenance]
    if not maintenance:
        return
    first = maintenance[0]
    quote = maintenance_quote(
        installation=order.installation,
        swp_kind=first.swp_kind,
        users=first.swp_users if first.swp_kind == OrderLine.SWP_ADD_USERS else None,
        months=first.swp_months,
        today=clock.today(),
    )
    priced = sorted((line.product.article, line.quantity, line.unit_net) for line in maintenance)
    fresh = sorted((item.article, item.quantity, item.unit_price) for item in quote.lines)
    periods = {(line.period_start, line.period_end) for line in maintenance if line.period_start}
    if priced != fresh or periods - {(quote.coverage_start, quote.coverage_end)}:
        _refuse(
            _(
                "Das Softwarepflege-Angebot vom %(date)s gilt heute nicht mehr (neuer Tag oder inzwischen auf dem "
                "System gebucht). Bitte den Preis neu berechnen und erneut bestätigen."
            )
            % {"date": format_date_de(order.order_date)},
            "stale_swp_quote",
        )
    try:
        maintenance_confirm(installation=order.installation, quote=quote, order_reference=order.reference, by=by)
    except LicensingError as exc:
        _refuse(exc.message, f"swp_{exc.code}")


@dataclass(frozen=True)
class LineWish:
    """One module line a partner asks for in the portal's order form."""

    product: Product
    kind: str
    term_months: int = 0
    quantity: int = 1
    users: int | None = None
    as_package: bool = False
    upgrade: str = ""
    upgrade_from: License | None = None


@transaction.atomic
def order_draft_place(
    *,
    partner: Partner,
    installation: Installation,
    token: str,
    lines: Sequence[LineWish] = (),
    swp_kind: str = "",
    swp_users: int | None = None,
    swp_months: int | None = None,
    delivery_email: str = "",
    invoice_email: str = "",
    by=None,
) -> Order:
    """The portal's "Preis berechnen": a priced draft order with all wished lines (and a
    Softwarepflege quote), all or nothing — the first refusal writes nothing.

    ``token`` is the form's one-time token: the same form posted twice returns the draft
    of the first post (the ``order_portal_token_unique`` constraint decides races).
    """
    token = (token or "").strip()
    if not token or len(token) > Order._meta.get_field("portal_token").max_length:
        _refuse(_("Das Formular ist abgelaufen; bitte die Seite neu laden."), "token")
    existing = Order.objects.filter(partner=partner, portal_token=token).first()
    if existing is not None:
        return existing
    if not lines and not swp_kind:
        _refuse(_("Bitte mindestens ein Modul, ein Upgrade oder Softwarepflege wählen."), "nothing_ordered")
    try:
        with transaction.atomic():
            order = order_create(
                partner=partner,
                installation=installation,
                created_by=by,
                delivery_email=delivery_email,
                invoice_email=invoice_email,
            )
            order.portal_token = token
            order.save(update_fields=["portal_token"])
    except IntegrityError:  # the same form, posted twice at once: the first one wins
        return Order.objects.get(partner=partner, portal_token=token)
    for wish in lines:
        order_line_add(
            order=order,
            product=wish.product,
            kind=wish.kind,
            term_months=wish.term_months,
            quantity=wish.quantity,
            users=wish.users,
            as_package=wish.as_package,
            upgrade=wish.upgrade,
            upgrade_from=wish.upgrade_from,
        )
    if swp_kind:
        order_maintenance_add(order=order, swp_kind=swp_kind, users=swp_users, months=swp_months)
    return order


def _purchase_day(license: License) -> date:
    return timezone.localdate(license.issued_at)


def _price(product: Product, kind: str, on: date, tier: str, term_months: int) -> Price:
    price = price_for(product=product, kind=kind, on=on, tier=tier, term_months=term_months)
    if price is None:
        variant = ", ".join(
            part
            for part in [
                _("Kauf") if kind == OrderLine.PURCHASE else _("Abo %(months)s Monate") % {"months": term_months},
                _("Staffel %(tier)s") % {"tier": tier} if tier else "",
            ]
            if part
        )
        raise PriceMissing(
            _(
                "Für %(name)s (%(variant)s) gibt es in der am %(date)s gültigen Preisliste keinen Preis. Bitte den "
                "Vertrieb bitten, ihn zu hinterlegen."
            )
            % {"name": product.name, "variant": variant, "date": format_date_de(on)},
            code="missing_price",
        )
    return price


def _request_and_price(
    line: OrderLine, on: date, installation: Installation
) -> tuple[pricing.LineRequest, pricing.ListPrice]:
    product = line.product
    if product.pricing_model == Product.TIERED and line.upgrade_kind != OrderLine.UPGRADE_VERSION:
        line.tier = _tier_of(installation)  # the tier the installation has today (CAT-2)
    price = _price(product, line.kind, on, line.tier, line.term_months)
    from_amount = None
    if line.upgrade_kind == OrderLine.UPGRADE_TIER:
        from_amount = _price(product, OrderLine.PURCHASE, on, line.upgrade_from.tier, 0).amount
    request = pricing.LineRequest(
        key=line.pk,
        article=product.article,
        name=product.name,
        kind=line.kind,
        term_months=line.term_months,
        tier=line.tier,
        quantity=line.quantity,
        users=line.users,
        per_started_5_users=product.pricing_model == Product.PER_STARTED_5_USERS,
        as_package=line.as_package,
        upgrade_kind=line.upgrade_kind,
        from_tier=line.upgrade_from.tier if line.upgrade_from_id else "",
        purchased_on=_purchase_day(line.upgrade_from) if line.upgrade_from_id else None,
        service_plan=line.service_plan,
    )
    return request, pricing.ListPrice(price.amount, price.unit, from_amount)


PRICE_FIELDS = [
    "tier",
    "price_unit",
    "list_price",
    "bundle_discount_percent",
    "volume_discount_percent",
    "partner_discount_percent",
    "upgrade_plan_percent",
    "upgrade_time_percent",
    "unit_net",
    "line_net",
]


def _reprice(order: Order) -> None:
    """Price every line of a locked draft and store each line's breakdown."""
    # Softwarepflege lines keep the amounts of licensing's quote (order_maintenance_add).
    lines = list(order.lines.filter(swp_kind="").select_related("product", "upgrade_from"))
    if not lines:
        return
    requests, prices = [], {}
    for line in lines:
        request, price = _request_and_price(line, order.order_date, order.installation)
        requests.append(request)
        prices[line.pk] = price
    partner = order.partner
    level = partner.level
    partner_percent = rules.partner_discount_percent(
        grants_conditions=bool(level and level.grants_partner_conditions),
        level_percent=level.discount_percent if level else 0,
        status_confirmed_on=partner.status_confirmed_on,
        order_date=order.order_date,
    )
    priced = pricing.price_lines(
        requests,
        prices,
        order_date=order.order_date,
        bundles=selectors.bundle_articles(),
        partner_percent=partner_percent,
    )
    for line, breakdown in zip(lines, priced):
        line.price_unit = breakdown.unit
        line.list_price = breakdown.list_price
        line.bundle_discount_percent = breakdown.bundle_percent
        line.volume_discount_percent = breakdown.volume_percent
        line.partner_discount_percent = breakdown.partner_percent
        line.upgrade_plan_percent = breakdown.upgrade_plan_percent
        line.upgrade_time_percent = breakdown.upgrade_time_percent
        line.unit_net = breakdown.unit_net
        line.line_net = breakdown.line_net
        line.full_clean(validate_unique=False, validate_constraints=False)
        line.save(update_fields=PRICE_FIELDS)


@transaction.atomic
def order_cancel(*, order: Order, by=None) -> Order:
    """Cancel an order (ORD-9): business customers have no right of withdrawal, so an
    order can be cancelled only until its key is generated (LIC-8)."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    keys_generated = License.objects.filter(order_lines__order=order).exists()
    refusal = rules.cancel_refusal(state=order.state, keys_generated=keys_generated)
    if refusal:
        raise OrderNotCancellable(refusal, code="not_cancellable")
    order.move_to(Order.CANCELLED)
    if by is not None:
        order._history_user = by
    order.save(update_fields=["state"])
    return order


# --- Invoices and credit notes (INV-1…INV-4, ORD-2, ORD-8, GEN-2) ------------------------------
#
# An invoice is issued in one transaction: number (gap-free per year and kind, taken in that
# transaction), lines, totals and the e-mail written to the outbox. A rolled-back issue leaves
# no number, no row and no e-mail.
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

INVOICE_KIND = "invoice"  # outbox kinds, registered in BillingConfig.ready
CREDIT_NOTE_KIND = "credit-note"
REMINDER_KIND = "invoice-reminder"
REMINDER_AFTER_DAYS = 7  # the friendly reminder goes out 7 days after the due date
UNIT_CODES = {pricing.UNIT_ONCE: "C62", pricing.UNIT_MONTH: "MON", pricing.UNIT_YEAR: "ANN"}
NUMBER_WIDTH = rules.NUMBER_DIGITS
DOCUMENT_LANGUAGE = "de"


def _invoice_refuse(message: str, code: str):
    raise InvoiceRefused(message, code=code)


def _render_invoice_pdf(doc) -> bytes:
    """The one call into the invoice PDF renderer (INV-2, INV-4): PDF/A-3 with the Factur-X XML."""
    from billing.invoice_pdf import invoice_pdf

    with translation.override(DOCUMENT_LANGUAGE):
        return invoice_pdf(doc)


def _next_number(kind: str, year: int) -> str:
    prefix = rules.INVOICE_PREFIX if kind == Invoice.INVOICE else rules.CREDIT_NOTE_PREFIX
    return next_document_number(prefix, year, width=NUMBER_WIDTH)


def _store_pdf(invoice: Invoice, pdf_bytes: bytes) -> None:
    # Called with the invoice row locked (PostgreSQL) or the write lock held (SQLite) and its
    # PDF still empty: the file is written only by the one caller that stores it.
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf_bytes), save=False)
    invoice.save(update_fields=["pdf"])


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
    """The stored PDF's bytes, rendering it first if it is not stored yet."""
    invoice = invoice_pdf_ensure(invoice)
    with invoice.pdf.open("rb") as stored:
        return stored.read()


def _line_description(line: OrderLine) -> str:
    if line.is_maintenance:
        return ", ".join(
            [
                line.product.name,
                line.get_swp_kind_display(),
                _("System %(serial)s") % {"serial": line.order.installation.identifier},
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
    return ", ".join(parts)


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


def _payment_terms(order: Order, lines: list[OrderLine], issue_date: date):
    """ORD-8 over the order: any purchase line makes it a purchase invoice; an order of
    subscriptions only is a subscription invoice whose monthly net decides direct debit."""
    partner = order.partner
    mandate = selectors.partner_mandate(partner)
    if any(line.kind == OrderLine.PURCHASE for line in lines):
        kind, monthly = rules.PURCHASE, None
    else:
        kind = rules.SUBSCRIPTION
        monthly = sum((line.line_net for line in lines if line.price_unit == pricing.UNIT_MONTH), ZERO)
        if any(line.price_unit != pricing.UNIT_MONTH for line in lines):
            monthly = sum((line.line_net for line in lines), ZERO)  # yearly amounts are never debited monthly
            monthly = max(monthly, rules.DIRECT_DEBIT_LIMIT + CENT)
    terms = rules.payment_terms(kind, monthly, mandate is not None, partner.prepayment_required, issue_date)
    return terms, mandate


def _invoice_mail(invoice: Invoice) -> tuple[str, str]:
    with translation.override(DOCUMENT_LANGUAGE):
        if invoice.is_credit_note:
            subject = _("Gutschrift %(number)s zu Rechnung %(invoice)s") % {
                "number": invoice.number,
                "invoice": invoice.credited_invoice.number,
            }
            intro = _(
                "anbei erhalten Sie die Gutschrift %(number)s über %(gross)s zu unserer Rechnung %(invoice)s."
            ) % {
                "number": invoice.number,
                "gross": format_eur(invoice.gross_total),
                "invoice": invoice.credited_invoice.number,
            }
        else:
            subject = _("Rechnung %(number)s") % {"number": invoice.number}
            if invoice.order_id:
                subject += " – " + _("Bestellung %(ref)s") % {"ref": invoice.order.reference}
            intro = _("anbei erhalten Sie unsere Rechnung %(number)s über %(gross)s.") % {
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


def _enqueue_document_mail(invoice: Invoice, dedup_key: str):
    subject, body = _invoice_mail(invoice)
    return outbox_enqueue(
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


def _order_invoice_lines(order: Order, lines: list[OrderLine], issue_date: date, vat_code: str, percent: Decimal):
    """The unsaved invoice lines of an order invoice, each with the owner of its billed
    period (``{"subscription": …}`` / ``{"service_plan": …}``) or None.

    - purchases (and lines without a subscription or plan): as priced, :func:`_service_period`;
    - a subscription signed after the 1st: the first partial month (SUB-2), signing day to
      the day before the term start, ``first_month_charge(monthly price × licences)`` as one
      line of quantity 1; signed on the 1st: the first regular billing period (SUB-3,
      term start … period end), months × (monthly price × licences);
    - a service plan (SUB-8): the first plan year, yearly in advance.
    """
    subscriptions = {s.order_line_id: s for s in Subscription.objects.filter(order_line__order=order)}
    plans = {p.order_line_id: p for p in ServicePlan.objects.filter(order_line__order=order)}
    billed = []
    for line in lines:
        description = _line_description(line)
        owner = None
        subscription = subscriptions.get(line.pk)
        plan = plans.get(line.pk)
        if subscription is not None:
            owner = {"subscription": subscription}
            per_month = subscription.monthly_price * subscription.quantity
            if subscription.signed_on < subscription.term_start:
                start, end = subscription.signed_on, subscription.term_start - timedelta(days=1)
                amount = rules.first_month_charge(per_month, subscription.signed_on)
                quantity, unit, unit_price = Decimal(1), "C62", amount
                description += ", " + _("anteilig %(start)s–%(end)s (%(days)s von %(month)s Tagen)") % {
                    "start": format_date_de(start),
                    "end": format_date_de(end),
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
                months = rules.months_in_period(period.start, period.end)
                quantity, unit, unit_price = Decimal(months), "MON", per_month
                amount = per_month * months
            if subscription.quantity > 1:
                description += ", " + _("%(count)s Lizenzen") % {"count": subscription.quantity}
        elif plan is not None:
            owner = {"service_plan": plan}
            year = rules.service_plan_year(plan.starts_on, plan.billed_from)
            start, end = year.start, year.end
            quantity, unit, unit_price, amount = Decimal(1), "ANN", plan.yearly_price, plan.yearly_price
            description += ", " + _("Planjahr %(start)s–%(end)s") % {
                "start": format_date_de(start),
                "end": format_date_de(end),
            }
        else:
            start, end = _service_period(line, issue_date)
            quantity, unit, unit_price, amount = (
                Decimal(line.quantity),
                UNIT_CODES[line.price_unit],
                line.unit_net,
                line.line_net,
            )
        invoice_line = InvoiceLine(
            article=line.product.article,
            description=description[:300],
            quantity=quantity,
            unit=unit,
            unit_price=unit_price,
            net_total=amount,
            vat_category=vat_code,
            vat_percent=percent,
            period_start=start,
            period_end=end,
            order_line=line,
        )
        billed.append((invoice_line, owner))
    return billed


def invoice_vat(partner: Partner, issue_date: date, *, rates: dict | None = None) -> tuple[rules.VatTreatment, Decimal]:
    """The partner's VAT treatment (GEN-2) and the rate of its category valid on the issue
    date. ``rates`` caches the rate per category for a caller issuing many invoices on one day."""
    treatment = rules.vat_treatment(partner.country, partner.vat_id)
    if rates is None:
        return treatment, selectors.vat_rate_on(treatment.code, issue_date)
    if treatment.code not in rates:
        rates[treatment.code] = selectors.vat_rate_on(treatment.code, issue_date)
    return treatment, rates[treatment.code]


def invoice_new(
    *,
    partner: Partner,
    issue_date: date,
    email: str,
    treatment: rules.VatTreatment,
    nets: list[tuple[Decimal, Decimal]],
    terms: rules.PaymentTerms,
    mandate: SepaMandate | None,
    by=None,
    order: Order | None = None,
    validate: bool = True,
) -> Invoice:
    """An invoice ready to save (INV-1, GEN-2, ORD-8), shared by the order invoice and the
    monthly invoicing run: its number taken now (so call it inside the transaction that
    saves it, after everything that may refuse), totals per rate from ``nets`` (line net,
    VAT percent), buyer as the partner is today, payment terms. Validated (unless the caller
    built every value itself: ``validate=False``; the database's constraints still hold), not
    saved."""
    net = sum(rules.net_by_rate(nets).values(), ZERO)
    vat = sum(rules.vat_amounts(nets).values(), ZERO)
    direct_debit = terms.means == rules.DIRECT_DEBIT
    invoice = Invoice(
        kind=Invoice.INVOICE,
        number=_next_number(Invoice.INVOICE, issue_date.year),
        issue_date=issue_date,
        issued_at=clock.now(),
        issued_by=by,
        email=email,
        order=order,
        vat_category=treatment.code,
        vat_note=treatment.note,
        net_total=net,
        vat_total=vat,
        gross_total=net + vat,
        payment_means=terms.means,
        due_date=terms.due_date,
        payment_terms=terms.text,
        mandate_reference=mandate.reference if direct_debit else "",
        debtor_iban=mandate.iban if direct_debit else "",
        **_buyer_fields(partner),
    )
    if validate:
        invoice.full_clean(exclude=["pdf"], validate_constraints=False)
    return invoice


def invoice_deliver(invoice: Invoice, *, render_pdf: bool = True) -> None:
    """In the issuing transaction: the invoice's e-mail written to the outbox (STYLE 13) and,
    with ``render_pdf``, its PDF queued to be rendered right after commit in this process
    (queued before the e-mail's wake-up, so the worker sending it finds the PDF stored).
    ``render_pdf=False`` leaves the PDF to whoever reads it first — the outbox worker sending
    the e-mail, a download (see :func:`invoice_pdf_ensure`)."""
    _pdf_queue(invoice, render_pdf)
    _enqueue_document_mail(invoice, f"{INVOICE_KIND}:{invoice.pk}:initial")


def _pdf_queue(invoice: Invoice, render_pdf: bool = True) -> None:
    if render_pdf:
        transaction.on_commit(partial(_pdf_after_commit, invoice.pk), robust=True)


@transaction.atomic
def invoice_issue_for_order(*, order: Order, by=None) -> Invoice:
    """Issue the invoice of a confirmed order (INV-1, INV-2, GEN-2, ORD-8): lines as
    priced (the order's stored breakdown), VAT by the partner's treatment and the rate
    valid on the issue date, totals per rate, payment terms; PDF stored; e-mail to the
    order's invoice e-mail through the outbox. An order is invoiced once: a second call
    returns the invoice (the ``invoice_once_per_order`` constraint decides races)."""
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
    billed = _order_invoice_lines(order, lines, issue_date, treatment.code, percent)
    terms, mandate = _payment_terms(order, lines, issue_date)
    invoice = invoice_new(
        partner=partner,
        issue_date=issue_date,
        email=order.invoice_email,
        treatment=treatment,
        nets=[(invoice_line.net_total, percent) for invoice_line, _owner in billed],
        terms=terms,
        mandate=mandate,
        by=by,
        order=order,
    )
    try:
        with transaction.atomic():
            invoice.save()
    except IntegrityError:  # a concurrent issue for this order committed first
        existing = Invoice.objects.filter(order=order, kind=Invoice.INVOICE).first()
        if existing is None:
            raise
        return existing
    for position, (invoice_line, owner) in enumerate(billed, start=1):
        invoice_line.invoice = invoice
        invoice_line.position = position
        invoice_line.save()
        if owner is not None:
            # INV-3: the period is billed once — the monthly run never bills it again.
            BilledPeriod.objects.create(
                **owner,
                period_start=invoice_line.period_start,
                period_end=invoice_line.period_end,
                amount=invoice_line.net_total,
                invoice_line=invoice_line,
            )
    invoice_deliver(invoice)
    return invoice


def _latest_version(product: Product):
    version = product.versions.order_by("-released_on", "-id").first()
    if version is None:
        _refuse(
            _("Für %(name)s ist noch keine Modulversion veröffentlicht; es kann kein Schlüssel erzeugt werden.")
            % {"name": product.name},
            "no_version",
        )
    return version


def _issue_requests(order: Order, lines: list[OrderLine], subscription_references: dict[int, str] | None = None):
    from licensing.services.licenses import IssueRequest

    requests, owners = [], []
    for line in lines:
        if line.product.kind != Product.MODULE:
            continue  # SaaS and service plans have no licence key
        if line.upgrade_kind == OrderLine.UPGRADE_TIER:
            version = line.upgrade_from.module_version  # ORD-6: the new key keeps the bought version
        else:
            version = _latest_version(line.product)
        for _n in range(line.quantity):
            requests.append(
                IssueRequest(
                    product=line.product,
                    installation=order.installation,
                    version=version,
                    kind=License.SUBSCRIPTION if line.kind == OrderLine.SUBSCRIPTION else License.PURCHASE,
                    tier=line.tier or None,
                    order_reference=order.reference,
                    subscription_reference=(subscription_references or {}).get(
                        line.pk, f"{order.reference}-{line.position}"
                    )
                    if line.kind == OrderLine.SUBSCRIPTION
                    else "",
                    replaces=line.upgrade_from,
                )
            )
            owners.append(line)
    return requests, owners


@transaction.atomic
def order_confirm(*, order: Order, by=None) -> Invoice:
    """Confirm an order (ORD-2): issue its keys through licensing's batch service with
    the delivery notes and their e-mails to the delivery e-mail, then the invoice to the
    invoice e-mail — the delivery e-mails are written first. draft → confirmed → fulfilled.

    Atomic and idempotent: the order row is locked and moved out of draft by a
    conditional UPDATE, so of two confirmations one issues and the other returns the
    same invoice; a refusal (a key licensing will not issue) writes nothing.
    """
    locked = Order.objects.select_for_update(of=("self",)).select_related("partner", "installation").get(pk=order.pk)
    if locked.state in (Order.CONFIRMED, Order.FULFILLED):
        existing = Invoice.objects.filter(order=locked, kind=Invoice.INVOICE).first()
        if existing is not None:
            return existing
    elif locked.state != Order.DRAFT:
        _refuse(
            _("Die Bestellung %(ref)s ist „%(state)s“ und kann nicht bestätigt werden.")
            % {"ref": locked.reference, "state": locked.get_state_display()},
            "not_confirmable",
        )
    lines = list(selectors.order_lines(locked))
    if not lines:
        _refuse(_("Eine Bestellung ohne Positionen kann nicht bestätigt werden."), "no_lines")
    if locked.state == Order.DRAFT:
        locked.move_to(Order.CONFIRMED)
        if not Order.objects.filter(pk=locked.pk, state=Order.DRAFT).update(state=Order.CONFIRMED):
            # Confirmed meanwhile (a database without row locks): that confirmation issues.
            existing = Invoice.objects.filter(order=locked, kind=Invoice.INVOICE).first()
            if existing is not None:
                return existing
            _refuse(_("Die Bestellung wird gerade bestätigt; bitte neu laden."), "confirming")
        _book_maintenance(locked, lines, by)
        from billing.services.subscriptions import subscriptions_create_for_order

        contracts = subscriptions_create_for_order(order=locked, lines=lines, signed_on=clock.today(), by=by)
        references = {pk: c.reference for pk, c in contracts.items() if isinstance(c, Subscription)}
        requests, owners = _issue_requests(locked, lines, references)
        if requests:
            from licensing.services.licenses import licenses_issue

            licenses = licenses_issue(requests=requests, issued_by=by, recipient_email=locked.delivery_email)
            for line, lic in zip(owners, licenses):
                line.licenses.add(lic)
                if line.pk in references:
                    contracts[line.pk].licenses.add(lic)
    invoice = invoice_issue_for_order(order=locked, by=by)
    locked.refresh_from_db(fields=["state"])
    locked.move_to(Order.FULFILLED)
    if by is not None:
        locked._history_user = by
    locked.save(update_fields=["state"])
    return invoice


def _locked_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)


def _settle_state(invoice: Invoice) -> None:
    """State from the amounts: fully credited → cancelled; the rest paid → paid."""
    credited = selectors.invoice_credited(invoice)["gross"]
    if credited >= invoice.gross_total:
        invoice.move_to(Invoice.CANCELLED)
    elif invoice.paid_amount + credited >= invoice.gross_total:
        invoice.move_to(Invoice.PAID)


@transaction.atomic
def credit_note_issue(*, invoice: Invoice, lines=None, reason: str, by=None) -> Invoice:
    """A credit note (Gutschrift, INV-1) for all of an invoice (``lines=None``) or some of
    its lines, ``[(invoice_line, quantity), …]``: own number ``GS-YYYY-NNNNNN``, references
    the invoice, same VAT treatment. Refuses crediting more than was invoiced (less what
    earlier credit notes took back). A fully credited invoice becomes cancelled.
    """
    invoice = _locked_invoice(invoice)
    reason = (reason or "").strip()
    if invoice.is_credit_note:
        _invoice_refuse(_("Eine Gutschrift wird nicht gutgeschrieben."), "credit_of_credit_note")
    if not reason:
        _invoice_refuse(_("Bitte den Grund der Gutschrift angeben."), "no_reason")
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
                _("%(number)s ist bereits vollständig gutgeschrieben.") % {"number": invoice.number}, "fully_credited"
            )
    else:
        wanted = []
        by_pk = {line.pk: line for line in all_lines}
        for line, quantity in lines:
            if getattr(line, "pk", None) not in by_pk:
                _invoice_refuse(_("Die Position gehört nicht zu %(number)s.") % {"number": invoice.number}, "foreign")
            quantity = Decimal(quantity)
            if quantity <= 0:
                _invoice_refuse(_("Bitte eine Menge größer 0 gutschreiben."), "quantity")
            wanted.append((by_pk[line.pk], quantity))
        if not wanted:
            _invoice_refuse(_("Bitte mindestens eine Position gutschreiben."), "no_lines")
        if len({line.pk for line, _q in wanted}) < len(wanted):
            _invoice_refuse(_("Jede Position nur einmal angeben."), "duplicate_line")
    credit_lines = []
    for position, (line, quantity) in enumerate(wanted, start=1):
        left_qty, left_net = remaining[line.pk]
        if quantity > left_qty:
            _invoice_refuse(
                _("Position %(pos)s (%(text)s): Gutgeschrieben werden können höchstens noch %(left)s, nicht %(qty)s.")
                % {"pos": line.position, "text": line.description, "left": _qty(left_qty), "qty": _qty(quantity)},
                "more_than_invoiced",
            )
        # The rest of a line is exactly the rest of its net, so full credits add up to the cent.
        net = left_net if quantity == left_qty else round_cents(quantity * line.unit_price)
        credit_lines.append(
            InvoiceLine(
                position=position,
                article=line.article,
                description=line.description,
                quantity=quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                net_total=net,
                vat_category=line.vat_category,
                vat_percent=line.vat_percent,
                period_start=line.period_start,
                period_end=line.period_end,
                order_line=line.order_line,
                credited_line=line,
            )
        )
    nets = [(line.net_total, line.vat_percent) for line in credit_lines]
    net = sum(rules.net_by_rate(nets).values(), ZERO)
    vat = sum(rules.vat_amounts(nets).values(), ZERO)
    takes_rest = all(remaining[line.pk][0] == quantity for line, quantity in wanted) and len(wanted) == sum(
        1 for line in all_lines if remaining[line.pk][0] > 0
    )
    if takes_rest:  # the last credit note takes back exactly what is left, VAT included
        net = invoice.net_total - credited["net"]
        vat = invoice.vat_total - credited["vat"]
    issue_date = clock.today()
    note = Invoice(
        kind=Invoice.CREDIT_NOTE,
        number=_next_number(Invoice.CREDIT_NOTE, issue_date.year),
        issue_date=issue_date,
        issued_at=clock.now(),
        issued_by=by,
        partner=invoice.partner,
        buyer_name=invoice.buyer_name,
        buyer_street=invoice.buyer_street,
        buyer_postal_code=invoice.buyer_postal_code,
        buyer_city=invoice.buyer_city,
        buyer_country=invoice.buyer_country,
        buyer_vat_id=invoice.buyer_vat_id,
        email=invoice.email,
        order=invoice.order,
        credited_invoice=invoice,
        reason=reason,
        vat_category=invoice.vat_category,
        vat_note=invoice.vat_note,
        net_total=net,
        vat_total=vat,
        gross_total=net + vat,
        payment_means=rules.TRANSFER,
        due_date=None,
        payment_terms=_("Der Betrag wird mit offenen Rechnungen verrechnet oder auf Ihr Konto erstattet."),
        state=Invoice.OPEN,
    )
    note.full_clean(exclude=["pdf"], validate_constraints=False)
    note.save()
    for line in credit_lines:
        line.invoice = note
    InvoiceLine.objects.bulk_create(credit_lines)
    _settle_state(invoice)
    invoice.save(update_fields=["state"])
    _pdf_queue(note)
    _enqueue_document_mail(note, f"{CREDIT_NOTE_KIND}:{note.pk}:initial")
    return note


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


@transaction.atomic
def payment_record(*, invoice: Invoice, amount, paid_on: date, by=None) -> Payment:
    """Record a payment (full or partial) on an invoice; it is paid when the payments and
    the credit notes reach its gross. Refuses overpayment, a payment on a credit note or
    a cancelled invoice, and a date in the future."""
    invoice = _locked_invoice(invoice)
    amount = round_cents(D(str(amount)) if not isinstance(amount, Decimal) else amount)
    if invoice.is_credit_note:
        _invoice_refuse(_("Zahlungen werden auf Rechnungen erfasst, nicht auf Gutschriften."), "credit_note")
    if invoice.state in (Invoice.CANCELLED, Invoice.PAID):
        _invoice_refuse(
            _("%(number)s ist „%(state)s“; es ist nichts mehr offen.")
            % {"number": invoice.number, "state": invoice.get_state_display()},
            "nothing_due",
        )
    if amount <= 0:
        _invoice_refuse(_("Bitte einen Betrag größer 0 angeben."), "amount")
    if paid_on > clock.today():
        _invoice_refuse(_("Das Zahlungsdatum liegt in der Zukunft."), "future")
    if paid_on < invoice.issue_date:
        _invoice_refuse(_("Das Zahlungsdatum liegt vor dem Rechnungsdatum."), "before_issue")
    due = selectors.invoice_amount_due(invoice)
    if amount > due:
        _invoice_refuse(
            _("Offen sind noch %(due)s; %(amount)s ist mehr. Bitte den Betrag prüfen.")
            % {"due": format_eur(due), "amount": format_eur(amount)},
            "overpayment",
        )
    payment = Payment(invoice=invoice, amount=amount, paid_on=paid_on, recorded_at=clock.now(), recorded_by=by)
    payment.full_clean()
    payment.save()
    invoice.paid_amount += amount
    _settle_state(invoice)
    invoice.save(update_fields=["paid_amount", "state"])
    return payment


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


def _reminder_mail(invoice: Invoice, due: Decimal) -> tuple[str, str]:
    with translation.override(DOCUMENT_LANGUAGE):
        subject = _("Freundliche Zahlungserinnerung: Rechnung %(number)s") % {"number": invoice.number}
        body = "\n".join(
            [
                _("Guten Tag,"),
                "",
                _(
                    "sicher ist es im Alltag untergegangen: Unsere Rechnung %(number)s vom %(date)s über %(gross)s "
                    "war am %(due_date)s fällig, und bei uns ist noch kein vollständiger Zahlungseingang verbucht."
                )
                % {
                    "number": invoice.number,
                    "date": format_date_de(invoice.issue_date),
                    "gross": format_eur(invoice.gross_total),
                    "due_date": format_date_de(invoice.due_date),
                },
                _("Offen sind noch %(due)s. Wir freuen uns, wenn Sie den Betrag in den nächsten Tagen überweisen.")
                % {"due": format_eur(due)},
                "",
                _(
                    "Sollte sich Ihre Zahlung mit dieser Erinnerung überschnitten haben, betrachten Sie diese E-Mail "
                    "bitte als gegenstandslos. Die Rechnung liegt noch einmal als PDF bei."
                ),
                "",
                _("Mit freundlichen Grüßen"),
                settings.VENDOR["name"],
            ]
        )
    return subject, body


@dataclass(frozen=True)
class OverdueResult:
    marked_overdue: int
    reminders: int

    def summary(self) -> str:
        return _("überfällig markiert: %(overdue)s; Zahlungserinnerungen: %(reminders)s") % {
            "overdue": self.marked_overdue,
            "reminders": self.reminders,
        }


@transaction.atomic
def invoices_overdue(*, today: date | None = None) -> OverdueResult:
    """The daily job: open invoices past their due date become overdue; an overdue invoice
    gets ONE friendly reminder e-mail 7 days after its due date (outbox, key
    ``invoice-reminder:<pk>``, so re-runs and two workers write one)."""
    today = today or clock.today()
    marked = Invoice.objects.filter(kind=Invoice.INVOICE, state=Invoice.OPEN, due_date__lt=today).update(
        state=Invoice.OVERDUE
    )
    reminders = 0
    due_for_reminder = (
        Invoice.objects.select_for_update(of=("self",))
        .filter(
            kind=Invoice.INVOICE,
            state=Invoice.OVERDUE,
            reminder_sent_at__isnull=True,
            due_date__lte=today - timedelta(days=REMINDER_AFTER_DAYS),
        )
        .order_by("number")
    )
    for invoice in due_for_reminder:
        subject, body = _reminder_mail(invoice, selectors.invoice_amount_due(invoice))
        outbox_enqueue(
            kind=REMINDER_KIND,
            dedup_key=f"{REMINDER_KIND}:{invoice.pk}",
            recipients=[invoice.email],
            subject=subject,
            body=body,
            document=invoice,
            from_email=settings.DEFAULT_FROM_EMAIL,
        )
        Invoice.objects.filter(pk=invoice.pk).update(reminder_sent_at=clock.now())
        reminders += 1
    return OverdueResult(marked, reminders)


# --- SEPA mandates and direct-debit batches (ORD-8) ---------------------------


def _mandate_save(mandate: SepaMandate, by=None) -> SepaMandate:
    mandate.full_clean()
    mandate._history_user = by  # who changed it, in the mandate's history
    try:
        with transaction.atomic():
            mandate.save()
    except IntegrityError:
        # Two saves racing past full_clean: the partial unique constraint refuses the second.
        raise SepaMandateRefused(
            _("Dieser Partner hat schon ein aktives SEPA-Mandat, oder die Mandatsreferenz ist vergeben."),
            code="mandate_conflict",
        ) from None
    return mandate


@transaction.atomic
def sepa_mandate_create(
    *, partner: Partner, iban: str, reference: str, signed_on: date, bic: str = "", account_holder: str = "", by=None
) -> SepaMandate:
    """Record a signed mandate; refused (``ValidationError``) if the partner has an active one."""
    mandate = SepaMandate(
        partner=partner,
        iban=iban,
        bic=bic,
        reference=reference,
        signed_on=signed_on,
        account_holder=(account_holder or "").strip(),
    )
    return _mandate_save(mandate, by)


PORTAL_MANDATE_PREFIX = "VP"


@transaction.atomic
def sepa_mandate_enter(
    *, partner: Partner, account_holder: str, iban: str, bic: str, signed_on: date, by=None
) -> SepaMandate:
    """A partner enters a new signed mandate in the portal: the active one (if any) is
    revoked today and the new one recorded, both or neither. The mandate reference is
    the vendor's, ``VP-<partner>-<n>`` (n counts the partner's mandates)."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)  # one new mandate at a time
    active = selectors.partner_mandate(partner)
    if active is not None:
        sepa_mandate_revoke(mandate=active, on=max(clock.today(), active.signed_on), by=by)
    number = SepaMandate.objects.filter(partner=partner).count() + 1
    return sepa_mandate_create(
        partner=partner,
        iban=iban,
        bic=bic,
        reference=f"{PORTAL_MANDATE_PREFIX}-{partner.pk:06d}-{number:03d}",
        signed_on=signed_on,
        account_holder=account_holder,
        by=by,
    )


@transaction.atomic
def sepa_mandate_update(
    *, mandate: SepaMandate, iban: str, bic: str, reference: str, signed_on: date, by=None
) -> SepaMandate:
    """Correct an active mandate's data (e.g. a new account of the same debtor)."""
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if not locked.is_active:
        raise SepaMandateRefused(_("Ein widerrufenes Mandat kann nicht mehr geändert werden."), code="mandate_revoked")
    locked.iban, locked.bic, locked.reference, locked.signed_on = iban, bic, reference, signed_on
    return _mandate_save(locked, by)


@transaction.atomic
def sepa_mandate_revoke(*, mandate: SepaMandate, on: date | None = None, by=None) -> SepaMandate:
    """Revoke the mandate (today unless ``on`` is given); no later collection may use it."""
    locked = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    locked.revoke(on or clock.today())
    locked._history_user = by
    locked.save(update_fields=["revoked_on"])
    return locked


def _collection_refused(message: str, code: str):
    raise SepaCollectionRefused(message, code=code)


def sepa_batch_create(*, collections: Sequence[sepa.DueCollection], collection_date: date, by=None) -> SepaBatch:
    """Write one pain.008 batch for ``collections`` and record it, all or nothing.

    The caller selects the due direct-debit invoices and passes them as plain values
    (number, gross, mandate reference). This service locks the mandates, refuses a
    revoked or unknown mandate and an invoice that is already in a batch, gives each
    mandate's first collection the sequence type FRST while the mandate has never been
    submitted (later ones RCUR), builds and schema-validates the file, stores it with
    one item per invoice and moves the submitted mandates to RCUR. The unique
    end-to-end id of the items is the database's guard against collecting an invoice
    twice, also when two exports run at once.
    """
    try:
        return _sepa_batch_create(collections=collections, collection_date=collection_date, by=by)
    except IntegrityError:
        raise SepaCollectionRefused(
            _("Eine dieser Rechnungen wurde gerade in einer anderen Lastschriftdatei eingereicht; bitte neu starten."),
            code="sepa_already_collected",
        ) from None


@transaction.atomic
def _sepa_batch_create(*, collections, collection_date: date, by) -> SepaBatch:
    if not collections:
        _collection_refused(_("Es gibt keine Lastschriften einzureichen."), "sepa_empty")
    if collection_date <= clock.today():
        _collection_refused(
            _("Der Einzugstag %(date)s muss nach dem heutigen Tag liegen.") % {"date": format_date_de(collection_date)},
            "sepa_collection_date",
        )
    numbers = [c.end_to_end_id for c in collections]
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    if twice:
        _collection_refused(
            _("Doppelt übergeben: %(numbers)s.") % {"numbers": ", ".join(twice)}, "sepa_duplicate_input"
        )
    mandates = {
        m.reference: m
        for m in SepaMandate.objects.select_for_update(of=("self",))
        .select_related("partner")
        .filter(reference__in={c.mandate_reference for c in collections})
        .order_by("pk")
    }
    for c in collections:
        mandate = mandates.get(c.mandate_reference)
        if mandate is None or not mandate.is_active:
            _collection_refused(
                _("%(number)s: das SEPA-Mandat %(reference)s ist unbekannt oder widerrufen.")
                % {"number": c.end_to_end_id, "reference": c.mandate_reference},
                "sepa_mandate_inactive",
            )
    done = sorted(SepaBatchItem.objects.filter(end_to_end_id__in=numbers).values_list("end_to_end_id", flat=True))
    if done:
        _collection_refused(
            _("Schon in einer Lastschriftdatei eingereicht: %(numbers)s.") % {"numbers": ", ".join(done)},
            "sepa_already_collected",
        )

    first_used: set[str] = set()
    lines: list[sepa.Collection] = []
    for c in sorted(collections, key=lambda c: c.end_to_end_id):
        mandate = mandates[c.mandate_reference]
        is_first = mandate.sequence_type == SepaMandate.FRST and mandate.reference not in first_used
        first_used.add(mandate.reference)
        lines.append(
            sepa.Collection(
                end_to_end_id=c.end_to_end_id,
                amount=c.amount,
                mandate_reference=mandate.reference,
                mandate_signed_on=mandate.signed_on,
                sequence_type=sepa.FRST if is_first else sepa.RCUR,
                debtor_name=mandate.account_holder or mandate.partner.company,
                debtor_iban=mandate.iban,
                debtor_bic=mandate.bic,
                remittance=c.remittance or _("Rechnung %(number)s") % {"number": c.end_to_end_id},
            )
        )
    now = clock.now()
    message_id = next_document_number("SEPA", clock.today().year)
    xml = sepa.build_pain008(
        creditor=selectors.sepa_creditor(),
        collections=lines,
        collection_date=collection_date,
        message_id=message_id,
        created_at=timezone.localtime(now),
    )
    batch = SepaBatch.objects.create(
        collection_date=collection_date,
        message_id=message_id,
        created_at=now,
        created_by=by,
        xml=xml.decode("utf-8"),
        count=len(lines),
        total=sum_money(line.amount for line in lines),
    )
    SepaBatchItem.objects.bulk_create(
        [
            SepaBatchItem(
                batch=batch,
                end_to_end_id=line.end_to_end_id,
                mandate=mandates[line.mandate_reference],
                sequence_type=line.sequence_type,
                amount=line.amount,
            )
            for line in lines
        ]
    )
    for reference in sorted(first_used):
        mandate = mandates[reference]
        if mandate.sequence_type == SepaMandate.FRST:
            mandate.mark_submitted()
            mandate.save(update_fields=["sequence_type"])
    return batch


def sepa_export(*, collection_date: date, by=None) -> SepaBatch | None:
    """The direct-debit file for ``collection_date``: every due direct-debit invoice not yet
    collected (:func:`billing.selectors.direct_debits_due`) in one pain.008 batch, or
    ``None`` when nothing is due — a second run for the same day finds nothing. The batch
    items' unique end-to-end ids keep an invoice out of a second file even when two
    exports run at once."""
    if collection_date <= clock.today():
        _collection_refused(
            _("Der Einzugstag %(date)s muss nach dem heutigen Tag liegen.") % {"date": format_date_de(collection_date)},
            "sepa_collection_date",
        )
    due = selectors.direct_debits_due(collection_date)
    if not due:
        return None
    return sepa_batch_create(collections=due, collection_date=collection_date, by=by)


# Subscriptions and service plans (SUB-1…SUB-8) live in their own module; re-exported here.
from billing.services.subscriptions import (  # noqa: E402, F401  (re-exported)
    service_plan_book,
    service_plan_give_notice,
    service_plan_notice_preview,
    subscription_change_tier,
    subscription_give_notice,
    subscription_notice_preview,
    subscription_tier_change_preview,
    subscriptions_end_keys_block,
)
