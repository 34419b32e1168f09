"""Attack on webhook endpoints (issue 19): URLs that reach the vendor's own machine or network
in disguise — numeric and octal IPv4 forms, a trailing dot, IPv6 transition addresses, names that
resolve inside — are refused when registered (portal and API) or at the latest before the
connection, with a German reason; nothing is stored, nothing is sent."""

from __future__ import annotations

import json
import socket
from datetime import date

import pytest
from django.test import Client

from api.services import api_token_create
from billing.tests.factories import make_partner
from vendorportal.parties.tests.factories import PartnerUserFactory
from vendorportal.webhooks import netguard
from vendorportal.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

DISGUISED = [
    "https://2130706433/",  # 127.0.0.1 as one decimal number
    "https://0x7f000001/",  # … in hex
    "https://017700000001/",  # … in octal
    "https://127.1/",  # inet_aton's short form
    "https://0x7f.1/",
    "https://0177.0.0.1/",
    "https://localhost./",  # the loopback name with the root's dot
    "https://sub.localhost./",
    "https://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo whose client is 127.0.0.1
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "https://%31%32%37.0.0.1/",
    "https://ex ample.com/",
    "file:///etc/passwd",
    "ftp://example.com/",
    "javascript:alert(1)",
    "https://" + "a" * 600 + ".example/",
]


@pytest.fixture
def world(clock, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    clock.set(date(2026, 11, 21))
    mine = make_partner(company="Muster Kommunikation GmbH")
    login = PartnerUserFactory(partner=mine, role="admin")
    return {
        "mine": mine,
        "login": login,
        "token": api_token_create(partner=mine, name="ERP", scopes=["read"], by=login.user).secret,
    }


@pytest.mark.parametrize("url", DISGUISED)
def test_disguised_internal_urls_are_refused_by_the_api(world, url):
    response = Client().post(
        "/api/v1/webhooks",
        json.dumps({"url": url, "events": ["invoice.paid"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world['token']}",
    )
    assert response.status_code == 422, (url, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", DISGUISED[:9])
def test_disguised_internal_urls_are_refused_by_the_portal_form(world, client, url):
    from django.urls import reverse

    client.force_login(world["login"].user)
    response = client.post(reverse("portal:webhooks"), {"url": url, "events": ["invoice.paid"]})
    assert response.status_code == 200 and "errorlist" in response.content.decode(), url
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "169.254.169.254", "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "0.0.0.0"],
)
def test_a_name_resolving_to_an_internal_address_is_refused_before_connecting(monkeypatch, settings, address):
    settings.WEBHOOK_ALLOW_LOOPBACK = False

    def fake(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake)
    connected = []
    monkeypatch.setattr(netguard.urllib3, "HTTPSConnectionPool", lambda *a, **k: connected.append(a))
    with pytest.raises(netguard.WebhookTargetRefused):
        netguard.post_checked("https://rebind.example/hook", body=b"{}", headers={})
    assert connected == []


def test_a_public_address_and_its_6to4_twin_of_a_public_one_pass():
    assert netguard.address_allowed("93.184.215.14")
    assert netguard.address_allowed("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert netguard.address_allowed("2002:5db8:d70e::1")  # 6to4 of 93.184.215.14
