"""The partner API (issue 19): tokens, scopes, tenant isolation, problem+json errors, the rate
limit, and the first endpoints (customers, installations, catalog, licences, key check,
invoices) through the portal's own services."""

import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from api.models import ApiToken
from api.services import api_token_create, api_token_revoke, token_hash
from billing import services as billing_services
from billing.tests.factories import make_order, make_partner
from licensing.models import Installation
from licensing.services.licenses import license_issue
from licensing.tests.factories import CustomerFactory, InstallationFactory
from vendorportal.parties.models import Customer
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1"


@pytest.fixture
def world(clock, catalog):
    clock.set(date(2026, 11, 21))
    mine = make_partner(company="Muster Kommunikation GmbH")
    other = make_partner(company="Andere GmbH")
    admin_login = PartnerUserFactory(partner=mine, role="admin")
    token = api_token_create(partner=mine, name="Shop", scopes=["read"], by=admin_login.user)
    keys = api_token_create(partner=mine, name="ERP", scopes=["read", "keys"], by=admin_login.user)
    other_token = api_token_create(partner=other, name="Fremd", scopes=["read"])
    return {
        "mine": mine,
        "other": other,
        "token": token,
        "keys": keys,
        "other_token": other_token,
        "login": admin_login,
    }


def call(method, path, secret=None, body=None, **headers):
    client = Client()
    if secret:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
    return getattr(client, method)(f"{BASE}{path}", **kwargs, **headers)


def test_token_is_stored_only_as_its_hash(world):
    token, secret = world["token"].token, world["token"].secret
    assert secret.startswith("vp_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == token_hash(secret) and secret not in str(stored.__dict__)
    assert stored.prefix == secret[:10]


@pytest.mark.parametrize("secret", [None, "vp_falsch", "Basic abc", "x" * 500])
def test_missing_or_wrong_token_is_401_problem_json(world, secret):
    response = call("get", "/customers", secret)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (401, "unauthenticated")
    assert "gültiges API-Token" in body["detail"]


def test_revoked_and_expired_tokens_are_401(world, clock):
    api_token_revoke(token=world["token"].token)
    assert call("get", "/customers", world["token"].secret).status_code == 401
    expiring = api_token_create(partner=world["mine"], name="Kurz", scopes=["read"], expires_on=date(2026, 11, 30))
    assert call("get", "/customers", expiring.secret).status_code == 200
    clock.set(date(2026, 12, 1))
    assert call("get", "/customers", expiring.secret).status_code == 401


def test_a_missing_scope_is_403(world):
    support_only = api_token_create(partner=world["mine"], name="Helpdesk", scopes=["support"])
    response = call("get", "/customers", support_only.secret)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert "fehlt das Recht „read“" in response.json()["detail"]


def test_customers_list_create_update_with_history_and_isolation(world):
    mine, other = world["mine"], world["other"]
    CustomerFactory(partner=other, company="Fremdkunde AG")
    secret = world["token"].secret
    created = call("post", "/customers", secret, {"company": "Zahnarztpraxis Dr. Weiß", "city": "Ulm"})
    assert created.status_code == 201
    customer = Customer.objects.get(pk=created.json()["id"])
    assert (customer.partner, customer.city) == (mine, "Ulm")
    assert customer.history.latest().history_change_reason.startswith("API: Shop (vp_")
    listed = call("get", "/customers", secret).json()
    assert [c["company"] for c in listed["results"]] == ["Zahnarztpraxis Dr. Weiß"]
    changed = call("patch", f"/customers/{customer.pk}", secret, {"company": "Praxis Weiß", "country": "DE"})
    assert changed.status_code == 200 and changed.json()["company"] == "Praxis Weiß"
    foreign = Customer.objects.get(company="Fremdkunde AG")
    response = call("patch", f"/customers/{foreign.pk}", secret, {"company": "gekapert"})
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert Customer.objects.get(pk=foreign.pk).company == "Fremdkunde AG"
    # The other partner's token does not see this partner's customers.
    assert call("get", "/customers", world["other_token"].secret).json()["results"][0]["company"] == "Fremdkunde AG"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"company": ""}, "company"),
        ({"company": "X", "country": "XYZ"}, "country"),
        ({"company": "X", "country": "1A"}, "country"),
        ({"city": "nur Ort"}, "company"),
    ],
)
def test_invalid_input_is_422_with_the_field(world, body, field):
    response = call("post", "/customers", world["token"].secret, body)
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Customer.objects.filter(partner=world["mine"]).count() == 0


@pytest.mark.parametrize(
    "path", ["/customers/99999999999999999999", "/customers/0", "/invoices/-1/pdf", "/customers/abc"]
)
def test_absurd_ids_are_refused_not_500(world, path):
    method = "patch" if path.startswith("/customers/") else "get"
    response = call(method, path, world["token"].secret, {"company": "X"} if method == "patch" else None)
    assert response.status_code in (404, 422)


