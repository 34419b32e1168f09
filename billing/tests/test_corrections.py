"""Corrections of own invoices as a user reads them (INV-1 decision): a "Rechnungskorrektur"
takes back part of an invoice, a "Stornorechnung" all of it — never "Gutschrift" — and each
names the corrected invoice's number and date; an invoice fully taken back lists as
"storniert" in the portal and the admin, and its corrections carry no payment state.

Amounts (seed 001, partner conditions 20 % of the factory's Certified level): Call Recording
81-150 4.800,00 € − 20 % = 3.840,00 €; Intercom 169,00 € − 20 % = 135,20 €; net 3.975,20 €,
VAT 755,29 € (3.975,20 × 0,19 = 755,288), gross 4.730,49 €.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import rules, services
from billing.models import Invoice
from billing.tests.factories import make_order, make_partner
from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage
from vendorportal.outbox import kind_label
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def invoice(modules, clock):
    clock.set(date(2026, 11, 21))
    order = make_order(make_partner(), ("CALLREC", "purchase", 0), ("INTERCOM", "purchase", 0))
    return services.order_confirm(order=order)


def portal_client(client, partner):
    client.force_login(PartnerUserFactory(partner=partner, role=PartnerUser.MEMBER).user)
    return client


def finance_client(client):
    user = UserFactory(username="staff-finance", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.FINANCE))
    client.force_login(user)
    return client


def test_correction_kind_rule():
    assert rules.correction_kind(correction_gross=D("4730.49"), invoice_gross=D("4730.49")) == rules.CANCELLATION
    assert rules.correction_kind(correction_gross=D("160.89"), invoice_gross=D("4730.49")) == rules.CORRECTION


def test_a_fully_cancelled_invoice_lists_as_storniert_in_portal_and_admin(client, invoice, clock):
    clock.set(date(2026, 11, 25))
    note = services.credit_note_issue(invoice=invoice, reason="Bestellung irrtümlich")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.CANCELLED
    assert (note.document_title, note.gross_total) == ("Stornorechnung", D("4730.49"))

    c = portal_client(client, invoice.partner)
    page = c.get(reverse("portal:invoices")).content.decode()
    assert "Stornorechnung" in page and "zur Rechnung RE-2026-000001 vom 21.11.2026" in page
    assert "storniert" in page and "Gutschrift" not in page
    # The state filter finds the invoice under "storniert"; neither it nor the correction is "offen".
    cancelled = c.get(reverse("portal:invoices"), {"state": "cancelled"}).content.decode()
    assert "RE-2026-000001" in cancelled and "GS-2026-000001" not in cancelled
    still_open = c.get(reverse("portal:invoices"), {"state": "open"}).content.decode()
    assert "RE-2026-000001" not in still_open and "GS-2026-000001" not in still_open
    assert "Keine Rechnungen oder Korrekturen gefunden." in still_open

    admin_list = finance_client(client).get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert "Stornorechnung zur Rechnung RE-2026-000001 vom 21.11.2026" in admin_list
    assert "storniert" in admin_list and "Gutschrift" not in admin_list


def test_partial_corrections_are_rechnungskorrekturen_and_the_last_cancels_the_invoice(
    invoice, send_outbox, mailoutbox
):
    callrec, intercom = invoice.lines.order_by("position")
    part = services.credit_note_issue(invoice=invoice, lines=[(intercom, 1)], reason="Intercom nicht benötigt")
    # 135,20 € + 19 % (25,688 → 25,69 €) = 160,89 €
    assert (part.gross_total, part.document_title) == (D("160.89"), "Rechnungskorrektur")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.OPEN
    rest = services.credit_note_issue(invoice=invoice, reason="Call Recording storniert")
    # the rest: 4.730,49 − 160,89 = 4.569,60 €, not the whole invoice by itself
    assert (rest.gross_total, rest.document_title) == (D("4569.60"), "Rechnungskorrektur")
    invoice.refresh_from_db()
    assert invoice.get_state_display() == "storniert"
    send_outbox()
    subjects = sorted(m.subject for m in mailoutbox if "GS-" in m.subject)
    assert subjects == [
        "Rechnungskorrektur GS-2026-000001 zur Rechnung RE-2026-000001 vom 21.11.2026",
        "Rechnungskorrektur GS-2026-000002 zur Rechnung RE-2026-000001 vom 21.11.2026",
    ]
    assert all("Gutschrift" not in m.body for m in mailoutbox)
    row = OutboxMessage.objects.filter(kind="credit-note").first()
    assert kind_label(row.kind) == "Rechnungskorrektur / Stornorechnung"


def test_the_journal_names_corrections(invoice, clock):
    from billing.finance import journal_context, journal_data

    services.credit_note_issue(invoice=invoice, reason="Bestellung irrtümlich")
    rows = journal_context(journal_data(year=2026, month=11))["rows"]
    assert sorted((r["number"], r["kind"], r["credited"]) for r in rows) == [
        ("GS-2026-000001", "Stornorechnung", "RE-2026-000001"),
        ("RE-2026-000001", "Rechnung", ""),
    ]
