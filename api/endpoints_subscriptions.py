"""Subscriptions and service plans through the API (issue 19; SUB-5…SUB-8), through billing's
subscription services and partner-scoped selectors, as the portal's pages do.

A change is previewed first and confirmed with what the preview showed (the end of a notice;
the start and price of a tier change): if the day changed in between and the service now
computes something else, the confirmation is answered 409 ``changed`` with the new preview
— nothing is recorded that the partner's system did not see, as in the portal.
"""

from datetime import date
from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import field_validator

from api.api import problem, require_scope
from api.common import MAX_ID, PAGE, PageCursorPagination, acting_user
from api.history import api_write
from api.models import SCOPE_ORDER, SCOPE_READ
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import ServicePlan, Subscription
from licensing.rules.identifiers import TIER_LABELS
from vendorportal import clock
from vendorportal.formats import format_date

router = Router(tags=["Abos und Service-Pläne"])


# --- subscriptions ------------------------------------------------------------------------------


class SubscriptionOut(Schema):
    id: int
    reference: str
    article: str = Field(..., alias="product.article")
    product: str = Field(..., alias="product.name")
    installation_id: int
    installation: str = Field(..., alias="installation.identifier")
    customer: str = Field(..., alias="installation.customer.company")
    quantity: int
    package: str
    minimum_months: int
    billing_months: int
    signed_on: date
    term_start: date
    minimum_end: date
    notice_on: date | None
    notice_special: bool
    ends_on: date | None
    monthly_price_now: Decimal = Field(..., description="Monatspreis netto (alle Lizenzen) heute bzw. ab Beginn")
    tier_now: str
    users_now: int | None
    next_billing: date | None = Field(..., description="Beginn der nächsten noch nicht berechneten Periode")


def _enrich_subscriptions(rows, request) -> None:
    """The portal list's computed values, from the prefetched price changes and one query
    for the page's billed periods (no query per row)."""
    today = clock.today()
    billed = billing_selectors.subscriptions_billed_starts(rows)
    for sub in rows:
        day = max(today, sub.term_start)
        sub.monthly_price_now = billing_selectors.subscription_monthly_price_on(sub, day) * sub.quantity
        sub.tier_now, sub.users_now = billing_selectors.subscription_tier_on(sub, day)
        sub.next_billing = billing_selectors.subscription_next_unbilled(sub, today, billed[sub.pk])


class SubscriptionFilter(Schema):
    status: Literal["running", "ended", "all"] = "running"
    installation_id: int | None = Field(None, ge=1, le=MAX_ID)


STATUS = {"running": billing_selectors.SUBSCRIPTIONS_RUNNING, "ended": billing_selectors.SUBSCRIPTIONS_ENDED}


@router.get("/subscriptions", response=list[SubscriptionOut], summary="Abos")
@paginate(PageCursorPagination, ordering=("-id",), enrich=_enrich_subscriptions, **PAGE)
def subscriptions_list(request, filters: Query[SubscriptionFilter]):
    require_scope(request, SCOPE_READ)
    qs = billing_selectors.portal_subscriptions(
        request.partner, today=clock.today(), status=STATUS.get(filters.status, "")
    )
    if filters.installation_id:
        qs = qs.filter(installation_id=filters.installation_id)
    return qs


def _subscription(request, subscription_id: int) -> Subscription:
    return billing_selectors.partner_subscription(request.partner, subscription_id)


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut, summary="Ein Abo")
def subscription_detail(request, subscription_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_READ)
    sub = _subscription(request, subscription_id)
    _enrich_subscriptions([sub], request)
    return sub


class NoticeIn(Schema):
    special: bool = Field(False, description="Sonderkündigung (SUB-6), wo das Recht besteht")


class NoticeConfirmIn(NoticeIn):
    ends_on: date = Field(..., description="das Ende, das die Vorschau gezeigt hat")


class NoticeOut(Schema):
    notice_on: date
    ends_on: date
    special: bool
    subscriptions: list[str] = Field(..., description="alle Abos, die enden (ein Paket endet als Ganzes, ORD-4)")
    text: str


