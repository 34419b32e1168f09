"""Orders: create, add lines, price, cancel (ORD-1, ORD-3…ORD-7, ORD-9). Every write of
the billing area goes through here; admin actions and portal views call these functions.

Each service is keyword-only, atomic, locks the order row (``select_for_update``, which
holds on PostgreSQL) before it changes the order or its lines, and validates with
``full_clean``. Refusals are :mod:`billing.exceptions` with German messages; a refused
call writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import pricing, rules, selectors, sepa
from billing.exceptions import (
    OrderNotCancellable,
    OrderRefused,
    PriceMissing,
    SepaCollectionRefused,
    SepaMandateRefused,
)
from billing.models import Order, OrderLine, SepaBatch, SepaBatchItem, SepaMandate
from licensing.models import Installation, License, Price, Product
from licensing.selectors.catalog import price_for
from vendorportal import clock
from vendorportal.formats import format_date_de
from vendorportal.money import sum_money
from vendorportal.parties.models import Partner
from vendorportal.sequences import next_document_number

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
) -> OrderLine:
    """Add a line to a draft order and reprice the whole order (bundle and volume
    discounts depend on the other lines).

    The tier is the installation's (CAT-2); Teams Presence Sync is priced by ``users``
    (default: the installation's installed users, CAT-4). A module that already has an
    active paid key on the installation cannot be bought again: the refusal offers the
    tier upgrade (``upgrade="tier"`` with ``upgrade_from``, ORD-6). ``upgrade="version"``
    is a paid upgrade (ORD-7) priced with ``service_plan``.
    """
    order = _locked_draft(order)
    installation = order.installation
    _check_product(product, kind, term_months)
    _check_upgrade(order=order, product=product, kind=kind, upgrade=upgrade, upgrade_from=upgrade_from)
    if quantity < 1:
        _refuse(_("Bitte mindestens eine Lizenz bestellen."), "quantity")
    if as_package and kind != OrderLine.SUBSCRIPTION:
        _refuse(_("Nur Abos werden als Paket gebucht."), "package_not_subscription")

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
        service_plan=(service_plan or (rules.PLAN_FREE if upgrade == OrderLine.UPGRADE_VERSION else "")).lower(),
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


@transaction.atomic
def order_price(*, order: Order) -> pricing.OrderBreakdown:
    """Reprice a draft from the rules and today's data: the order date moves to today, so
    the price list valid today (CAT-1), the installation's tier today (CAT-2) and the
    partner's conditions today (ORD-5) apply. Returns the new breakdown."""
    order = _locked_draft(order)
    today = clock.today()
    if order.order_date != today:
        order.order_date = today
        order.full_clean()
        order.save(update_fields=["order_date"])
    _reprice(order)
    return selectors.order_breakdown(order)


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
    lines = list(order.lines.select_related("product", "upgrade_from"))
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
    *, partner: Partner, iban: str, reference: str, signed_on: date, bic: str = "", by=None
) -> SepaMandate:
    """Record a signed mandate; refused (``ValidationError``) if the partner has an active one."""
    mandate = SepaMandate(partner=partner, iban=iban, bic=bic, reference=reference, signed_on=signed_on)
    return _mandate_save(mandate, by)


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
                debtor_name=mandate.partner.company,
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
