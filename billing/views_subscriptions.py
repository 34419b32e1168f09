"""Billing's portal pages for subscriptions and service plans (issue 12, SUB-5…SUB-8): the
subscription list, notice with the computed end shown before it is confirmed (and the
special termination right where it exists), tier change with the new price shown first,
service plans per server key (book, see the plan year, give notice) and the dashboard panel
of what ends soon.

Thin (STYLE 5): ``partner_required`` (changes: ``admin_only=True``), objects through
partner-scoped selectors (another partner's id → 404), one service per change. A confirm
step records only what the partner was shown: if the end or price computed at confirmation
differs (the day changed in between), the page shows the new one first. The same form
posted twice records once — the second post is told so, nothing changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from billing import rules, selectors, services
from billing.exceptions import ServicePlanRefused, SubscriptionRefused
from billing.forms_subscriptions import (
    NOTICE_SPECIAL,
    NoticeConfirmForm,
    PlanBookForm,
    PlanNoticeConfirmForm,
    SubscriptionFilterForm,
    TierChangeForm,
)
from billing.models import ServicePlan, Subscription
from licensing.models import Installation, Product
from vendorportal import clock
from vendorportal.formats import format_date
from vendorportal.money import format_eur
from vendorportal.portal.access import partner_required

SUBSCRIPTIONS_PER_PAGE = 50
SERVER_KEYS_PER_PAGE = 50
# The dashboard shows subscriptions and plans whose last day is within this many days.
ENDING_DAYS = 60
PANEL_ROWS = 10


def _is_admin(request) -> bool:
    return request.partner_user.role == request.partner_user.ADMIN


def _subscription_or_404(partner, pk) -> Subscription:
    try:
        return selectors.partner_subscription(partner, pk)
    except Subscription.DoesNotExist:
        raise Http404(_("Dieses Abo gibt es nicht oder es gehört nicht zu Ihrem Partnerkonto.")) from None


def _server_key_or_404(partner, pk) -> Installation:
    try:
        return selectors.partner_server_key(partner, pk)
    except Installation.DoesNotExist:
        raise Http404(
            _("Diese Installation gibt es nicht, sie hat keinen Serverlizenzschlüssel oder gehört nicht zu Ihnen.")
        ) from None


def _plan_or_404(partner, pk) -> ServicePlan:
    try:
        return selectors.partner_service_plan(partner, pk)
    except ServicePlan.DoesNotExist:
        raise Http404(_("Diesen Service-Plan gibt es nicht oder er gehört nicht zu Ihrem Partnerkonto.")) from None


def _is_tiered(subscription) -> bool:
    return subscription.product.pricing_model in (Product.TIERED, Product.PER_STARTED_5_USERS)


def _confirmation_sent(request) -> None:
    """Tell the partner where the written confirmation of the change went (issue 16)."""
    messages.info(
        request,
        _("Die schriftliche Bestätigung geht per E-Mail an %(email)s.") % {"email": request.partner.invoice_email},
    )


# --- the list -----------------------------------------------------------------------------------


@partner_required
def subscriptions_list(request):
    """Every subscription of the partner with term, billing, the monthly price in force, the
    next billing period, minimum-term end and notice/end; filter running/ended."""
    today = clock.today()
    form = SubscriptionFilterForm(request.GET or None)
    status = selectors.SUBSCRIPTIONS_RUNNING
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"] or selectors.SUBSCRIPTIONS_RUNNING
    elif not form.is_bound:
        form = SubscriptionFilterForm(initial={"status": status})
    page = Paginator(
        selectors.portal_subscriptions(request.partner, today=today, status=status), SUBSCRIPTIONS_PER_PAGE
    )
    page = page.get_page(request.GET.get("seite"))
    billed_starts = selectors.subscriptions_billed_starts(page)
    for sub in page:
        price_day = max(today, sub.term_start)
        sub.price_now = selectors.subscription_monthly_price_on(sub, price_day) * sub.quantity
        sub.tier_now = selectors.subscription_tier_on(sub, price_day)
        sub.next_billing = selectors.subscription_next_unbilled(sub, today, billed_starts[sub.pk])
        sub.ended = sub.ends_on is not None and sub.ends_on < today
        sub.can_cancel = sub.notice_on is None and not sub.ended
        sub.can_change_tier = _is_tiered(sub) and not sub.ended and sub.next_billing is not None
    query = request.GET.copy()
    query.pop("seite", None)
    return render(
        request,
        "portal/billing/subscriptions.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "is_admin": _is_admin(request),
            "today": today,
            "title": _("Abos"),
        },
    )


# --- notice (SUB-5, SUB-6) ---------------------------------------------------------------------------


def _notice_choices(subscription, today):
    """The ordinary notice (and the special one, where the right exists today) received
    today, as previews; or the reason why the subscription cannot be given notice."""
    try:
        ordinary = services.subscription_notice_preview(subscription, today)
    except SubscriptionRefused as exc:
        return None, None, exc.message
    special = None
    if selectors.subscription_special_termination(subscription, today) is not None:
        try:
            special = services.subscription_notice_preview(subscription, today, special=True)
        except SubscriptionRefused:
            special = None
    return ordinary, special, ""


def _cancel_page(request, subscription, today, *, status=200):
    ordinary, special, refusal = _notice_choices(subscription, today)
    return render(
        request,
        "portal/billing/subscription_cancel.html",
        {
            "subscription": subscription,
            "ordinary": ordinary,
            "special": special,
            "refusal": refusal,
            "today": today,
            "title": _("Abo %(ref)s kündigen") % {"ref": subscription.reference},
        },
        status=status,
    )


def _already_done(request, exc, url_name):
    messages.info(request, exc.message + " " + _("Es wurde nichts doppelt erfasst."))
    return redirect(url_name)


@partner_required(admin_only=True)
def subscription_cancel(request, pk: int):
    """GET: the end a notice received today gives (SUB-5; the whole package, ORD-4), and the
    special notice where SUB-6 grants it. POST: confirm one of them — recorded with who and
    when, only if the end is still the one shown."""
    sub = _subscription_or_404(request.partner, pk)
    today = clock.today()
    if request.method != "POST":
        return _cancel_page(request, sub, today)
    form = NoticeConfirmForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _cancel_page(request, sub, today, status=400)
    special = form.cleaned_data["kind"] == NOTICE_SPECIAL
    try:
        preview = services.subscription_notice_preview(sub, today, special=special)
        if preview.ends_on != form.cleaned_data["ends_on"]:
            messages.warning(
                request,
                _("Das Ende hat sich seit der Anzeige geändert: jetzt %(end)s. Bitte prüfen und erneut bestätigen.")
                % {"end": format_date(preview.ends_on)},
            )
            return _cancel_page(request, sub, today)
        given = services.subscription_give_notice(subscription=sub, notice_on=today, special=special, by=request.user)
    except SubscriptionRefused as exc:
        if exc.code == "already_noticed":
            return _already_done(request, exc, "portal:subscriptions")
        messages.error(request, exc.message)
        return _cancel_page(request, sub, today)
    messages.success(request, given.text)
    _confirmation_sent(request)
    return redirect("portal:subscriptions")


# --- tier change (SUB-7) ------------------------------------------------------------------------------


@partner_required(admin_only=True)
def subscription_tier(request, pk: int):
    """Choose the new tier (Teams Presence Sync: the users) → the new monthly price and the
    billing period it applies from → confirm (SUB-7: term and start stay)."""
    sub = _subscription_or_404(request.partner, pk)
    today = clock.today()
    by_users = sub.product.pricing_model == Product.PER_STARTED_5_USERS
    refusal = ""
    if not _is_tiered(sub):
        refusal = _("%(name)s hat keine Benutzerstaffeln; der Monatspreis hängt nicht von den Benutzern ab.") % {
            "name": sub.product.name
        }
    elif selectors.subscription_next_unbilled(sub, today) is None:
        refusal = _("Das Abo %(ref)s endet am %(end)s; ein Staffelwechsel ist nicht mehr möglich.") % {
            "ref": sub.reference,
            "end": format_date(sub.ends_on),
        }
    form = TierChangeForm(request.POST or None, by_users=by_users)
    preview = None
    status = 200
    if refusal:
        form = None
    elif request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            tier, users = data.get("tier") or "", data.get("users")
            try:
                preview = services.subscription_tier_change_preview(sub, tier=tier, users=users)
                shown = (data["shown_from"], data["shown_price"])
                if data["confirmed"] and shown == (preview.effective_from, preview.monthly_price):
                    change = services.subscription_change_tier(
                        subscription=sub, tier=tier, users=users, by=request.user
                    )
                    _confirmation_sent(request)
                    messages.success(
                        request,
                        _("Abo %(ref)s: ab %(date)s %(price)s monatlich je Lizenz (%(what)s).")
                        % {
                            "ref": sub.reference,
                            "date": format_date(change.effective_from),
                            "price": format_eur(change.monthly_price),
                            "what": change.tier or _("%(users)s Benutzer") % {"users": change.users},
                        },
                    )
                    return redirect("portal:subscriptions")
                if data["confirmed"]:
                    messages.warning(
                        request, _("Preis oder Beginn haben sich seit der Anzeige geändert; bitte erneut prüfen.")
                    )
            except SubscriptionRefused as exc:
                if exc.code == "same_tier" and data["confirmed"]:
                    return _already_done(request, exc, "portal:subscriptions")
                form.add_error(None, exc.message)
                preview = None
                status = 400
            if preview is not None:
                form = TierChangeForm(
                    initial={
                        "tier": preview.tier,
                        "users": preview.users,
                        "confirmed": True,
                        "shown_from": preview.effective_from,
                        "shown_price": preview.monthly_price,
                    },
                    by_users=by_users,
                )
                form.hide_inputs()
        else:
            status = 400
    tier_now, users_now = selectors.subscription_tier_on(sub, today)
    return render(
        request,
        "portal/billing/subscription_tier.html",
        {
            "subscription": sub,
            "form": form,
            "preview": preview,
            "refusal": refusal,
            "tier_now": tier_now,
            "users_now": users_now,
            "price_now": selectors.subscription_monthly_price_on(sub, max(today, sub.term_start)),
            "title": _("Staffel wechseln: Abo %(ref)s") % {"ref": sub.reference},
        },
        status=status,
    )


# --- service plans (SUB-8) -------------------------------------------------------------------------------


def _plan_of(installation):
    try:
        return installation.service_plan
    except ServicePlan.DoesNotExist:
        return None


@partner_required
def service_plans_list(request):
    """The partner's server keys, each with its plan: plan year today, yearly price, notice/end."""
    today = clock.today()
    page = Paginator(selectors.partner_server_keys(request.partner), SERVER_KEYS_PER_PAGE).get_page(
        request.GET.get("seite")
    )
    for inst in page:
        plan = inst.plan = _plan_of(inst)
        inst.plan_year = None
        if plan is not None and today >= plan.starts_on and (plan.ends_on is None or today <= plan.ends_on):
            inst.plan_year = rules.service_plan_year(plan.starts_on, today)
        inst.plan_ended = plan is not None and plan.ends_on is not None and plan.ends_on < today
        inst.can_book = plan is None and (inst.decommissioned_on is None or inst.decommissioned_on > today)
    return render(
        request,
        "portal/billing/service_plans.html",
        {"page": page, "is_admin": _is_admin(request), "today": today, "title": _("Service-Pläne")},
    )


