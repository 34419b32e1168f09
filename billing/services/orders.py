"""Orders: create, add lines, price, place drafts, cancel and confirm (ORD-1, ORD-3…ORD-7,
ORD-9, SWP orders). Each service is keyword-only, atomic, locks the order row
(``select_for_update``, which holds on PostgreSQL) before it changes the order or its lines,
and validates with ``full_clean``. Refusals are :mod:`billing.exceptions` with German
messages; a refused call writes nothing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import pricing, rules, selectors
from billing.constants import ORDERABLE_KINDS, SERVICE_PLAN_ARTICLES
from billing.exceptions import (
    OrderNotCancellable,
    OrderRefused,
    PriceMissing,
)
from billing.models import (
    Invoice,
    Order,
    OrderLine,
    ServicePlan,
    Subscription,
)
from billing.services.invoices import invoice_issue_for_order
from licensing.constants import AUERSWALD, STARFACE
from licensing.models import Installation, License, Price, Product
from licensing.selectors.catalog import price_for
from vendorportal import clock
from vendorportal.errors import PortalError
from vendorportal.formats import format_date
from vendorportal.parties.models import Partner
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import webhook_event_emit

logger = logging.getLogger(__name__)


def _refuse(message: str, code: str):
    raise OrderRefused(message, code=code)


def _locked_draft(order: Order) -> Order:
    locked = Order.objects.select_for_update(of=("self",)).select_related("partner", "partner__level").get(pk=order.pk)
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
            % {"id": installation.identifier, "date": format_date(installation.decommissioned_on)},
            "decommissioned",
        )
    return None


@transaction.atomic
def order_create(*, partner: Partner, created_by=None, delivery_email: str = "", invoice_email: str = "") -> Order:
    """A draft order of ``partner``, dated today; its lines name the installations (decision
    ORD-1/ORD-4). The delivery and invoice e-mails default to the partner's; an
    installation or customer with its own delivery e-mail gets its keys there (ORD-2)."""
    order = Order(
        partner=partner,
        order_date=clock.today(),
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


def _check_upgrade(
    *, installation: Installation, product: Product, kind: str, upgrade: str, upgrade_from: License | None
) -> None:
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
    if not upgrade_from.bindings.filter(installation=installation).exists():
        _refuse(_("Die Lizenz gehört nicht zu dieser Installation."), "upgrade_other_installation")
    if upgrade_from.state != License.ACTIVE:
        _refuse(_("Nur aktive Lizenzen können erweitert werden."), "upgrade_inactive")
    if upgrade_from.kind == License.SUBSCRIPTION:
        _refuse(
            _(
                "Im Abo sind Versions-Upgrades kostenlos, und ein Staffelwechsel ändert nur den Monatspreis ab der "
                "nächsten Abrechnungsperiode – dafür ist keine Bestellung nötig."
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


@dataclass(frozen=True)
class LineWish:
    """One line wished for one installation (portal form, CSV row, admin, tests)."""

    product: Product
    kind: str
    installation: Installation
    term_months: int = 0
    users: int | None = None
    as_package: bool = False
    upgrade: str = ""
    upgrade_from: License | None = None
    service_plan: str = ""
    billing_months: int = rules.BILL_MONTHLY


@transaction.atomic
def order_line_add(
    *,
    order: Order,
    installation: Installation,
    product: Product,
    kind: str,
    term_months: int = 0,
    users: int | None = None,
    as_package: bool = False,
    upgrade: str = "",
    upgrade_from: License | None = None,
    service_plan: str = "",
    billing_months: int = rules.BILL_MONTHLY,
) -> OrderLine:
    """Add a line for ``installation`` to a draft order and reprice the whole order (bundle
    and volume discounts depend on the other lines).

    One line is one licence for one installation (a licence is bound to one server key,
    LIC-1): ten licences of a module are ten lines for ten installations (decision
    ORD-1/ORD-4). The tier is the installation's (CAT-2); Teams Presence Sync is priced by
    ``users`` (default: the installation's installed users, CAT-4). Anything the order could
    not deliver on confirmation is refused here, with licensing's own reason
    (:func:`licensing.services.licenses.license_issue_check`): a module with an active paid
    key on the installation (the refusal offers the tier upgrade, ORD-6), an Auerswald
    system, a decommissioned one, a module without a released version. ``upgrade="version"``
    is a paid upgrade (ORD-7) priced with ``service_plan`` — when none is given, the plan in
    force on the server key today if it covers the upgraded licence (SUB-8,
    :func:`billing.selectors.upgrade_service_plan`). ``billing_months`` is a subscription's
    billing interval (SUB-3: 1, 3, 6, 12 or 0 = the whole minimum term; default monthly).
    SP-PREMIUM / SP-ENTERPRISE book the plan on confirmation: once per STARFACE server key.
    """
    order = _locked_draft(order)
    wish = LineWish(
        product=product,
        kind=kind,
        installation=installation,
        term_months=term_months,
        users=users,
        as_package=as_package,
        upgrade=upgrade,
        upgrade_from=upgrade_from,
        service_plan=service_plan,
        billing_months=billing_months,
    )
    line = _line_add(order, wish, _next_position(order))
    _reprice(order)
    line.refresh_from_db()
    return line


@transaction.atomic
def order_lines_add(*, order: Order, lines: Sequence[LineWish]) -> list[OrderLine]:
    """Add several lines to a draft, all or nothing (the first refusal writes nothing), and
    reprice the order once — the portal's form for many installations, a CSV, the admin."""
    order = _locked_draft(order)
    if not lines:
        _refuse(_("Bitte mindestens ein Modul und eine Installation wählen."), "nothing_ordered")
    position = _next_position(order)
    added = []
    for offset, wish in enumerate(lines):
        added.append(_line_add(order, wish, position + offset))
    _reprice(order)
    return list(OrderLine.objects.filter(pk__in=[line.pk for line in added]).order_by("position"))


@transaction.atomic
def order_line_remove(*, order: Order, line: OrderLine) -> Order:
    """Take a line out of a draft and reprice the rest (a bundle or the volume may no longer
    be complete). A Softwarepflege quote goes as a whole: its lines belong together."""
    order = _locked_draft(order)
    line = OrderLine.objects.filter(order=order, pk=line.pk).first()
    if line is None:
        _refuse(_("Diese Position gibt es in der Bestellung nicht (mehr)."), "unknown_line")
    if line.is_maintenance:
        order.lines.filter(swp_kind__gt="").delete()
    else:
        line.delete()
    _reprice(order)
    return order


@transaction.atomic
def order_emails_change(*, order: Order, delivery_email: str, invoice_email: str, by=None) -> Order:
    """Change a draft's delivery and invoice e-mails; its lines take the new delivery e-mail
    where neither their installation nor its customer has its own (ORD-2)."""
    locked = _locked_draft(order)
    locked.delivery_email = (delivery_email or locked.partner.delivery_email).strip()
    locked.invoice_email = (invoice_email or locked.partner.invoice_email).strip()
    locked.full_clean()
    if by is not None:
        locked._history_user = by
    locked.save(update_fields=["delivery_email", "invoice_email"])
    for line in locked.lines.select_related("installation", "installation__customer"):
        email = _line_delivery_email(locked, line.installation)
        if email != line.delivery_email:
            line.delivery_email = email
            line.save(update_fields=["delivery_email"])
    return locked


def _next_position(order: Order) -> int:
    return (order.lines.aggregate(m=Max("position"))["m"] or 0) + 1


def _line_delivery_email(order: Order, installation: Installation) -> str:
    return rules.delivery_recipient(
        installation_email=installation.delivery_email,
        customer_email=installation.customer.delivery_email,
        order_email=order.delivery_email,
    )


def _check_installation(order: Order, installation: Installation, product: Product) -> None:
    refusal = order_create_refusal(partner=order.partner, installation=installation, today=clock.today())
    if refusal:
        _refuse(*refusal)
    if installation.vendor != STARFACE:
        _refuse(
            _(
                "%(id)s ist ein Auerswald-System: Module, Abos und Service-Pläne gibt es nur für STARFACE-Anlagen. "
                "Für Auerswald-Systeme wird Softwarepflege bestellt."
            )
            % {"id": installation.identifier},
            "not_starface",
        )


def _check_deliverable(wish: LineWish, tier: str) -> None:
    """The key licensing would issue on confirmation, checked now (nothing is written)."""
    from licensing.exceptions import LicensingError
    from licensing.services.licenses import IssueRequest, license_issue_check

    if wish.product.kind != Product.MODULE:
        return
    if wish.upgrade == OrderLine.UPGRADE_TIER:
        version = wish.upgrade_from.module_version
    else:
        version = _latest_version(wish.product)
    try:
        license_issue_check(
            request=IssueRequest(
                product=wish.product,
                installation=wish.installation,
                version=version,
                kind=License.SUBSCRIPTION if wish.kind == OrderLine.SUBSCRIPTION else License.PURCHASE,
                tier=tier or None,
                replaces=wish.upgrade_from,
            )
        )
    except LicensingError as exc:
        _refuse(exc.message, f"undeliverable_{exc.code}")


def _check_still_deliverable(order: Order, line: OrderLine) -> None:
    """Pricing a draft again checks its lines as adding did: what changed since (a key issued
    meanwhile, the installation decommissioned) is refused now, not first on confirmation."""
    _check_installation(order, line.installation, line.product)
    if not line.upgrade_kind:
        existing = selectors.active_paid_license(line.installation, line.product)
        if existing is not None:
            _refuse(
                _(
                    "Für %(name)s gibt es auf %(id)s inzwischen einen aktiven Schlüssel (Lizenz %(serial)s); bitte die "
                    "Position entfernen."
                )
                % {"name": line.product.name, "id": line.installation.identifier, "serial": existing.serial},
                "already_licensed",
            )
    wish = LineWish(
        product=line.product,
        kind=line.kind,
        installation=line.installation,
        term_months=line.term_months,
        upgrade=line.upgrade_kind,
        upgrade_from=line.upgrade_from,
    )
    _check_deliverable(wish, line.tier if line.upgrade_kind else "")


def _line_add(order: Order, wish: LineWish, position: int) -> OrderLine:
    """One wished line checked and saved unpriced into the locked draft ``order``."""
    product, kind, installation = wish.product, wish.kind, wish.installation
    upgrade, upgrade_from = wish.upgrade, wish.upgrade_from
    _check_product(product, kind, wish.term_months)
    _check_installation(order, installation, product)
    _check_upgrade(installation=installation, product=product, kind=kind, upgrade=upgrade, upgrade_from=upgrade_from)
    if wish.as_package and kind != OrderLine.SUBSCRIPTION:
        _refuse(_("Nur Abos werden als Paket gebucht."), "package_not_subscription")
    if wish.billing_months not in rules.BILLING_INTERVALS:
        _refuse(
            _(
                "Abrechnungsintervalle sind monatlich, vierteljährlich, halbjährlich, jährlich oder die ganze Mindestlaufzeit."
            ),
            "invalid_interval",
        )
    if wish.billing_months != rules.BILL_MONTHLY and kind != OrderLine.SUBSCRIPTION:
        _refuse(_("Nur Abos haben ein Abrechnungsintervall."), "interval_not_subscription")
    _check_service_plan_line(installation, product, 1)

    tier = ""
    users = wish.users
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

    duplicate = _("%(name)s steht für %(id)s bereits in dieser Bestellung.") % {
        "name": product.name,
        "id": installation.identifier,
    }
    if not upgrade:
        existing = selectors.active_paid_license(installation, product)
        if existing is not None:
            _refuse(
                _(
                    "Für %(name)s gibt es auf %(id)s bereits einen aktiven Schlüssel (%(license)s); "
                    "ein Modul wird je Installation nur einmal gekauft. Für mehr Benutzer bitte das Staffel-Upgrade "
                    "bestellen – es kostet nur die Differenz der Kaufpreise."
                )
                % {
                    "name": product.name,
                    "id": installation.identifier,
                    # A flat module's key has no tier: no "Staffel —".
                    "license": (
                        _("Lizenz %(serial)s, Staffel %(tier)s") % {"serial": existing.serial, "tier": existing.tier}
                        if existing.tier
                        else _("Lizenz %(serial)s") % {"serial": existing.serial}
                    ),
                },
                "already_licensed",
            )
        if order.lines.filter(installation=installation, product=product, upgrade_kind="").exists():
            _refuse(duplicate, "duplicate_line")
    elif order.lines.filter(upgrade_from=upgrade_from).exists():
        _refuse(_("Für diese Lizenz steht bereits ein Upgrade in der Bestellung."), "duplicate_upgrade")
    _check_deliverable(wish, tier)

    line = OrderLine(
        order=order,
        position=position,
        installation=installation,
        delivery_email=_line_delivery_email(order, installation),
        product=product,
        kind=kind,
        term_months=wish.term_months,
        tier=tier,
        quantity=1,
        users=users,
        as_package=wish.as_package,
        upgrade_kind=upgrade,
        upgrade_from=upgrade_from,
        service_plan=(
            wish.service_plan
            or (
                selectors.upgrade_service_plan(installation, upgrade_from, order.order_date)
                if upgrade == OrderLine.UPGRADE_VERSION
                else ""
            )
        ).lower(),
        billing_months=wish.billing_months,
    )
    line.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            line.save()
    except IntegrityError:  # a concurrent request added the same module for this installation
        _refuse(duplicate, "duplicate_line")
    return line


def _check_service_plan_line(installation: Installation, product: Product, quantity: int) -> None:
    """SUB-8: a Premium/Enterprise plan is bound to one STARFACE server key, once per key."""

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
    for line in order.lines.filter(swp_kind="").select_related("product", "installation", "upgrade_from"):
        _check_still_deliverable(order, line)
    _reprice(order)
    maintenance = order.lines.filter(swp_kind__gt="").order_by("position").first()
    if maintenance is not None:
        # A Softwarepflege quote depends on the day (remaining days, lapse): quote it anew.
        order.lines.filter(swp_kind__gt="").delete()
        _maintenance_lines_add(
            order,
            maintenance.installation,
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


def _maintenance_lines_add(
    order: Order, installation: Installation, *, swp_kind: str, users, months, position: int
) -> list[OrderLine]:
    from licensing.rules import PACK_SIZES

    quote = maintenance_quote(
        installation=installation, swp_kind=swp_kind, users=users, months=months, today=order.order_date
    )
    delivery_email = _line_delivery_email(order, installation)
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
            installation=installation,
            delivery_email=delivery_email,
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
    *, order: Order, installation: Installation, swp_kind: str, users: int | None = None, months: int | None = None
) -> list[OrderLine]:
    """Put a Softwarepflege quote of an Auerswald system into a draft order: one
    line per article of licensing's quote (its article numbers and amounts; module
    discounts do not apply), with the coverage as the lines' service period.

    ``swp_kind="add_users"`` with ``users`` (SWP-3) or ``"renewal"`` with ``months`` 12 or
    36 for all the system's users (SWP-4…SWP-7). An order holds one quote (SWP-9: one
    purchase per system). Confirming the order books the coverage (:func:`order_confirm`).
    """
    order = _locked_draft(order)
    refusal = order_create_refusal(partner=order.partner, installation=installation, today=clock.today())
    if refusal:
        _refuse(*refusal)
    if order.lines.filter(swp_kind__gt="").exists():
        _refuse(
            _("Diese Bestellung enthält bereits ein Softwarepflege-Angebot; je System und Bestellung gibt es eines."),
            "swp_twice",
        )
    _move_to_today(order)
    _reprice(order)
    return _maintenance_lines_add(
        order, installation, swp_kind=swp_kind, users=users, months=months, position=_next_position(order)
    )


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
        installation=first.installation,
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
            % {"date": format_date(order.order_date)},
            "stale_swp_quote",
        )
    try:
        maintenance_confirm(installation=first.installation, quote=quote, order_reference=order.reference, by=by)
    except LicensingError as exc:
        _refuse(exc.message, f"swp_{exc.code}")


