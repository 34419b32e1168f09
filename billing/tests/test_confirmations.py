"""Written confirmations (issue 16): every change with legal effect — a notice (SUB-5), a special
termination (SUB-6), a tier change (SUB-7), a service plan booked or ended (SUB-8), a SEPA
mandate created, signed, changed or revoked (ORD-8) — writes one outbox e-mail to the
partner's invoice address with a one-page PDF; the same change again writes nothing more.

Dates and prices by hand from RULES.md and the seed 001 list (no partner conditions):
Call Recording 21-40, 24 months, signed 21.11.2026 → term 01.12.2026…30.11.2028, 44,75 €/month;
41-80: 89,50 €; Premium plan 828,00 € a year.
"""

from __future__ import annotations

import io
import uuid
from datetime import date

import pypdf
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing import selectors, services
from billing.exceptions import SepaMandateRefused, ServicePlanRefused, SubscriptionRefused
from billing.models import Confirmation, SepaMandate, Subscription
from billing.services.confirmations import confirmation_subscription_notice
from billing.tests.factories import make_partner
from licensing.tests.factories import CustomerFactory, InstallationFactory, UserFactory
from vendorportal import roles
from vendorportal.models import OutboxMessage
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db

IBAN = "DE02120300000000202051"
OTHER_IBAN = "DE75512108001245126199"


def pdf_pages(content: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def sent_confirmations(send_outbox, mailoutbox) -> list:
    """Send what is due, as the worker does; the confirmation e-mails with their PDF text."""
    send_outbox()
    mails = []
    for mail in mailoutbox:
        if not mail.subject.startswith("Bestätigung:"):
            continue
        ((filename, content, mimetype),) = mail.attachments
        mails.append((mail, filename, mimetype, pdf_pages(content)))
    return mails


def one_confirmation(send_outbox, mailoutbox, kind):
    assert Confirmation.objects.filter(kind=kind).count() == 1
    ((mail, filename, mimetype, pages),) = sent_confirmations(send_outbox, mailoutbox)
    assert mimetype == "application/pdf" and filename.endswith(".pdf")
    assert len(pages) == 1  # one page
    (text,) = pages
    # Every business letter names the register, the managing directors and the bank (§ 35a GmbHG).
    assert "Registernummer: HRB 999999" in text and "Geschäftsführer: Erika Musterfrau, Max Mustermann" in text
    assert "IBAN DE02 1203 0000 0000 2020 51" in text
    return mail, text


@pytest.fixture
def callrec(modules, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner(status_confirmed_on=None)
    installation = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=30, user_light_licenses=0)
    order = services.order_create(partner=partner)
    services.order_line_add(
        order=order, installation=installation, product=modules["CALLREC"], kind="subscription", term_months=24
    )
    services.order_confirm(order=order)
    OutboxMessage.objects.all().delete()  # the order's delivery note and invoice are not what is tested here
    return Subscription.objects.get()


def test_a_notice_is_confirmed_once_in_writing(callrec, clock, send_outbox, mailoutbox):
    # SUB-5: notice on 01.03.2027 → first period end ≥ minimum-term end 30.11.2028 with 14 days' notice.
    clock.set(date(2027, 3, 1))
    services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 1))
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.SUBSCRIPTION_NOTICE)
    assert mail.to == ["buchhaltung@muster.test"]
    assert mail.subject == "Bestätigung: Kündigung Ihres Abos (ABO-2026-000001)"
    assert "Das Abo ABO-2026-000001 (Call Recording) endet am 30.11.2028." in mail.body
    assert "Bestätigung: Kündigung Ihres Abos" in text
    assert "Kündigung eingegangen am 01.03.2027" in text
    assert "Vertragsende (letzter Tag) 30.11.2028" in text
    assert "ordentliche Kündigung" in text and "(SUB-5)" not in text
    # The same notice again: refused, and no second confirmation.
    with pytest.raises(SubscriptionRefused, match="bereits gekündigt"):
        services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 1))
    preview = services.subscription_notice_preview(callrec, date(2027, 3, 1))
    confirmation_subscription_notice(subscription=callrec, preview=preview)  # a re-run of the write
    assert Confirmation.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="confirmation").count() == 1


def test_a_special_termination_is_confirmed(callrec, clock, send_outbox, mailoutbox):
    # SUB-6: STARFACE 9.0.0.4 (06.10.2026) has no compatible version since 06.01.2027;
    # notice on 10.03.2027 → end of March (31.03. − 14 days = 17.03. ≥ 10.03.).
    clock.set(date(2027, 3, 10))
    services.subscription_give_notice(subscription=callrec, notice_on=date(2027, 3, 10), special=True)
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.SPECIAL_TERMINATION)
    assert mail.subject == "Bestätigung: Sonderkündigung Ihres Abos (ABO-2026-000001)"
    assert "Sonderkündigung" in text and "(SUB-6)" not in text and "Vertragsende (letzter Tag) 31.03.2027" in text


