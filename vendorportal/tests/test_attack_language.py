"""Attack on the language switch (issue 21): foreign redirect targets, unknown languages, a GET,
and two switches at once change nothing but the login's own language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http://testserver@evil.example/",
        "\x00/portal/",
        "https:evil.example",
    ],
)
def test_the_switch_never_redirects_to_another_site(client, target):
    response = client.post(reverse("set_language"), {"language": "en", "next": target})
    assert response.status_code in (302, 400)  # 400: Django refuses a NUL byte in a form
    assert response.get("Location", "/portal/") == "/portal/"


def test_a_referer_of_another_site_is_not_followed(client):
    response = client.post(reverse("set_language"), {"language": "en"}, HTTP_REFERER="https://evil.example/x")
    assert response["Location"] == "/portal/"


@pytest.mark.parametrize("language", ["xx", "EN-us-x" * 100, "de\x00", "", "en;q=1", "../../etc"])
def test_an_unknown_language_changes_nothing(client, language):
    from vendorportal.models import UserLanguage

    login = PartnerUserFactory(role="member")
    client.force_login(login.user)
    response = client.post(reverse("set_language"), {"language": language, "next": "/portal/"})
    assert response.status_code in (302, 400)
    assert not UserLanguage.objects.filter(user=login.user).exists()
    assert "django_language" not in response.cookies or response.cookies["django_language"].value in ("de", "en")


def test_get_is_refused_and_switching_twice_keeps_one_row(client):
    from vendorportal.models import UserLanguage

    login = PartnerUserFactory(role="member")
    client.force_login(login.user)
    assert client.get(reverse("set_language"), {"language": "en"}).status_code == 405
    for language in ("en", "en", "de"):
        client.post(reverse("set_language"), {"language": language, "next": "/portal/"})
    assert list(UserLanguage.objects.filter(user=login.user).values_list("language", flat=True)) == ["de"]