@transaction.atomic
def order_draft_place(
    *,
    partner: Partner,
    token: str,
    lines: Sequence[LineWish] = (),
    swp_installation: Installation | None = None,
    swp_kind: str = "",
    swp_users: int | None = None,
    swp_months: int | None = None,
    delivery_email: str = "",
    invoice_email: str = "",
    by=None,
) -> Order:
    """The portal's "Preis berechnen": a priced draft order with all wished lines (and a
    Softwarepflege quote for ``swp_installation``), all or nothing — the first refusal
    writes nothing.

    ``token`` is the form's one-time token and names the form's draft: pricing the same
    form again does not pile up drafts but gives that draft the form's lines as they are
    now (a double submit so changes nothing); once confirmed, the same token returns the
    order unchanged. The ``order_portal_token_unique`` constraint decides races.
    """
    token = (token or "").strip()
    if not token or len(token) > Order._meta.get_field("portal_token").max_length:
        _refuse(_("Das Formular ist abgelaufen; bitte die Seite neu laden."), "token")
    if not lines and not swp_kind:
        _refuse(_("Bitte mindestens ein Modul, ein Upgrade oder Softwarepflege wählen."), "nothing_ordered")
    order = Order.objects.filter(partner=partner, portal_token=token).first()
    if order is None:
        try:
            with transaction.atomic():
                order = order_create(
                    partner=partner, created_by=by, delivery_email=delivery_email, invoice_email=invoice_email
                )
                order.portal_token = token
                order.save(update_fields=["portal_token"])
        except IntegrityError:  # the same form, posted twice at once: both price the one draft
            order = Order.objects.get(partner=partner, portal_token=token)
    order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
    if not order.is_draft:
        return order  # placed and confirmed (or discarded) before: nothing changes
    order.lines.all().delete()
    order.delivery_email = (delivery_email or partner.delivery_email).strip()
    order.invoice_email = (invoice_email or partner.invoice_email).strip()
    order.order_date = clock.today()
    order.full_clean()
    order.save(update_fields=["delivery_email", "invoice_email", "order_date"])
    if lines:
        order_lines_add(order=order, lines=lines)
    if swp_kind:
        if swp_installation is None:
            _refuse(_("Bitte das Auerswald-System für die Softwarepflege wählen."), "swp_installation_missing")
        order_maintenance_add(
            order=order, installation=swp_installation, swp_kind=swp_kind, users=swp_users, months=swp_months
        )
    return order


