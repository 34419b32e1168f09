"""Subscriptions and service plans through the API (issue 19; SUB-5…SUB-8).

Dates and amounts by hand (seed 001 price list; the subscriptions are written by the factory,
so no partner conditions): Call Recording 21-40, 24 months, 44,75 €/month, signed 21.11.2026 →
term 01.12.2026–30.11.2028 (SUB-1, GEN-1), monthly billing. SUB-5: a notice received on
01.03.2027 ends on 30.11.2028 (the minimum term); on 17.11.2028 → 31.12.2028 (30.11. − 14 days
= 16.11. has passed). SUB-7: 41-80, 24 months: 89,50 €/month, from the next unbilled period
(01.02.2027 when changed on 15.01.2027). CAT-6: Premium 828,00 € a year.
"""

from __future__ import annotations

from datetime import date

import pytest

from api.services import api_token_create
from api.tests.helpers import call
from billing.models import ServicePlan, Subscription, SubscriptionPriceChange
from billing.tests.factories import make_service_plan, make_subscription
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(catalog, clock):
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory(company="Muster Kommunikation GmbH")
    admin = PartnerUserFactory(partner=partner, role="admin")
    other = PartnerFactory(company="Andere GmbH")
    return {
        "partner": partner,
        "admin": admin,
        "secret": api_token_create(partner=partner, name="ERP", scopes=["read", "order"], by=admin.user).secret,
        "reader": api_token_create(partner=partner, name="Leser", scopes=["read"]).secret,
        "other": other,
        "other_secret": api_token_create(partner=other, name="Fremd", scopes=["read", "order"]).secret,
    }


def callrec(partner, **kw):
    kw.setdefault("installation", InstallationFactory(customer=CustomerFactory(partner=partner)))
    return make_subscription(
        partner, tier="21-40", minimum_months=24, signed_on=date(2026, 11, 21), term_start=date(2026, 12, 1), **kw
    )


def test_list_with_the_computed_values_and_filters(world):
    sub = callrec(world["partner"])
    callrec(world["other"])
    rows = call("get", "/subscriptions", world["reader"]).json()["results"]
    assert [(r["reference"], r["monthly_price_now"], r["tier_now"], r["minimum_end"]) for r in rows] == [
        (sub.reference, "44.75", "21-40", "2028-11-30")
    ]
    assert rows[0]["next_billing"] == "2026-12-01"
    assert call("get", "/subscriptions?status=ended", world["reader"]).json()["results"] == []
    assert call("get", "/subscriptions?status=bogus", world["reader"]).status_code == 422
    assert call("get", f"/subscriptions/{sub.pk}", world["other_secret"]).status_code == 404


def test_list_keeps_its_query_count(world, django_assert_max_num_queries):
    for size in (3, 60):
        while Subscription.objects.filter(partner=world["partner"]).count() < size:
            callrec(world["partner"])
        with django_assert_max_num_queries(10):
            response = call("get", "/subscriptions?page_size=100", world["reader"])
        assert len(response.json()["results"]) == size


def test_notice_preview_then_confirm_with_the_shown_end(world, clock):
    sub = callrec(world["partner"])
    clock.set(date(2027, 3, 1))
    preview = call("post", f"/subscriptions/{sub.pk}/notice/preview", world["secret"], {})
    assert preview.status_code == 200 and preview.json()["ends_on"] == "2028-11-30"
    assert "endet am 30.11.2028" in preview.json()["text"]
    assert Subscription.objects.get(pk=sub.pk).notice_on is None  # nothing written
    stale = call("post", f"/subscriptions/{sub.pk}/notice", world["secret"], {"ends_on": "2028-12-31"})
    assert stale.status_code == 409 and stale.json()["code"] == "changed"
    assert stale.json()["preview"]["ends_on"] == "2028-11-30"
    given = call("post", f"/subscriptions/{sub.pk}/notice", world["secret"], {"ends_on": "2028-11-30"})
    assert given.status_code == 200 and given.json()["subscriptions"] == [sub.reference]
    sub.refresh_from_db()
    assert (sub.notice_on, sub.ends_on) == (date(2027, 3, 1), date(2028, 11, 30))
    assert sub.history.latest().history_change_reason.startswith("API: ERP")
    again = call("post", f"/subscriptions/{sub.pk}/notice", world["secret"], {"ends_on": "2028-11-30"})
    assert again.status_code == 422 and again.json()["code"] == "already_noticed"


def test_notice_late_in_the_month_ends_a_month_later(world, clock):
    sub = callrec(world["partner"])
    clock.set(date(2028, 11, 17))
    assert (
        call("post", f"/subscriptions/{sub.pk}/notice/preview", world["secret"], {}).json()["ends_on"] == "2028-12-31"
    )


