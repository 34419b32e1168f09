"""``load_demo``: catalog + demo data, idempotent, logins that work."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.http import HttpRequest  # django-axes checks every login against its request

from demo.loader import LOGINS
from licensing.models import Installation, ModuleVersion, PbxVersion, Price, Product

pytestmark = pytest.mark.django_db


def row_counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_second_run_changes_nothing():
    call_command("load_demo", stdout=io.StringIO())
    before = row_counts()
    call_command("load_demo", stdout=io.StringIO())
    assert row_counts() == before


def test_demo_content():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    for login in LOGINS:
        assert login.username in out.getvalue()
    # every module has ≥ 2 versions, one of them a paid update
    for module in Product.objects.filter(kind=Product.MODULE):
        versions = ModuleVersion.objects.filter(product=module)
        assert versions.count() >= 2 and versions.filter(is_paid_update=True).exists()
    # a PBX version that no module version supports yet
    assert PbxVersion.objects.filter(module_versions__isnull=True).exists()
    # Call Assist prices exist only as labelled samples (CAT-8)
    assert set(
        Price.objects.filter(product__kind=Product.CALL_ASSIST).values_list("price_list__is_sample", flat=True)
    ) == {True}
    kinds = set(Installation.objects.values_list("identifier_kind", flat=True))
    assert kinds == {"server_key", "hardware_id", "serial"}
    # issued demo keys: redundancy key on two server keys, subscription, demo, own-use Insight
    from licensing.models import DeliveryNote, InsightOwnUse, License

    # + the keys of the demo orders (billing): Intercom twice and DHCP Server, all purchases
    assert sorted(License.objects.values_list("kind", flat=True)) == [
        "demo",
        *["purchase"] * 6,
        "subscription",
    ]
    assert License.objects.get(product__article="CALLREC").bindings.count() == 2
    assert DeliveryNote.objects.count() == 7  # one per order and installation (3 of them billing's orders)
    assert InsightOwnUse.objects.get().license.tier == "1-20"


def test_demo_logins_work(client):
    call_command("load_demo", stdout=io.StringIO())
    for login in LOGINS:
        assert client.login(request=HttpRequest(), username=login.username, password=login.password), login.username
        assert client.get(login.where).status_code == 200, login.username
        client.logout()


def test_demo_shows_softwarepflege_in_every_state_relative_to_the_day_it_is_loaded(clock, settings):
    from datetime import date
    from decimal import Decimal

    from licensing import rules
    from licensing.selectors.systems import auerswald_systems, maintenance_report_data, tryout_days_left_for
    from licensing.services.maintenance_job import maintenance_report_weekly
    from vendorportal.models import JobRun

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = date(2026, 11, 21)
    clock.set(today)
    call_command("load_demo", stdout=io.StringIO())

    systems = {s.identifier: s for s in auerswald_systems(today=today)}
    # Ordered 120, 320 and 405 days before 21.11.2026 (24.07.2026, 05.01.2026, 12.10.2025), 12 months each.
    assert (systems["1AC5008123"].coverage_end, systems["1AC5008123"].call_assist_users) == (date(2027, 7, 23), 8)
    assert (systems["1AB7704411"].coverage_end, systems["1AB7704411"].call_assist_users) == (date(2027, 1, 4), 20)
    assert (systems["1AE0907712"].coverage_end, systems["1AE0907712"].call_assist_users) == (date(2026, 10, 11), 5)
    assert [
        rules.maintenance_state(systems[s].coverage_end, today) for s in ["1AC5008123", "1AB7704411", "1AE0907712"]
    ] == [
        rules.SWP_ACTIVE,
        rules.SWP_EXPIRING,
        rules.SWP_LAPSED,
    ]
    # Tryout started 18.11.2026: 14 days from the start day, 3 used → 11 left; no coverage yet.
    assert systems["1AF3301547"].coverage_end is None
    assert tryout_days_left_for(systems["1AF3301547"], today) == 11

    # Weekly finance report: 1AB7704411 ends within 60 days, 1AE0907712 lapsed 41 days (no surcharge);
    # 12-month renewal at the sample price 12,00 € per user: 20 × 12,00 + 5 × 12,00 = 300,00 €.
    report = maintenance_report_data(today=today)
    assert (report.expiring_count, report.lapsed_count, report.renewal_total) == (1, 1, Decimal("300.00"))
    maintenance_report_weekly(today=today)
    summary = JobRun.objects.get(name="swp_report").summary
    assert summary.startswith("Stichtag 21.11.2026: 1 laufen ab, 1 abgelaufen, Verlängerungswert 300,00")
