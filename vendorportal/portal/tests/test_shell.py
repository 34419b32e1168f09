"""The portal shell: login, navigation, dashboard panels, staff notice, passwords, error pages."""

import re

import pytest
from django.core import mail
from django.http import HttpRequest
from django.test import override_settings
from django.urls import reverse

from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory, UserFactory
from vendorportal.portal import registry
from vendorportal.portal.access import partner_required

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(client):
    membership = PartnerUserFactory(user__username="anna", user__email="anna@partner.test")
    client.login(request=HttpRequest(), username="anna", password="pw-123456")
    return membership


def test_login_page_is_german_and_offers_password_reset(client):
    page = client.get(reverse("portal:login")).content.decode()
    assert "Anmeldung Partnerportal" in page
    assert reverse("portal:password_reset") in page and "Passwort vergessen?" in page


def test_wrong_password_gets_clear_message(client):
    PartnerUserFactory(user__username="anna")
    response = client.post(reverse("portal:login"), {"username": "anna", "password": "falsch"})
    assert response.status_code == 200
    assert "Benutzername oder Passwort ist falsch" in response.content.decode()


def test_dashboard_requires_login(client):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_dashboard_counts_own_installations_only_and_the_list_shows_them(client, anna):
    # The dashboard says what needs attention; the installations themselves are on their page.
    mine = InstallationFactory(customer=CustomerFactory(partner=anna.partner), pbx_users=30)
    other = InstallationFactory()
    InstallationFactory()
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "1 Kunde · 1 Installation" in page and f'href="{reverse("portal:installations")}"' in page
    listing = client.get(reverse("portal:installations")).content.decode()
    assert mine.identifier in listing and "21-40" in listing
    assert other.identifier not in listing


def test_navigation_lists_what_the_apps_registered(client, anna):
    page = client.get(reverse("portal:dashboard")).content.decode()
    nav = page[page.index('<nav class="main"') : page.index("</nav>")]
    assert "Übersicht" in nav
    assert f'href="{reverse("portal:systems")}"' in nav and "Auerswald-Systeme" in nav


def test_account_settings_sit_beside_the_login_name_not_in_the_main_menu(client, anna):
    # The partner admin's account pages (logins, SEPA mandate) are in the user menu, so the main
    # menu keeps to the business pages; a member sees neither.
    page = client.get(reverse("portal:dashboard")).content.decode()
    nav = page[page.index('<nav class="main"') : page.index("</nav>")]
    usermenu = page[page.index('<div class="usermenu">') :]
    for url_name, label in (("portal:logins", "Zugänge"), ("portal:sepa_mandate", "SEPA-Mandat")):
        assert f'href="{reverse(url_name)}"' in usermenu and label in usermenu
        assert f'href="{reverse(url_name)}"' not in nav
    anna.role = "member"
    anna.save()
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert reverse("portal:logins") not in page and reverse("portal:sepa_mandate") not in page


def test_navigation_sections_are_checked():
    with pytest.raises(ValueError):
        registry.nav_add(url_name="portal:dashboard", label="x", section="sidebar")