def _already_booked_text(installation, plan) -> str:
    return _(
        "Für den Serverlizenzschlüssel %(id)s ist bereits der Service-Plan %(ref)s (%(plan)s, ab %(start)s) "
        "gebucht; ein Service-Plan kann je Serverlizenzschlüssel nur einmal gebucht werden."
    ) % {
        "id": installation.identifier,
        "ref": plan.reference,
        "plan": plan.get_plan_display(),
        "start": format_date(plan.starts_on),
    }


@partner_required(admin_only=True)
def service_plan_book(request, installation: int):
    """Book Premium or Enterprise on one server key at the yearly price of today's price list;
    once per server key (a second booking is refused with the reason)."""
    inst = _server_key_or_404(request.partner, installation)
    today = clock.today()
    existing = _plan_of(inst)
    refusal = _already_booked_text(inst, existing) if existing else ""
    if not refusal and inst.decommissioned_on is not None and inst.decommissioned_on <= today:
        refusal = _(
            "Die Installation %(id)s ist seit %(date)s außer Betrieb; dafür kann kein Service-Plan gebucht werden."
        ) % {
            "id": inst.identifier,
            "date": format_date(inst.decommissioned_on),
        }
    prices = selectors.service_plan_yearly_prices(today)
    form = None if refusal else PlanBookForm(request.POST or None, prices=prices)
    status = 200
    if existing is not None and request.method == "POST":
        messages.info(request, _already_booked_text(inst, existing) + " " + _("Es wurde nichts doppelt gebucht."))
        return redirect("portal:service_plans")
    if refusal and request.method == "POST":
        status = 400
    if form is not None and request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.service_plan_book(
                    installation=inst,
                    plan=data["plan"],
                    signed_on=today,
                    starts_on=data["starts_on"],
                    by=request.user,
                )
            except ServicePlanRefused as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                year = rules.service_plan_year(plan.starts_on, max(today, plan.starts_on))
                _confirmation_sent(request)
                messages.success(
                    request,
                    _(
                        "Service-Plan %(ref)s gebucht: %(plan)s für %(id)s, %(price)s jährlich im Voraus. "
                        "Laufendes Planjahr %(start)s–%(end)s; berechnet ab %(billed)s."
                    )
                    % {
                        "ref": plan.reference,
                        "plan": plan.get_plan_display(),
                        "id": inst.identifier,
                        "price": format_eur(plan.yearly_price),
                        "start": format_date(year.start),
                        "end": format_date(year.end),
                        "billed": format_date(plan.billed_from),
                    },
                )
                return redirect("portal:service_plans")
        else:
            status = 400
    return render(
        request,
        "portal/billing/service_plan_book.html",
        {
            "installation": inst,
            "form": form,
            "refusal": refusal,
            "title": _("Service-Plan buchen"),
        },
        status=status,
    )


