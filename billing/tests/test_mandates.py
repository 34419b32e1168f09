"""SEPA mandates (ORD-8): validation, one active mandate per partner, revoking per staff group,
the partner page, the selector, and the move of the partner's old ``sepa_*`` fields."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from billing import selectors, services
from billing.exceptions import SepaMandateRefused
from billing.models import SepaMandate
from vendorportal import roles
from vendorportal.parties.tests.factories import PartnerFactory, UserFactory

GROUPS = [roles.SALES, roles.FINANCE, roles.SUPPORT]


@pytest.fixture
def today(clock):
    clock.set(date(2026, 11, 21))


@pytest.fixture
def partner(db, today):
    return PartnerFactory(company="Muster Kommunikation GmbH")


def create(partner, **kw):
    values = dict(iban="DE89 3704 0044 0532 0130 00", bic="cobadeffxxx", reference="MUSTER-0001")
    values["signed_on"] = kw.pop("signed_on", date(2025, 3, 10))
    values.update(kw)
    return services.sepa_mandate_create(partner=partner, **values)


def errors_of(partner, **kw):
    with pytest.raises(ValidationError) as exc:
        create(partner, **kw)
    return exc.value.message_dict


# --- validation ----------------------------------------------------------------------------


def test_mandate_stored_compact_and_shown_grouped(partner):
    mandate = create(partner)
    assert (mandate.iban, mandate.bic, mandate.sequence_type, mandate.revoked_on) == (
        "DE89370400440532013000",
        "COBADEFFXXX",
        "FRST",
        None,
    )
    assert mandate.iban_grouped == "DE89 3704 0044 0532 0130 00"
    assert mandate.history.count() == 1


def test_bad_iban_refused_in_german(partner):
    # Last digit changed: the check digits no longer match.
    errors = errors_of(partner, iban="DE89 3704 0044 0532 0130 01")
    assert errors["iban"] == [
        "„DE89 3704 0044 0532 0130 01“ ist keine gültige IBAN (Länderkennung, 2 Prüfziffern, Kontokennung – z. B. DE89 3704 0044 0532 0130 00)."
    ]
    assert not SepaMandate.objects.exists()


def test_bad_bic_refused_in_german(partner):
    assert errors_of(partner, bic="XYZ")["bic"] == [
        "„XYZ“ ist kein gültiger BIC (8 oder 11 Zeichen, z. B. COBADEFFXXX)."
    ]


def test_bic_optional_for_german_iban_required_for_others(partner):
    assert create(partner, bic="").bic == ""
    other = PartnerFactory(company="Wiener Telefonie GmbH", country="AT", vat_id="")
    errors = errors_of(other, iban="AT61 1904 3002 3457 3201", bic="", reference="AT-1")
    assert errors["bic"] == ["Für eine IBAN außerhalb Deutschlands bitte den BIC angeben."]
    assert create(other, iban="AT61 1904 3002 3457 3201", bic="BKAUATWW", reference="AT-1").bic == "BKAUATWW"


@pytest.mark.parametrize("reference", ["MIT LEERZEICHEN", "/START", "A//B", "Ä-1", "M" * 36])
def test_reference_outside_the_sepa_character_set_refused(partner, reference):
    assert "reference" in errors_of(partner, reference=reference)


def test_without_a_reference_the_vendors_next_one_is_assigned_even_before_signing(partner):
    # Issue 16: the reference exists when the mandate is created, so the form to sign carries it.
    mandate = create(partner, reference="", signed_on=None)
    assert (mandate.reference, mandate.is_pending, mandate.is_active) == (f"VP-{partner.pk:06d}-001", True, False)
    assert selectors.partner_mandate(partner) is None and selectors.partner_pending_mandate(partner) == mandate


def test_duplicate_reference_refused(partner):
    create(partner)
    other = PartnerFactory(company="Beispiel IT-Service KG")
    assert errors_of(other)["reference"] == ["Diese Mandatsreferenz ist schon vergeben."]


@pytest.mark.parametrize(
    "signed_on,message",
    [
        (date(2026, 11, 22), "Das Unterschriftsdatum liegt in der Zukunft."),
        (date(2009, 11, 1), "SEPA-Lastschriften gibt es erst seit dem 02.11.2009."),
    ],
)
def test_implausible_signature_date_refused(partner, signed_on, message):
    assert errors_of(partner, signed_on=signed_on)["signed_on"] == [message]


def test_two_active_mandates_refused_revoked_and_new_allowed(partner):
    first = create(partner)
    errors = errors_of(partner, reference="MUSTER-0002")
    assert errors["__all__"] == ["Dieser Partner hat schon ein aktives SEPA-Mandat; bitte das alte zuerst widerrufen."]
    services.sepa_mandate_revoke(mandate=first)
    second = create(partner, reference="MUSTER-0002", iban="DE75512108001245126199", signed_on=date(2026, 11, 20))
    assert selectors.partner_mandate(partner) == second
    first.refresh_from_db()
    assert first.revoked_on == date(2026, 11, 21)


def test_the_database_holds_one_active_mandate_per_partner(partner):
    create(partner)
    with pytest.raises(IntegrityError), transaction.atomic():
        SepaMandate.objects.create(
            partner=partner, iban="DE89370400440532013000", reference="MUSTER-0002", signed_on=date(2025, 3, 10)
        )


def test_revoking_twice_or_editing_a_revoked_mandate_refused(partner):
    mandate = create(partner)
    services.sepa_mandate_revoke(mandate=mandate)
    with pytest.raises(SepaMandateRefused, match="schon am 21.11.2026 widerrufen"):
        services.sepa_mandate_revoke(mandate=mandate)
    with pytest.raises(SepaMandateRefused):
        services.sepa_mandate_update(
            mandate=mandate, iban=mandate.iban, bic="", reference="NEU-1", signed_on=mandate.signed_on
        )


def test_partner_mandate_is_the_active_one_or_none(partner):
    assert selectors.partner_mandate(partner) is None
    mandate = create(partner)
    assert selectors.partner_mandate(partner) == mandate
    services.sepa_mandate_revoke(mandate=mandate)
    assert selectors.partner_mandate(partner) is None


# --- admin, per staff group ----------------------------------------------------------------


def staff_client(client, group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "group_name,sees_list,may_revoke",
    [(roles.FINANCE, True, True), (roles.SALES, True, False), (roles.SUPPORT, False, False)],
)
def test_revoke_action_per_staff_group(client, partner, group_name, sees_list, may_revoke):
    mandate = create(partner)
    c = staff_client(client, group_name)
    url = reverse("admin:billing_sepamandate_changelist")
    page = c.get(url)
    assert page.status_code == (200 if sees_list else 403)
    if sees_list:
        assert "DE89 3704 0044 0532 0130 00" in page.content.decode()
        assert ("Ausgewählte Mandate heute widerrufen" in page.content.decode()) is may_revoke
    response = c.post(url, {"action": "revoke_selected", "_selected_action": [mandate.pk]}, follow=True)
    mandate.refresh_from_db()
    assert mandate.revoked_on == (date(2026, 11, 21) if may_revoke else None)
    if may_revoke:
        assert "Mandat MUSTER-0001 widerrufen." in response.content.decode()
        latest = mandate.history.first()
        assert (latest.revoked_on, latest.history_user.username) == (date(2026, 11, 21), "staff-finance")
    else:
        assert response.status_code in (200, 403)


def test_finance_records_a_mandate_and_a_second_active_one_is_a_form_error(client, partner):
    c = staff_client(client, roles.FINANCE)
    add = reverse("admin:billing_sepamandate_add")
    data = {
        "partner": partner.pk,
        "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "",
        "reference": "MUSTER-0001",
        "signed_on": "10.03.2025",
    }
    assert c.post(add, data).status_code == 302
    assert SepaMandate.objects.get().iban == "DE89370400440532013000"
    response = c.post(add, {**data, "reference": "MUSTER-0002"})
    assert response.status_code == 200
    assert "Dieser Partner hat schon ein aktives SEPA-Mandat" in response.content.decode()
    assert SepaMandate.objects.count() == 1


def test_finance_creates_a_mandate_to_print_then_records_its_signature(client, partner):
    """Issue 16: created without a reference and signature date, it gets VP-…-002 and waits;
    entering the signature date makes it the active one and revokes the old one that day."""
    old = create(partner)
    c = staff_client(client, roles.FINANCE)
    data = {"partner": partner.pk, "iban": "DE02 1203 0000 0000 2020 51", "bic": "", "reference": "", "signed_on": ""}
    assert c.post(reverse("admin:billing_sepamandate_add"), data).status_code == 302
    pending = SepaMandate.objects.get(signed_on__isnull=True)
    assert (pending.reference, pending.state_label) == (f"VP-{partner.pk:06d}-002", "wartet auf Unterschrift")
    assert selectors.partner_mandate(partner) == old
    change = reverse("admin:billing_sepamandate_change", args=[pending.pk])
    response = c.post(change, {**data, "reference": pending.reference, "signed_on": "20.11.2026"})
    assert response.status_code == 302
    pending.refresh_from_db()
    old.refresh_from_db()
    assert (pending.signed_on, old.revoked_on) == (date(2026, 11, 20), date(2026, 11, 21))
    assert selectors.partner_mandate(partner) == pending


def test_finance_sets_debits_above_50_euros_on_a_mandate(client, partner):
    c = staff_client(client, roles.FINANCE)
    data = {
        "partner": partner.pk,
        "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "",
        "reference": "MUSTER-0001",
        "signed_on": "10.03.2025",
        "above_limit": "on",
    }
    assert c.post(reverse("admin:billing_sepamandate_add"), data).status_code == 302
    mandate = SepaMandate.objects.get()
    assert mandate.above_limit is True
    change = reverse("admin:billing_sepamandate_change", args=[mandate.pk])
    assert c.post(change, {k: v for k, v in data.items() if k not in ("partner", "above_limit")}).status_code == 302
    assert SepaMandate.objects.get().above_limit is False


@pytest.mark.parametrize("group_name", [roles.SALES, roles.SUPPORT])
def test_only_finance_records_mandates(client, partner, group_name):
    c = staff_client(client, group_name)
    assert c.get(reverse("admin:billing_sepamandate_add")).status_code == 403


@pytest.mark.parametrize("group_name,shown", [(roles.FINANCE, True), (roles.SALES, True), (roles.SUPPORT, False)])
def test_partner_page_lists_the_mandates_for_those_allowed_to_see_them(client, partner, group_name, shown):
    create(partner)
    page = staff_client(client, group_name).get(reverse("admin:parties_partner_change", args=[partner.pk]))
    assert page.status_code == 200
    assert ("MUSTER-0001" in page.content.decode()) is shown


def test_batch_xml_download_for_finance_only(client, partner, settings):
    from decimal import Decimal

    from billing.sepa import DueCollection

    create(partner)
    batch = services.sepa_batch_create(
        collections=[DueCollection("RE-2026-000101", Decimal("44.75"), "MUSTER-0001", date(2026, 12, 1))],
    )
    url = reverse("admin:billing_sepabatch_xml", args=[batch.pk])
    for group_name, status in [(roles.FINANCE, 200), (roles.SALES, 403), (roles.SUPPORT, 403)]:
        client.logout()
        response = staff_client(client, group_name).get(url)
        assert response.status_code == status
        if status == 200:
            assert response.content == batch.xml.encode()
            assert response["Content-Disposition"] == 'attachment; filename="SEPA-2026-00001.xml"'
    client.logout()
    assert (
        staff_client(client, roles.FINANCE).get(reverse("admin:billing_sepabatch_xml", args=[999])).status_code == 404
    )


# --- the move of the partner's sepa_* fields ------------------------------------------------

OLD_STATE = [("parties", "0001_initial"), ("billing", "0002_vat_rates_from_2007")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _old_partner(old, company, **sepa):
    Partner = old.get_model("parties", "Partner")
    return Partner.objects.create(company=company, delivery_email="l@p.test", invoice_email="r@p.test", **sepa)


@pytest.mark.migration
@pytest.mark.django_db(transaction=True)
def test_every_partner_mandate_moves_to_billing():
    old = _migrate(OLD_STATE)
    muster = _old_partner(
        old,
        "Muster Kommunikation GmbH",
        sepa_iban="DE89 3704 0044 0532 0130 00",
        sepa_bic="cobadeffxxx",
        sepa_mandate_reference="MUSTER-0001",
        sepa_mandate_signed_on=date(2025, 3, 10),
    )
    _old_partner(old, "Ohne Mandat KG")

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    mandate = SepaMandate.objects.get()
    assert (
        mandate.partner_id,
        mandate.iban,
        mandate.bic,
        mandate.reference,
        mandate.signed_on,
        mandate.sequence_type,
        mandate.revoked_on,
    ) == (muster.pk, "DE89370400440532013000", "COBADEFFXXX", "MUSTER-0001", date(2025, 3, 10), "FRST", None)
    assert selectors.partner_mandate(mandate.partner) == mandate
    assert [h.history_change_reason for h in mandate.history.all()] == ["aus den Partnerdaten übernommen"]
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, "licensing_partner")]
    assert "company" in columns and not [c for c in columns if c.startswith("sepa_")]


@pytest.mark.migration
@pytest.mark.django_db(transaction=True)
def test_incomplete_mandate_data_stops_the_migration_and_names_the_partner():
    old = _migrate(OLD_STATE)
    half = _old_partner(old, "Halb GmbH", sepa_iban="DE89370400440532013000")
    with pytest.raises(RuntimeError, match=rf"incomplete SEPA mandate .*Halb GmbH \(id {half.pk}\)"):
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    # Nothing was removed: the partner still has its IBAN; completing it lets the migration run.
    old = MigrationExecutor(connection).loader.project_state(OLD_STATE).apps
    Partner = old.get_model("parties", "Partner")
    assert Partner.objects.get(pk=half.pk).sepa_iban == "DE89370400440532013000"
    Partner.objects.filter(pk=half.pk).update(sepa_mandate_reference="HALB-1", sepa_mandate_signed_on=date(2024, 1, 2))
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert SepaMandate.objects.get().reference == "HALB-1"


def test_demo_data_gives_muster_its_mandate(db):
    import io

    from django.core.management import call_command

    from vendorportal.parties.models import Partner

    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    mandate = selectors.partner_mandate(Partner.objects.get(company="Muster Kommunikation GmbH"))
    assert (mandate.reference, mandate.iban_grouped, mandate.bic, mandate.sequence_type) == (
        "MUSTER-0001",
        "DE89 3704 0044 0532 0130 00",
        "COBADEFFXXX",
        "FRST",
    )
    assert SepaMandate.objects.count() == 1
