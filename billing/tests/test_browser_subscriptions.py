"""End-to-end in a real browser (issue 12): a partner admin opens the subscriptions page,
cancels a subscription, sees the computed end before confirming, confirms, and sees the end in
the list — German chromium, CSP in force, no JavaScript error.

By hand (RULES SUB-5): Call Recording signed 21.11.2026 with 24 months → term 01.12.2026 to
30.11.2028, billed monthly. A notice received on 01.03.2027 ends at the first month end
E ≥ 30.11.2028 (the minimum-term end) with 01.03.2027 ≤ E − 14 days → 30.11.2028.
"""

from datetime import date

import pytest

from billing.models import Subscription
from billing.tests.factories import make_subscription
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SERVER_KEY = "ABCDE-12345-FGHIJ-67890"


@pytest.fixture
def subscription(catalog, clock):
    login = PartnerUserFactory(role="admin", user__username="chefin", partner__company="Funk & Netz GmbH")
    inst = InstallationFactory(
        customer=CustomerFactory(partner=login.partner, company="Bäckerei Huber"), identifier=SERVER_KEY
    )
    sub = make_subscription(
        login.partner, installation=inst, tier="21-40", minimum_months=24, signed_on=date(2026, 11, 21)
    )
    clock.set(date(2027, 3, 1))
    return sub


def log_in(page, username="chefin", password="pw-123456"):
    page.goto("/portal/login/")
    main = page.locator("main")
    main.get_by_label("Benutzername").fill(username)
    main.get_by_label("Passwort").fill(password)
    main.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/portal/")


def test_cancel_a_subscription_seeing_the_end_before_confirming(browser_page, subscription):
    log_in(browser_page)
    browser_page.locator("nav.main").get_by_role("link", name="Abos").click()
    main = browser_page.locator("main")
    row = main.locator("tr", has_text=subscription.reference)
    assert SERVER_KEY in row.inner_text() and "Mindestlaufzeit bis 30.11.2028" in row.inner_text()
    assert "läuft" in row.inner_text()
    row.get_by_role("link", name="Kündigen …").click()
    browser_page.wait_for_url(f"**/portal/abos/{subscription.pk}/kuendigen/")
    # the computed end is shown before anything is recorded
    assert "Das Abo endet am 30.11.2028." in main.locator(".computed-end").first.inner_text()
    assert "Das ist das Ende der Mindestlaufzeit." in main.inner_text()
    assert Subscription.objects.get().notice_on is None
    main.get_by_role("button", name="Verbindlich kündigen zum 30.11.2028").click()
    browser_page.wait_for_url("**/portal/abos/")
    assert "Kündigung eingegangen am 01.03.2027" in main.locator("ul.messages").inner_text()
    row = main.locator("tr", has_text=subscription.reference)
    assert "endet am 30.11.2028" in row.inner_text() and "gekündigt am 01.03.2027" in row.inner_text()
    assert row.get_by_role("link", name="Kündigen …").count() == 0
    sub = Subscription.objects.get()
    assert (sub.notice_on, sub.ends_on, sub.notice_by.username) == (date(2027, 3, 1), date(2028, 11, 30), "chefin")
    assert sub.history.latest().history_user.username == "chefin"
    assert browser_page.console_errors == []
