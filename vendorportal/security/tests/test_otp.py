"""Optional TOTP two-factor login for staff, mandatory per group where a superuser says so."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from licensing.tests.factories import UserFactory
from vendorportal import roles
from vendorportal.security.models import StaffGroupPolicy

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"


def token_for(device, offset_steps=0) -> str:
    """The code an authenticator app shows for ``device`` now (RFC 6238, as django-otp checks it)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps)
    return f"{code:0{device.digits}d}"


def wrong_token_for(device) -> str:
    # a code matching none of the steps django-otp accepts (now ± 1 step)
    accepted = {token_for(device, offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def seconds_later(device, seconds=10):
    """A person retyping a code takes seconds; django-otp waits 1 s after the first wrong code."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=seconds)
    )


def staff_in(group_name, username="erika"):
    user = UserFactory(username=username, is_staff=True)  # password pw-123456
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def erika_with_device():
    user = staff_in(roles.SUPPORT)
    return user, TOTPDevice.objects.create(user=user, name="Authenticator-App", confirmed=True)


def _admin_login(client, username, password="pw-123456", token=None):
    data = {"username": username, "password": password, "next": "/admin/"}
    if token is not None:
        data["otp_token"] = token
    return client.post(ADMIN_LOGIN, data)


def test_login_with_device_and_correct_token(client, erika_with_device):
    user, device = erika_with_device
    page = client.get(ADMIN_LOGIN).content.decode()
    assert "Bestätigungscode" in page  # the login asks for it

    response = _admin_login(client, "erika", token=token_for(device))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_login_with_device_but_wrong_token_is_refused(client, erika_with_device):
    user, device = erika_with_device
    response = _admin_login(client, "erika", token=wrong_token_for(device))
    assert response.status_code == 200
    assert "Der Bestätigungscode ist falsch oder abgelaufen." in response.content.decode()
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)
    # a wrong code counts as a failed login for the lockout
    assert AccessAttempt.objects.get(username="erika").failures_since_start == 1


def test_login_with_device_but_no_token_is_refused(client, erika_with_device):
    response = _admin_login(client, "erika")
    assert response.status_code == 200
    assert "Bitte Bestätigungscode eingeben" in response.content.decode()
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)


def test_five_wrong_tokens_lock_the_login(client, erika_with_device):
    user, device = erika_with_device
    statuses = [_admin_login(client, "erika", token=wrong_token_for(device)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert _admin_login(client, "erika", token=token_for(device)).status_code == 429


def test_right_token_right_after_a_wrong_one_waits(client, erika_with_device):
    user, device = erika_with_device
    _admin_login(client, "erika", token=wrong_token_for(device))
    response = _admin_login(client, "erika", token=token_for(device))  # within the same second
    assert response.status_code == 200 and "Bitte warten Sie einen Moment" in response.content.decode()
    seconds_later(device)
    assert _admin_login(client, "erika", token=token_for(device)).status_code == 302


def test_wrong_password_with_right_token_is_refused(client, erika_with_device):
    user, device = erika_with_device
    response = _admin_login(client, "erika", password="falsch", token=token_for(device))
    assert response.status_code == 200
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)


def test_without_device_and_policy_password_suffices(client):
    staff_in(roles.SALES)
    assert _admin_login(client, "erika").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_with_device_logged_in_through_the_portal_form_must_give_the_code(client, erika_with_device):
    user, device = erika_with_device
    response = client.post(reverse("portal:login"), {"username": "erika", "password": "pw-123456"})
    assert response.status_code == 302  # the portal's password-only form

    response = client.get("/admin/licensing/installation/")
    assert response.status_code == 302
    assert response["Location"] == reverse("security:verify") + "?next=%2Fadmin%2Flicensing%2Finstallation%2F"

    page = client.get(response["Location"])
    assert "sechsstelligen Code" in page.content.decode()
    response = client.post(
        reverse("security:verify"), {"otp_token": wrong_token_for(device), "next": "/admin/licensing/installation/"}
    )
    assert response.status_code == 200 and "Der Bestätigungscode ist falsch" in response.content.decode()
    seconds_later(device)
    response = client.post(
        reverse("security:verify"), {"otp_token": token_for(device), "next": "/admin/licensing/installation/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/licensing/installation/"
    assert client.get("/admin/licensing/installation/").status_code == 200


def test_verify_page_does_not_redirect_off_site(client, erika_with_device):
    user, device = erika_with_device
    client.force_login(user)
    response = client.post(
        reverse("security:verify"), {"otp_token": token_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/"


def test_mandatory_group_without_device_is_sent_to_setup(client):
    StaffGroupPolicy.objects.create(group=Group.objects.get(name=roles.SUPPORT), otp_required=True)
    staff_in(roles.SUPPORT)
    assert _admin_login(client, "erika").status_code == 302  # password accepted ...

    for url in ("/admin/", "/admin/licensing/installation/", "/admin/auth/user/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("security:setup"), url  # ... admin not
    page = client.get(reverse("security:setup")).content.decode()
    assert "Für Ihre Mitarbeitergruppe ist die Zwei-Faktor-Anmeldung Pflicht" in page


def test_group_without_policy_is_unaffected(client):
    StaffGroupPolicy.objects.create(group=Group.objects.get(name=roles.SUPPORT), otp_required=True)
    StaffGroupPolicy.objects.create(group=Group.objects.get(name=roles.FINANCE), otp_required=False)
    staff_in(roles.SALES, username="sven")
    staff_in(roles.FINANCE, username="frida")
    for username in ("sven", "frida"):
        client.post("/admin/logout/")
        assert _admin_login(client, username).status_code == 302
        assert client.get("/admin/").status_code == 200, username


def test_setup_registers_a_device_and_then_login_asks_for_it(client):
    StaffGroupPolicy.objects.create(group=Group.objects.get(name=roles.SUPPORT), otp_required=True)
    user = staff_in(roles.SUPPORT)
    _admin_login(client, "erika")

    page = client.get(reverse("security:setup"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = "".join(page.context["secret_groups"])
    assert len(secret) == 32  # 20-byte key in base32, for typing into the app
    assert (
        client.get(reverse("security:setup")).context["secret_groups"] == page.context["secret_groups"]
    )  # stable on reload
    qr = client.get(reverse("security:setup-qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content

    response = client.post(reverse("security:setup"), {"otp_token": wrong_token_for(device)})
    assert response.status_code == 200 and "Der Bestätigungscode stimmt nicht" in response.content.decode()
    assert client.get("/admin/").status_code == 302

    seconds_later(device)
    response = client.post(reverse("security:setup"), {"otp_token": token_for(device)})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200  # this session is verified

    client.post("/admin/logout/")
    assert _admin_login(client, "erika").status_code == 200  # next login: code required


def test_optional_setup_for_staff_without_policy(client):
    user = staff_in(roles.SALES)
    client.force_login(user)
    assert f'href="{reverse("security:setup")}"' in client.get("/admin/").content.decode()  # linked in the header
    assert client.get(reverse("security:setup")).status_code == 200
    assert client.get("/admin/").status_code == 200  # not forced


def test_setup_page_needs_a_staff_login(client):
    response = client.get(reverse("security:setup"))
    assert response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN)
    partner_only = UserFactory(username="partner")
    client.force_login(partner_only)
    assert client.get(reverse("security:setup"))["Location"].startswith(ADMIN_LOGIN)
    assert not TOTPDevice.objects.exists()


def test_policies_are_for_superusers_only(client):
    url = reverse("admin:security_staffgrouppolicy_changelist")
    for group in (roles.SALES, roles.FINANCE, roles.SUPPORT):
        user = staff_in(group, username=f"staff-{group}")
        client.force_login(user)
        assert client.get(url).status_code == 403, group
        assert (
            client.post(
                reverse("admin:security_staffgrouppolicy_add"), {"group": user.groups.get().pk, "otp_required": ""}
            ).status_code
            == 403
        )
    assert not StaffGroupPolicy.objects.exists()

    client.force_login(UserFactory(username="chef", is_staff=True, is_superuser=True))
    support = Group.objects.get(name=roles.SUPPORT)
    response = client.post(reverse("admin:security_staffgrouppolicy_add"), {"group": support.pk, "otp_required": "on"})
    assert response.status_code == 302
    assert StaffGroupPolicy.objects.get().otp_required is True


def test_five_wrong_codes_on_the_code_page_end_the_session(client, erika_with_device):
    user, device = erika_with_device
    client.post(reverse("portal:login"), {"username": "erika", "password": "pw-123456"})
    statuses = [
        client.post(reverse("security:verify"), {"otp_token": wrong_token_for(device)}).status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)  # logged out
    assert _admin_login(client, "erika", token=token_for(device)).status_code == 429  # and locked