def _notice_out(preview) -> dict:
    return {
        "notice_on": preview.notice_on,
        "ends_on": preview.ends_on,
        "special": preview.special,
        "subscriptions": preview.references,
        "text": preview.text,
    }


@router.post("/subscriptions/{subscription_id}/notice/preview", response=NoticeOut, summary="Kündigung: Vorschau")
def subscription_notice_preview(request, data: NoticeIn, subscription_id: int = Path(..., ge=1, le=MAX_ID)):
    """SUB-5 (SUB-6 with ``special``): the end a notice received today gives. Nothing is written."""
    require_scope(request, SCOPE_ORDER)
    sub = _subscription(request, subscription_id)
    return _notice_out(billing_services.subscription_notice_preview(sub, clock.today(), special=data.special))


def _changed(request, detail: str, **preview):
    return problem(request, 409, "changed", detail, **preview)


@router.post("/subscriptions/{subscription_id}/notice", response=NoticeOut, summary="Kündigung bestätigen")
@api_write
def subscription_notice(request, data: NoticeConfirmIn, subscription_id: int = Path(..., ge=1, le=MAX_ID)):
    """Records the notice received today if its end is still ``ends_on``; a second notice is
    refused (422 ``already_noticed``)."""
    require_scope(request, SCOPE_ORDER)
    sub = _subscription(request, subscription_id)
    today = clock.today()
    preview = billing_services.subscription_notice_preview(sub, today, special=data.special)
    if preview.ends_on != data.ends_on:
        return _changed(
            request,
            _("Das Ende hat sich seit der Anzeige geändert: jetzt %(end)s. Bitte prüfen und erneut bestätigen.")
            % {"end": format_date(preview.ends_on)},
            preview=_notice_out(preview),
        )
    given = billing_services.subscription_give_notice(
        subscription=sub, notice_on=today, special=data.special, by=acting_user(request)
    )
    return _notice_out(given)


class TierIn(Schema):
    tier: str = Field("", max_length=8, description="neue Staffel, z. B. 41-80 (gestaffelte Module)")
    users: int | None = Field(None, ge=1, le=100_000, description="Benutzer (Teams Presence Sync; sonst → Staffel)")

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, value: str) -> str:
        if value and value not in TIER_LABELS:
            raise ValueError(_("Diese Benutzerstaffel gibt es nicht (%(tiers)s).") % {"tiers": ", ".join(TIER_LABELS)})
        return value


class TierConfirmIn(TierIn):
    effective_from: date = Field(..., description="aus der Vorschau")
    monthly_price: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2, description="aus der Vorschau")


class TierOut(Schema):
    tier: str
    users: int | None
    effective_from: date
    monthly_price: Decimal = Field(..., description="neuer Monatspreis netto je Lizenz")
    current_price: Decimal


def _tier_out(preview) -> dict:
    return {
        "tier": preview.tier,
        "users": preview.users,
        "effective_from": preview.effective_from,
        "monthly_price": preview.monthly_price,
        "current_price": preview.current_price,
    }


@router.post(
    "/subscriptions/{subscription_id}/tier-change/preview", response=TierOut, summary="Staffelwechsel: Vorschau"
)
def subscription_tier_preview(request, data: TierIn, subscription_id: int = Path(..., ge=1, le=MAX_ID)):
    """SUB-7: the new monthly price and the billing period it applies from. Nothing is written."""
    require_scope(request, SCOPE_ORDER)
    sub = _subscription(request, subscription_id)
    return _tier_out(billing_services.subscription_tier_change_preview(sub, tier=data.tier, users=data.users))


@router.post("/subscriptions/{subscription_id}/tier-change", response=TierOut, summary="Staffelwechsel bestätigen")
@api_write
def subscription_tier_change(request, data: TierConfirmIn, subscription_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_ORDER)
    sub = _subscription(request, subscription_id)
    preview = billing_services.subscription_tier_change_preview(sub, tier=data.tier, users=data.users)
    if (preview.effective_from, preview.monthly_price) != (data.effective_from, data.monthly_price):
        return _changed(
            request,
            _("Preis oder Beginn haben sich seit der Anzeige geändert; bitte erneut prüfen."),
            preview=_tier_out(preview),
        )
    billing_services.subscription_change_tier(
        subscription=sub, tier=data.tier, users=data.users, by=acting_user(request)
    )
    return _tier_out(preview)


