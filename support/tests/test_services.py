"""Support services with hand-worked numbers: SLA, versions, workflow, replies, SUP-5 time."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import Invoice, InvoiceLine
from support import selectors, services
from support.exceptions import AlreadyBilled, AttachmentRefused, SupportError
from support.models import Ticket, TimeEntry
from support.tests.factories import (
    CustomerFactory,
    InstallationFactory,
    PartnerUserFactory,
    make_facts,
    make_plan,
    make_rates,
)
from vendorportal.models import OutboxMessage
from vendorportal.parties.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def at(*args):
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def login():
    return PartnerUserFactory(user__email="technik@partner.test")


def open_ticket(login, installation=None, kind="support", **kw):
    defaults = dict(pbx_version="8.2.0.5", module_version="2.1", body="Das Modul startet nicht.")
    if kind in ("support", "bug") and "product" not in kw:
        from licensing.models import Product

        kw["product"] = Product.objects.get(article=kw.pop("article", "AD-SYNC"))
    return services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind=kind,
        subject=kw.pop("subject", "Modul startet nicht"),
        installation=installation,
        **{**defaults, **kw},
    )


@pytest.fixture
def article(modules):
    from licensing.models import Product

    return Product.objects.filter(kind="module").order_by("article").first().article


def test_enterprise_ticket_gets_the_rules_example_due_time_and_mails(login, modules, article, clock):
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(installation, "enterprise")
    clock.set(at(2026, 11, 19, 16, 0))
    ticket = open_ticket(login, installation, article=article)
    assert ticket.sla_due_at == at(2026, 11, 25, 9, 30)
    assert ticket.sla_warning_at == at(2026, 11, 24, 16, 30)
    assert ticket.customer == installation.customer and ticket.number == "T-2026-00001"
    mails = {m.kind: m for m in OutboxMessage.objects.all()}
    assert set(mails) == {"support-partner", "support-staff"}
    assert mails["support-partner"].recipients == ["technik@partner.test"]
    assert "25.11.2026 09:30" in mails["support-staff"].body
    assert mails["support-staff"].recipients == ["support@vendor.example"]


def test_free_ticket_has_no_sla(login, modules, article, clock):
    clock.set(at(2026, 11, 19, 16, 0))
    ticket = open_ticket(login, InstallationFactory(customer=CustomerFactory(partner=login.partner)), article=article)
    assert ticket.sla_due_at is None and ticket.sla_warning_at is None


def test_support_request_needs_pbx_and_module_version(login, modules):
    with pytest.raises(ValidationError) as refused:
        services.ticket_open(partner=login.partner, by=login.user, kind="support", subject="Hilfe", body="…")
    assert set(refused.value.message_dict) == {"pbx_version", "product", "module_version"}
    assert not Ticket.objects.exists()


def test_versions_are_checked_against_the_catalog(login, modules, article):
    with pytest.raises(ValidationError) as refused:
        open_ticket(login, article=article, pbx_version="8.9.9.9", module_version="7.0")
    assert "keine freigegebene Version" in str(refused.value.message_dict["pbx_version"])
    assert "7.0" in str(refused.value.message_dict["module_version"])


def test_feature_request_needs_no_versions_and_gets_the_acknowledgement(login, modules):
    ticket = services.ticket_open(partner=login.partner, by=login.user, kind="feature", subject="Idee", body="…")
    ack = OutboxMessage.objects.get(kind="support-ack")
    assert ack.dedup_key == f"support-ack-{ticket.pk}"
    assert "ohne weitere Rückmeldung" in ack.body  # no plan: taken without reply (SUP-3/6)


def test_bug_report_of_a_premium_customer_promises_status_replies(login, modules, article):
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(installation, "premium")
    open_ticket(login, installation, kind="bug", article=article)
    ack = OutboxMessage.objects.get(kind="support-ack")
    assert "sofern wir Ihre Einschätzung teilen" in ack.body and "Statusmitteilungen" in ack.body


def test_installation_of_another_partner_is_refused(login, modules, article):
    foreign = InstallationFactory()
    with pytest.raises(SupportError):
        open_ticket(login, foreign, article=article)


def test_old_module_version_gets_the_version_to_install(login, modules, article):
    ticket = open_ticket(login, article=article, module_version="2.0")
    notice = selectors.version_notice(ticket)
    assert notice.newest == "2.1" and "bitte Version 2.1 installieren" in notice.message
    assert selectors.version_notice(open_ticket(login, article=article, module_version="2.1")) is None


def test_no_such_method_error_in_a_reply_is_flagged(login, modules, article):
    ticket = open_ticket(login, article=article)
    assert not selectors.mentions_incompatibility(ticket)
    services.ticket_reply(
        ticket=ticket, by=login.user, body="Log: java.lang.NoSuchMethodError: de.starface…", from_staff=False
    )
    assert selectors.mentions_incompatibility(ticket)


def test_first_public_staff_reply_stops_the_sla_clock_an_internal_note_does_not(login, modules, article, clock):
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(installation, "enterprise")
    clock.set(at(2026, 11, 19, 16, 0))
    ticket = open_ticket(login, installation, article=article)
    staff = UserFactory(is_staff=True)
    clock.set(at(2026, 11, 20, 10, 0))
    services.ticket_reply(ticket=ticket, by=staff, body="Wir prüfen.", from_staff=True, internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    clock.set(at(2026, 11, 20, 11, 15))
    services.ticket_reply(ticket=ticket, by=staff, body="Bitte Log senden.", from_staff=True, new_status="waiting")
    ticket.refresh_from_db()
    assert ticket.first_response_at == at(2026, 11, 20, 11, 15) and ticket.status == "waiting"
    # The partner's answer puts the ticket back to "open".
    services.ticket_reply(ticket=ticket, by=login.user, body="Anbei.", from_staff=False)
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_partner_may_not_write_internal_notes(login, modules, article):
    ticket = open_ticket(login, article=article)
    with pytest.raises(SupportError):
        services.ticket_reply(ticket=ticket, by=login.user, body="x", from_staff=False, internal=True)


def test_status_workflow_is_enforced(login, modules, article):
    ticket = open_ticket(login, article=article)
    services.ticket_set_status(ticket=ticket, status="closed")
    with pytest.raises(ValidationError):
        services.ticket_set_status(ticket=ticket, status="waiting")
    services.ticket_set_status(ticket=ticket, status="open")  # reopened
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert OutboxMessage.objects.filter(kind="support-partner", subject__contains="Status geändert").count() == 2


def test_unconfirmed_bug_gets_no_reply(login, modules, article):
    ticket = open_ticket(login, kind="bug", article=article)
    staff = UserFactory(is_staff=True)
    with pytest.raises(SupportError):
        services.ticket_reply(ticket=ticket, by=staff, body="Danke", from_staff=True)
    Ticket.objects.filter(pk=ticket.pk).update(confirmed_bug=True)
    ticket.refresh_from_db()
    services.ticket_reply(ticket=ticket, by=staff, body="Bestätigt, Fix in 2.2", from_staff=True)


def test_attachment_limits(login, modules, article):
    ticket = open_ticket(login, article=article)
    with pytest.raises(AttachmentRefused):
        services.attachment_add(ticket=ticket, upload=SimpleUploadedFile("x.exe", b"MZ"), from_staff=False)
    big = SimpleUploadedFile("big.pdf", b"0" * (services.MAX_ATTACHMENT_BYTES + 1))
    with pytest.raises(AttachmentRefused):
        services.attachment_add(ticket=ticket, upload=big, from_staff=False)
    log = services.attachment_add(ticket=ticket, upload=SimpleUploadedFile("modul.log", b"ERROR"), from_staff=False)
    assert log.is_log and log.size == 5 and log.file.read() == b"ERROR"


def test_log_file_stays_locked_until_a_dpa_date_is_entered(login, modules, article, clock):
    clock.set(date(2026, 11, 21))
    customer = CustomerFactory(partner=login.partner)
    ticket = open_ticket(login, InstallationFactory(customer=customer), article=article)
    log = services.attachment_add(ticket=ticket, upload=SimpleUploadedFile("modul.log", b"x"), from_staff=False)
    image = services.attachment_add(ticket=ticket, upload=SimpleUploadedFile("bild.png", b"x"), from_staff=False)
    assert services.attachment_locked_for_staff(log, date(2026, 11, 21))
    assert not services.attachment_locked_for_staff(image, date(2026, 11, 21))
    make_facts(customer, dpa=date(2026, 11, 21))
    assert not services.attachment_locked_for_staff(log, date(2026, 11, 21))


# --- SLA job ----------------------------------------------------------------------------


def test_sla_job_warns_once_an_hour_before_and_flags_the_breach(login, modules, article, clock):
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(installation, "enterprise")
    clock.set(at(2026, 11, 19, 16, 0))
    ticket = open_ticket(login, installation, article=article)
    clock.set(at(2026, 11, 24, 16, 15))
    assert services.sla_check().warned == []  # 15 min before the warning time
    clock.set(at(2026, 11, 24, 16, 30))
    assert services.sla_check().warned == [ticket.number]
    clock.set(at(2026, 11, 24, 16, 45))
    assert services.sla_check().warned == []  # once
    clock.set(at(2026, 11, 25, 9, 30))
    run = services.sla_check()
    assert run.breached == [ticket.number] and services.sla_check().breached == []
    assert OutboxMessage.objects.filter(kind="support-sla").count() == 2


def test_answered_ticket_is_never_flagged(login, modules, article, clock):
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(installation, "enterprise")
    clock.set(at(2026, 11, 19, 16, 0))
    ticket = open_ticket(login, installation, article=article)
    services.ticket_reply(ticket=ticket, by=UserFactory(is_staff=True), body="Hallo", from_staff=True)
    clock.set(at(2026, 11, 26, 9, 0))
    run = services.sla_check()
    assert (run.warned, run.breached) == ([], [])


# --- queue order (SUP-1) ----------------------------------------------------------------


def test_queue_order_with_mixed_contracts(login, modules, article, clock):
    partner = login.partner
    plain = InstallationFactory(customer=CustomerFactory(partner=partner))
    contract_customer = CustomerFactory(partner=partner)
    make_facts(contract_customer, contract_until=date(2027, 12, 31))
    swp_only = CustomerFactory(partner=partner)  # SWP is no service contract (SUP-10): nothing recorded
    premium = InstallationFactory(customer=CustomerFactory(partner=partner))
    make_plan(premium, "premium")
    enterprise = InstallationFactory(customer=CustomerFactory(partner=partner))
    make_plan(enterprise, "enterprise")
    expired = CustomerFactory(partner=partner)
    make_facts(expired, contract_until=date(2026, 10, 31))

    def ticket(minute, installation, urgency, subject):
        clock.set(at(2026, 11, 23, 9, minute))
        return open_ticket(login, installation, urgency=urgency, subject=subject, article=article)

    ticket(0, plain, "critical", "free critical")
    ticket(1, InstallationFactory(customer=contract_customer), "low", "contract low")
    ticket(2, premium, "high", "premium high")
    ticket(3, InstallationFactory(customer=swp_only), "high", "swp high")
    ticket(4, InstallationFactory(customer=contract_customer), "high", "contract high later")
    ticket(5, InstallationFactory(customer=expired), "normal", "expired contract normal")
    late_enterprise = ticket(6, enterprise, "low", "enterprise low")
    queue = [t.subject for t in selectors.ticket_queue(today=date(2026, 11, 23))]
    assert queue == [
        "premium high",
        "contract high later",
        "contract low",
        "enterprise low",
        "free critical",
        "swp high",
        "expired contract normal",
    ]
    # Once its SLA warning is out, the Enterprise ticket goes first.
    Ticket.objects.filter(pk=late_enterprise.pk).update(sla_warned_at=at(2026, 11, 26, 9, 0))
    assert [t.subject for t in selectors.ticket_queue(today=date(2026, 11, 23))][0] == "enterprise low"


# --- SUP-5 billable time ----------------------------------------------------------------


def _invoice_line(partner, position=1):
    invoice = Invoice.objects.create(
        number=f"RE-2026-{position:06d}",
        issue_date=date(2026, 12, 1),
        issued_at=at(2026, 12, 1, 6, 0),
        partner=partner,
        buyer_name=partner.company,
        buyer_country="DE",
        email="r@p.test",
        vat_category="S",
        net_total=Decimal("0.00"),
        vat_total=Decimal("0.00"),
        gross_total=Decimal("0.00"),
    )
    return InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        article="SUPPORT",
        description="Support",
        quantity=Decimal("0.75"),
        unit_price=Decimal("120.00"),
        net_total=Decimal("90.00"),
        vat_category="S",
        vat_percent=Decimal("19.00"),
    )


def test_billable_time_lines_round_and_price_by_plan(login, modules, article, clock):
    make_rates()
    staff = UserFactory(is_staff=True)
    clock.set(at(2026, 11, 2, 10, 0))
    free = open_ticket(login, InstallationFactory(customer=CustomerFactory(partner=login.partner)), article=article)
    premium_inst = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(premium_inst, "premium")
    premium = open_ticket(login, premium_inst, article=article)
    contract_customer = CustomerFactory(partner=login.partner)
    make_facts(contract_customer, contract_until=date(2027, 12, 31))
    covered = open_ticket(login, InstallationFactory(customer=contract_customer), article=article)

    services.time_entry_add(ticket=free, staff=staff, worked_on=date(2026, 11, 3), minutes=20)
    services.time_entry_add(ticket=free, staff=staff, worked_on=date(2026, 11, 10), minutes=25)
    services.time_entry_add(ticket=premium, staff=staff, worked_on=date(2026, 11, 4), minutes=10)
    assert (
        services.time_entry_add(ticket=covered, staff=staff, worked_on=date(2026, 11, 4), minutes=50).billable is False
    )
    services.time_entry_add(ticket=free, staff=staff, worked_on=date(2026, 12, 1), minutes=5)  # December

    lines = {line.ticket.pk: line for line in services.billable_time_lines(login.partner, date(2026, 11, 30))}
    assert set(lines) == {free.pk, premium.pk}
    # 20 + 25 = 45 min → 0,75 h × 120,00 € = 90,00 €.
    assert (lines[free.pk].quantity, lines[free.pk].unit_price, lines[free.pk].net_total) == (
        Decimal("0.75"),
        Decimal("120.00"),
        Decimal("90.00"),
    )
    assert (lines[free.pk].period_start, lines[free.pk].period_end) == (date(2026, 11, 3), date(2026, 11, 10))
    # 10 min → the 0,5 h minimum × the discounted 96,00 € = 48,00 €.
    assert (lines[premium.pk].quantity, lines[premium.pk].net_total) == (Decimal("0.50"), Decimal("48.00"))
    assert free.number in lines[free.pk].description

    line = _invoice_line(login.partner)
    assert services.mark_time_billed(lines[free.pk].entries, line) == 2
    with pytest.raises(AlreadyBilled):
        services.mark_time_billed(lines[free.pk].entries, line)
    # November again: only the premium ticket is left.
    assert [p.ticket.pk for p in services.billable_time_lines(login.partner, date(2026, 11, 1))] == [premium.pk]
    # December: 5 min of a case billed before → per started 15 minutes, no second minimum: 0,25 h.
    (december,) = services.billable_time_lines(login.partner, date(2026, 12, 15))
    assert (december.quantity, december.net_total) == (Decimal("0.25"), Decimal("30.00"))


def test_rates_by_validity_date(login, modules, article, clock):
    from support.models import HourlyRate

    HourlyRate.objects.create(
        kind="normal", amount=Decimal("110.00"), valid_from=date(2022, 1, 1), valid_until=date(2026, 11, 15)
    )
    HourlyRate.objects.create(kind="normal", amount=Decimal("130.00"), valid_from=date(2026, 11, 16))
    clock.set(at(2026, 11, 2, 10, 0))
    ticket = open_ticket(login, article=article)
    staff = UserFactory(is_staff=True)
    services.time_entry_add(ticket=ticket, staff=staff, worked_on=date(2026, 11, 20), minutes=60)
    (line,) = services.billable_time_lines(login.partner, date(2026, 11, 1))
    assert (line.unit_price, line.net_total) == (Decimal("130.00"), Decimal("130.00"))
    overlapping = HourlyRate(kind="normal", amount=Decimal("1.00"), valid_from=date(2026, 12, 1))
    with pytest.raises(ValidationError):
        overlapping.full_clean()


def test_missing_rate_is_reported(login, modules, article):
    ticket = open_ticket(login, article=article)
    services.time_entry_add(ticket=ticket, staff=UserFactory(is_staff=True), worked_on=date(2026, 11, 20), minutes=5)
    with pytest.raises(SupportError, match="kein normaler Stundensatz"):
        services.billable_time_lines(login.partner, date(2026, 11, 1))
    assert TimeEntry.objects.get().invoice_line is None
