"""ORD-8 decided once for every invoice, and open direct debits that follow mandate changes.

Hand-worked from RULES.md ORD-8 (decision: the monthly amount of an invoice is the sum of each
subscription and plan line's net divided by the months of its period; ≤ 50,00 € with an active
mandate → direct debit, above → transfer due in 14 days unless the mandate says "auch über
50 €"; purchases and support time are collected with the invoice) and "ORD-8 / SEPA" (collected
on exactly the announced day; a new day is announced again). Collection days are TARGET2
business days: the invoice date + 14 days, moved to the next business day.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing import selectors, services
from billing.constants import DEBIT_NOTICE_KIND, INVOICE_KIND
from billing.models import Invoice, SepaMandate
from billing.services import invoicing, mandates
from billing.services.invoices import LineDraft
from billing.tests.factories import make_partner, make_subscription
from vendorportal.models import OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal
DEC = date(2026, 12, 1)
IBAN_1 = "DE89370400440532013000"
IBAN_2 = "DE02120300000000202051"


def with_mandate(company="Muster Kommunikation GmbH", *, above=False, token="form-1", iban=IBAN_1):
    partner = make_partner(company=company)
    services.sepa_mandate_enter(
        partner=partner,
        account_holder=company,
        iban=iban,
        bic="",
        signed_on=date(2025, 3, 10),
        above_limit=above,
        token=token,
    )
    return partner


def bill(partner, month):
    return invoicing.invoicing_bill_partner(partner_id=partner.pk, month=month, render_pdf=False).invoice


def notices(invoice):
    return list(OutboxMessage.objects.filter(kind=DEBIT_NOTICE_KIND, document_id=invoice.pk).order_by("pk"))


# --- ORD-8 in one rule, read by every writer ------------------------------------------------


def test_a_quarterly_20_euro_subscription_is_debited_on_its_first_and_its_later_invoices(catalog, clock):
    """A quarter of 60,00 € counts 20,00 € a month ≤ 50,00 €: direct debit every time. Before,
    the run compared the whole 60,00 € with the limit and transferred it."""
    partner = with_mandate()
    make_subscription(partner, monthly_price="20.00", term_start=DEC, minimum_months=12, billing_months=3)
    clock.set(DEC)
    first = bill(partner, DEC)
    # 3 × 20,00 = 60,00 € net (01.12.2026–28.02.2027); VAT 11,40 €; gross 71,40 €.
    assert (first.net_total, first.gross_total, first.payment_means) == (D("60.00"), D("71.40"), "direct_debit")
    assert first.due_date == date(2026, 12, 15)  # 01.12. + 14 days, a Tuesday
    clock.set(date(2027, 3, 1))
    later = bill(partner, date(2027, 3, 1))
    assert (later.net_total, later.payment_means, later.due_date) == (D("60.00"), "direct_debit", date(2027, 3, 15))
    assert later.payment_terms == "Der Betrag wird am 15.03.2027 per SEPA-Basislastschrift eingezogen."


def test_three_monthly_subscriptions_of_20_euros_are_transferred_unless_the_mandate_says_above_50(catalog, clock):
    plain = with_mandate("Drei Abos GmbH")
    above = with_mandate("Drei Abos Plus GmbH", above=True)
    for partner in (plain, above):
        for _ in range(3):
            make_subscription(partner, monthly_price="20.00", term_start=DEC, minimum_months=1)
    clock.set(DEC)
    # 3 × 20,00 = 60,00 € a month > 50,00 €.
    transferred = bill(plain, DEC)
    assert (transferred.net_total, transferred.payment_means, transferred.due_date) == (
        D("60.00"),
        "transfer",
        date(2026, 12, 15),
    )
    assert transferred.mandate_reference == ""
    debited = bill(above, DEC)
    assert (debited.payment_means, debited.due_date) == ("direct_debit", date(2026, 12, 15))
    assert debited.mandate_reference == SepaMandate.objects.get(partner=above).reference


def test_a_purchase_is_collected_with_the_subscription_of_its_invoice(catalog, clock):
    """The writer every path calls: a 1.299,00 € purchase plus a 10,00 €/month subscription line,
    mandate → the whole invoice by direct debit (the purchase does not count towards 50 €)."""
    partner = with_mandate()
    clock.set(date(2026, 11, 21))
    with transaction.atomic():
        invoice, lines = services.invoice_write(
            partner=partner,
            issue_date=date(2026, 11, 21),
            email="buchhaltung@muster.test",
            drafts=[
                LineDraft(
                    article="INSIGHT",
                    description="Insight Analytics, Kauf",
                    quantity=D(1),
                    unit="C62",
                    unit_price=D("1299.00"),
                    purchase=True,
                ),
                LineDraft(
                    article="BLACKLIST",
                    description="Blacklist PRO, Abo",
                    quantity=D(1),
                    unit="MON",
                    unit_price=D("10.00"),
                    period_start=DEC,
                    period_end=date(2026, 12, 31),
                    recurring=True,
                ),
            ],
            vat_category="S",
            vat_note="",
            vat_percent=D("19.00"),
        )
    # 1.299,00 + 10,00 = 1.309,00 € net; VAT 1.309 × 0,19 = 248,71 €; gross 1.557,71 €.
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("1309.00"), D("248.71"), D("1557.71"))
    # Collected: 21.11. + 14 = Sat 05.12.2026 → Mon 07.12.2026.
    assert (invoice.payment_means, invoice.due_date, invoice.debtor_iban) == ("direct_debit", date(2026, 12, 7), IBAN_1)
    assert [(line.position, line.net_total) for line in lines] == [(1, D("1299.00")), (2, D("10.00"))]
    assert invoice.number == "RE-2026-000001"
    assert OutboxMessage.objects.filter(kind=INVOICE_KIND, document_id=invoice.pk).count() == 1


def test_the_pdf_reads_the_stored_collection_day(catalog, clock):
    from billing.invoice_pdf import invoice_context  # the values the template prints

    partner = with_mandate()
    make_subscription(partner, monthly_price="20.00", term_start=DEC, minimum_months=1)
    clock.set(DEC)
    invoice = bill(partner, DEC)
    context = invoice_context(selectors.invoice_document(invoice))
    assert context["due_date"] == "15.12.2026"  # "Wir ziehen den Betrag … am {{ due_date }} … ein."
    assert context["lines"][0]["unit"] == "Monat"  # "1 Monat"


# --- a new mandate moves the open debits ------------------------------------------------------


@pytest.fixture
def debited(catalog, clock):
    """An open debit of 16,58 € a month under the first mandate, announced for 15.12.2026."""
    partner = with_mandate()
    make_subscription(partner, monthly_price="16.58", term_start=DEC, minimum_months=1)
    clock.set(DEC)
    invoice = bill(partner, DEC)
    assert (invoice.payment_means, invoice.due_date) == ("direct_debit", date(2026, 12, 15))
    return invoice


def test_portal_and_admin_show_the_stored_collection_day(debited, clock, client):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from vendorportal import roles
    from vendorportal.parties.models import PartnerUser
    from vendorportal.parties.tests.factories import PartnerUserFactory, UserFactory

    # The file for Tue 15.12. had to reach the bank by Mon 14.12. (1 business day); on the 15th
    # the debit is announced again: 15.12. + 14 = Tue 29.12.2026.
    clock.set(date(2026, 12, 15))
    services.direct_debits_reannounce()
    login = PartnerUserFactory(partner=debited.partner, role=PartnerUser.ADMIN)
    client.force_login(login.user)
    page = client.get(reverse("portal:invoices")).content.decode()
    assert "Einzug am 29.12.2026" in page and "15.12.2026" not in page
    staff = UserFactory(username="fibu", is_staff=True)
    staff.groups.add(Group.objects.get(name=roles.FINANCE))
    client.force_login(staff)
    admin_page = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert "29. Dezember 2026" in admin_page or "29.12.2026" in admin_page


def test_a_new_mandate_takes_over_the_open_debits_announced_again(debited, clock):
    clock.set(date(2026, 12, 3))
    new = services.sepa_mandate_enter(
        partner=debited.partner, account_holder="Muster", iban=IBAN_2, bic="", signed_on=date(2026, 12, 2), token="f-2"
    )
    invoice = Invoice.objects.get(pk=debited.pk)
    # 03.12. + 14 days = Thu 17.12.2026, under the new mandate and account.
    assert (invoice.payment_means, invoice.due_date, invoice.mandate_reference, invoice.debtor_iban) == (
        "direct_debit",
        date(2026, 12, 17),
        new.reference,
        IBAN_2,
    )
    [notice] = notices(invoice)
    assert "17.12.2026" in notice.subject and new.reference in notice.body and "15.12.2026" in notice.body
    assert not selectors.direct_debits_naming_inactive_mandates().exists()


def test_a_new_mandate_that_does_not_cover_the_debit_moves_it_to_transfer(catalog, clock):
    partner = with_mandate(above=True)
    for _ in range(3):
        make_subscription(partner, monthly_price="20.00", term_start=DEC, minimum_months=1)
    clock.set(DEC)
    invoice = bill(partner, DEC)
    assert invoice.payment_means == "direct_debit"  # 60,00 € a month, "auch über 50 €"
    clock.set(date(2026, 12, 3))
    services.sepa_mandate_enter(
        partner=partner, account_holder="Muster", iban=IBAN_2, bic="", signed_on=date(2026, 12, 2), token="f-2"
    )
    invoice.refresh_from_db()
    # Transfer, due 03.12. + 14 days = 17.12.2026.
    assert (invoice.payment_means, invoice.due_date, invoice.mandate_reference, invoice.debtor_iban) == (
        "transfer",
        date(2026, 12, 17),
        "",
        "",
    )
    assert invoice.payment_terms == "Zahlbar ohne Abzug bis 17.12.2026 per Überweisung."
    [notice] = notices(invoice)
    assert notice.subject == f"Rechnung {invoice.number}: bitte überweisen bis 17.12.2026"


def test_a_revoked_mandate_without_successor_moves_its_debits_to_transfer(debited, clock):
    clock.set(date(2026, 12, 4))
    services.sepa_mandate_revoke(mandate=SepaMandate.objects.get(partner=debited.partner))
    invoice = Invoice.objects.get(pk=debited.pk)
    assert (invoice.payment_means, invoice.due_date) == ("transfer", date(2026, 12, 18))  # 04.12. + 14
    assert "widerrufen" in notices(invoice)[0].body
    assert not selectors.direct_debits_naming_inactive_mandates().exists()


def test_switching_off_above_50_moves_the_debits_it_no_longer_covers(catalog, clock):
    partner = with_mandate(above=True)
    small = with_mandate("Klein GmbH", above=True, token="form-k")
    for _ in range(3):
        make_subscription(partner, monthly_price="20.00", term_start=DEC, minimum_months=1)
    make_subscription(small, monthly_price="20.00", term_start=DEC, minimum_months=1)
    clock.set(DEC)
    large_invoice, small_invoice = bill(partner, DEC), bill(small, DEC)
    for p in (partner, small):
        services.sepa_mandate_set_above_limit(mandate=selectors.partner_mandate(p), above_limit=False)
    large_invoice.refresh_from_db()
    small_invoice.refresh_from_db()
    assert (large_invoice.payment_means, large_invoice.due_date) == ("transfer", date(2026, 12, 15))
    assert (small_invoice.payment_means, small_invoice.due_date) == ("direct_debit", date(2026, 12, 15))  # 20 ≤ 50
    assert notices(small_invoice) == []  # unchanged: no e-mail


def test_a_debit_already_in_a_file_stays_with_its_mandate(debited, clock):
    services.sepa_export(through=date(2026, 12, 15))
    clock.set(date(2026, 12, 4))
    services.sepa_mandate_revoke(mandate=SepaMandate.objects.get(partner=debited.partner))
    invoice = Invoice.objects.get(pk=debited.pk)
    assert (invoice.payment_means, invoice.due_date) == ("direct_debit", date(2026, 12, 15))  # submitted already
    assert notices(invoice) == []


def test_a_first_mandate_picks_up_debits_that_name_a_revoked_one(debited, clock):
    # Data from before mandates moved their debits: revoked in place, the debit left naming it.
    SepaMandate.objects.filter(partner=debited.partner).update(revoked_on=date(2026, 12, 2))
    assert list(selectors.direct_debits_naming_inactive_mandates()) == [debited]
    clock.set(date(2026, 12, 3))
    new = services.sepa_mandate_create(
        partner=debited.partner, iban=IBAN_2, reference="FINANZ-0002", signed_on=date(2026, 12, 2)
    )
    invoice = Invoice.objects.get(pk=debited.pk)
    assert (invoice.mandate_reference, invoice.due_date) == (new.reference, date(2026, 12, 17))
    assert not selectors.direct_debits_naming_inactive_mandates().exists()


def test_the_daily_job_moves_a_debit_stranded_on_a_revoked_mandate_to_transfer(debited, clock):
    SepaMandate.objects.filter(partner=debited.partner).update(revoked_on=date(2026, 12, 2))  # old data
    clock.set(date(2026, 12, 3))
    assert [i.pk for i in services.direct_debits_reannounce()] == [debited.pk]
    invoice = Invoice.objects.get(pk=debited.pk)
    assert (invoice.payment_means, invoice.due_date) == ("transfer", date(2026, 12, 17))  # 03.12. + 14
    assert not selectors.direct_debits_naming_inactive_mandates().exists()
    assert services.direct_debits_reannounce() == []


# --- one mandate per form (STYLE 14) ----------------------------------------------------------


def test_the_same_form_posted_twice_records_one_mandate(db, clock):
    clock.set(date(2026, 11, 21))
    partner = with_mandate(token="form-1")
    again = services.sepa_mandate_enter(
        partner=partner, account_holder="Muster", iban=IBAN_2, bic="", signed_on=date(2025, 3, 10), token="form-1"
    )
    assert SepaMandate.objects.filter(partner=partner).count() == 1
    assert again.revoked_on is None and again.iban == IBAN_1  # the first post's mandate, untouched


def test_a_double_post_past_the_check_is_refused_by_the_database_and_returns_the_first(db, clock, monkeypatch):
    """Two posts at once, both past the token check (as on a database without the partner's
    row lock): the second's insert is refused, its revocation of the first rolled back."""
    clock.set(date(2026, 11, 21))
    partner = with_mandate(token="form-1")
    first = SepaMandate.objects.get(partner=partner)
    with pytest.raises(IntegrityError), transaction.atomic():  # the guard itself
        SepaMandate.objects.create(
            partner=partner,
            iban=IBAN_2,
            reference="X-1",
            signed_on=date(2025, 3, 10),
            revoked_on=date(2026, 1, 1),
            portal_token="form-1",
        )
    looked = []

    def blind(partner, token):  # the check sees nothing the first time, as a racing request would
        looked.append(token)
        return None if len(looked) == 1 else SepaMandate.objects.filter(partner=partner, portal_token=token).first()

    monkeypatch.setattr(mandates, "_mandate_by_token", blind)
    real_save = mandates._mandate_save

    def save_without_python_check(mandate, by=None):  # only the database decides
        monkeypatch.setattr(mandate, "full_clean", lambda *a, **k: None)
        return real_save(mandate, by)

    monkeypatch.setattr(mandates, "_mandate_save", save_without_python_check)
    again = services.sepa_mandate_enter(
        partner=partner, account_holder="Muster", iban=IBAN_2, bic="", signed_on=date(2025, 3, 10), token="form-1"
    )
    assert again.pk == first.pk and len(looked) == 2
    assert list(SepaMandate.objects.filter(partner=partner).values_list("pk", "revoked_on")) == [(first.pk, None)]


