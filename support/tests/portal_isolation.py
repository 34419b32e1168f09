"""Support's entries for the portal's tenant-isolation walker (vendorportal/portal/testing.py):
for each of support's portal URLs with arguments, an object of the given partner."""

from django.core.files.uploadedfile import SimpleUploadedFile

from support import rules, services
from vendorportal.portal.testing import isolation_case, isolation_exempt


def _ticket(partner, files=()):
    return services.ticket_open(
        partner=partner,
        kind=rules.FEATURE_REQUEST,
        subject="Wunsch: Export als CSV",
        body="Bitte einen CSV-Export der Anrufliste.",
        contact_email="technik@partner.test",
        files=files,
    )


@isolation_case("portal:support_ticket")
def _ticket_detail(partner):
    return {"pk": _ticket(partner).pk}


@isolation_case("portal:support_attachment", download=True)
def _attachment(partner):
    ticket = _ticket(partner, files=[SimpleUploadedFile("screenshot.png", b"\x89PNG\r\n\x1a\nDATA")])
    return {"pk": ticket.pk, "attachment_pk": ticket.attachments.get().pk}


isolation_exempt(
    "portal:support_article",
    reason="Knowledge-base articles belong to no partner: public ones are for every partner, internal ones "
    "only for partners with a contract (support/tests/test_views.py tests that refusal).",
)
