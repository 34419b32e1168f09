"""Content-Security-Policy on every page, HTTPS=1 behind a TLS proxy, and a clean check --deploy."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from licensing.tests.factories import InstallationFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[3]
SCRIPT_WITHOUT_SRC = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"", re.IGNORECASE)


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1] for part in header.split(";") if part.strip()}


def _assert_policy(response):
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def _assert_no_inline_code(html: str):
    assert not SCRIPT_WITHOUT_SRC.search(html), SCRIPT_WITHOUT_SRC.search(html).group(0)
    assert "<style" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)


def test_portal_login_satisfies_the_policy(client):
    response = client.get(reverse("portal:login"))
    assert response.status_code == 200
    _assert_policy(response)
    html = response.content.decode()
    _assert_no_inline_code(html)
    assert 'href="/static/portal/portal.css"' in html
    assert finders.find("portal/portal.css")


def test_lockout_page_satisfies_the_policy(client):
    for _ in range(5):
        response = client.post(reverse("portal:login"), {"username": "niemand", "password": "falsch"})
    assert response.status_code == 429
    _assert_policy(response)
    _assert_no_inline_code(response.content.decode())


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="chef", is_staff=True, is_superuser=True))
    return client


def test_admin_pages_carry_the_policy_and_load_only_own_scripts(superuser_client, catalog):
    installation = InstallationFactory()
    urls = [
        reverse("admin:index"),
        reverse("admin:licensing_installation_changelist"),
        reverse("admin:licensing_installation_change", args=[installation.pk]),
        reverse("admin:licensing_license_issue"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("security:setup"),
    ]
    for url in urls:
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        _assert_policy(response)
        html = response.content.decode()
        # Django 5.2's admin passes data to its scripts in data-* attributes, never inline.
        assert not SCRIPT_WITHOUT_SRC.search(html), url
        sources = SCRIPT_SRC.findall(html)
        assert sources, url
        for src in sources:
            assert src.startswith("/") and not src.startswith("//"), (url, src)  # same origin
    assert superuser_client.get(reverse("admin:login")).status_code == 302  # logged in: straight on


def test_admin_login_page_has_no_inline_script(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    _assert_policy(response)
    assert not SCRIPT_WITHOUT_SRC.search(response.content.decode())


# --- HTTPS=1 and check --deploy, in a fresh process with production-like environment -----------------


def _production_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in {"HTTPS", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="portal.example.com",
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="vendorportal.settings",
    )
    env.update(extra)
    return env


def _run(args, env):
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_https(tmp_path):
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _production_env(tmp_path, HTTPS="1"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."
    assert result.stderr.strip() == ""


def test_check_deploy_without_https_names_what_is_missing(tmp_path):
    # the test above is not vacuous: without HTTPS=1 the same command fails
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(tmp_path)
    )
    assert result.returncode == 1
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="portal.example.com")
plain = client.get("/portal/login/")
proxied = client.get("/portal/login/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "plain_hsts": plain.get("Strict-Transport-Security"),
    "status": proxied.status_code,
    "hsts": proxied.get("Strict-Transport-Security"),
    "csp": proxied.get("Content-Security-Policy"),
    "csrf_cookie_secure": bool(proxied.cookies["csrftoken"]["secure"]) if "csrftoken" in proxied.cookies else None,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
}))
"""


def _probe(tmp_path, **extra):
    result = _run([sys.executable, "-c", PROBE], _production_env(tmp_path, **extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_switches_on_redirect_hsts_and_secure_cookies(tmp_path):
    seen = _probe(tmp_path, HTTPS="1")
    assert seen["plain_status"] == 301 and seen["plain_location"] == "https://portal.example.com/portal/login/"
    assert seen["status"] == 200  # the proxy says https: no redirect loop
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    assert seen["csrf_cookie_secure"] is True
    assert seen["session_cookie_secure"] is True
    assert "default-src 'self'" in seen["csp"]


def test_without_https_no_redirect_but_still_csp(tmp_path):
    seen = _probe(tmp_path)
    assert seen["plain_status"] == 200 and seen["plain_hsts"] is None
    assert seen["csrf_cookie_secure"] is False and seen["session_cookie_secure"] is False
    assert "frame-ancestors 'none'" in seen["csp"]