# --- service plans (SUB-8) ------------------------------------------------------------------------


class ServicePlanOut(Schema):
    id: int
    reference: str
    plan: str
    installation_id: int
    installation: str = Field(..., alias="installation.identifier")
    customer: str = Field(..., alias="installation.customer.company")
    yearly_price: Decimal
    signed_on: date
    starts_on: date
    retroactive: bool
    billed_from: date
    notice_on: date | None
    ends_on: date | None


@router.get("/service-plans", response=list[ServicePlanOut], summary="Service-Pläne")
@paginate(PageCursorPagination, ordering=("-id",), **PAGE)
def service_plans_list(request):
    require_scope(request, SCOPE_READ)
    return billing_selectors.service_plans_for_partner(request.partner)


class PlanPricesOut(Schema):
    premium: Decimal | None
    enterprise: Decimal | None


@router.get("/service-plans/prices", response=PlanPricesOut, summary="Jahrespreise der Service-Pläne heute")
def service_plan_prices(request):
    require_scope(request, SCOPE_READ)
    return billing_selectors.service_plan_yearly_prices(clock.today())


class PlanBookIn(Schema):
    installation_id: int = Field(..., ge=1, le=MAX_ID, description="STARFACE-Installation mit Serverlizenzschlüssel")
    plan: Literal["premium", "enterprise"]
    starts_on: date | None = Field(None, description="leer = heute; früher nur für Käufe vor 2022 (SUB-8)")


@router.post("/service-plans", response={201: ServicePlanOut}, summary="Service-Plan buchen")
@api_write
def service_plan_book(request, data: PlanBookIn):
    """Once per server key (a second booking: 422 ``already_booked``)."""
    require_scope(request, SCOPE_ORDER)
    installation = billing_selectors.partner_server_key(request.partner, data.installation_id)
    plan = billing_services.service_plan_book(
        installation=installation,
        plan=data.plan,
        signed_on=clock.today(),
        starts_on=data.starts_on,
        by=acting_user(request),
    )
    return Status(201, billing_selectors.partner_service_plan(request.partner, plan.pk))


class PlanNoticeOut(Schema):
    notice_on: date
    ends_on: date
    text: str


class PlanNoticeIn(Schema):
    ends_on: date = Field(..., description="das Ende, das die Vorschau gezeigt hat")


def _plan(request, plan_id: int) -> ServicePlan:
    return billing_selectors.partner_service_plan(request.partner, plan_id)


@router.post("/service-plans/{plan_id}/notice/preview", response=PlanNoticeOut, summary="Plan kündigen: Vorschau")
def service_plan_notice_preview(request, plan_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_ORDER)
    return billing_services.service_plan_notice_preview(_plan(request, plan_id), clock.today())


@router.post("/service-plans/{plan_id}/notice", response=PlanNoticeOut, summary="Plan kündigen")
@api_write
def service_plan_notice(request, data: PlanNoticeIn, plan_id: int = Path(..., ge=1, le=MAX_ID)):
    require_scope(request, SCOPE_ORDER)
    plan = _plan(request, plan_id)
    preview = billing_services.service_plan_notice_preview(plan, clock.today())
    if preview.ends_on != data.ends_on:
        return _changed(
            request,
            _("Das Ende hat sich seit der Anzeige geändert: jetzt %(end)s. Bitte prüfen und erneut bestätigen.")
            % {"end": format_date(preview.ends_on)},
            preview={"notice_on": preview.notice_on, "ends_on": preview.ends_on, "text": preview.text},
        )
    return billing_services.service_plan_give_notice(
        service_plan=plan, notice_on=clock.today(), by=acting_user(request)
    )
