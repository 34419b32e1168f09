"""The shell's entries for the tenant-isolation walker (vendorportal/portal/testing.py)."""

from vendorportal.parties.tests.factories import PartnerUserFactory
from vendorportal.portal.testing import isolation_case, isolation_exempt

isolation_exempt(
    "portal:password_reset_confirm",
    reason="uid and one-time token of the e-mail link, checked by Django's token generator; no partner object",
)


@isolation_case("portal:login_deactivate")
def _login(partner):
    # A second administrator, so deactivating it is allowed for the partner's own admin.
    return {"pk": PartnerUserFactory(partner=partner, role="admin").pk}