def test_installations_through_the_portal_validation(world):
    secret = world["token"].secret
    customer = CustomerFactory(partner=world["mine"])
    good = {
        "customer_id": customer.pk,
        "edition": "appliance",
        "identifier": "ABCDE-12345-FGHIJ-67890",
        "pbx_users": 30,
    }
    created = call("post", "/installations", secret, good)
    assert created.status_code == 201, created.content
    assert created.json()["identifier"] == "ABCDE-12345-FGHIJ-67890"
    again = call("post", "/installations", secret, good)
    assert again.status_code == 422 and "ist bereits als Installation" in again.json()["detail"]
    foreign = CustomerFactory(partner=world["other"])
    assert call("post", "/installations", secret, {**good, "customer_id": foreign.pk}).status_code == 404
    inst = Installation.objects.get(identifier="ABCDE-12345-FGHIJ-67890")
    patched = call("patch", f"/installations/{inst.pk}", secret, {"pbx_users": 45, "name": "Zentrale"})
    assert patched.status_code == 200 and (patched.json()["pbx_users"], patched.json()["name"]) == (45, "Zentrale")
    assert call("get", f"/installations?customer_id={customer.pk}", secret).json()["results"][0]["id"] == inst.pk


def test_english_detail_with_accept_language(world):
    response = call("get", "/customers", None, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401 and response.json()["detail"]  # a sentence, in either language


def test_catalog_has_the_seed_prices(world):
    rows = call("get", "/catalog", world["token"].secret).json()
    intercom = [r for r in rows if r["article"] == "INTERCOM" and r["kind"] == "purchase"]
    assert intercom and intercom[0]["price"] in ("169.00", 169.0, "169")


def test_licences_show_the_key_only_with_the_keys_scope(world, modules):
    inst = InstallationFactory(customer=CustomerFactory(partner=world["mine"]), pbx_users=30)
    product = modules["INTERCOM"]
    lic = license_issue(
        product=product, installation=inst, version=product.versions.get(version="2.1"), delivery_note=False
    )
    plain = call("get", "/licenses", world["token"].secret).json()["results"]
    with_keys = call("get", "/licenses", world["keys"].secret).json()["results"]
    assert [(r["serial"], r["key"]) for r in plain] == [(lic.serial, None)]
    assert [(r["serial"], r["key"]) for r in with_keys] == [(lic.serial, lic.key)]
    assert call("get", "/licenses", world["other_token"].secret).json()["results"] == []
    check = call(
        "post",
        "/keys/check",
        world["token"].secret,
        {"key": lic.key, "identifier": "ZZZZZ-12345-FGHIJ-67890", "module": "INTERCOM"},
    ).json()
    assert check["verdict"] == "other-server-key" and check["message"]


def test_invoices_list_pdf_xml_and_isolation(world, modules):
    invoice = billing_services.order_confirm(order=make_order(world["mine"], ("INTERCOM", "purchase", 0)))
    foreign = billing_services.order_confirm(order=make_order(world["other"], ("INTERCOM", "purchase", 0)))
    secret = world["token"].secret
    listed = call("get", "/invoices", secret).json()["results"]
    assert [(r["number"], r["gross_total"]) for r in listed] == [(invoice.number, "160.89")]
    pdf = call("get", f"/invoices/{invoice.pk}/pdf", secret)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    xml = call("get", f"/invoices/{invoice.pk}/xml", secret)
    assert xml.status_code == 200 and b"CrossIndustryInvoice" in xml.content and b"160.89" in xml.content
    assert call("get", f"/invoices/{foreign.pk}/pdf", secret).status_code == 404
    assert call("get", "/invoices?state=bogus", secret).status_code == 422


def test_rate_limit_answers_429_with_retry_after(world, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE_LIMIT = "3/m"
    secret = world["token"].secret
    assert [call("get", "/customers", secret).status_code for _ in range(3)] == [200, 200, 200]
    limited = call("get", "/customers", secret)
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["code"] == "rate_limited"
    # Another token has its own budget.
    assert call("get", "/customers", world["keys"].secret).status_code == 200
    cache.clear()


def test_openapi_document_is_valid_and_docs_are_served_locally(world, client):
    from openapi_spec_validator import validate

    spec = Client().get(f"{BASE}/openapi.json").json()
    validate(spec)
    assert "/api/v1/customers" in spec["paths"] and "/api/v1/invoices/{invoice_id}/pdf" in spec["paths"]
    docs = Client().get(f"{BASE}/docs").content.decode()
    assert "swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


def test_portal_tokens_page_shows_the_secret_once_and_revokes(world, client):
    login = world["login"]
    client.force_login(login.user)
    url = reverse("portal:api_tokens")
    page = client.post(url, {"name": "Warenwirtschaft", "scopes": ["read", "order"]}).content.decode()
    token = ApiToken.objects.get(name="Warenwirtschaft")
    assert "nur dieses eine Mal angezeigt" in page and token.prefix in page
    assert "nur dieses eine Mal angezeigt" not in client.get(url).content.decode()
    client.post(reverse("portal:api_token_revoke", args=[token.pk]))
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    foreign = world["other_token"].token
    assert client.post(reverse("portal:api_token_revoke", args=[foreign.pk])).status_code == 404
    assert ApiToken.objects.get(pk=foreign.pk).revoked_at is None


def test_member_logins_cannot_manage_tokens(world, client):
    member = PartnerUserFactory(partner=world["mine"], role="member")
    client.force_login(member.user)
    assert client.get(reverse("portal:api_tokens")).status_code in (302, 403)
