"""The parties' move out of licensing keeps every row of an existing database (issue 7)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD_STATE = [("licensing", "0006_staff_group_names"), ("parties", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The state of the database as it now is (targets with None are unapplied apps).
    return MigrationExecutor(connection).loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.migration
@pytest.mark.django_db(transaction=True)
def test_database_made_before_the_move_migrates_forward_with_every_row():
    old = _migrate(OLD_STATE)
    User = old.get_model("auth", "User")
    Level = old.get_model("licensing", "PartnerLevel")
    Partner = old.get_model("licensing", "Partner")
    PartnerUser = old.get_model("licensing", "PartnerUser")
    Customer = old.get_model("licensing", "Customer")
    Installation = old.get_model("licensing", "Installation")
    HistoricalPartner = old.get_model("licensing", "HistoricalPartner")
    HistoricalCustomer = old.get_model("licensing", "HistoricalCustomer")
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    Group = old.get_model("auth", "Group")

    level = Level.objects.create(
        name="Gold", rank=30, discount_percent=Decimal("25.00"), grants_partner_conditions=True
    )
    partner = Partner.objects.create(
        company="Muster Kommunikation GmbH",
        city="Nürtingen",
        level=level,
        delivery_email="l@muster.test",
        invoice_email="r@muster.test",
        status_confirmed_on=date(2025, 3, 1),
        sepa_iban="DE89370400440532013000",
        sepa_mandate_reference="MUSTER-0001",
        sepa_mandate_signed_on=date(2025, 3, 10),
    )
    user = User.objects.create(username="muster")
    PartnerUser.objects.create(user=user, partner=partner, role="admin")
    customer = Customer.objects.create(partner=partner, company="Bäckerei Korn", dpa_on_file_since=date(2024, 5, 2))
    Installation.objects.create(
        customer=customer,
        vendor="starface",
        edition="appliance",
        identifier_kind="server_key",
        identifier="ABCDE-12345-FGHIJ-67890",
        pbx_users=12,
    )
    history_common = {"history_date": "2026-01-02T03:04:05Z", "history_type": "+"}
    HistoricalPartner.objects.create(
        id=partner.pk,
        company="Muster Alt GmbH",
        delivery_email="l@muster.test",
        invoice_email="r@muster.test",
        created_at="2026-01-02T03:04:05Z",
        level_id=level.pk,
        **history_common,
    )
    HistoricalCustomer.objects.create(
        id=customer.pk,
        company="Bäckerei Korn",
        partner_id=partner.pk,
        created_at="2026-01-02T03:04:05Z",
        **history_common,
    )
    # A right on partners granted before the move (content type licensing.partner).
    ct, _ = ContentType.objects.get_or_create(app_label="licensing", model="partner")
    perm, _ = Permission.objects.get_or_create(
        content_type=ct, codename="change_partner", defaults={"name": "Can change Partner"}
    )
    group = Group.objects.create(name="legacy-probe")
    group.permissions.add(perm)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    from django.contrib.auth.models import Group as NewGroup

    from licensing.models import Installation as NewInstallation
    from vendorportal.parties.models import Customer as NewCustomer
    from vendorportal.parties.models import Partner as NewPartner
    from vendorportal.parties.models import PartnerLevel as NewLevel
    from vendorportal.parties.models import PartnerUser as NewPartnerUser

    moved = NewPartner.objects.get()
    assert (moved.pk, moved.company, moved.level.name) == (partner.pk, "Muster Kommunikation GmbH", "Gold")
    # The partner's SEPA mandate moved on to billing (billing/tests/test_mandates.py).
    assert [(m.reference, m.iban) for m in moved.sepa_mandates.all()] == [("MUSTER-0001", "DE89370400440532013000")]
    assert NewLevel.objects.get().discount_percent == Decimal("25.00")
    assert NewPartnerUser.objects.get().user.username == "muster"
    moved_customer = NewCustomer.objects.get()
    assert moved_customer.partner == moved
    # The DPA date moved on to support (support/tests/test_migration.py).
    assert moved_customer.support_facts.dpa_on_file_since == date(2024, 5, 2)
    assert NewInstallation.objects.get().customer == moved_customer
    assert [h.company for h in moved.history.all()] == ["Muster Alt GmbH"]
    assert moved_customer.history.count() == 1
    # The old right now belongs to the moved model: the group can still change partners.
    codes = set(
        NewGroup.objects.get(name="legacy-probe").permissions.values_list("content_type__app_label", "codename")
    )
    assert codes == {("parties", "change_partner")}