# --- a large order as CSV rows (server key;article) ------------------------------------------


@dataclass(frozen=True)
class RowVerdict:
    """One CSV row of a large order and what is wrong with it ("" = nothing)."""

    number: int
    identifier: str
    article: str
    problem: str
    installation: Installation | None = None
    product: Product | None = None

    @property
    def ok(self) -> bool:
        return not self.problem


class _RollBack(Exception):
    pass


def order_rows_check(
    *,
    partner: Partner,
    rows: Sequence[tuple[int, str, str, str]],
    kind: str,
    term_months: int,
    as_package: bool = False,
) -> list[RowVerdict]:
    """Check the rows (line number, installation identifier, article, parse error) of a CSV
    order for ``partner``: each row names an installation by server key, hardware ID or
    serial number and an article. Bad rows get a German reason — unknown installation,
    not one of the partner's, unknown article, a duplicate row, or anything the order
    could not deliver there (the very checks of :func:`order_line_add`, run in a
    transaction that is rolled back: nothing is written)."""
    rows = list(rows)
    installations = selectors.installations_by_identifier(
        [identifier for _n, identifier, _a, error in rows if not error]
    )
    products = {p.article.upper(): p for p in selectors.orderable_products()}
    verdicts: list[RowVerdict] = []
    seen: dict[tuple[int, int], int] = {}
    for number, identifier, article, error in rows:
        if error:
            verdicts.append(RowVerdict(number, identifier, article, error))
            continue
        installation = installations.get(identifier)
        product = products.get(article.strip().upper())
        problem = ""
        if installation is None:
            problem = _(
                "Unbekannte Installation „%(id)s“: kein Serverlizenzschlüssel, keine Hardware-ID und keine "
                "Seriennummer einer erfassten Anlage."
            ) % {"id": identifier}
        elif installation.customer.partner_id != partner.pk:
            problem = _("Die Installation %(id)s gehört zu keinem Ihrer Kunden.") % {"id": installation.identifier}
        elif product is None:
            problem = _("Unbekannter Artikel „%(article)s“ (siehe Artikeldaten-CSV).") % {"article": article}
        elif (installation.pk, product.pk) in seen:
            problem = _("Doppelte Zeile: %(article)s für %(id)s steht schon in Zeile %(row)s.") % {
                "article": product.article,
                "id": installation.identifier,
                "row": seen[(installation.pk, product.pk)],
            }
        else:
            seen[(installation.pk, product.pk)] = number
        verdicts.append(RowVerdict(number, identifier, article, problem, installation, product))
    checkable = [v for v in verdicts if v.ok]
    if checkable:
        problems = _rows_deliverable(partner, checkable, kind, term_months, as_package)
        verdicts = [
            RowVerdict(v.number, v.identifier, v.article, problems.get(v.number, ""), v.installation, v.product)
            if v.ok
            else v
            for v in verdicts
        ]
    return verdicts


