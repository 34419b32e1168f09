"""Subscriptions and service plans (SUB-1…SUB-8): created when an order is confirmed, ended by
notice, re-priced by tier changes; service plans booked once per server key.

Every service is keyword-only and atomic, locks the rows it changes (``select_for_update``,
which holds on PostgreSQL) and refuses with :class:`billing.exceptions.SubscriptionRefused` /
:class:`billing.exceptions.ServicePlanRefused` and a German message; a refused call writes
nothing. The dates come from the pure rules in :mod:`billing.rules`; the portal and the admin
show :func:`subscription_notice_preview` before they call :func:`subscription_give_notice`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing import rules, selectors
from billing.constants import PLAN_ARTICLE, SERVICE_PLAN_ARTICLES  # noqa: F401  (PLAN_ARTICLE re-exported)
from billing.exceptions import ServicePlanRefused, SubscriptionRefused
from billing.models import OrderLine, ServicePlan, Subscription, SubscriptionPriceChange
from billing.services import confirmations
from licensing.models import Installation, Product
from licensing.rules import SERVER_KEY, tier_for
from licensing.selectors.catalog import price_for
from vendorportal import clock
from vendorportal.formats import format_date
from vendorportal.jobs import recorded_job
from vendorportal.money import format_eur, round_cents
from vendorportal.sequences import next_document_number
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import webhook_event_emit

SUBSCRIPTION_PREFIX = "ABO"  # ABO-2026-000042
SERVICE_PLAN_PREFIX = "SP"  # SP-2026-000007
REFERENCE_WIDTH = 6
KEYS_BLOCK_JOB_NAME = "subscriptions-end-keys"


def _refuse(message: str, code: str):
    raise SubscriptionRefused(message, code=code)


def _plan_refuse(message: str, code: str):
    raise ServicePlanRefused(message, code=code)


def is_service_plan_line(line: OrderLine) -> bool:
    return line.product.article in SERVICE_PLAN_ARTICLES


def is_subscription_line(line: OrderLine) -> bool:
    """A line that becomes a :class:`Subscription`: a rented module or SaaS product (not a plan)."""
    return line.kind == OrderLine.SUBSCRIPTION and not is_service_plan_line(line)


def package_id(order, line: OrderLine) -> str:
    """ORD-4: the package lines of one order with the same minimum term form one package
    (common start and term, ended only together): ``B-000042-P24``."""
    return f"{order.reference}-P{line.term_months}"


# --- creating subscriptions and plans from a confirmed order (called by order_confirm) ----------


def subscriptions_create_for_order(*, order, lines: Iterable[OrderLine], signed_on: date, by=None) -> dict:
    """Inside ``order_confirm``'s transaction: a :class:`Subscription` per subscription line and
    a :class:`ServicePlan` per SP-PREMIUM/SP-ENTERPRISE line. Returns ``{line pk: object}``.

    The monthly price is the line's priced unit (per licence, after its discounts), i.e. the
    price list of the order date the partner confirmed; signed on the confirmation day; term
    start SUB-1, minimum-term end GEN-1. The ``subscription_once_per_order_line`` constraint
    and the OneToOne of the plan keep a second confirmation from making a second one.
    """
    created: dict[int, object] = {}
    for line in lines:
        if is_service_plan_line(line):
            created[line.pk] = service_plan_book(
                installation=line.installation,
                plan=SERVICE_PLAN_ARTICLES[line.product.article],
                signed_on=signed_on,
                by=by,
                order_line=line,
                yearly_price=line.unit_net,
            )
        elif is_subscription_line(line):
            start = rules.term_start(signed_on)
            subscription = Subscription(
                reference=next_document_number(SUBSCRIPTION_PREFIX, signed_on.year, width=REFERENCE_WIDTH),
                partner=order.partner,
                installation=line.installation,
                product=line.product,
                tier=line.tier,
                users=line.users,
                quantity=line.quantity,
                package=package_id(order, line) if line.as_package else "",
                minimum_months=line.term_months,
                billing_months=line.billing_months,
                monthly_price=line.unit_net,
                signed_on=signed_on,
                term_start=start,
                minimum_end=rules.minimum_term_end(start, line.term_months),
                order_line=line,
            )
            subscription.full_clean()
            subscription._history_user = by
            subscription.save()
            created[line.pk] = subscription
    return created


# --- SUB-5 / SUB-6: notice -------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticePreview:
    """What a notice received on ``notice_on`` does, shown before it is confirmed (SUB-5/6)."""

    notice_on: date
    ends_on: date
    special: bool
    ground: rules.SpecialTerminationGround | None
    subscriptions: tuple  # every subscription that ends (the package, or the one)
    text: str

    @property
    def references(self) -> list[str]:
        return [s.reference for s in self.subscriptions]


def _ordinary_end(subscription: Subscription, notice_on: date) -> date:
    return rules.earliest_end(
        subscription.term_start, subscription.minimum_months, subscription.billing_months, notice_on
    )


def _notice_refusal(subscriptions: list[Subscription], notice_on: date, today: date) -> None:
    if notice_on > today:
        _refuse(
            _("Der Eingang der Kündigung (%(date)s) liegt in der Zukunft; bitte den Tag des Eingangs angeben.")
            % {"date": format_date(notice_on)},
            "notice_in_future",
        )
    for sub in subscriptions:
        if sub.ends_on is not None and sub.ends_on < today:
            _refuse(
                _("Das Abo %(ref)s endete am %(end)s; es kann nicht mehr gekündigt werden.")
                % {"ref": sub.reference, "end": format_date(sub.ends_on)},
                "ended",
            )
        if sub.notice_on is not None:
            _refuse(
                _("Das Abo %(ref)s ist bereits gekündigt (Eingang %(notice)s) und endet am %(end)s.")
                % {"ref": sub.reference, "notice": format_date(sub.notice_on), "end": format_date(sub.ends_on)},
                "already_noticed",
            )
        if notice_on < sub.signed_on:
            _refuse(
                _("Eine Kündigung kann nicht vor dem Abschluss des Abos %(ref)s (%(date)s) eingegangen sein.")
                % {"ref": sub.reference, "date": format_date(sub.signed_on)},
                "notice_before_signing",
            )


def subscription_notice_preview(subscription: Subscription, notice_on: date, *, special: bool = False) -> NoticePreview:
    """SUB-5: the end for a notice received on ``notice_on`` — the first billing-period end at
    least 14 days later and not before the minimum term ends — with the German sentence the
    admin and the portal show before the notice is confirmed. A package (ORD-4) ends as a
    whole: all its subscriptions end on the latest of their earliest ends.

    ``special=True``: a notice under the special termination right (SUB-6), refused unless the
    right exists on ``notice_on``; it ends this module subscription alone (the right is granted
    "in Bezug auf das betroffene Modul-Abonnement"), at the end of a calendar month with 14
    days' notice, even inside the minimum term. Raises :class:`SubscriptionRefused`.
    """
    today = clock.today()
    ground = selectors.subscription_special_termination(subscription, notice_on)
    if special:
        members = [subscription]
        _notice_refusal(members, notice_on, today)
        if ground is None:
            _refuse(
                _(
                    "Für das Abo %(ref)s besteht am %(date)s kein Sonderkündigungsrecht: Es gibt keine neue "
                    "STARFACE-Version, zu der seit drei Monaten eine kompatible Modulversion fehlt, oder die "
                    "Mindestlaufzeit ist vorbei."
                )
                % {"ref": subscription.reference, "date": format_date(notice_on)},
                "no_special_right",
            )
        ends_on = rules.special_termination_end(notice_on)
    else:
        # A member already ended under its own special right (SUB-6) no longer ends with the package.
        members = [
            m for m in selectors.subscription_package(subscription) if m.pk == subscription.pk or not m.notice_special
        ]
        _notice_refusal(members, notice_on, today)
        ends_on = max(_ordinary_end(sub, notice_on) for sub in members)
    parts = [
        _("Kündigung eingegangen am %(notice)s: Das Abo %(ref)s (%(product)s) endet am %(end)s.")
        % {
            "notice": format_date(notice_on),
            "ref": subscription.reference,
            "product": subscription.product.name,
            "end": format_date(ends_on),
        }
    ]
    if special:
        parts.append(
            _(
                "Sonderkündigung: Zu STARFACE %(version)s (veröffentlicht am %(released)s) gibt es seit "
                "%(since)s keine kompatible Modulversion; das Abo endet zum Monatsende mit 14 Tagen Frist, auch "
                "vor Ablauf der Mindestlaufzeit."
            )
            % {
                "version": ground.pbx_version,
                "released": format_date(ground.released_on),
                "since": format_date(ground.right_from),
            }
        )
    else:
        if len(members) > 1:
            others = ", ".join(f"{s.reference} ({s.product.name})" for s in members if s.pk != subscription.pk)
            parts.append(
                _("Es gehört zum Paket %(package)s und endet nur zusammen mit %(others)s.")
                % {"package": subscription.package, "others": others}
            )
        if ends_on == subscription.minimum_end:
            parts.append(_("Das ist das Ende der Mindestlaufzeit."))
        if ground is not None:
            special_end = rules.special_termination_end(notice_on)
            parts.append(
                _(
                    "Hinweis: Wegen STARFACE %(version)s besteht ein Sonderkündigungsrecht; damit endete "
                    "das Abo schon am %(end)s."
                )
                % {"version": ground.pbx_version, "end": format_date(special_end)}
            )
    return NoticePreview(notice_on, ends_on, special, ground if special else None, tuple(members), " ".join(parts))


@transaction.atomic
def subscription_give_notice(
    *, subscription: Subscription, notice_on: date, by=None, special: bool = False
) -> NoticePreview:
    """Record a notice received on ``notice_on`` (SUB-5; ``special``: SUB-6): notice date, who
    recorded it and when, and the end — on every subscription of the package (ORD-4). The
    rows are locked first, so two clerks recording the same notice record it once; the
    second gets the German refusal that it is already given."""
    package = subscription.package
    query = Subscription.objects.select_for_update().filter(pk=subscription.pk)
    if package and not special:
        query = Subscription.objects.select_for_update().filter(package=package)
    locked = {s.pk: s for s in query.order_by("pk")}
    current = Subscription.objects.select_related("product", "installation").get(pk=subscription.pk)
    preview = subscription_notice_preview(current, notice_on, special=special)
    now = clock.now()
    for member in preview.subscriptions:
        row = locked[member.pk]
        row.notice_on = notice_on
        row.notice_at = now
        row.notice_by = by
        row.notice_special = special
        row.ends_on = preview.ends_on
        row._history_user = by
        row.full_clean()
        row.save(update_fields=["notice_on", "notice_at", "notice_by", "notice_special", "ends_on"])
        row.product = member.product
        webhook_event_emit(
            partner=row.partner_id,
            event=webhook_events.SUBSCRIPTION_ENDING,
            payload=webhook_payloads.subscription_payload(row),
            dedup_key=f"{webhook_events.SUBSCRIPTION_ENDING}:{row.pk}:{row.ends_on.isoformat()}",
        )
    confirmations.confirmation_subscription_notice(subscription=current, preview=preview, by=by)
    return preview


# --- SUB-7: tier change ------------------------------------------------------------------------------


def _new_monthly_price(subscription: Subscription, tier: str, users: int | None, today: date):
    product = subscription.product
    price = price_for(
        product=product, kind=OrderLine.SUBSCRIPTION, on=today, tier=tier, term_months=subscription.minimum_months
    )
    if price is None:
        _refuse(
            _(
                "Für %(name)s (Abo %(months)s Monate%(tier)s) gibt es in der heute gültigen Preisliste keinen Preis; "
                "bitte den Vertrieb bitten, ihn zu hinterlegen."
            )
            % {
                "name": product.name,
                "months": subscription.minimum_months,
                "tier": ", " + _("Staffel %(tier)s") % {"tier": tier} if tier else "",
            },
            "missing_price",
        )
    list_price = price.amount
    if product.pricing_model == Product.PER_STARTED_5_USERS:
        list_price = price.amount * rules.started_user_blocks(users)
    line = subscription.order_line
    percents = (line.volume_discount_percent, line.partner_discount_percent) if line is not None else ()
    return round_cents(rules.apply_discounts(list_price, *percents))


@dataclass(frozen=True)
class TierChangePreview:
    """What a tier change does (SUB-7), shown before it is confirmed: the new tier (or users),
    the new monthly price per licence and the start of the billing period it applies from."""

    tier: str
    users: int | None
    effective_from: date
    monthly_price: object  # Decimal
    current_price: object  # Decimal: the price per licence the subscription has before that day


def subscription_tier_change_preview(subscription: Subscription, *, tier: str = "", users: int | None = None):
    """SUB-7: the tier change :func:`subscription_change_tier` would record today, without
    writing anything (the portal shows it before the partner confirms). Raises
    :class:`SubscriptionRefused` with the same German refusals."""
    today = clock.today()
    sub = subscription
    product = sub.product
    if product.pricing_model == Product.PER_STARTED_5_USERS:
        if not users or users < 1:
            _refuse(_("Bitte die neue Anzahl der Benutzer angeben (mindestens 1)."), "users_missing")
        tier = ""
    elif product.pricing_model == Product.TIERED:
        if not tier and users:
            tier = tier_for(users)
        if not tier:
            _refuse(_("Bitte die neue Benutzerstaffel angeben."), "tier_missing")
        users = None
    else:
        _refuse(
            _("%(name)s hat keine Benutzerstaffeln; der Monatspreis hängt nicht von den Benutzern ab.")
            % {"name": product.name},
            "not_tiered",
        )
    effective_from = selectors.subscription_next_unbilled(sub, today)
    if effective_from is None:
        _refuse(
            _("Das Abo %(ref)s endet am %(end)s; ein Staffelwechsel ist nicht mehr möglich.")
            % {"ref": sub.reference, "end": format_date(sub.ends_on)},
            "ended",
        )
    current_tier, current_users = selectors.subscription_tier_on(sub, effective_from)
    if (tier, users) == (current_tier, current_users):
        _refuse(
            _("Das Abo %(ref)s läuft ab %(date)s bereits mit %(what)s.")
            % {"ref": sub.reference, "date": format_date(effective_from), "what": tier or f"{users} Benutzern"},
            "same_tier",
        )
    price = _new_monthly_price(sub, tier, users, today)
    # The price before the change: of the period before ``effective_from`` (a change not yet in
    # force that this one replaces does not count).
    current = selectors.subscription_monthly_price_on(sub, effective_from - timedelta(days=1))
    return TierChangePreview(tier, users, effective_from, price, current)


@transaction.atomic
def subscription_change_tier(
    *, subscription: Subscription, tier: str = "", users: int | None = None, by=None
) -> SubscriptionPriceChange:
    """SUB-7 / ORD-6: a tier change changes only the monthly price, from the start of the next
    billing period that is not billed yet (SUB-7 decision); term, start and interval stay. Tiered modules take ``tier`` (or ``users``,
    from which the tier follows, CAT-2); Teams Presence Sync takes ``users`` (CAT-4).

    **Decision (price):** the new price is that of the *current* price list (valid today) for
    the new tier and the subscription's minimum term — a tier change is a new agreement on
    the price — with the discounts the subscription got at signing (volume and partner
    conditions of its order line; the bundle discount never applies to subscriptions).
    Up or down: the tier follows the installed users (CAT-2), which may fall. A second change
    before the same period replaces the first (it is not billed yet).
    """
    sub = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("product", "order_line")
        .get(pk=subscription.pk)
    )
    preview = subscription_tier_change_preview(sub, tier=tier, users=users)
    change = SubscriptionPriceChange.objects.filter(subscription=sub, effective_from=preview.effective_from).first()
    if change is None:
        change = SubscriptionPriceChange(subscription=sub, effective_from=preview.effective_from)
    change.tier, change.users, change.monthly_price, change.created_by = (
        preview.tier,
        preview.users,
        preview.monthly_price,
        by,
    )
    change._history_user = by
    change.save()
    confirmations.confirmation_tier_change(change=change, preview=preview, by=by)
    return change


# --- end of a subscription: block its keys (LIC-12) ----------------------------------------------------


def subscriptions_end_keys_block(*, today: date | None = None) -> int:
    """The daily job: block the keys of every subscription whose last day (``ends_on``) has
    passed, once (``keys_blocked_at``), through licensing's ``subscription_keys_block``.
    One transaction per subscription with its row locked and re-checked, so a re-run or two
    workers block each subscription once. Returns how many subscriptions were ended."""
    from licensing.services.licenses import subscription_keys_block

    today = today or clock.today()
    due = list(
        Subscription.objects.filter(ends_on__lt=today, keys_blocked_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ended = 0
    for pk in due:
        with transaction.atomic():
            sub = Subscription.objects.select_for_update().filter(pk=pk, keys_blocked_at__isnull=True).first()
            if sub is None:
                continue
            subscription_keys_block(
                subscription_reference=sub.reference,
                reason=_("Abo %(ref)s endete am %(date)s.") % {"ref": sub.reference, "date": format_date(sub.ends_on)},
            )
            sub.keys_blocked_at = clock.now()
            sub.save(update_fields=["keys_blocked_at"])
            webhook_event_emit(
                partner=sub.partner_id,
                event=webhook_events.SUBSCRIPTION_ENDED,
                payload=webhook_payloads.subscription_payload(sub),
                dedup_key=f"{webhook_events.SUBSCRIPTION_ENDED}:{sub.pk}",
            )
            ended += 1
    return ended


def subscriptions_end_keys_job() -> int:
    with recorded_job(KEYS_BLOCK_JOB_NAME) as run:
        ended = subscriptions_end_keys_block()
        run.summary = _("Abos beendet, Schlüssel gesperrt: %(count)s") % {"count": ended}
    return ended


# --- SUB-8: service plans ----------------------------------------------------------------------------


def _plan_price(plan: str, on: date):
    product = Product.objects.filter(article=PLAN_ARTICLE[plan]).first()
    price = price_for(product=product, kind=OrderLine.SUBSCRIPTION, on=on, tier="", term_months=12) if product else None
    if price is None:
        _plan_refuse(
            _("Für den Service-Plan %(plan)s gibt es in der am %(date)s gültigen Preisliste keinen Jahrespreis.")
            % {"plan": plan.capitalize(), "date": format_date(on)},
            "missing_price",
        )
    return price.amount


@transaction.atomic
def service_plan_book(
    *,
    installation: Installation,
    plan: str,
    signed_on: date,
    starts_on: date | None = None,
    by=None,
    order_line: OrderLine | None = None,
    yearly_price=None,
) -> ServicePlan:
    """Book a Premium or Enterprise plan on a STARFACE server key (SUB-8): once per server
    key (the OneToOne; a second booking gets a German refusal, never an integrity error),
    yearly price from the price list valid on ``signed_on`` (SP-PREMIUM 828,00 €,
    SP-ENTERPRISE 1.548,00 €) unless an order line priced it.

    ``starts_on`` before ``signed_on`` is a retroactive booking, allowed only for customers
    who bought for that installation before 2022-01-01; without surcharge, and the plan
    years already passed are not billed: ``billed_from`` is the start of the plan year that
    contains the booking day.
    """
    plan = (plan or "").strip().lower()
    if plan not in PLAN_ARTICLE:
        _plan_refuse(_("Gebucht werden können die Service-Pläne Premium und Enterprise."), "invalid_plan")
    installation = (
        Installation.objects.select_for_update(of=("self",)).select_related("customer").get(pk=installation.pk)
    )
    if installation.identifier_kind != SERVER_KEY:
        _plan_refuse(
            _(
                "Service-Pläne werden an einen STARFACE-Serverlizenzschlüssel gebunden; %(id)s ist keine solche "
                "Installation."
            )
            % {"id": installation.identifier},
            "not_server_key",
        )
    if signed_on > clock.today():
        _plan_refuse(_("Das Buchungsdatum liegt in der Zukunft."), "signed_in_future")
    existing = ServicePlan.objects.filter(installation=installation).first()
    if existing is not None:
        _plan_refuse(
            _(
                "Für den Serverlizenzschlüssel %(id)s ist bereits der Service-Plan %(ref)s (%(plan)s, ab %(start)s) "
                "gebucht; ein Service-Plan kann je Serverlizenzschlüssel nur einmal gebucht werden."
            )
            % {
                "id": installation.identifier,
                "ref": existing.reference,
                "plan": existing.get_plan_display(),
                "start": format_date(existing.starts_on),
            },
            "already_booked",
        )
    starts_on = starts_on or signed_on
    retroactive = starts_on < signed_on
    if retroactive and not selectors.purchases_before(installation, rules.SERVICE_PLAN_RETROACTIVE_BEFORE):
        _plan_refuse(
            _(
                "Rückwirkend buchen können nur Kunden, die für diese Installation vor dem 01.01.2022 Module gekauft "
                "haben. Bitte als Beginn den Buchungstag oder später angeben."
            ),
            "not_retroactive",
        )
    billed_from = rules.service_plan_year(starts_on, signed_on).start if retroactive else starts_on
    service_plan = ServicePlan(
        reference=next_document_number(SERVICE_PLAN_PREFIX, signed_on.year, width=REFERENCE_WIDTH),
        partner=installation.customer.partner,
        installation=installation,
        plan=plan,
        yearly_price=yearly_price if yearly_price is not None else _plan_price(plan, signed_on),
        signed_on=signed_on,
        starts_on=starts_on,
        retroactive=retroactive,
        billed_from=billed_from,
        order_line=order_line,
    )
    service_plan.full_clean(validate_unique=False)
    service_plan._history_user = by
    try:
        with transaction.atomic():
            service_plan.save()
    except IntegrityError:  # booked concurrently for the same server key
        _plan_refuse(
            _("Für den Serverlizenzschlüssel %(id)s wurde gerade ein Service-Plan gebucht.")
            % {"id": installation.identifier},
            "already_booked",
        )
    confirmations.confirmation_plan_booking(service_plan=service_plan, by=by)
    return service_plan


@dataclass(frozen=True)
class PlanNoticePreview:
    notice_on: date
    ends_on: date
    text: str


def service_plan_notice_preview(service_plan: ServicePlan, notice_on: date) -> PlanNoticePreview:
    """SUB-8: a plan ends with 3 months' notice to the end of a plan year (plan years from its start)."""
    if notice_on > clock.today():
        _plan_refuse(_("Der Eingang der Kündigung liegt in der Zukunft."), "notice_in_future")
    if service_plan.notice_on is not None:
        _plan_refuse(
            _("Der Service-Plan %(ref)s ist bereits gekündigt und endet am %(end)s.")
            % {"ref": service_plan.reference, "end": format_date(service_plan.ends_on)},
            "already_noticed",
        )
    if notice_on < service_plan.signed_on:
        _plan_refuse(_("Eine Kündigung kann nicht vor der Buchung eingegangen sein."), "notice_before_signing")
    ends_on = rules.service_plan_earliest_end(service_plan.starts_on, notice_on)
    text = _(
        "Kündigung eingegangen am %(notice)s: Der Service-Plan %(ref)s (%(plan)s, %(price)s jährlich) endet mit "
        "3 Monaten Frist zum Ende des Planjahres am %(end)s."
    ) % {
        "notice": format_date(notice_on),
        "ref": service_plan.reference,
        "plan": service_plan.get_plan_display(),
        "price": format_eur(service_plan.yearly_price),
        "end": format_date(ends_on),
    }
    return PlanNoticePreview(notice_on, ends_on, text)


@transaction.atomic
def service_plan_give_notice(*, service_plan: ServicePlan, notice_on: date, by=None) -> PlanNoticePreview:
    """Record a plan's notice (SUB-8) with who and when; refused twice."""
    locked = ServicePlan.objects.select_for_update().get(pk=service_plan.pk)
    preview = service_plan_notice_preview(locked, notice_on)
    locked.notice_on = notice_on
    locked.notice_at = clock.now()
    locked.notice_by = by
    locked.ends_on = preview.ends_on
    locked._history_user = by
    locked.full_clean(validate_unique=False)
    locked.save(update_fields=["notice_on", "notice_at", "notice_by", "ends_on"])
    confirmations.confirmation_plan_notice(service_plan=locked, preview=preview, by=by)
    return preview
