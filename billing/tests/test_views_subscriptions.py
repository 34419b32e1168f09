"""The portal's subscription and service-plan pages (issue 12, SUB-5…SUB-8): list, notice with
the end shown before it is confirmed, special notice, tier change, plans per server key and the
dashboard panel. Each page: the happy path, bad input (German message, nothing changed),
member vs admin, query budget with 200+ rows; another partner's ids → 404 is the isolation
walker's (billing/tests/portal_isolation.py).

Dates and amounts by hand (seed 001 price list; the subscriptions are written by the factory,
so no partner conditions): Call Recording 21-40, 24 months, 44,75 €/month, signed 21.11.2026 →
term 01.12.2026–30.11.2028 (SUB-1, GEN-1), monthly billing. SUB-5: a notice received on R ends
on the first month end E ≥ 30.11.2028 with R ≤ E − 14 days: R = 01.03.2027 → 30.11.2028;
R = 16.11.2028 → 30.11.2028 (30.11. − 14 = 16.11.); R = 17.11.2028 → 31.12.2028.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from billing.models import ServicePlan, Subscription, SubscriptionPriceChange
from billing.tests.factories import make_service_plan, make_subscription
from licensing.tests.factories import CustomerFactory, InstallationFactory, make_system
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerFactory, PartnerUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
LIST = "/portal/abos/"
PLANS = "/portal/service-plaene/"


@pytest.fixture
def partner(catalog):
    return PartnerFactory(company="Muster Kommunikation GmbH")


@pytest.fixture
def admin(client, partner):
    login = PartnerUserFactory(partner=partner, role=PartnerUser.ADMIN, user__username="chefin")
    client.force_login(login.user)
    return login.user


@pytest.fixture
def member(client, partner):
    login = PartnerUserFactory(partner=partner, role=PartnerUser.MEMBER)
    client.force_login(login.user)
    return login.user


def installation_of(partner, **kw):
    return InstallationFactory(customer=CustomerFactory(partner=partner, company="Bäckerei Huber"), **kw)


def callrec(partner, **kw):
    if "installation" not in kw:
        kw["installation"] = installation_of(partner)
    return make_subscription(
        partner, tier="21-40", minimum_months=24, signed_on=date(2026, 11, 21), term_start=date(2026, 12, 1), **kw
    )


def cancel_url(sub):
    return reverse("portal:subscription_cancel", args=[sub.pk])


def tier_url(sub):
    return reverse("portal:subscription_tier", args=[sub.pk])


def html(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """What a reader sees: the page without tags, whitespace collapsed."""
    page = re.sub(r"<(/?(td|th|tr|li|p|div|br)\b[^>]*)>", r" <\1> ", response.content.decode())  # cells apart
    return " ".join(unescape(strip_tags(page)).split())


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the list ------------------------------------------------------------------------------------


def test_list_shows_term_billing_price_next_period_minimum_end_and_links_for_admins(client, admin, partner, clock):
    clock.set(date(2026, 11, 21))
    sub = callrec(partner, quantity=3, installation=installation_of(partner, identifier="ABCDE-12345-FGHIJ-67890"))
    response = client.get(LIST)
    page = text(response)
    row = page[page.index(sub.reference) :]
    assert "Call Recording · Staffel 21-40" in row
    assert "ABCDE-12345-FGHIJ-67890" in row
    assert "24 Monate ab 01.12.2026" in row
    assert "Mindestlaufzeit bis 30.11.2028" in row
    assert "monatlich" in row and "nächster Zeitraum ab 01.12.2026" in row
    assert "134,25 €" in row and "3 Lizenzen" in row  # 3 × 44,75 €
    assert "läuft" in row
    assert cancel_url(sub) in html(response) and tier_url(sub) in html(response)


def test_a_one_month_term_reads_in_the_singular(client, admin, partner, clock):
    clock.set(date(2026, 11, 21))
    make_subscription(partner, minimum_months=1, signed_on=date(2026, 11, 21), term_start=date(2026, 12, 1))
    page = text(client.get(LIST))
    assert "1 Monat ab 01.12.2026" in page and "1 Monate" not in page
    assert "Mindestlaufzeit bis 31.12.2026" in page


def test_list_shows_the_price_in_force_after_a_tier_change_and_the_end_after_notice(client, member, partner, clock):
    sub = callrec(partner)
    SubscriptionPriceChange.objects.create(
        subscription=sub, effective_from=date(2027, 2, 1), tier="41-80", monthly_price=D("89.50")
    )
    Subscription.objects.filter(pk=sub.pk).update(notice_on=date(2027, 2, 10), ends_on=date(2028, 11, 30))
    clock.set(date(2027, 2, 10))
    response = client.get(LIST)
    page = text(response)
    assert "Staffel 41-80" in page and "89,50 €" in page and "44,75 €" not in page
    assert "nächster Zeitraum ab 01.03.2027" in page
    assert "endet am 30.11.2028" in page and "gekündigt am 10.02.2027" in page
    # a member reads, but the cancel and tier links are the admins'
    assert cancel_url(sub) not in html(response) and tier_url(sub) not in html(response)


def test_filter_running_and_ended(client, admin, partner, clock):
    running = callrec(partner)
    ended = callrec(partner, installation=installation_of(partner))
    Subscription.objects.filter(pk=ended.pk).update(notice_on=date(2026, 11, 25), ends_on=date(2026, 11, 30))
    clock.set(date(2026, 12, 5))
    default = text(client.get(LIST))
    assert running.reference in default and ended.reference not in default
    only_ended = text(client.get(LIST, {"status": "beendet"}))
    assert ended.reference in only_ended and running.reference not in only_ended
    assert "beendet am 30.11.2026" in only_ended
    both = text(client.get(LIST, {"status": "alle"}))
    assert running.reference in both and ended.reference in both
    bad = client.get(LIST, {"status": "kaputt"})
    assert bad.status_code == 200
    assert "Bitte „laufende“, „beendete“ oder „alle“ wählen." in text(bad)
    assert running.reference in text(bad)


def test_list_query_budget_with_210_subscriptions(client, admin, partner, clock, portal_query_budget):
    clock.set(date(2027, 2, 10))
    inst = installation_of(partner)
    for _i in range(210):
        sub = make_subscription(partner, installation=inst, signed_on=date(2026, 11, 21))
        SubscriptionPriceChange.objects.create(
            subscription=sub, effective_from=date(2027, 2, 1), tier="41-80", monthly_price=D("89.50")
        )
    response = portal_query_budget(LIST)
    assert text(response).count("89,50 €") == 50  # one page of 50
    assert "Seite 1 von 5" in text(response)


# --- notice (SUB-5) -----------------------------------------------------------------------------------


def test_cancel_shows_the_computed_end_first_then_records_it_with_who_and_when(client, admin, partner, clock):
    sub = callrec(partner)
    clock.set(date(2027, 3, 1))
    page = client.get(cancel_url(sub))
    assert "Das Abo endet am 30.11.2028." in text(page)
    assert "Das ist das Ende der Mindestlaufzeit." in text(page)
    sub.refresh_from_db()
    assert sub.notice_on is None  # showing changes nothing
    response = client.post(cancel_url(sub), {"kind": "ordinary", "ends_on": "2028-11-30"}, follow=True)
    sub.refresh_from_db()
    assert (sub.notice_on, sub.ends_on, sub.notice_by, sub.notice_special) == (
        date(2027, 3, 1),
        date(2028, 11, 30),
        admin,
        False,
    )
    assert sub.notice_at is not None
    assert sub.history.latest().history_user == admin
    assert "endet am 30.11.2028" in text(response)
    assert any("Das Abo" in m and "endet am 30.11.2028" in m for m in messages_of(response))


def test_the_same_confirm_posted_twice_gives_notice_once(client, admin, partner, clock):
    sub = callrec(partner)
    clock.set(date(2028, 11, 10))
    data = {"kind": "ordinary", "ends_on": "2028-11-30"}
    client.post(cancel_url(sub), data)
    versions = sub.history.count()
    again = client.post(cancel_url(sub), data, follow=True)
    assert any(
        "ist bereits gekündigt (Eingang 10.11.2028) und endet am 30.11.2028" in m and "nichts doppelt" in m
        for m in messages_of(again)
    )
    assert sub.history.count() == versions


def test_confirming_a_stale_end_shows_the_new_end_and_records_nothing(client, admin, partner, clock):
    sub = callrec(partner)
    clock.set(date(2028, 11, 16))
    assert "Das Abo endet am 30.11.2028." in text(client.get(cancel_url(sub)))
    clock.set(date(2028, 11, 17))  # the partner confirms a day later: 30.11. − 14 days = 16.11. < 17.11.
    response = client.post(cancel_url(sub), {"kind": "ordinary", "ends_on": "2028-11-30"})
    assert "Das Ende hat sich seit der Anzeige geändert: jetzt 31.12.2028." in text(response)
    assert "Das Abo endet am 31.12.2028." in text(response)
    sub.refresh_from_db()
    assert sub.notice_on is None


def test_garbage_confirm_is_refused_in_german_and_changes_nothing(client, admin, partner, clock):
    sub = callrec(partner)
    clock.set(date(2027, 3, 1))
    response = client.post(cancel_url(sub), {"kind": "kuendigen", "ends_on": "gestern"})
    assert response.status_code == 400
    assert "Bitte ordentliche Kündigung oder Sonderkündigung wählen." in text(response)
    assert "Das Formular ist unvollständig; bitte die Seite neu laden." in text(response)
    sub.refresh_from_db()
    assert sub.notice_on is None


def test_a_package_ends_as_a_whole_and_the_page_says_so(client, admin, partner, clock):
    inst = installation_of(partner)
    first = callrec(partner, installation=inst, package="B-2026-000001-P24")
    second = callrec(partner, installation=inst, package="B-2026-000001-P24", article="BLACKLIST")
    clock.set(date(2027, 3, 1))
    page = text(client.get(cancel_url(first)))
    assert "Das ganze Paket B-2026-000001-P24 endet am 30.11.2028:" in page
    assert f"{second.reference} – Blacklist PRO" in page
    client.post(cancel_url(first), {"kind": "ordinary", "ends_on": "2028-11-30"})
    for sub in (first, second):
        sub.refresh_from_db()
        assert (sub.notice_on, sub.ends_on, sub.notice_by) == (date(2027, 3, 1), date(2028, 11, 30), admin)


def test_an_ended_subscription_says_why_it_cannot_be_cancelled(client, admin, partner, clock):
    sub = callrec(partner)
    Subscription.objects.filter(pk=sub.pk).update(notice_on=date(2027, 3, 1), ends_on=date(2028, 11, 30))
    clock.set(date(2028, 12, 5))
    page = client.get(cancel_url(sub))
    assert f"Das Abo {sub.reference} endete am 30.11.2028; es kann nicht mehr gekündigt werden." in text(page)
    assert "Verbindlich kündigen" not in text(page)
    response = client.post(cancel_url(sub), {"kind": "ordinary", "ends_on": "2028-12-31"}, follow=True)
    assert any("endete am 30.11.2028" in m for m in messages_of(response))
    sub.refresh_from_db()
    assert (sub.notice_on, sub.ends_on) == (date(2027, 3, 1), date(2028, 11, 30))


def test_a_member_may_not_cancel(client, member, partner, clock):
    sub = callrec(partner)
    clock.set(date(2027, 3, 1))
    assert client.get(cancel_url(sub)).status_code == 403
    assert client.post(cancel_url(sub), {"kind": "ordinary", "ends_on": "2028-11-30"}).status_code == 403
    sub.refresh_from_db()
    assert sub.notice_on is None


# --- special notice (SUB-6) ------------------------------------------------------------------------------
# The `modules` fixture: STARFACE 9.0.0.4, released 06.10.2026, has no tested module version;
# the right exists from 06.01.2027 (3 months later) during the minimum term.


def test_special_termination_right_is_shown_and_offered_with_its_end(client, admin, partner, clock, modules):
    sub = callrec(partner)
    clock.set(date(2027, 1, 15))
    page = text(client.get(cancel_url(sub)))
    assert "Das Abo endet am 30.11.2028." in page
    # end of a calendar month with 14 days' notice: 31.01.2027 − 14 = 17.01. ≥ 15.01. → 31.01.2027
    assert "Mit der Sonderkündigung endet dieses Abo am 31.01.2027." in page
    assert "Zu STARFACE 9.0.0.4 (veröffentlicht am 06.10.2026)" in page
    client.post(cancel_url(sub), {"kind": "special", "ends_on": "2027-01-31"})
    sub.refresh_from_db()
    assert (sub.notice_on, sub.ends_on, sub.notice_special, sub.notice_by) == (
        date(2027, 1, 15),
        date(2027, 1, 31),
        True,
        admin,
    )


def test_no_special_notice_without_the_right(client, admin, partner, clock, modules):
    sub = callrec(partner)
    clock.set(date(2027, 1, 5))  # one day before the right exists
    page = text(client.get(cancel_url(sub)))
    assert "Sonderkündigung" not in page
    response = client.post(cancel_url(sub), {"kind": "special", "ends_on": "2027-01-31"}, follow=True)
    assert any("besteht am 05.01.2027 kein Sonderkündigungsrecht" in m for m in messages_of(response))
    sub.refresh_from_db()
    assert sub.notice_on is None


# --- tier change (SUB-7) -------------------------------------------------------------------------------------


def test_tier_change_shows_the_new_price_and_its_start_then_records_it(client, admin, partner, clock):
    sub = callrec(partner)
    clock.set(date(2027, 1, 15))
    assert "Heute: Staffel 21-40 · 44,75 € monatlich je Lizenz" in text(client.get(tier_url(sub)))
    preview = client.post(tier_url(sub), {"tier": "41-80"})
    # 41-80, 24 months: 89,50 € (today's list); monthly periods → from 01.02.2027
    assert "89,50 € monatlich je Lizenz statt 44,75 €, ab dem Abrechnungszeitraum, der am 01.02.2027 beginnt." in text(
        preview
    )
    assert not SubscriptionPriceChange.objects.exists()
    confirm = {"tier": "41-80", "confirmed": "True", "shown_from": "2027-02-01", "shown_price": "89.50"}
    response = client.post(tier_url(sub), confirm, follow=True)
    change = SubscriptionPriceChange.objects.get()
    assert (change.effective_from, change.tier, change.monthly_price, change.created_by) == (
        date(2027, 2, 1),
        "41-80",
        D("89.50"),
        admin,
    )
    assert change.history.get().history_user == admin
    assert any("ab 01.02.2027 89,50 € monatlich je Lizenz (41-80)" in m for m in messages_of(response))
    again = client.post(tier_url(sub), confirm, follow=True)
    assert any("läuft ab 01.02.2027 bereits mit 41-80" in m for m in messages_of(again))
    assert SubscriptionPriceChange.objects.count() == 1


def test_tier_change_bad_input_is_refused_in_german_and_writes_nothing(client, admin, partner, clock):
    sub = callrec(partner)
    clock.set(date(2027, 1, 15))
    unknown = client.post(tier_url(sub), {"tier": "1-1000"})
    assert unknown.status_code == 400 and "Diese Benutzerstaffel gibt es nicht." in text(unknown)
    missing = client.post(tier_url(sub), {"tier": ""})
    assert "Bitte die neue Benutzerstaffel wählen." in text(missing)
    same = client.post(tier_url(sub), {"tier": "21-40"})
    assert f"Das Abo {sub.reference} läuft ab 01.02.2027 bereits mit 21-40." in text(same)
    # a confirm whose price no longer holds is shown again, not recorded
    stale = client.post(
        tier_url(sub), {"tier": "41-80", "confirmed": "True", "shown_from": "2027-02-01", "shown_price": "80.00"}
    )
    assert "Preis oder Beginn haben sich seit der Anzeige geändert" in text(stale)
    assert not SubscriptionPriceChange.objects.exists()


def test_teams_presence_sync_changes_by_users(client, admin, partner, clock):
    sub = make_subscription(
        partner,
        article="TEAMSPRESENCE",
        monthly_price="14.60",
        users=10,
        minimum_months=24,
        signed_on=date(2026, 11, 21),
    )
    clock.set(date(2027, 1, 15))
    page = client.post(tier_url(sub), {"users": "12"})
    # 12 users → 3 started blocks of 5 × 7,30 € (24 months) = 21,90 €
    assert "21,90 € monatlich je Lizenz statt 14,60 €" in text(page)
    assert "Bitte die neue Anzahl der Benutzer angeben." in text(client.post(tier_url(sub), {"users": ""}))


def test_a_module_without_tiers_says_so_and_a_member_may_not_change(client, admin, partner, clock):
    sub = callrec(partner, article="BLACKLIST")
    clock.set(date(2027, 1, 15))
    page = text(client.get(tier_url(sub)))
    assert "Blacklist PRO hat keine Benutzerstaffeln" in page
    assert "Neuen Preis berechnen" not in page
    member_login = PartnerUserFactory(partner=partner, role=PartnerUser.MEMBER)
    client.force_login(member_login.user)
    assert client.post(tier_url(callrec(partner)), {"tier": "41-80"}).status_code == 403


# --- service plans (SUB-8) ------------------------------------------------------------------------------------------


def book_url(inst):
    return reverse("portal:service_plan_book", args=[inst.pk])


def test_book_a_plan_see_the_plan_year_and_a_second_booking_is_explained(client, admin, partner, clock):
    clock.set(date(2026, 11, 21))
    inst = installation_of(partner, identifier="ABCDE-12345-FGHIJ-67890")
    listing = client.get(PLANS)
    assert "kein Service-Plan" in text(listing) and book_url(inst) in html(listing)
    form = text(client.get(book_url(inst)))
    assert "Premium – 828,00 € jährlich" in form and "Enterprise – 1.548,00 € jährlich" in form
    response = client.post(book_url(inst), {"plan": "premium"}, follow=True)
    plan = ServicePlan.objects.get()
    assert (plan.installation, plan.plan, plan.yearly_price, plan.starts_on) == (
        inst,
        "premium",
        D("828.00"),
        date(2026, 11, 21),
    )
    assert plan.history.get().history_user == admin
    assert any("Laufendes Planjahr 21.11.2026–20.11.2027" in m for m in messages_of(response))
    listing = text(response)
    assert "Premium" in listing and "21.11.2026 – 20.11.2027" in listing and "828,00 €" in listing
    # once per server key: the page explains it, a second post books nothing
    assert "kann je Serverlizenzschlüssel nur einmal gebucht werden" in text(client.get(book_url(inst)))
    again = client.post(book_url(inst), {"plan": "enterprise"}, follow=True)
    assert any("nur einmal gebucht werden" in m and "nichts doppelt" in m for m in messages_of(again))
    assert ServicePlan.objects.get().plan == "premium"


def test_booking_bad_input_is_refused_in_german(client, admin, partner, clock):
    clock.set(date(2026, 11, 21))
    inst = installation_of(partner)
    bad = client.post(book_url(inst), {"plan": "gold"})
    assert bad.status_code == 400
    assert "Gebucht werden können die Service-Pläne Premium und Enterprise." in text(bad)
    retro = client.post(book_url(inst), {"plan": "premium", "starts_on": "01.03.2021"})
    assert "Rückwirkend buchen können nur Kunden" in text(retro)
    assert "Bitte das Datum als TT.MM.JJJJ angeben." in text(
        client.post(book_url(inst), {"plan": "premium", "starts_on": "32.13.2021"})
    )
    assert not ServicePlan.objects.exists()


def test_no_plan_for_a_decommissioned_server_key(client, admin, partner, clock):
    clock.set(date(2026, 11, 21))
    inst = installation_of(partner, decommissioned_on=date(2026, 10, 1))
    assert book_url(inst) not in html(client.get(PLANS))
    page = text(client.get(book_url(inst)))
    assert f"Die Installation {inst.identifier} ist seit 01.10.2026 außer Betrieb" in page
    response = client.post(book_url(inst), {"plan": "premium"})
    assert response.status_code == 400 and "außer Betrieb" in text(response)
    assert not ServicePlan.objects.exists()


def test_an_auerswald_system_is_no_server_key(client, admin, partner, clock):
    system = make_system(customer=CustomerFactory(partner=partner))
    assert client.get(book_url(system)).status_code == 404
    assert system.identifier not in text(client.get(PLANS))


def test_plan_notice_shows_the_end_first_then_records_it(client, admin, partner, clock):
    plan = make_service_plan(partner, installation=installation_of(partner), starts_on=date(2026, 12, 1))
    url = reverse("portal:service_plan_cancel", args=[plan.pk])
    clock.set(date(2027, 8, 31))
    # plan years from 01.12.; 30.11.2027 − 3 months = 31.08.2027 ≥ 31.08. → ends 30.11.2027
    assert "Der Service-Plan endet am 30.11.2027." in text(client.get(url))
    plan.refresh_from_db()
    assert plan.notice_on is None
    response = client.post(url, {"ends_on": "2027-11-30"}, follow=True)
    plan.refresh_from_db()
    assert (plan.notice_on, plan.ends_on, plan.notice_by) == (date(2027, 8, 31), date(2027, 11, 30), admin)
    assert plan.history.latest().history_user == admin
    assert "endet am 30.11.2027" in text(response) and "gekündigt am 31.08.2027" in text(response)
    again = client.post(url, {"ends_on": "2027-11-30"}, follow=True)
    assert any("bereits gekündigt" in m and "nichts doppelt" in m for m in messages_of(again))


def test_plan_notice_a_day_late_shows_the_next_plan_year_end(client, admin, partner, clock):
    plan = make_service_plan(partner, installation=installation_of(partner), starts_on=date(2026, 12, 1))
    url = reverse("portal:service_plan_cancel", args=[plan.pk])
    clock.set(date(2027, 9, 1))
    response = client.post(url, {"ends_on": "2027-11-30"})
    assert "jetzt 30.11.2028" in text(response)
    plan.refresh_from_db()
    assert plan.notice_on is None
    assert client.post(url, {"ends_on": "morgen"}).status_code == 400


def test_members_see_plans_but_may_not_book_or_cancel(client, member, partner, clock):
    clock.set(date(2027, 1, 10))
    plan = make_service_plan(partner, installation=installation_of(partner), starts_on=date(2026, 12, 1))
    free = installation_of(partner)
    page = client.get(PLANS)
    assert plan.reference in text(page) and "01.12.2026 – 30.11.2027" in text(page)
    assert book_url(free) not in html(page)
    assert client.post(book_url(free), {"plan": "premium"}).status_code == 403
    url = reverse("portal:service_plan_cancel", args=[plan.pk])
    assert client.post(url, {"ends_on": "2027-11-30"}).status_code == 403
    assert ServicePlan.objects.count() == 1 and ServicePlan.objects.get().notice_on is None


def test_plans_query_budget_with_210_server_keys(client, admin, partner, clock, portal_query_budget):
    clock.set(date(2027, 1, 10))
    customer = CustomerFactory(partner=partner)
    for _i in range(210):
        make_service_plan(partner, installation=InstallationFactory(customer=customer), starts_on=date(2026, 12, 1))
    response = portal_query_budget(PLANS)
    assert text(response).count("01.12.2026 – 30.11.2027") == 50  # a page of 50
    assert "Seite 1 von 5" in text(response)


# --- dashboard --------------------------------------------------------------------------------------------------------


def test_dashboard_panel_lists_what_ends_within_60_days(client, member, partner, clock):
    soon = callrec(partner)
    later = callrec(partner, installation=installation_of(partner))
    Subscription.objects.filter(pk=soon.pk).update(notice_on=date(2028, 11, 1), ends_on=date(2028, 11, 30))
    Subscription.objects.filter(pk=later.pk).update(notice_on=date(2028, 11, 1), ends_on=date(2029, 1, 31))
    plan = make_service_plan(partner, installation=installation_of(partner), starts_on=date(2026, 12, 1))
    ServicePlan.objects.filter(pk=plan.pk).update(notice_on=date(2028, 8, 1), ends_on=date(2028, 11, 30))
    clock.set(date(2028, 11, 10))  # + 60 days = 09.01.2029
    page = text(client.get("/portal/"))
    assert "Abos und Service-Pläne, die enden" in page
    assert f"30.11.2028 {soon.reference} · Call Recording" in page
    assert f"30.11.2028 {plan.reference} · Service-Plan Premium" in page
    assert later.reference not in page


def test_no_panel_when_nothing_ends(client, member, partner, clock):
    callrec(partner)
    clock.set(date(2027, 1, 10))
    assert "die enden" not in text(client.get("/portal/"))


def test_dashboard_stays_within_budget_with_200_ending(client, admin, partner, clock, portal_query_budget):
    inst = installation_of(partner)
    for _i in range(205):
        make_subscription(partner, installation=inst, notice_on=date(2026, 12, 1), ends_on=date(2026, 12, 31))
    clock.set(date(2026, 12, 10))
    assert "Abos und Service-Pläne, die enden" in text(portal_query_budget("/portal/"))