def test_a_tier_change_is_confirmed_with_the_new_price_and_its_first_period(callrec, clock, send_outbox, mailoutbox):
    clock.set(date(2027, 1, 15))
    change = services.subscription_change_tier(subscription=callrec, tier="41-80")
    start = change.effective_from.strftime("%d.%m.%Y")
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.TIER_CHANGE)
    assert mail.subject == "Bestätigung: Staffelwechsel Ihres Abos (ABO-2026-000001)"
    assert (
        "Der neue Monatspreis von 89,50 € je Lizenz gilt ab dem Abrechnungszeitraum, der am " + start + " beginnt."
    ) in text
    assert "Bisheriger Monatspreis je Lizenz 44,75 €" in text and "Neue Staffel 41-80" in text
    # The same change again is refused and confirms nothing more; another tier is a new confirmation.
    with pytest.raises(SubscriptionRefused):
        services.subscription_change_tier(subscription=callrec, tier="41-80")
    assert Confirmation.objects.count() == 1
    services.subscription_change_tier(subscription=callrec, tier="81-150")
    assert Confirmation.objects.filter(kind=Confirmation.TIER_CHANGE).count() == 2


@pytest.fixture
def server(catalog, clock):
    clock.set(date(2026, 12, 1))
    return InstallationFactory(customer=CustomerFactory(partner=make_partner()), pbx_users=30)


def test_a_service_plan_booking_and_its_notice_are_confirmed(server, clock, send_outbox, mailoutbox):
    plan = services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 12, 1))
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.PLAN_BOOKING)
    assert mail.subject == "Bestätigung: Buchung Ihres Service-Plans (SP-2026-000001)"
    assert "Jahrespreis (netto) 828,00 €" in text and "Beginn 01.12.2026" in text
    assert server.identifier in text
    with pytest.raises(ServicePlanRefused):
        services.service_plan_book(installation=server, plan="premium", signed_on=date(2026, 12, 1))
    assert Confirmation.objects.count() == 1

    # SUB-8: notice on 31.08.2027, 3 months before the plan year ends on 30.11.2027.
    mailoutbox.clear()
    clock.set(date(2027, 8, 31))
    services.service_plan_give_notice(service_plan=plan, notice_on=date(2027, 8, 31))
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.PLAN_NOTICE)
    assert "Vertragsende (letzter Tag) 30.11.2027" in text


def test_a_mandate_is_confirmed_when_created_signed_changed_and_revoked(db, clock, send_outbox, mailoutbox):
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    mandate = services.sepa_mandate_enter(
        token=uuid.uuid4().hex, partner=partner, account_holder="Muster", iban=IBAN, bic=""
    )
    reference = f"VP-{partner.pk:06d}-001"
    assert (mandate.reference, mandate.signed_on, mandate.is_pending) == (reference, None, True)
    assert selectors.partner_mandate(partner) is None  # nothing is collected before the signature
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.MANDATE_CREATED)
    assert f"Mandatsreferenz {reference}" in text and "Gläubiger-Identifikationsnummer DE98ZZZ09999999999" in text
    assert "unterschrieben am wartet auf Unterschrift" in text
    assert "DE02 XXXX XXXX XXXX XX20 51" in text  # the account masked

    mailoutbox.clear()
    services.sepa_mandate_sign(mandate=mandate, signed_on=date(2026, 11, 20))
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.MANDATE_SIGNED)
    assert "unterschrieben am 20.11.2026" in text
    assert selectors.partner_mandate(partner).pk == mandate.pk
    with pytest.raises(SepaMandateRefused, match="wartet nicht"):
        services.sepa_mandate_sign(mandate=mandate, signed_on=date(2026, 11, 20))
    assert Confirmation.objects.filter(kind=Confirmation.MANDATE_SIGNED).count() == 1

    mailoutbox.clear()
    services.sepa_mandate_update(
        mandate=mandate, iban=OTHER_IBAN, bic="", reference=reference, signed_on=date(2026, 11, 20)
    )
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.MANDATE_CHANGED)
    assert "DE75 XXXX XXXX XXXX XX61 99" in text

    mailoutbox.clear()
    services.sepa_mandate_revoke(mandate=mandate)
    mail, text = one_confirmation(send_outbox, mailoutbox, Confirmation.MANDATE_REVOKED)
    assert "widerrufen am 21.11.2026" in text
    assert Confirmation.objects.count() == 4


# --- the mandate as a form to sign ---------------------------------------------------------------


