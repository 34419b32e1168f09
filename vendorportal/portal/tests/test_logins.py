"""Partner logins managed by the partner's administrators: list, invite by e-mail, deactivate."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from vendorportal.parties.models import PartnerUser
from vendorportal.parties.services import PartyError, partner_user_deactivate
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chefin(client):
    membership = PartnerUserFactory(role="admin", user__username="chefin")
    client.force_login(membership.user)
    return membership


def test_list_shows_own_logins_with_role_and_state(client, chefin):
    PartnerUserFactory(partner=chefin.partner, role="member", user__username="azubi", user__is_active=False)
    PartnerUserFactory(user__username="fremd")
    html = client.get(reverse("portal:logins")).content.decode()
    assert "chefin" in html and "(Sie)" in html and "azubi" in html and "deaktiviert" in html
    assert "fremd" not in html
    # no deactivate link for oneself or an already deactivated login
    assert ">Deaktivieren</a>" not in html


def test_members_see_neither_the_page_nor_the_navigation_entry(client):
    member = PartnerUserFactory(role="member")
    client.force_login(member.user)
    assert client.get(reverse("portal:logins")).status_code == 403
    nav = client.get(reverse("portal:dashboard")).content.decode()
    assert reverse("portal:logins") not in nav


def test_invitation_creates_a_member_login_and_mails_a_link_that_sets_the_password(client, chefin, send_outbox):
    response = client.post(
        reverse("portal:login_invite"),
        {"email": "Neu@Partner.test", "first_name": "Nora", "last_name": "Neu", "role": "member"},
    )
    assert response.status_code == 302
    invited = PartnerUser.objects.select_related("user").get(user__username="neu@partner.test")
    assert (invited.partner, invited.role, invited.user.username) == (chefin.partner, "member", "neu@partner.test")
    assert not invited.user.has_usable_password()
    assert LogEntry.objects.get(object_id=str(invited.pk)).user.username == "chefin"

    assert send_outbox() == 1
    (message,) = mail.outbox
    assert message.to == ["Neu@partner.test"]  # the domain lower-cased, as Django normalises it
    # Issue 21: the invitation names the partner admin who invited, not only the vendor.
    company = chefin.partner.company
    assert f"chefin ({company}) hat Sie zum Partnerportal von " in message.body
    link = re.search(r"https?://[^/]+(/portal/passwort-setzen/\S+/)", message.body).group(1)
    client.logout()
    form_page = client.get(link, follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Sommer-Kabel-2026", "new_password2": "Sommer-Kabel-2026"}
    )
    assert done.status_code == 302
    assert client.login(request=HttpRequest(), username="neu@partner.test", password="Sommer-Kabel-2026")


def test_inviting_an_address_that_has_a_login_says_so(client, chefin):
    PartnerUserFactory(user__username="x", user__email="schon@da.test")
    response = client.post(reverse("portal:login_invite"), {"email": "schon@da.test", "role": "member"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Für schon@da.test gibt es schon einen Zugang."]


def test_invalid_email_is_a_field_error(client, chefin):
    response = client.post(reverse("portal:login_invite"), {"email": "kein-at-zeichen", "role": "member"})
    assert response.status_code == 200 and response.context["form"].errors["email"]
    assert PartnerUser.objects.count() == 1


def test_admin_deactivates_a_colleague_and_staff_see_who_did(client, chefin):
    colleague = PartnerUserFactory(partner=chefin.partner, role="member", user__username="azubi")
    response = client.post(reverse("portal:login_deactivate", args=[colleague.pk]), follow=True)
    colleague.user.refresh_from_db()
    assert not colleague.user.is_active
    assert "Zugang azubi deaktiviert." in response.content.decode()
    entry = LogEntry.objects.get(object_id=str(colleague.pk))
    assert (entry.user.username, entry.change_message) == ("chefin", "Im Partnerportal deaktiviert.")


def test_admin_cannot_deactivate_itself(client, chefin):
    PartnerUserFactory(partner=chefin.partner, role="admin")
    response = client.post(reverse("portal:login_deactivate", args=[chefin.pk]), follow=True)
    chefin.user.refresh_from_db()
    assert chefin.user.is_active
    assert "Den eigenen Zugang können Sie nicht deaktivieren." in response.content.decode()


def test_the_last_active_administrator_is_never_deactivated():
    only_admin = PartnerUserFactory(role="admin", user__username="einzig")
    PartnerUserFactory(partner=only_admin.partner, role="admin", user__is_active=False)
    with pytest.raises(PartyError, match="einzig ist der letzte aktive Administrator"):
        partner_user_deactivate(partner_user=only_admin, by=None)
    only_admin.user.refresh_from_db()
    assert only_admin.user.is_active


def test_deactivate_asks_first_and_only_post_does_it(client, chefin):
    colleague = PartnerUserFactory(partner=chefin.partner, role="member", user__username="azubi")
    list_page = client.get(reverse("portal:logins")).content.decode()
    assert f'href="{reverse("portal:login_deactivate", args=[colleague.pk])}"' in list_page
    confirm = client.get(reverse("portal:login_deactivate", args=[colleague.pk])).content.decode()
    assert "Soll der Zugang <strong>azubi</strong> deaktiviert werden?" in confirm
    colleague.user.refresh_from_db()
    assert colleague.user.is_active


def test_members_cannot_deactivate(client):
    member = PartnerUserFactory(role="member")
    admin_ = PartnerUserFactory(partner=member.partner, role="admin")
    client.force_login(member.user)
    assert client.post(reverse("portal:login_deactivate", args=[admin_.pk])).status_code == 403
    admin_.user.refresh_from_db()
    assert admin_.user.is_active