def test_staff_login_gets_a_page_pointing_to_the_admin_not_a_403(client, caplog):
    UserFactory(username="staffer", is_staff=True)
    client.login(request=HttpRequest(), username="staffer", password="pw-123456")
    response = client.get(reverse("portal:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Das Partnerportal ist für Partner" in page and 'href="/admin/"' in page
    assert not [r for r in caplog.records if r.levelname in {"WARNING", "ERROR"}]


def test_login_without_partner_and_without_staff_flag_is_refused_in_german(client):
    UserFactory(username="niemand")
    client.login(request=HttpRequest(), username="niemand", password="pw-123456")
    response = client.get(reverse("portal:systems"))
    assert response.status_code == 403
    assert "Dieses Konto gehört zu keinem Partner" in response.content.decode()


def test_partner_required_admin_only_refuses_members(rf):
    member = PartnerUserFactory(role="member")
    admin_ = PartnerUserFactory(role="admin")

    @partner_required(admin_only=True)
    def view(request):
        from django.http import HttpResponse

        return HttpResponse(request.partner.company)

    request = rf.get("/portal/x/")
    request.user = member.user
    assert view(request).status_code == 403
    request = rf.get("/portal/x/")
    request.user = admin_.user
    response = view(request)
    assert response.status_code == 200 and response.content.decode() == admin_.partner.company


def test_panels_come_from_the_registry_in_order(client, anna, monkeypatch):
    InstallationFactory(customer=CustomerFactory(partner=anna.partner))  # licensing's own panel: 1 and 1
    monkeypatch.setattr(registry, "_panels", dict(registry._panels))
    empty = "0 Kunden · 0 Installationen"
    registry.panel_add(
        key="test.first",
        template="portal/panels/installations.html",
        context=lambda r, p: {"customers": 0, "installations": 0},
        order=1,
    )
    registry.panel_add(
        key="test.hidden", template="portal/panels/installations.html", context=lambda r, p: None, order=2
    )
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert page.count(empty) == 1  # the hidden panel (context None) is left out
    assert page.index(empty) < page.index("1 Kunde · 1 Installation")


def test_password_change(client, anna):
    response = client.post(
        reverse("portal:password_change"),
        {"old_password": "pw-123456", "new_password1": "Sommer-Kabel-2026", "new_password2": "Sommer-Kabel-2026"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:password_change_done")
    client.logout()
    assert client.login(request=HttpRequest(), username="anna", password="Sommer-Kabel-2026")


def test_password_change_with_wrong_old_password_says_so_in_german(client, anna):
    response = client.post(
        reverse("portal:password_change"),
        {"old_password": "falsch", "new_password1": "Sommer-Kabel-2026", "new_password2": "Sommer-Kabel-2026"},
    )
    assert response.status_code == 200
    assert "Das alte Passwort war falsch. Bitte neu eingeben." in response.content.decode()


def test_password_reset_by_email_sets_a_new_password(client, send_outbox):
    PartnerUserFactory(user__username="bert", user__email="bert@partner.test")
    response = client.post(reverse("portal:password_reset"), {"email": "bert@partner.test"})
    assert response.status_code == 302
    # The form twice in a row: still one e-mail (one per login and quarter hour).
    client.post(reverse("portal:password_reset"), {"email": "bert@partner.test"})
    assert send_outbox() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Neues Passwort für das Partnerportal" and message.to == ["bert@partner.test"]
    link = re.search(r"https?://[^/]+(/portal/passwort-setzen/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert "Neues Passwort setzen" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Winter-Modem-77", "new_password2": "Winter-Modem-77"}
    )
    assert done.status_code == 302
    assert client.login(request=HttpRequest(), username="bert", password="Winter-Modem-77")
    # The link works once.
    assert "nicht mehr gültig" in client.get(link, follow=True).content.decode()


def test_password_reset_for_unknown_address_or_staff_reveals_nothing_and_sends_nothing(client, send_outbox):
    UserFactory(username="chefin", email="chefin@vendor.test", is_staff=True)
    for address in ["nobody@nowhere.test", "chefin@vendor.test"]:
        response = client.post(reverse("portal:password_reset"), {"email": address}, follow=True)
        assert "Wenn zu dieser Adresse ein Zugang gehört" in response.content.decode()
    assert send_outbox() == 0 and mail.outbox == []


def test_set_password_link_is_never_stored_in_the_outbox(client, send_outbox):
    from vendorportal.models import OutboxMessage

    PartnerUserFactory(user__username="bert", user__email="bert@partner.test")
    client.post(reverse("portal:password_reset"), {"email": "bert@partner.test"})
    send_outbox()
    row = OutboxMessage.objects.get()
    assert row.sent_at is not None
    assert "passwort-setzen" not in row.body and "passwort-setzen" in mail.outbox[0].body


@override_settings(DEBUG=False)
def test_unknown_portal_page_is_a_german_404_in_the_portal_look(client, anna):
    response = client.get("/portal/gibt-es-nicht/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Seite nicht gefunden" in page and "portal/portal.css" in page
    assert 'class="main"' in page and "Auerswald-Systeme" in page  # the navigation stays
    assert "Not Found" not in page


def test_500_page_is_german_and_needs_no_database(rf, django_assert_num_queries):
    from vendorportal.portal.views import error_500

    with django_assert_num_queries(0):
        response = error_500(rf.get("/portal/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Das hat nicht geklappt" in page and "Server Error" not in page


def test_portal_pages_have_no_inline_styles_or_scripts(client, anna):
    for name in ["portal:dashboard", "portal:password_change", "portal:systems"]:
        page = client.get(reverse(name)).content.decode()
        assert "<style" not in page and " style=" not in page, name
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), name


@override_settings(DEBUG=False)
def test_staff_refused_in_the_admin_stay_in_the_admin_look(client):
    from django.contrib.auth.models import Group

    from vendorportal import roles

    user = UserFactory(username="sup", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SUPPORT))
    client.force_login(user)
    response = client.get(reverse("admin:auth_user_changelist"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "Für diese Seite fehlt Ihrer Mitarbeitergruppe die Berechtigung" in page
    assert f'href="{reverse("admin:index")}"' in page and "portal/portal.css" not in page
    missing = client.get("/admin/licensing/gibt-es-nicht/")
    assert missing.status_code == 404 and "Diesen Eintrag gibt es nicht" in missing.content.decode()
