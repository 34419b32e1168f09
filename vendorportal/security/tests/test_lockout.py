"""Lockout after repeated failed logins (django-axes): 5 failures per user name and IP lock for an hour."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from licensing.tests.factories import PartnerUserFactory, UserFactory
from vendorportal import roles
from vendorportal.security.client_ip import client_ip

pytestmark = pytest.mark.django_db

LOCKED = "Anmeldung gesperrt"
LOCKED_TEXT = "Nach 5 fehlgeschlagenen Anmeldeversuchen ist die Anmeldung mit diesem Benutzernamen"
WRONG = "Benutzername oder Passwort ist falsch"
PORTAL_LOGIN = "/portal/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def anna(db):
    return PartnerUserFactory(user__username="anna").user  # password pw-123456


def _login(client, url, username, password, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def _fail(client, url, username, times, **extra):
    return [_login(client, url, username, "falsch", **extra) for _ in range(times)]


def test_four_failures_still_let_the_right_password_in(client, anna):
    responses = _fail(client, PORTAL_LOGIN, "anna", 4)
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    assert all(WRONG in r.content.decode() for r in responses)
    response = _login(client, PORTAL_LOGIN, "anna", "pw-123456")
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")


def test_portal_five_wrong_passwords_then_the_right_one_is_refused_in_german(client, anna):
    responses = _fail(client, PORTAL_LOGIN, "anna", 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]

    response = _login(client, PORTAL_LOGIN, "anna", "pw-123456")
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page and LOCKED_TEXT in page and "für eine Stunde gesperrt" in page
    assert "portal/portal.css" in page  # the portal's look
    # not logged in: the dashboard still sends to the login page
    assert client.get(reverse("portal:dashboard"))["Location"].startswith(PORTAL_LOGIN)


def test_admin_login_locks_likewise(client):
    UserFactory(username="erika", is_staff=True, is_superuser=True)
    responses = _fail(client, ADMIN_LOGIN, "erika", 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]

    response = _login(client, ADMIN_LOGIN, "erika", "pw-123456")
    assert response.status_code == 429 and LOCKED_TEXT in response.content.decode()
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)


def test_portal_and_admin_count_together(client, anna):
    _fail(client, PORTAL_LOGIN, "anna", 3)
    _fail(client, ADMIN_LOGIN, "anna", 2)
    assert _login(client, PORTAL_LOGIN, "anna", "pw-123456").status_code == 429


def test_other_user_and_other_ip_are_not_locked(client, anna):
    PartnerUserFactory(user__username="bernd")
    _fail(client, PORTAL_LOGIN, "anna", 5)

    # the same user from another address
    response = _login(client, PORTAL_LOGIN, "anna", "pw-123456", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    client.post(reverse("portal:logout"))
    # another user from the locked address
    response = _login(client, PORTAL_LOGIN, "bernd", "pw-123456")
    assert response.status_code == 302
    # anna from the locked address: still locked
    client.post(reverse("portal:logout"))
    assert _login(client, PORTAL_LOGIN, "anna", "pw-123456").status_code == 429


def test_lock_ends_after_one_hour(client, anna):
    _fail(client, PORTAL_LOGIN, "anna", 5)
    attempt = AccessAttempt.objects.get(username="anna")
    assert attempt.failures_since_start == 5

    AccessAttempt.objects.filter(username="anna").update(attempt_time=timezone.now() - timedelta(minutes=59))
    assert _login(client, PORTAL_LOGIN, "anna", "pw-123456").status_code == 429

    # that refused attempt started the hour again; 61 minutes after the last attempt it is over
    AccessAttempt.objects.filter(username="anna").update(attempt_time=timezone.now() - timedelta(minutes=61))
    assert _login(client, PORTAL_LOGIN, "anna", "pw-123456").status_code == 302


def test_superuser_unlocks_in_the_admin(client, anna):
    _fail(client, PORTAL_LOGIN, "anna", 5)
    attempt = AccessAttempt.objects.get(username="anna")

    admin_client = client.__class__()
    admin_client.force_login(UserFactory(username="chef", is_staff=True, is_superuser=True))
    assert "Anmeldesperren" in admin_client.get(reverse("admin:index")).content.decode()
    listing = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "anna" in listing.content.decode()
    response = admin_client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert _login(client, PORTAL_LOGIN, "anna", "pw-123456").status_code == 302


@pytest.mark.parametrize("group", [roles.SALES, roles.FINANCE, roles.SUPPORT])
def test_staff_groups_cannot_unlock(client, anna, group):
    _fail(client, PORTAL_LOGIN, "anna", 5)
    attempt = AccessAttempt.objects.get(username="anna")
    staff = UserFactory(username=f"staff-{group}", is_staff=True)
    staff.groups.add(Group.objects.get(name=group))
    staff_client = client.__class__()
    staff_client.force_login(staff)

    assert staff_client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    assert (
        staff_client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_successful_login_resets_the_count(client, anna):
    _fail(client, PORTAL_LOGIN, "anna", 4)
    assert _login(client, PORTAL_LOGIN, "anna", "pw-123456").status_code == 302
    client.post(reverse("portal:logout"))
    responses = _fail(client, PORTAL_LOGIN, "anna", 4)
    assert [r.status_code for r in responses] == [200, 200, 200, 200]


# --- client address behind the TLS proxy ------------------------------------------------------


def _request(remote_addr, forwarded=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    "proxies, remote, forwarded, expected",
    [
        (0, "203.0.113.5", "6.6.6.6", "203.0.113.5"),  # no proxy: the header is the client's, ignored
        (1, "127.0.0.1", "203.0.113.9", "203.0.113.9"),
        (1, "127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # forged left part ignored
        (2, "127.0.0.1", "6.6.6.6, 203.0.113.9, 198.51.100.1", "203.0.113.9"),
        (1, "127.0.0.1", None, "127.0.0.1"),  # proxy sent no header
    ],
)
def test_client_ip(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(_request(remote, forwarded)) == expected


def test_forged_forwarded_for_does_not_escape_the_lock(client, anna, settings):
    settings.TRUSTED_PROXIES = 1
    for n in range(5):
        _login(client, PORTAL_LOGIN, "anna", "falsch", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.9")
    response = _login(client, PORTAL_LOGIN, "anna", "pw-123456", HTTP_X_FORWARDED_FOR="6.6.6.99, 203.0.113.9")
    assert response.status_code == 429
    # a different real client behind the same proxy is not locked
    response = _login(client, PORTAL_LOGIN, "anna", "pw-123456", HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert response.status_code == 302
