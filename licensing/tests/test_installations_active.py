"""One definition of an *active* installation on a day (``Installation.objects.active``).

"außer Betrieb seit" (``decommissioned_on``) is the first day out of service: an
installation decommissioned on 2026-11-22 is active on 2026-11-21 and not from
2026-11-22 on. The licence service, the move form, the Softwarepflege job and the
weekly report all use this definition.
"""

from datetime import date

import pytest
from django.urls import reverse

from licensing.models import Installation
from licensing.models.installations import active_on_q
from licensing.services import licenses as svc
from licensing.tests.factories import CustomerFactory, InstallationFactory
from vendorportal.errors import PortalError

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 21)


@pytest.fixture
def installations():
    return {
        "running": InstallationFactory(identifier="RUNNG-11111-AAAAA-00001"),
        "gone_yesterday": InstallationFactory(
            identifier="GONEY-22222-BBBBB-00002", decommissioned_on=date(2026, 11, 20)
        ),
        "gone_today": InstallationFactory(identifier="GONET-33333-CCCCC-00003", decommissioned_on=TODAY),
        "gone_tomorrow": InstallationFactory(
            identifier="GONEM-44444-DDDDD-00004", decommissioned_on=date(2026, 11, 22)
        ),
    }


def test_active_on_a_day(installations):
    active = set(Installation.objects.active(TODAY).values_list("identifier", flat=True))
    assert active == {"RUNNG-11111-AAAAA-00001", "GONEM-44444-DDDDD-00004"}
    # The day after, the one decommissioned on 2026-11-22 is out of service too.
    assert set(Installation.objects.active(date(2026, 11, 22)).values_list("identifier", flat=True)) == {
        "RUNNG-11111-AAAAA-00001"
    }
    # Before any decommissioning all four are active.
    assert Installation.objects.active(date(2026, 11, 19)).count() == 4


def test_instance_method_and_queryset_agree(installations):
    for day in (date(2026, 11, 19), TODAY, date(2026, 11, 22), date(2027, 1, 1)):
        in_query = set(Installation.objects.active(day).values_list("pk", flat=True))
        by_instance = {inst.pk for inst in installations.values() if inst.is_active_on(day)}
        assert in_query == by_instance, day


def test_filter_reaches_the_installation_from_another_model(installations):
    from licensing.models import SystemLicense

    system = InstallationFactory(
        vendor="auerswald",
        edition="comtrexx_next",
        identifier_kind="serial",
        identifier="1AC5008123",
        decommissioned_on=TODAY,
    )
    SystemLicense.objects.create(installation=system, kind=SystemLicense.USER_LICENSES, quantity=5)
    assert SystemLicense.objects.filter(active_on_q(date(2026, 11, 20), prefix="installation__")).count() == 1
    assert SystemLicense.objects.filter(active_on_q(TODAY, prefix="installation__")).count() == 0


def test_keys_are_issued_until_the_day_before_decommissioning(modules, installations):
    intercom = modules["INTERCOM"]
    version = intercom.versions.get(version="2.1")
    lic = svc.license_issue(
        product=intercom, installation=installations["gone_tomorrow"], version=version, today=TODAY, delivery_note=False
    )
    assert lic.installation.identifier == "GONEM-44444-DDDDD-00004"
    with pytest.raises(PortalError, match="seit 21.11.2026 außer Betrieb"):
        svc.license_issue(
            product=intercom,
            installation=installations["gone_today"],
            version=version,
            today=TODAY,
            delivery_note=False,
        )


def test_move_form_offers_only_active_installations_of_the_partner(client, django_user_model, installations, clock):
    clock.set(TODAY)
    admin = django_user_model.objects.create_superuser("chef", "chef@vendor.test", "pw")
    client.force_login(admin)
    old = installations["running"]
    for inst in installations.values():
        inst.customer = old.customer
        inst.save()
    InstallationFactory(identifier="OTHER-55555-EEEEE-00005", customer=CustomerFactory())  # another partner
    response = client.get(reverse("admin:licensing_installation_move", args=[old.pk]))
    offered = {inst.identifier for inst in response.context["form"].fields["new_installation"].queryset}
    assert offered == {"GONEM-44444-DDDDD-00004"}