def mandate_form_text(response) -> str:
    (text,) = pdf_pages(response.content)
    return text


def test_the_mandate_form_carries_its_reference_before_it_is_signed(client, clock):
    clock.set(date(2026, 11, 21))
    partner = make_partner()
    client.force_login(PartnerUserFactory(partner=partner, role=PartnerUser.ADMIN).user)
    old = services.sepa_mandate_enter(
        token=uuid.uuid4().hex,
        partner=partner,
        account_holder="Muster",
        iban=OTHER_IBAN,
        bic="",
        signed_on=date(2026, 1, 5),
    )
    # The portal: a new mandate without the signature date waits for it; the old one stays active.
    response = client.post(
        reverse("portal:sepa_mandate"),
        {"action": "new", "account_holder": "Muster Kommunikation GmbH", "iban": IBAN, "bic": "", "token": "form-1"},
        follow=True,
    )
    page = response.content.decode()
    pending = SepaMandate.objects.get(signed_on__isnull=True)
    assert pending.reference == f"VP-{partner.pk:06d}-002"
    assert "wartet auf die Unterschrift" in page and "Mandat als PDF (zum Unterschreiben)" in page
    assert selectors.partner_mandate(partner).pk == old.pk

    form = client.get(reverse("portal:sepa_mandate_pdf", args=[pending.pk]))
    assert form.status_code == 200 and form["Content-Type"] == "application/pdf"
    assert f'filename="SEPA-Mandat-VP-{partner.pk:06d}-002.pdf"' in form["Content-Disposition"]
    text = mandate_form_text(form)
    assert "SEPA-Lastschriftmandat" in text and "Wartet auf Unterschrift" in text
    assert f"Mandatsreferenz {pending.reference}" in text
    assert "Gläubiger-Identifikationsnummer DE98ZZZ09999999999" in text
    assert (
        "Ich ermächtige / Wir ermächtigen Fluxpunkt Module GmbH (Demo), Zahlungen von meinem / unserem Konto "
        "mittels Lastschrift einzuziehen." in text
    )
    assert "innerhalb von acht Wochen, beginnend mit dem Belastungsdatum, die Erstattung" in text
    assert "IBAN DE02 1203 0000 0000 2020 51" in text and "Muster Kommunikation GmbH" in text
    assert "Ort" in text and "Unterschrift(en) des Zahlungspflichtigen (Kontoinhaber)" in text

    # The signature recorded in the portal: the new mandate is active, the old one revoked today.
    client.post(
        reverse("portal:sepa_mandate"), {"action": "sign", "signed_on": "20.11.2026", "confirm": "on"}, follow=True
    )
    pending.refresh_from_db()
    old.refresh_from_db()
    assert (pending.signed_on, pending.is_active, old.revoked_on) == (date(2026, 11, 20), True, date(2026, 11, 21))


def test_another_partners_mandate_form_is_404(client, clock):
    clock.set(date(2026, 11, 21))
    other = services.sepa_mandate_enter(
        token=uuid.uuid4().hex, partner=make_partner(company="Fremd GmbH"), account_holder="F", iban=IBAN, bic=""
    )
    client.force_login(PartnerUserFactory(partner=make_partner(), role=PartnerUser.ADMIN).user)
    assert client.get(reverse("portal:sepa_mandate_pdf", args=[other.pk])).status_code == 404


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SALES, 200), (roles.SUPPORT, 403)])
def test_staff_print_the_mandate_form_from_the_admin(client, clock, group_name, status):
    clock.set(date(2026, 11, 21))
    mandate = services.sepa_mandate_enter(
        token=uuid.uuid4().hex, partner=make_partner(), account_holder="M", iban=IBAN, bic=""
    )
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    response = client.get(reverse("admin:billing_sepamandate_pdf", args=[mandate.pk]))
    assert response.status_code == status  # finance keeps mandates, sales looks them up, support has no access
    if status == 200:
        assert f"Mandatsreferenz {mandate.reference}" in mandate_form_text(response)


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SALES, 200), (roles.SUPPORT, 403)])
def test_staff_read_what_was_confirmed_in_the_admin(client, clock, group_name, status):
    clock.set(date(2026, 11, 21))
    mandate = services.sepa_mandate_enter(
        token=uuid.uuid4().hex, partner=make_partner(), account_holder="M", iban=IBAN, bic=""
    )
    confirmation = Confirmation.objects.get()
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    listing = client.get(reverse("admin:billing_confirmation_changelist"))
    assert listing.status_code == status
    response = client.get(reverse("admin:billing_confirmation_pdf", args=[confirmation.pk]))
    assert response.status_code == status
    if status == 200:
        assert mandate.reference in listing.content.decode()
        assert f"Mandatsreferenz {mandate.reference}" in mandate_form_text(response)