def test_notice_bad_input_scope_and_isolation(world):
    sub = callrec(world["partner"])
    assert call("post", f"/subscriptions/{sub.pk}/notice", world["secret"], {}).status_code == 422
    bad_date = call("post", f"/subscriptions/{sub.pk}/notice", world["secret"], {"ends_on": "30.11.2028"})
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "ends_on"
    assert call("post", f"/subscriptions/{sub.pk}/notice/preview", world["reader"], {}).status_code == 403
    assert call("post", f"/subscriptions/{sub.pk}/notice/preview", world["other_secret"], {}).status_code == 404
    special = call("post", f"/subscriptions/{sub.pk}/notice/preview", world["secret"], {"special": True})
    assert special.status_code == 422 and special.json()["code"] == "no_special_right"


def test_tier_change_preview_then_confirm(world, clock):
    sub = callrec(world["partner"])
    clock.set(date(2027, 1, 15))
    preview = call("post", f"/subscriptions/{sub.pk}/tier-change/preview", world["secret"], {"tier": "41-80"}).json()
    assert preview == {
        "tier": "41-80",
        "users": None,
        "effective_from": "2027-02-01",
        "monthly_price": "89.50",
        "current_price": "44.75",
    }
    assert not SubscriptionPriceChange.objects.exists()
    stale = {"tier": "41-80", "effective_from": "2027-02-01", "monthly_price": "80.00"}
    assert call("post", f"/subscriptions/{sub.pk}/tier-change", world["secret"], stale).status_code == 409
    confirm = {"tier": "41-80", "effective_from": "2027-02-01", "monthly_price": "89.50"}
    done = call("post", f"/subscriptions/{sub.pk}/tier-change", world["secret"], confirm)
    assert done.status_code == 200
    change = SubscriptionPriceChange.objects.get()
    assert (change.effective_from, change.tier, str(change.monthly_price)) == (date(2027, 2, 1), "41-80", "89.50")
    assert change.history.get().history_user == world["admin"].user
    again = call("post", f"/subscriptions/{sub.pk}/tier-change", world["secret"], confirm)
    assert again.status_code == 422 and again.json()["code"] == "same_tier"
    unknown = call("post", f"/subscriptions/{sub.pk}/tier-change/preview", world["secret"], {"tier": "1-1000"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "tier"


def test_service_plans_book_list_notice(world):
    inst = InstallationFactory(customer=CustomerFactory(partner=world["partner"]))
    prices = call("get", "/service-plans/prices", world["reader"]).json()
    assert prices == {"premium": "828.00", "enterprise": "1548.00"}
    booked = call("post", "/service-plans", world["secret"], {"installation_id": inst.pk, "plan": "premium"})
    assert booked.status_code == 201, booked.content
    assert (booked.json()["yearly_price"], booked.json()["starts_on"]) == ("828.00", "2026-11-21")
    twice = call("post", "/service-plans", world["secret"], {"installation_id": inst.pk, "plan": "enterprise"})
    assert twice.status_code == 422 and twice.json()["code"] == "already_booked"
    assert ServicePlan.objects.count() == 1
    foreign = InstallationFactory(customer=CustomerFactory(partner=world["other"]))
    assert (
        call("post", "/service-plans", world["secret"], {"installation_id": foreign.pk, "plan": "premium"}).status_code
        == 404
    )
    assert (
        call("post", "/service-plans", world["secret"], {"installation_id": inst.pk, "plan": "gold"}).status_code == 422
    )
    listed = call("get", "/service-plans", world["reader"]).json()["results"]
    assert [p["reference"] for p in listed] == [booked.json()["reference"]]
    plan_id = booked.json()["id"]
    # SUB-8: 3 months' notice to the end of a plan year: received 21.11.2026 → 20.11.2027.
    preview = call("post", f"/service-plans/{plan_id}/notice/preview", world["secret"]).json()
    assert preview["ends_on"] == "2027-11-20"
    given = call("post", f"/service-plans/{plan_id}/notice", world["secret"], {"ends_on": "2027-11-20"})
    assert given.status_code == 200 and ServicePlan.objects.get().ends_on == date(2027, 11, 20)
    assert call("post", f"/service-plans/{plan_id}/notice/preview", world["other_secret"]).status_code == 404


def test_service_plans_list_keeps_its_query_count(world, django_assert_max_num_queries):
    for size in (3, 40):
        while ServicePlan.objects.filter(partner=world["partner"]).count() < size:
            make_service_plan(world["partner"])
        with django_assert_max_num_queries(10):
            response = call("get", "/service-plans?page_size=100", world["reader"])
        assert len(response.json()["results"]) == size
