"""The API area's entries for the portal's tenant-isolation walker (vendorportal/portal/testing.py)."""

from api.services import api_token_create
from vendorportal.portal.testing import isolation_case


@isolation_case("portal:api_token_revoke")
def _api_token_revoke(partner):
    return {"pk": api_token_create(partner=partner, name="Walker", scopes=["read"]).token.pk}
