"""Charges (Nebenforderungen, issue 18): added once per key, billed once, on their own invoice.

Hand-worked: Muster has Call Recording at 44,75 €/month from 01.12.2026 (German, no mandate)
and two charges added in December — a return fee of 3,00 € and a dunning flat fee of 40,00 €.
The January run (01.01.2027) writes
- RE-2027-000001: the subscription month 01.01.–31.01.2027, 44,75 € + 19 % (8,5025 → 8,50 €)
  = 53,25 €, and right after it
- RE-2027-000002 "Rechnung über Nebenforderungen": 3,00 + 40,00 = 43,00 €, category O, no VAT
  (nicht steuerbarer Schadensersatz), gross 43,00 €, transfer due 01.01. + 14 = 15.01.2027.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import rules, selectors
from billing.exceptions import ChargeRefused
from billing.facturx import invoice_xml, validate_en16931, xsd_errors
from billing.models import Charge, Invoice
from billing.services import invoicing
from billing.services.charges import charge_add
from billing.tests.factories import make_partner, make_subscription
from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal
DEC = date(2026, 12, 1)
JAN = date(2027, 1, 1)


@pytest.fixture
def muster(catalog):
    partner = make_partner(company="Muster Kommunikation GmbH", invoice_email="buchhaltung@muster.test")
    make_subscription(partner, article="CALLREC", monthly_price="44.75", term_start=DEC, minimum_months=12)
    return partner


def add(partner, key="k1", amount="3.00", kind=Charge.RETURN_FEE, **kw):
    return charge_add(
        partner=partner,
        kind=kind,
        amount=amount,
        description=kw.pop("description", "Rücklastschrift"),
        dedup_key=key,
        **kw,
    )


def test_charge_add_is_idempotent_by_key(clock, muster):
    clock.set(date(2026, 12, 2))
    first = add(muster, amount=D("3.00"))
    again = add(muster, amount=D("5.00"))
    assert again.pk == first.pk and Charge.objects.get().amount == D("3.00")
    assert (first.created_at.date(), first.billed_on, first.get_kind_display()) == (
        date(2026, 12, 2),
        None,
        "Rücklastschriftgebühr",
    )
    assert first.history.count() == 1


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"amount": "0.00"}, "größer als 0,00 €"),
        ({"amount": "-3"}, "größer als 0,00 €"),
        ({"amount": "3.001"}, "höchstens zwei Nachkommastellen"),
        ({"amount": "drei"}, "kein Betrag"),
        ({"kind": "penalty"}, "keine Art von Nebenforderung"),
        ({"description": "  "}, "wofür"),
        ({"key": ""}, "eindeutigen Schlüssel"),
    ],
)
def test_charge_add_refuses_bad_input_in_german(clock, muster, kw, message):
    clock.set(date(2026, 12, 2))
    with pytest.raises(ChargeRefused, match=message):
        add(muster, **kw)
    assert not Charge.objects.exists()


def test_charge_of_another_partners_invoice_or_key_is_refused(clock, muster, modules):
    clock.set(date(2026, 12, 2))
    other = make_partner(company="Beispiel IT-Service GmbH")
    add(other, key="shared")
    with pytest.raises(ChargeRefused, match="anderen Partners"):
        add(muster, key="shared")
    invoicing.invoicing_run(month=DEC, render_pdf=False)
    mine = Invoice.objects.get(partner=muster)
    with pytest.raises(ChargeRefused, match="gehört nicht zu diesem Partner"):
        add(other, key="k2", source_invoice=mine)


def test_next_run_bills_charges_on_their_own_category_o_invoice_once(clock, muster):
    clock.set(DEC)
    invoicing.invoicing_run(month=DEC, render_pdf=False)  # December: the subscription only
    clock.set(date(2026, 12, 2))
    add(muster, key="return:1", amount="3.00", description="Rücklastschrift zu RE-2026-000001 (MD06)")
    add(muster, key="dunning:1", amount="40.00", kind=Charge.DUNNING_FEE, description="Mahnpauschale")
    # The hourly catch-up of December does not bill charges added in December.
    assert invoicing.invoicing_run(month=DEC, render_pdf=False).invoices == []

    clock.set(JAN)
    result = invoicing.invoicing_run(month=JAN, render_pdf=False)
    regular, extra = result.invoices
    assert (regular.number, regular.net_total, regular.vat_total, regular.gross_total, regular.charges_only) == (
        "RE-2027-000001",
        D("44.75"),
        D("8.50"),
        D("53.25"),
        False,
    )
    assert (extra.number, extra.document_title, extra.vat_category) == (
        "RE-2027-000002",
        "Rechnung über Nebenforderungen",
        "O",
    )
    assert (extra.net_total, extra.vat_total, extra.gross_total) == (D("43.00"), D("0.00"), D("43.00"))
    assert (extra.payment_means, extra.due_date) == (rules.TRANSFER, date(2027, 1, 15))
    assert "nicht per Lastschrift" in extra.payment_terms
    assert sorted(
        (line.article, line.net_total, line.vat_category, line.vat_percent) for line in extra.lines.all()
    ) == [
        ("NF-MAHN", D("40.00"), "O", D("0.00")),
        ("NF-RLS", D("3.00"), "O", D("0.00")),
    ]
    assert set(Charge.objects.values_list("billed_on__number", flat=True)) == {"RE-2027-000002"}
    assert Charge.objects.get(dedup_key="return:1").history.count() == 2  # added, billed
    mail = OutboxMessage.objects.get(document_id=extra.pk)
    assert mail.subject == "Rechnung über Nebenforderungen RE-2027-000002"

    # Factur-X EN 16931: XSD and schematron (BR-O-*: no VAT IDs, exemption reason, no rate).
    xml = invoice_xml(selectors.invoice_document(extra))
    assert xsd_errors(xml) == []
    assert validate_en16931(xml) == []
    assert b"VATEX-EU-O" in xml and b"Schadensersatz" in xml

    # Billed once: the run again, and the next month's run, bill no charge again.
    assert invoicing.invoicing_run(month=JAN, render_pdf=False).invoices == []
    clock.set(date(2027, 2, 1))
    feb = invoicing.invoicing_run(month=date(2027, 2, 1), render_pdf=False)
    assert [i.charges_only for i in feb.invoices] == [False]


def test_partner_with_only_charges_gets_only_the_charges_invoice(clock, catalog):
    partner = make_partner(company="Nur Gebühren GmbH")
    clock.set(date(2026, 12, 10))
    add(partner, key="return:9", amount="4.50")
    clock.set(JAN)
    result = invoicing.invoicing_run(month=JAN, render_pdf=False)
    assert [(i.number, i.charges_only, i.gross_total) for i in result.invoices] == [("RE-2027-000001", True, D("4.50"))]


# --- admin: the charge list per staff group -------------------------------------------------

GROUPS = [roles.SALES, roles.FINANCE, roles.SUPPORT]


def staff_client(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.mark.parametrize("group_name, sees, adds", [("sales", 200, 403), ("finance", 200, 200), ("support", 403, 403)])
def test_charge_list_and_hand_entry_per_staff_group(client, clock, muster, group_name, sees, adds):
    clock.set(date(2026, 12, 2))
    add(muster, key="return:1", amount="3.00", description="Rücklastschrift zu RE-2026-000001 (MD06)")
    staff_client(client, group_name)
    listing = client.get(reverse("admin:billing_charge_changelist"))
    assert listing.status_code == sees
    if sees == 200:
        assert (
            "Rücklastschrift zu RE-2026-000001 (MD06)" in listing.content.decode()
            and "3,00" in listing.content.decode()
        )
    assert client.get(reverse("admin:billing_charge_add")).status_code == adds
    post = {
        "partner": muster.pk,
        "kind": Charge.DUNNING_FEE,
        "amount": "40.00",
        "description": "Mahnpauschale § 288 Abs. 5 BGB",
        "reason": "telefonisch vereinbart",
        "token": "t" * 32,
    }
    answer = client.post(reverse("admin:billing_charge_add"), post)
    assert answer.status_code == (302 if adds == 200 else 403)
    if adds == 200:
        client.post(reverse("admin:billing_charge_add"), post)  # a double post adds one charge
        hand = Charge.objects.get(kind=Charge.DUNNING_FEE)
        assert (hand.amount, hand.reason, hand.created_by.username) == (
            D("40.00"),
            "telefonisch vereinbart",
            "staff-finance",
        )
    assert Charge.objects.filter(kind=Charge.DUNNING_FEE).count() == (1 if adds == 200 else 0)
    # Nobody changes or deletes a charge; the detail page is read-only.
    existing = Charge.objects.get(dedup_key="return:1")
    change = client.post(reverse("admin:billing_charge_change", args=[existing.pk]), {"amount": "1.00"})
    assert change.status_code in (403, 200) and Charge.objects.get(pk=existing.pk).amount == D("3.00")
    assert client.post(reverse("admin:billing_charge_delete", args=[existing.pk]), {"post": "yes"}).status_code == 403


def test_hand_entry_refusal_is_shown_in_german(client, clock, muster):
    clock.set(date(2026, 12, 2))
    staff_client(client, "finance")
    answer = client.post(
        reverse("admin:billing_charge_add"),
        {
            "partner": muster.pk,
            "kind": Charge.RETURN_FEE,
            "amount": "0.00",
            "description": "x",
            "reason": "y",
            "token": "a",
        },
    )
    assert answer.status_code == 200 and "größer als 0,00 €" in answer.content.decode()
    assert not Charge.objects.exists()


def test_the_charges_invoice_pdf_says_what_it_is_and_embeds_valid_factur_x(clock, catalog):
    """What the partner and its e-invoicing system read: the stored PDF and its embedded XML."""
    import io

    import facturx
    import pypdf

    from billing.services.invoices import invoice_pdf_bytes

    partner = make_partner(company="Nur Gebühren GmbH", vat_id="DE136695976")
    clock.set(date(2026, 12, 10))
    add(partner, key="return:9", amount="3.00", description="Rücklastschrift zu RE-2026-000004 (MD06)")
    clock.set(JAN)
    (invoice,) = invoicing.invoicing_run(month=JAN, render_pdf=False).invoices
    pdf = invoice_pdf_bytes(invoice)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Rechnung über Nebenforderungen RE-2027-000001" in text
    assert "Nicht steuerbarer Schadensersatz" in text and "3,00 €" in text
    assert "per Überweisung" in text and "15.01.2027" in text
    _name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert validate_en16931(xml) == []
    assert b"DE136695976" not in xml  # BR-O-02: no buyer VAT ID on a category-O invoice