def _rows_deliverable(partner, verdicts, kind, term_months, as_package) -> dict[int, str]:
    """Row number → why the line cannot be ordered there, from the line checks and a price
    lookup per row, in a transaction that is rolled back."""
    problems: dict[int, str] = {}
    try:
        with transaction.atomic():
            order = Order(
                partner=partner,
                order_date=clock.today(),
                delivery_email=partner.delivery_email,
                invoice_email=partner.invoice_email,
            )
            order.save()
            for position, verdict in enumerate(verdicts, start=1):
                wish = LineWish(
                    product=verdict.product,
                    kind=kind,
                    installation=verdict.installation,
                    term_months=term_months,
                    as_package=as_package and kind == OrderLine.SUBSCRIPTION,
                )
                try:
                    with transaction.atomic():
                        line = _line_add(order, wish, position)
                        _request_and_price(line, order.order_date)
                except PortalError as exc:
                    problems[verdict.number] = exc.message
                except ValidationError as exc:
                    problems[verdict.number] = " ".join(exc.messages)
            raise _RollBack
    except _RollBack:
        pass
    return problems


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
            % {"name": product.name, "variant": variant, "date": format_date(on)},
            code="missing_price",
        )
    return price


def _request_and_price(line: OrderLine, on: date) -> tuple[pricing.LineRequest, pricing.ListPrice]:
    installation = line.installation
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
        installation=line.installation_id,
    )
    return request, pricing.ListPrice(price.amount, price.unit, from_amount)


