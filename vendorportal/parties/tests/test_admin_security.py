"""Staff accounts are for superusers only; sales manages partner logins through their own form (issue 8)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from vendorportal import roles
from vendorportal.parties.models import PartnerUser
from vendorportal.parties.tests.factories import PartnerFactory, PartnerUserFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
GROUPS = [roles.SALES, roles.FINANCE, roles.SUPPORT]


def staff(group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def victim(admin_user):
    return admin_user


def user_admin_urls(victim):
    group = Group.objects.get(name=roles.SALES)
    return [
        ("get", reverse("admin:auth_user_changelist")),
        ("get", reverse("admin:auth_user_add")),
        ("get", reverse("admin:auth_user_change", args=[victim.pk])),
        ("post", reverse("admin:auth_user_change", args=[victim.pk])),
        ("get", reverse("admin:auth_user_password_change", args=[victim.pk])),
        ("post", reverse("admin:auth_user_password_change", args=[victim.pk])),
        ("get", reverse("admin:auth_user_delete", args=[victim.pk])),
        ("get", reverse("admin:auth_group_changelist")),
        ("get", reverse("admin:auth_group_add")),
        ("get", reverse("admin:auth_group_change", args=[group.pk])),
        ("post", reverse("admin:auth_group_change", args=[group.pk])),
    ]


@pytest.mark.parametrize("group_name", GROUPS)
def test_no_staff_group_can_touch_users_groups_or_passwords(client, victim, group_name):
    me = staff(group_name)
    client.force_login(me)
    for method, url in user_admin_urls(victim):
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(
                url, {"username": me.username, "is_superuser": "on", "password1": "x", "password2": "x"}
            )
        assert response.status_code == 403, (group_name, method, url, response.status_code)
    me.refresh_from_db()
    victim.refresh_from_db()
    assert not me.is_superuser and victim.check_password("password")


@pytest.mark.parametrize("group_name", GROUPS)
def test_even_a_stray_database_right_on_users_grants_nothing(client, victim, group_name):
    from django.contrib.auth.models import Permission

    me = staff(group_name)
    me.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    client.force_login(me)
    response = client.post(
        reverse("admin:auth_user_change", args=[me.pk]),
        {
            "username": me.username,
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00",
        },
    )
    assert response.status_code == 403
    me.refresh_from_db()
    assert not me.is_superuser


def test_no_role_grants_rights_on_auth():
    for group_name in GROUPS:
        assert not Group.objects.get(name=group_name).permissions.filter(content_type__app_label="auth").exists()


def test_superuser_still_manages_staff_accounts(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_user_password_change", args=[admin_user.pk])).status_code == 200


def _partner_user_post(partner, **overrides):
    data = {
        "partner": partner.pk,
        "role": "member",
        "username": "neu.mitarbeiter",
        "first_name": "Nina",
        "last_name": "Neu",
        "email": "nina@partner.test",
        "is_active": "on",
        "password1": "",
        "password2": "",
    }
    data.update(overrides)
    return data


def test_sales_creates_a_partner_login_with_password_that_can_use_the_portal(client):
    client.force_login(staff(roles.SALES))
    partner = PartnerFactory()
    form_page = client.get(reverse("admin:parties_partneruser_add")).content.decode()
    for staff_only in ["is_staff", "is_superuser", "groups", "user_permissions"]:
        assert f'name="{staff_only}"' not in form_page
    response = client.post(
        reverse("admin:parties_partneruser_add"),
        _partner_user_post(partner, password1="Blau-Telefon-2026", password2="Blau-Telefon-2026"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    login = PartnerUser.objects.get(user__username="neu.mitarbeiter")
    assert login.partner == partner and login.role == "member"
    assert not login.user.is_staff and not login.user.is_superuser and not login.user.groups.exists()
    client.logout()
    assert client.login(request=HttpRequest(), username="neu.mitarbeiter", password="Blau-Telefon-2026")
    assert client.get(reverse("portal:dashboard")).status_code == 200
    assert mail.outbox == []


def test_without_password_the_new_login_gets_an_invitation_and_can_set_one(client, send_outbox):
    client.force_login(staff(roles.SALES))
    partner = PartnerFactory()
    response = client.post(reverse("admin:parties_partneruser_add"), _partner_user_post(partner))
    assert response.status_code == 302
    user = User.objects.get(username="neu.mitarbeiter")
    assert not user.has_usable_password()
    assert send_outbox() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nina@partner.test"] and message.subject == "Ihr Zugang zum Partnerportal"
    assert "Ihr Benutzername: neu.mitarbeiter" in message.body
    link = re.search(r"https?://[^/]+(/portal/passwort-setzen/\S+/)", message.body).group(1)
    client.logout()
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Gelb-Router-2026", "new_password2": "Gelb-Router-2026"}
    )
    assert client.login(request=HttpRequest(), username="neu.mitarbeiter", password="Gelb-Router-2026")


def test_taken_username_is_a_form_error_and_writes_nothing(client):
    client.force_login(staff(roles.SALES))
    UserFactory(username="Neu.Mitarbeiter")
    before = User.objects.count()
    response = client.post(reverse("admin:parties_partneruser_add"), _partner_user_post(PartnerFactory()))
    assert response.status_code == 200
    assert "Dieser Benutzername ist schon vergeben." in response.content.decode()
    assert User.objects.count() == before and not PartnerUser.objects.exists()


def test_mismatched_passwords_are_refused(client):
    client.force_login(staff(roles.SALES))
    response = client.post(
        reverse("admin:parties_partneruser_add"),
        _partner_user_post(PartnerFactory(), password1="Blau-Telefon-2026", password2="Rot-Telefon-2026"),
    )
    assert "Die beiden Passwörter stimmen nicht überein." in response.content.decode()
    assert not User.objects.filter(username="neu.mitarbeiter").exists()


def test_sales_cannot_take_over_a_staff_account_linked_as_partner_login(client, admin_user):
    # Someone linked the superuser to a partner (e.g. for testing): sales must not set its password.
    linked = PartnerUser.objects.create(user=admin_user, partner=PartnerFactory(), role="admin")
    client.force_login(staff(roles.SALES))
    response = client.post(
        reverse("admin:parties_partneruser_change", args=[linked.pk]),
        _partner_user_post(
            linked.partner, username=admin_user.username, password1="Gekapert-2026!", password2="Gekapert-2026!"
        ),
    )
    assert response.status_code == 200
    assert "Mitarbeiterkonten verwalten nur Administratoren" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.check_password("password")


def test_sales_deactivates_a_partner_login(client):
    login = PartnerUserFactory(user__username="alt")
    client.force_login(staff(roles.SALES))
    response = client.post(
        reverse("admin:parties_partneruser_change", args=[login.pk]),
        _partner_user_post(login.partner, username="alt", email="alt@partner.test", is_active=""),
    )
    assert response.status_code == 302
    login.user.refresh_from_db()
    assert not login.user.is_active
    assert not client.login(request=HttpRequest(), username="alt", password="pw-123456")


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 403), (roles.SUPPORT, 403)])
def test_finance_and_support_only_view_partner_logins(client, group_name, status):
    client.force_login(staff(group_name))
    assert client.get(reverse("admin:parties_partneruser_changelist")).status_code == 200
    assert client.get(reverse("admin:parties_partneruser_add")).status_code == status


def test_partner_date_constraint_holds_in_the_database():
    from datetime import date

    from django.db import IntegrityError, transaction

    partner = PartnerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(partner).objects.filter(pk=partner.pk).update(status_confirmed_on=date(1, 1, 1))
