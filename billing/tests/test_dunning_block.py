"""Blocking a partner's subscription keys after the letzte Mahnung's deadline (issue 18, LIC-12's
block) and the automatic unblock when the debt is paid; the dunning admin per staff group.

The invoice of test_dunning: 4.730,49 € due 10.06.2025, letzte Mahnung on 15.07.2025 with the
deadline 29.07.2025 — blocking is allowed from 30.07.2025.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import services
from billing.exceptions import DunningRefused
from billing.models import BaseRate, DunningBlock, DunningNotice, DunningPause
from billing.services.dunning import dunning_block, dunning_block_preview
from billing.tests.factories import make_order, make_partner, make_subscription
from licensing.models import License
from licensing.services.licenses import license_issue
from licensing.tests.factories import UserFactory
from vendorportal.clock import now as clock_now

pytestmark = pytest.mark.django_db
D = Decimal


def subscription_key(modules, partner, article="CALLREC"):
    sub = make_subscription(partner, article=article, term_start=date(2025, 1, 1))
    product = modules[article]
    return license_issue(
        product=product,
        installation=sub.installation,
        version=product.versions.get(version="2.1"),
        kind="subscription",
        subscription_reference=sub.reference,
        delivery_note=False,
    )


@pytest.fixture
def dunned(modules, clock):
    """An invoice through all three levels, a subscription key of its partner and one of another partner."""
    clock.set(date(2025, 5, 27))
    partner = make_partner()
    invoice = services.order_confirm(order=make_order(partner, ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0)))
    key = subscription_key(modules, partner)
    other_key = subscription_key(modules, make_partner(company="Andere GmbH"))
    for day in (date(2025, 6, 11), date(2025, 6, 17), date(2025, 7, 1), date(2025, 7, 15)):
        clock.set(day)
        services.invoices_overdue()
    assert DunningNotice.objects.get(invoice=invoice, level=3).deadline == date(2025, 7, 29)
    return invoice, key, other_key


def test_block_preview_then_block_and_unblock_when_paid(dunned, clock):
    invoice, key, other_key = dunned
    partner = invoice.partner
    clock.set(date(2025, 7, 29))  # the deadline itself: not yet
    preview = dunning_block_preview(partner=partner)
    assert not preview.allowed and "Frist einer letzten Mahnung" in preview.refusal
    with pytest.raises(DunningRefused):
        dunning_block(partner=partner, reason="Zahlungsverzug")

    clock.set(date(2025, 7, 30))
    preview = dunning_block_preview(partner=partner)
    assert preview.allowed
    assert [i.number for i in preview.invoices] == ["RE-2025-000001"]
    assert [(lic.pk, lic.installation.identifier) for lic in preview.licenses] == [
        (key.pk, key.installation.identifier)
    ]
    block = dunning_block(partner=partner, reason="Letzte Mahnung ohne Zahlung")
    key.refresh_from_db()
    other_key.refresh_from_db()
    assert key.state == License.BLOCKED and "RE-2025-000001" in key.state_reason
    assert other_key.state == License.ACTIVE  # another partner's key is not touched
    assert list(block.licenses.all()) == [key] and list(block.invoices.all()) == [invoice]
    # Blocked once: a second block is refused, nothing changes.
    with pytest.raises(DunningRefused, match="bereits"):
        dunning_block(partner=partner, reason="nochmal")

    # A partial payment leaves the keys blocked; the rest unblocks them and releases the block.
    services.payment_record(invoice=invoice, amount=D("1000.00"), paid_on=date(2025, 7, 30))
    key.refresh_from_db()
    assert key.state == License.BLOCKED
    clock.set(date(2025, 7, 31))
    services.payment_record(invoice=invoice, amount=D("3730.49"), paid_on=date(2025, 7, 31))
    key.refresh_from_db()
    block.refresh_from_db()
    assert key.state == License.ACTIVE and "Zahlung eingegangen (RE-2025-000001)" in key.state_reason
    assert block.released_at is not None
    # The key's history shows both changes (LIC-12's block is audited by simple_history).
    assert [h.state for h in key.history.order_by("history_date")][-2:] == ["blocked", "active"]


def test_keys_of_a_subscription_that_ended_meanwhile_stay_blocked(dunned, clock):
    invoice, key, _other = dunned
    clock.set(date(2025, 7, 30))
    dunning_block(partner=invoice.partner, reason="Zahlungsverzug")
    from billing.models import Subscription

    Subscription.objects.filter(reference=key.subscription_reference).update(keys_blocked_at=clock_now())
    services.payment_record(invoice=invoice, amount=D("4730.49"), paid_on=date(2025, 7, 30))
    key.refresh_from_db()
    assert key.state == License.BLOCKED
    assert DunningBlock.objects.get().released_at is not None


def staff(group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.mark.parametrize("group_name,allowed", [("finance", True), ("sales", False), ("support", False)])
def test_pause_and_resume_views_per_staff_group(dunned, client, clock, group_name, allowed):
    invoice, _key, _other = dunned
    client.force_login(staff(group_name))
    pause_url = reverse("admin:billing_dunningpause_pause")
    if not allowed:
        assert client.get(pause_url).status_code == 403
        assert client.post(pause_url, {"invoice_number": invoice.number, "reason": "x"}).status_code == 403
        pause = DunningPause.objects.create(invoice=invoice, reason="von Hand", paused_at=clock_now())
        resume_url = reverse("admin:billing_dunningpause_resume", args=[pause.pk])
        assert client.post(resume_url, {"reason": "x"}).status_code == 403
        pause.refresh_from_db()
        assert pause.resumed_at is None
        return
    page = client.post(pause_url, {"invoice_number": "RE-2025-999999", "reason": "x"}).content.decode()
    assert "gibt es nicht" in page and not DunningPause.objects.exists()
    page = client.post(pause_url, {"reason": "x"}).content.decode()
    assert "entweder einen Partner oder eine Rechnung" in page
    response = client.post(pause_url, {"invoice_number": invoice.number.lower(), "reason": "Reklamation"})
    assert response.status_code == 302
    pause = DunningPause.objects.get()
    assert (pause.invoice, pause.reason, pause.paused_by.username) == (invoice, "Reklamation", "staff-finance")
    resume_url = reverse("admin:billing_dunningpause_resume", args=[pause.pk])
    assert client.post(resume_url, {"reason": "geklärt"}).status_code == 302
    pause.refresh_from_db()
    assert pause.resume_reason == "geklärt" and pause.resumed_by.username == "staff-finance"
    assert "bereits beendet" in client.post(resume_url, {"reason": "nochmal"}).content.decode()
    assert client.post(reverse("admin:billing_dunningpause_resume", args=[999999]), {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("group_name,allowed", [("finance", True), ("sales", False), ("support", False)])
def test_block_view_with_preview_per_staff_group(dunned, client, clock, group_name, allowed):
    invoice, key, _other = dunned
    clock.set(date(2025, 7, 30))
    client.force_login(staff(group_name))
    candidates = reverse("admin:billing_dunningblock_candidates")
    block_url = reverse("admin:billing_dunningblock_block", args=[invoice.partner_id])
    # Every group sees the notices and blocks (sales and support answer the partner's questions).
    assert client.get(reverse("admin:billing_dunningnotice_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_dunningblock_changelist")).status_code == 200
    if not allowed:
        assert client.get(candidates).status_code == 403
        assert client.get(block_url).status_code == 403
        assert client.post(block_url, {"reason": "x"}).status_code == 403
        key.refresh_from_db()
        assert key.state == License.ACTIVE and not DunningBlock.objects.exists()
        return
    assert invoice.partner.company in client.get(candidates).content.decode()
    page = client.get(block_url).content.decode()
    assert "RE-2025-000001" in page and "4.730,49 €" in page
    assert key.subscription_reference in page and key.installation.identifier in page
    assert client.post(block_url, {"reason": "Letzte Mahnung ohne Zahlung"}).status_code == 302
    key.refresh_from_db()
    assert key.state == License.BLOCKED
    assert "bereits wegen Zahlungsverzugs gesperrt" in client.get(block_url).content.decode()
    assert client.get(reverse("admin:billing_dunningblock_block", args=[999999])).status_code == 404


@pytest.mark.parametrize("group_name,allowed", [("finance", True), ("sales", False), ("support", False)])
def test_base_rate_admin_and_stale_alert_per_staff_group(db, client, clock, group_name, allowed):
    clock.set(date(2026, 6, 30))  # the rate of 01.01.2026 (migration 0019) covers this half-year
    client.force_login(staff(group_name))
    assert 'id="base-rate-stale"' not in client.get(reverse("admin:index")).content.decode()
    clock.set(date(2026, 7, 2))  # the newest rate (01.01.2026) is older than this half-year
    index = client.get(reverse("admin:index")).content.decode()
    assert ('id="base-rate-stale"' in index) is allowed
    if allowed:
        assert "(1,27 % ab 01.01.2026)" in index
    add = reverse("admin:billing_baserate_add")
    if not allowed:
        assert client.get(add).status_code == 403
        assert client.post(add, {"valid_from": "01.07.2026", "rate_percent": "1,00"}).status_code == 403
        assert not BaseRate.objects.filter(valid_from=date(2026, 7, 1)).exists()
        return
    # A test value: the Bundesbank's rate from 01.07.2026 is not known here.
    response = client.post(add, {"valid_from": "2026-07-01", "rate_percent": "1.00", "source": "Bundesbank"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert BaseRate.objects.filter(valid_from=date(2026, 7, 1), rate_percent=D("1.00")).exists()
    assert 'id="base-rate-stale"' not in client.get(reverse("admin:index")).content.decode()
    # The day already has a rate (unique): the form's German message, nothing written.
    again = client.post(add, {"valid_from": "2026-01-01", "rate_percent": "2.00", "source": "x"})
    assert again.status_code == 200 and "existiert bereits" in again.content.decode()
    assert BaseRate.objects.get(valid_from=date(2026, 1, 1)).rate_percent == D("1.27")
    # Only 1 January or 1 July: the constraint's German message, nothing written.
    client.post(add, {"valid_from": "2026-02-01", "rate_percent": "1.00", "source": "x"})
    assert not BaseRate.objects.filter(valid_from=date(2026, 2, 1)).exists()
    delete = reverse("admin:billing_baserate_delete", args=[BaseRate.objects.first().pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


# --- the portal: each partner sees its own dunning state --------------------------------------


def test_portal_shows_own_dunning_state_only(dunned, client, clock, modules):
    from vendorportal.parties.models import PartnerUser
    from vendorportal.parties.tests.factories import PartnerUserFactory

    invoice, _key, _other = dunned
    final = DunningNotice.objects.get(invoice=invoice, level=3)
    # Another partner with its own dunned invoice (through the same job).
    clock.set(date(2025, 5, 27))
    other = make_partner(company="Andere Mahn GmbH", invoice_email="re@andere.test")
    other_invoice = services.order_confirm(order=make_order(other, ("INTERCOM", "purchase", 0)))
    clock.set(date(2025, 6, 17))
    services.invoices_overdue()
    other_notice = DunningNotice.objects.get(invoice=other_invoice)
    clock.set(date(2025, 7, 20))

    login = PartnerUserFactory(partner=invoice.partner, role=PartnerUser.MEMBER)
    client.force_login(login.user)
    page = client.get(reverse("portal:invoices")).content.decode()
    assert "RE-2025-000001" in page and other_invoice.number not in page
    for text in ("Zahlungserinnerung", "vom 17.06.2025, Frist bis 27.06.2025", "1. Mahnung", "letzte Mahnung"):
        assert text in page, text
    assert "vom 15.07.2025, Frist bis 29.07.2025" in page
    assert "Mahnpauschale 40,00 €, Verzugszinsen 49,18 €" in page
    assert "4.730,49 €" in page  # the invoice's own open amount, without fee and interest
    assert reverse("portal:dunning_notice_pdf", args=[final.pk]) in page
    assert reverse("portal:dunning_notice_pdf", args=[other_notice.pk]) not in page

    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert 'id="dunning-hint"' in dashboard
    assert "1 Rechnung wurde angemahnt" in dashboard and "1 letzte Mahnung" in dashboard
    # 40,00 + 49,18 = 89,18 € waiting for the next invoice run.
    assert "Mahnpauschale und Verzugszinsen 89,18 €" in dashboard

    response = client.get(reverse("portal:dunning_notice_pdf", args=[final.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(reverse("portal:dunning_notice_pdf", args=[other_notice.pk])).status_code == 404


def test_open_items_invoice_list_and_portal_agree_on_the_amounts(dunned, client, clock):
    from billing.finance import open_items_context, open_items_data
    from billing.selectors import open_invoices_summary

    invoice, _key, _other = dunned
    clock.set(date(2025, 7, 20))
    # Open items: the invoice's own 4.730,49 € in the totals; fee and interest (40,00 + 49,18 =
    # 89,18 €) named beside it, not added.
    data = open_items_data(on=date(2025, 7, 20))
    (item,) = data.partners[0].items
    assert (item.open_amount, data.total, item.dunning.claim) == (D("4730.49"), D("4730.49"), D("89.18"))
    row = open_items_context(data)["partners"][0]["items"][0]
    assert (row["open"], row["dunning"]) == ("4.730,49 €", "letzte Mahnung 15.07.2025 (+ 89,18 € gesondert)")
    # The portal's summary: the same open amount, the same 89,18 € waiting as charges.
    summary = open_invoices_summary(invoice.partner)
    assert (summary["due_total"], summary["dunning_claims"]) == (D("4730.49"), D("89.18"))
    # The admin's invoice list (finance): the same figures.
    client.force_login(staff("finance"))
    page = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert "letzte Mahnung vom 15.07.2025, Frist bis 29.07.2025" in page
    assert "Pauschale 40,00 € + Zinsen 49,18 € gesondert" in page


# --- a correction settles the debt like a payment (issue 18) ------------------------------------


def test_a_stornorechnung_alone_releases_the_block(dunned, clock):
    invoice, key, _other = dunned
    clock.set(date(2025, 7, 30))
    block = dunning_block(partner=invoice.partner, reason="Letzte Mahnung ohne Zahlung")
    clock.set(date(2025, 8, 4))
    note = services.credit_note_issue(invoice=invoice, reason="Bestellung irrtümlich")
    assert (note.gross_total, note.document_title) == (D("4730.49"), "Stornorechnung")
    invoice.refresh_from_db()
    key.refresh_from_db()
    block.refresh_from_db()
    assert invoice.state == "cancelled"
    assert key.state == License.ACTIVE
    assert "Forderung durch Rechnungskorrektur ausgeglichen (RE-2025-000001)" in key.state_reason
    assert block.released_at is not None and "Rechnungskorrektur" in block.release_reason


def test_a_correction_that_covers_the_rest_after_a_partial_payment_releases_the_block(dunned, clock):
    invoice, key, _other = dunned
    clock.set(date(2025, 7, 30))
    dunning_block(partner=invoice.partner, reason="Letzte Mahnung ohne Zahlung")
    callrec, intercom = invoice.lines.order_by("position")
    # 4.730,49 − 160,89 (Intercom 135,20 € + 19 % 25,69 €) = 4.569,60 € paid: 160,89 € still open.
    services.payment_record(invoice=invoice, amount=D("4569.60"), paid_on=date(2025, 7, 30))
    key.refresh_from_db()
    assert key.state == License.BLOCKED
    note = services.credit_note_issue(invoice=invoice, lines=[(intercom, 1)], reason="Intercom nicht geliefert")
    assert (note.gross_total, note.document_title) == (D("160.89"), "Rechnungskorrektur")
    invoice.refresh_from_db()
    key.refresh_from_db()
    assert (invoice.state, services.payments.selectors.invoice_amount_due(invoice)) == ("paid", D("0.00"))
    assert key.state == License.ACTIVE and DunningBlock.objects.get().released_at is not None


def test_a_correction_that_leaves_something_open_keeps_the_block(dunned, clock):
    invoice, key, _other = dunned
    clock.set(date(2025, 7, 30))
    dunning_block(partner=invoice.partner, reason="Letzte Mahnung ohne Zahlung")
    _callrec, intercom = invoice.lines.order_by("position")
    services.credit_note_issue(invoice=invoice, lines=[(intercom, 1)], reason="Intercom nicht geliefert")
    key.refresh_from_db()
    assert key.state == License.BLOCKED and DunningBlock.objects.get().released_at is None


def test_dunning_claims_what_is_open_after_corrections(modules, clock):
    """Correction of the Intercom line (160,89 €) on 20.06.2025, after the Zahlungserinnerung: the
    1. Mahnung and the letzte Mahnung claim 4.730,49 − 160,89 = 4.569,60 €; interest on it:
    20 days at 11,27 % (28,218845…) + 15 days at 10,27 % (19,286216…) = 47,505061… → 47,51 €."""
    clock.set(date(2025, 5, 27))
    invoice = services.order_confirm(
        order=make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    )
    for day in (date(2025, 6, 11), date(2025, 6, 17)):
        clock.set(day)
        services.invoices_overdue()
    clock.set(date(2025, 6, 20))
    _callrec, intercom = invoice.lines.order_by("position")
    services.credit_note_issue(invoice=invoice, lines=[(intercom, 1)], reason="Intercom nicht geliefert")
    for day in (date(2025, 7, 1), date(2025, 7, 15)):
        clock.set(day)
        services.invoices_overdue()
    notices = DunningNotice.objects.filter(invoice=invoice).order_by("level")
    assert [(n.level, n.open_amount) for n in notices] == [(1, D("4730.49")), (2, D("4569.60")), (3, D("4569.60"))]
    assert notices.get(level=3).interest == D("47.51")