PRICE_FIELDS = [
    "delivery_email",
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
    lines = list(
        order.lines.filter(swp_kind="").select_related(
            "product", "upgrade_from", "installation", "installation__customer"
        )
    )
    if not lines:
        return
    requests, prices = [], {}
    for line in lines:
        line.delivery_email = _line_delivery_email(order, line.installation)  # the addresses as of now
        request, price = _request_and_price(line, order.order_date)
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
                    installation=line.installation,
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
    """Confirm an order (ORD-2): issue its keys through licensing's batch service with one
    delivery note per installation, each e-mailed to that installation's delivery e-mail
    (its lines' ``delivery_email``), then one invoice for the whole order to the invoice
    e-mail — the delivery e-mails are written (and so sent) first. draft → confirmed →
    fulfilled.

    Atomic and idempotent: the order row is locked and moved out of draft by a
    conditional UPDATE, so of two confirmations one issues and the other returns the
    same invoice; a refusal (a key licensing will not issue) writes nothing.
    """
    locked = Order.objects.select_for_update(of=("self",)).select_related("partner").get(pk=order.pk)
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

            # ORD-2: one delivery note per installation, each to its line's delivery e-mail.
            recipients = {line.installation_id: line.delivery_email for line in owners if line.delivery_email}
            licenses = licenses_issue(
                requests=requests,
                issued_by=by,
                recipient_email=locked.delivery_email,
                recipient_emails=recipients,
            )
            # Each key to its line (and subscription): two inserts for the whole order.
            line_keys = OrderLine.licenses.through
            line_keys.objects.bulk_create(
                line_keys(orderline_id=line.pk, license_id=lic.pk) for line, lic in zip(owners, licenses)
            )
            sub_keys = Subscription.licenses.through
            sub_keys.objects.bulk_create(
                sub_keys(subscription_id=contracts[line.pk].pk, license_id=lic.pk)
                for line, lic in zip(owners, licenses)
                if line.pk in references
            )
    invoice = invoice_issue_for_order(order=locked, by=by)
    locked.refresh_from_db(fields=["state"])
    locked.move_to(Order.FULFILLED)
    if by is not None:
        locked._history_user = by
    locked.save(update_fields=["state"])
    webhook_event_emit(
        partner=locked.partner,
        event=webhook_events.ORDER_CONFIRMED,
        payload=webhook_payloads.order_payload(locked, invoice),
        dedup_key=f"{webhook_events.ORDER_CONFIRMED}:{locked.pk}",
    )
    return invoice


class _PreviewDone(Exception):
    """Carries the breakdown out of the preview's transaction, which is rolled back."""

    def __init__(self, breakdown: pricing.OrderBreakdown):
        super().__init__("preview")
        self.breakdown = breakdown


def order_draft_preview(**place) -> pricing.OrderBreakdown:
    """The live price of an order that is not placed: :func:`order_draft_place` with
    ``place`` (its keyword arguments but ``token``) run in a transaction that is rolled back,
    and the placed draft's breakdown — so the preview is exactly the price "Preis berechnen"
    gives, and nothing is written (on PostgreSQL a rolled-back id is not reused, so order
    references may skip one). Refusals are those of ``order_draft_place``."""
    import uuid

    try:
        with transaction.atomic():
            order = order_draft_place(token=f"preview-{uuid.uuid4().hex}", **place)
            raise _PreviewDone(selectors.order_breakdown(order))
    except _PreviewDone as done:
        return done.breakdown
