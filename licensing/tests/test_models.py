"""Validation of parties and installations: bad input gets a message that says what is valid."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from licensing.models import Installation
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory
from vendorportal.parties.models import Partner

pytestmark = pytest.mark.django_db


def make_installation(**fields):
    fields.setdefault("customer", CustomerFactory())
    return Installation(**fields)


def test_server_key_is_normalised_and_kind_derived():
    inst = make_installation(vendor="starface", edition="appliance", identifier=" abcde12345fghij67890 ", pbx_users=20)
    inst.full_clean()
    assert inst.identifier == "ABCDE-12345-FGHIJ-67890"
    assert inst.identifier_kind == "server_key"
    assert inst.tier == "1-20"


def test_malformed_server_key_message():
    inst = make_installation(vendor="starface", edition="vm", identifier="ABCDE-1234")
    with pytest.raises(ValidationError) as exc:
        inst.full_clean()
    assert "XXXXX" not in str(exc.value)  # the message shows a real example, not a placeholder
    assert "ABCDE-12345-FGHIJ-67890" in exc.value.message_dict["identifier"][0]


def test_free_edition_uses_hardware_id_and_auerswald_serial():
    free = make_installation(vendor="starface", edition="free", identifier="3f9a-77c1-d2e4-0b6a")
    free.full_clean()
    assert (free.identifier_kind, free.identifier) == ("hardware_id", "3F9A-77C1-D2E4-0B6A")
    comtrexx = make_installation(vendor="auerswald", edition="comtrexx_next", identifier="1ac5008123")
    comtrexx.full_clean()
    assert comtrexx.identifier_kind == "serial"


def test_edition_must_belong_to_vendor():
    inst = make_installation(vendor="auerswald", edition="appliance", identifier="1AC5008123")
    with pytest.raises(ValidationError) as exc:
        inst.full_clean()
    assert "edition" in exc.value.message_dict


def test_identifier_unique_per_kind_case_insensitively():
    InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890")
    dup = make_installation(vendor="starface", edition="appliance", identifier="abcde-12345-fghij-67890")
    with pytest.raises(ValidationError) as exc:
        dup.full_clean()
    assert exc.value.message_dict  # unique constraint reported, nothing saved
    assert Installation.objects.count() == 1


def test_database_refuses_identifier_kind_mismatch():
    inst = InstallationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Installation.objects.filter(pk=inst.pk).update(identifier_kind="serial")


def test_cloud_has_no_nfr_licences():
    inst = make_installation(
        vendor="starface", edition="cloud", identifier="ABCDE-12345-FGHIJ-67890", has_nfr_server_license=True
    )
    with pytest.raises(ValidationError) as exc:
        inst.full_clean()
    assert "Cloud" in str(exc.value)


def test_user_light_counts_for_the_tier():
    inst = InstallationFactory(pbx_users=35, user_light_licenses=10)
    assert inst.installed_users == 45
    assert inst.tier == "41-80"


def test_partner_vat_id_validated():
    # IBAN and BIC moved with the SEPA mandate to billing (billing/tests/test_mandates.py).
    partner = PartnerFactory.build(vat_id="DE123456789")
    with pytest.raises(ValidationError) as exc:
        partner.full_clean(exclude=["level"])
    assert "USt-IdNr" in exc.value.message_dict["vat_id"][0]


def test_partner_levels_ordered_for_certified_and_above():
    from vendorportal.parties.models import PartnerLevel

    PartnerLevel.objects.create(name="Registered", rank=10)
    certified = PartnerLevel.objects.create(name="Certified", rank=20, grants_partner_conditions=True)
    PartnerLevel.objects.create(name="Gold", rank=30, grants_partner_conditions=True)
    assert list(PartnerLevel.objects.filter(rank__gte=certified.rank).values_list("name", flat=True)) == [
        "Certified",
        "Gold",
    ]


def test_history_is_kept_for_installations():
    inst = InstallationFactory(pbx_users=10)
    inst.pbx_users = 25
    inst.save()
    assert [h.pbx_users for h in inst.history.order_by("history_date")] == [10, 25]
    assert Partner.history.count() >= 1