@pytest.mark.parametrize(
    "quantity,unit,label",
    [
        ("1", "MON", "Monat"),
        ("3", "MON", "Monate"),
        ("1", "ANN", "Jahr"),
        ("2", "ANN", "Jahre"),
        ("1.5", "HUR", "Std."),
        ("795", "DAY", "Tage"),
        ("1", "C62", "Stk."),
    ],
)
def test_german_units_after_the_quantity(quantity, unit, label):
    from billing.documents import unit_label

    assert unit_label(D(quantity), unit) == label


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_posts_of_one_mandate_form_record_one_mandate(clock):
    """Ten requests at once with the same form, each on its own connection (the issue: ten
    mandates, nine revoked). The partner's row lock (PostgreSQL) or the write lock (SQLite)
    serialises them; the token makes every later one return the first's mandate."""
    import threading

    from django.db import connection

    clock.set(date(2026, 11, 21))
    partner = make_partner()
    barrier = threading.Barrier(10)
    results = [None] * 10

    def post(i):
        try:
            barrier.wait(timeout=30)
            mandate = services.sepa_mandate_enter(
                partner=partner, account_holder="Muster", iban=IBAN_1, bic="", signed_on=date(2025, 3, 10), token="f"
            )
            results[i] = ("ok", mandate.pk)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    mandate = SepaMandate.objects.get(partner=partner)
    assert mandate.revoked_on is None
    assert all(result == ("ok", mandate.pk) for result in results), results
