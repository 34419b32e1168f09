"""Languages (issue 21): German by default, English by choice — per login, per partner for its
documents and e-mails (docs/i18n.md)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from billing.tests.portal_isolation import _confirmed
from vendorportal.models import OutboxMessage, UserLanguage
from vendorportal.parties.tests.factories import PartnerFactory, PartnerUserFactory

pytestmark = pytest.mark.django_db

SWITCH = "/i18n/setlang/"


def test_german_is_the_default_whatever_the_browser_asks_for(client):
    page = client.get(reverse("portal:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Passwort vergessen?" in page
    assert "Forgot your password?" not in page


def test_the_switch_before_login_sets_the_cookie_and_the_login_page_speaks_english(client):
    response = client.post(SWITCH, {"language": "en", "next": reverse("portal:login")})
    assert response.status_code == 302 and response["Location"] == reverse("portal:login")
    assert response.cookies["django_language"].value == "en"
    page = client.get(reverse("portal:login")).content.decode()
    assert "Forgot your password?" in page
    assert '<html lang="en">' in page


def test_a_partner_login_keeps_its_choice_across_logins(client):
    membership = PartnerUserFactory(role="member")
    client.force_login(membership.user)
    assert "Übersicht" in client.get(reverse("portal:dashboard")).content.decode()

    client.post(SWITCH, {"language": "en", "next": reverse("portal:dashboard")})
    assert UserLanguage.objects.get(user=membership.user).language == "en"
    assert "Overview" in client.get(reverse("portal:dashboard")).content.decode()

    client.logout()
    client.cookies.clear()
    client.force_login(membership.user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Overview" in page and "Log out" in page


def test_an_unknown_language_or_a_foreign_next_changes_nothing(client):
    membership = PartnerUserFactory()
    client.force_login(membership.user)
    response = client.post(SWITCH, {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert not UserLanguage.objects.filter(user=membership.user).exists()
    assert "Übersicht" in client.get(reverse("portal:dashboard")).content.decode()


def test_the_switch_is_post_only(client):
    assert client.get(SWITCH, {"language": "en"}).status_code == 405


def test_a_login_without_a_choice_speaks_its_partners_language(client):
    membership = PartnerUserFactory(partner=PartnerFactory(language="en"))
    client.force_login(membership.user)
    assert "Overview" in client.get(reverse("portal:dashboard")).content.decode()


def test_a_staff_member_switches_the_admin_to_english(client):
    staff = get_user_model().objects.create_superuser("chefin", "chefin@example.com", "pw-long-enough-1")
    client.force_login(staff)
    assert "Übersicht nach Bereichen" in client.get("/admin/").content.decode()
    client.post(SWITCH, {"language": "en", "next": "/admin/"})
    page = client.get("/admin/").content.decode()
    assert "Overview by area" in page
    assert 'name="language" value="de"' in page  # the switch back, in the admin header


def test_partner_admins_set_the_document_language_members_cannot(client):
    admin = PartnerUserFactory(role="admin")
    member = PartnerUserFactory(role="member", partner=admin.partner)
    url = reverse("portal:partner_language")

    client.force_login(member.user)
    assert client.post(url, {"language": "en"}).status_code == 403
    admin.partner.refresh_from_db()
    assert admin.partner.language == "de"

    client.force_login(admin.user)
    assert client.post(url, {"language": "xx"}).status_code == 302
    admin.partner.refresh_from_db()
    assert admin.partner.language == "de"
    assert client.post(url, {"language": "en"}).status_code == 302
    admin.partner.refresh_from_db()
    assert admin.partner.language == "en"
    assert admin.partner.history.first().history_user == admin.user


def _invoice_mail(partner) -> OutboxMessage:
    _order, invoice = _confirmed(partner)
    return OutboxMessage.objects.get(kind="invoice", document_id=invoice.pk)


def test_documents_are_written_in_the_partners_language_whoever_triggers_them():
    english, german = PartnerFactory(language="en"), PartnerFactory(language="de")
    with translation.override("de"):  # a German staff member issues the English partner's invoice
        mail = _invoice_mail(english)
    assert mail.subject.startswith("Invoice RE-")
    assert mail.body.startswith("Hello,")

    with translation.override("en"):  # an English staff member issues the German partner's invoice
        mail = _invoice_mail(german)
    assert mail.subject.startswith("Rechnung RE-")
    assert mail.body.startswith("Guten Tag,")


def test_an_english_invoice_keeps_the_german_labels_of_the_mandatory_content(monkeypatch):
    import vendorportal.pdf
    from billing.selectors import invoice_document
    from billing.services import invoice_pdf_bytes

    seen = []
    real = vendorportal.pdf.render_to_string
    monkeypatch.setattr(
        vendorportal.pdf,
        "render_to_string",
        lambda name, context=None, *a, **kw: seen.append(html := real(name, context, *a, **kw)) or html,
    )
    _order, invoice = _confirmed(PartnerFactory(language="en", country="AT", vat_id="ATU13585627"))
    invoice_pdf_bytes(invoice)
    (html,) = [h for h in seen if "Invoice" in h]
    assert 'Invoice<span lang="de" class="german"> / Rechnung</span>' in html
    assert 'Invoice no.<span lang="de" class="german"> / Rechnungs-Nr.</span>' in html
    assert "Reverse charge: the recipient of the service is liable for VAT" in html
    assert '<p class="legal" lang="de">Steuerschuldnerschaft des Leistungsempfängers' in html
    # The stored note and so the Factur-X BT-120 stay German.
    assert invoice_document(invoice).vat_breakdown[0].exemption_reason.startswith("Steuerschuldnerschaft")


# --- numbers and dates in the reader's language (docs/i18n.md) ------------------------------------
# The isolation walker's order: Call Recording for 90 + 10 installed users (tier 81-150), list price
# 4.800,00 € (seed 001), less the factory partner level's 20 % (ORD-5) → 3.840,00 € net; 19 % VAT
# 729,60 € → 4.569,60 €; issued 21.11.2026, due in 14 days (ORD-8) on 05.12.2026.


def _invoice_of(language, clock):
    from datetime import date

    clock.set(date(2026, 11, 21))
    return _confirmed(PartnerFactory(language=language, country="DE", vat_id=""))[1]


@pytest.mark.parametrize(
    "language, shown, not_shown",
    [
        (
            "en",
            ["€3,840.00", "€729.60", "€4,569.60", "21 Nov 2026", "5 Dec 2026", "VAT 19%"],
            ["4.569,60 €", "21.11.2026"],
        ),
        ("de", ["3.840,00 €", "729,60 €", "4.569,60 €", "21.11.2026", "05.12.2026", "USt. 19 %"], ["€", "Nov 2026"]),
    ],
)
def test_an_invoice_pdf_shows_amounts_and_dates_in_the_partners_language(clock, language, shown, not_shown):
    import io

    from pypdf import PdfReader

    from billing.services import invoice_pdf_bytes

    invoice = _invoice_of(language, clock)
    pdf = PdfReader(io.BytesIO(invoice_pdf_bytes(invoice)))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    for expected in shown:
        assert expected in text, expected
    for unexpected in not_shown:
        if unexpected == "€":  # a German invoice has no amount with the sign in front
            assert not __import__("re").search(r"€\d", text)
        else:
            assert unexpected not in text, unexpected


def test_the_factur_x_xml_of_an_english_invoice_keeps_its_machine_amounts(clock):
    from billing.facturx import invoice_xml
    from billing.selectors import invoice_document

    invoice = _invoice_of("en", clock)
    with translation.override("en"):
        xml = invoice_xml(invoice_document(invoice)).decode()
    assert "<ram:GrandTotalAmount>4569.60</ram:GrandTotalAmount>" in xml
    assert '<udt:DateTimeString format="102">20261121</udt:DateTimeString>' in xml
    assert "€" not in xml and "4,569" not in xml and "4.569,60" not in xml


@pytest.mark.parametrize(
    "language, shown",
    [
        ("en", ["Invoice RE-", "for €4,569.60.", "5 Dec 2026"]),
        ("de", ["Rechnung RE-", "über 4.569,60 €.", "05.12.2026"]),
    ],
)
def test_the_invoice_email_shows_amounts_and_dates_in_the_partners_language(clock, language, shown):
    invoice = _invoice_of(language, clock)
    mail = OutboxMessage.objects.get(kind="invoice", document_id=invoice.pk)
    text = f"{mail.subject}\n{mail.body}"
    for expected in shown:
        assert expected in text, (expected, text)


@pytest.mark.parametrize(
    "language, shown, not_shown",
    [
        ("en", ["€4,569.60", "21 Nov 2026"], ["4.569,60 €", "21.11.2026"]),
        ("de", ["4.569,60 €", "21.11.2026"], ["€4,569.60", "21 Nov 2026"]),
    ],
)
def test_the_portal_invoice_list_shows_amounts_and_dates_in_the_readers_language(
    client, clock, language, shown, not_shown
):
    invoice = _invoice_of(language, clock)
    login = PartnerUserFactory(partner=invoice.partner, role="admin")
    client.force_login(login.user)
    page = client.get(reverse("portal:invoices")).content.decode()
    for expected in shown:
        assert expected in page, expected
    for unexpected in not_shown:
        assert unexpected not in page, unexpected