def _plan_cancel_page(request, plan, today, *, status=200):
    preview, refusal = None, ""
    try:
        preview = services.service_plan_notice_preview(plan, today)
    except ServicePlanRefused as exc:
        refusal = exc.message
    return render(
        request,
        "portal/billing/service_plan_cancel.html",
        {
            "plan": plan,
            "preview": preview,
            "refusal": refusal,
            "title": _("Service-Plan %(ref)s kündigen") % {"ref": plan.reference},
        },
        status=status,
    )


@partner_required(admin_only=True)
def service_plan_cancel(request, pk: int):
    """GET: the end of a notice received today (SUB-8: 3 months to the end of a plan year).
    POST: confirm — recorded with who and when, only if the end is still the one shown."""
    plan = _plan_or_404(request.partner, pk)
    today = clock.today()
    if request.method != "POST":
        return _plan_cancel_page(request, plan, today)
    form = PlanNoticeConfirmForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _plan_cancel_page(request, plan, today, status=400)
    try:
        preview = services.service_plan_notice_preview(plan, today)
        if preview.ends_on != form.cleaned_data["ends_on"]:
            messages.warning(
                request,
                _("Das Ende hat sich seit der Anzeige geändert: jetzt %(end)s. Bitte prüfen und erneut bestätigen.")
                % {"end": format_date(preview.ends_on)},
            )
            return _plan_cancel_page(request, plan, today)
        given = services.service_plan_give_notice(service_plan=plan, notice_on=today, by=request.user)
    except ServicePlanRefused as exc:
        if exc.code == "already_noticed":
            return _already_done(request, exc, "portal:service_plans")
        messages.error(request, exc.message)
        return _plan_cancel_page(request, plan, today)
    messages.success(request, given.text)
    _confirmation_sent(request)
    return redirect("portal:service_plans")


# --- dashboard ------------------------------------------------------------------------------------------


def ending_panel(request, partner) -> dict | None:
    """Dashboard: subscriptions (notice given) and service plans ending within 60 days; none: no panel."""
    today = clock.today()
    subs = list(selectors.subscriptions_ending(partner, today=today, days=ENDING_DAYS)[: PANEL_ROWS + 1])
    plans = list(selectors.service_plans_ending(partner, today=today, days=ENDING_DAYS)[: PANEL_ROWS + 1])
    if not subs and not plans:
        return None
    return {
        "subscriptions": subs[:PANEL_ROWS],
        "plans": plans[:PANEL_ROWS],
        "more": len(subs) > PANEL_ROWS or len(plans) > PANEL_ROWS,
        "days": ENDING_DAYS,
    }
