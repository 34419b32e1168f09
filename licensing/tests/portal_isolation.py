"""Licensing's entries for the portal's tenant-isolation walker (vendorportal/portal/testing.py):
for each of licensing's portal URLs with arguments, an object of the given partner."""

from licensing.tests.factories import (
    CustomerFactory,
    InstallationFactory,
    make_delivery_note,
    make_license,
    make_system,
    module_version,
)
from vendorportal.portal.testing import isolation_case


@isolation_case("portal:customer_edit")
def _customer(partner):
    return {"pk": CustomerFactory(partner=partner).pk}


@isolation_case("portal:installations_for_customer")
def _customer_installations(partner):
    return {"customer_pk": InstallationFactory(customer=CustomerFactory(partner=partner)).customer_id}


@isolation_case("portal:installation_edit")
def _installation(partner):
    return {"pk": InstallationFactory(customer=CustomerFactory(partner=partner)).pk}


@isolation_case("portal:system_reinitialise")
def _system(partner):
    return {"pk": make_system(customer=CustomerFactory(partner=partner)).pk}


@isolation_case("portal:delivery_note_pdf", download=True)
def _delivery_note(partner):
    installation = InstallationFactory(customer=CustomerFactory(partner=partner))
    return {"pk": make_delivery_note(installation, [make_license(installation, module_version())]).pk}
