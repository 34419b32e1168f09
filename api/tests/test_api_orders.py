"""Orders through the API (issue 19): the price preview equals the portal's, placing with an
``Idempotency-Key`` gives one order, confirming issues keys, delivery notes and the invoice,
the order list keeps its query count; Softwarepflege quotes.

Prices of seed 001: Intercom purchase 169,00 €; the four modules of the "STARFACE
Management Suite" 249,00 € each. The partner has no confirmed partner status, so end-customer
prices apply (ORD-5: 0 %). VAT 19 % (GEN-2).
"""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from api.models import IdempotencyKey
from api.services import api_token_create, api_token_revoke
from api.tests.helpers import call, content
from billing import selectors
from billing.models import Invoice, Order
from licensing.models import Bundle, DeliveryNote, License, Product
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, book, make_system
from vendorportal.parties.tests.factories import PartnerUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
SUITE = ["BLACKLIST", "HOLIDAY", "TIMEROUTE", "PROIVR"]


@pytest.fixture
def shop(clock, modules):
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory(
        company="Muster Kommunikation GmbH",
        delivery_email="technik@muster.test",
        invoice_email="buchhaltung@muster.test",
        status_confirmed_on=None,
    )
    admin = PartnerUserFactory(partner=partner, role="admin")
    full = api_token_create(partner=partner, name="Shop", scopes=["read", "order", "keys"], by=admin.user)
    reader = api_token_create(partner=partner, name="Leser", scopes=["read"], by=admin.user)
    other = PartnerFactory(company="Andere GmbH", status_confirmed_on=None)
    other_token = api_token_create(partner=other, name="Fremd", scopes=["read", "order", "keys"])
    return {
        "partner": partner,
        "admin": admin,
        "secret": full.secret,
        "token": full.token,
        "reader": reader.secret,
        "other": other,
        "other_secret": other_token.secret,
    }


def installation_of(partner, **kw):
    return InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=90, user_light_licenses=10, **kw)


def intercom_for(installations) -> dict:
    return {"lines": [{"article": "INTERCOM", "installation_ids": [i.pk for i in installations]}]}


def test_preview_of_ten_intercom_licences_writes_nothing(shop):
    installations = [installation_of(shop["partner"]) for _n in range(10)]
    response = call("post", "/orders/preview", shop["secret"], intercom_for(installations))
    assert response.status_code == 200, response.content
    body = response.json()
    # 10 licences of one module (ORD-4): 169,00 × 0,9 = 152,10 each; 10 × 152,10 = 1.521,00 net;
    # VAT 1.521,00 × 0,19 = 288,99; gross 1.809,99.
    assert {(line["volume_percent"], line["unit_net"]) for line in body["lines"]} == {("10.00", "152.10")}
    assert body["totals"] == [{"unit": "once", "net": "1521.00", "vat": "288.99", "gross": "1809.99"}]
    steps = body["lines"][0]["steps"]
    assert [s["code"] for s in steps] == ["list", "volume"] and "Mengenrabatt" in steps[1]["display"]
    assert {line["installation"] for line in body["lines"]} == {i.identifier for i in installations}
    assert not Order.objects.exists()


def test_api_price_equals_the_portal_price_for_the_same_lines(shop, client):
    """A bundle on three installations and Intercom on twelve: the portal's "Preis berechnen"
    and the API preview give the same lines and totals."""
    bundle = Bundle.objects.create(name="STARFACE Management Suite")
    bundle.products.set(Product.objects.filter(article__in=SUITE))
    partner = shop["partner"]
    installations = [installation_of(partner) for _n in range(12)]
    api_body = {
        "lines": [
            {"bundle_id": bundle.pk, "installation_ids": [i.pk for i in installations[:3]]},
            {"article": "INTERCOM", "installation_ids": [i.pk for i in installations]},
        ]
    }
    api_price = call("post", "/orders/preview", shop["secret"], api_body).json()

    client.force_login(shop["admin"].user)
    token = uuid.uuid4().hex
    form = {"token": token, "term": "purchase", "installations": [i.pk for i in installations[:3]]}
    assert client.post(reverse("portal:order_new"), {**form, "article": f"bundle:{bundle.pk}"}).status_code == 302
    order = Order.objects.get()
    more = {"term": "purchase", "installations": [i.pk for i in installations], "token": token}
    more["article"] = f"product:{Product.objects.get(article='INTERCOM').pk}"
    assert client.post(reverse("portal:order_lines_edit", args=[order.pk]), more).status_code == 302
    portal = selectors.order_breakdown(order)

    def lines(rows):
        return sorted((r["installation"], r["article"], D(r["unit_net"]), D(r["line_net"])) for r in rows)

    assert lines(api_price["lines"]) == sorted(
        (line.installation, line.article, line.unit_net, line.line_net) for line in portal.lines
    )
    once = portal.total("once")
    assert api_price["totals"] == [
        {"unit": "once", "net": str(once.net), "vat": str(once.vat), "gross": str(once.gross)}
    ]
    # By hand: suite 4 × 249,00 × 0,9 (bundle) = 224,10 × 12 = 2.689,20; Intercom 12 × 152,10 =
    # 1.825,20 → 4.514,40 net; VAT 857,736 → 857,74; gross 5.372,14.
    assert (once.net, once.vat, once.gross) == (D("4514.40"), D("857.74"), D("5372.14"))


def test_place_and_confirm_with_an_idempotency_key_orders_once(shop, send_outbox):
    installations = [installation_of(shop["partner"]) for _n in range(10)]
    body = {**intercom_for(installations), "confirm": True}
    first = call("post", "/orders", shop["secret"], body, HTTP_IDEMPOTENCY_KEY="shop-4711")
    assert first.status_code == 201, first.content
    order = first.json()
    assert order["state"] == "fulfilled" and order["invoice"]["gross_total"] == "1809.99"
    assert len(order["licenses"]) == 10 and all(lic["key"] for lic in order["licenses"])
    assert len(order["delivery_notes"]) == 10  # one per installation (ORD-2)
    # The same key again: the same order, nothing new.
    again = call("post", "/orders", shop["secret"], body, HTTP_IDEMPOTENCY_KEY="shop-4711")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == order["id"]
    assert (Order.objects.count(), Invoice.objects.count(), License.objects.count()) == (1, 1, 10)
    # The same key with another body: refused, nothing written.
    other = call("post", "/orders", shop["secret"], intercom_for(installations[:1]), HTTP_IDEMPOTENCY_KEY="shop-4711")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    # The history names the token.
    placed = Order.objects.get()
    assert placed.history.earliest().history_change_reason.startswith("API: Shop (vp_")
    assert placed.history.earliest().history_user == shop["admin"].user
    lic = License.objects.first()
    assert lic.history.earliest().history_change_reason.startswith("API: Shop")


def test_the_same_key_from_another_token_is_another_order(shop):
    inst = installation_of(shop["partner"])
    second = api_token_create(partner=shop["partner"], name="ERP", scopes=["order", "read"]).secret
    assert call("post", "/orders", shop["secret"], intercom_for([inst]), HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    assert call("post", "/orders", second, intercom_for([inst]), HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    assert Order.objects.count() == 2 and IdempotencyKey.objects.count() == 2


def test_without_idempotency_key_is_422_naming_the_header(shop):
    inst = installation_of(shop["partner"])
    response = call("post", "/orders", shop["secret"], intercom_for([inst]))
    assert response.status_code == 422
    assert "Idempotency-Key" in [e["field"] for e in response.json()["errors"]]
    assert not Order.objects.exists()


def test_a_refused_order_writes_nothing_and_the_key_can_be_used_again(shop):
    system = make_system(customer=CustomerFactory(partner=shop["partner"]))
    good = installation_of(shop["partner"])
    refused = call("post", "/orders", shop["secret"], intercom_for([good, system]), HTTP_IDEMPOTENCY_KEY="k2")
    assert refused.status_code == 422 and refused.json()["code"] == "not_starface"
    assert f"{system.identifier} ist ein Auerswald-System" in refused.json()["detail"]
    assert not Order.objects.exists() and not IdempotencyKey.objects.exists()
    assert call("post", "/orders", shop["secret"], intercom_for([good]), HTTP_IDEMPOTENCY_KEY="k2").status_code == 201


@pytest.mark.parametrize(
    "line,field",
    [
        ({"article": "GIBTSNICHT", "installation_ids": [0]}, "lines.0.installation_ids.0"),
        ({"installation_ids": []}, "lines.0.installation_ids"),
        ({"article": "INTERCOM", "installation_ids": ["x"]}, "lines.0.installation_ids.0"),
        ({"article": "INTERCOM", "installation_ids": [1], "kind": "miete"}, "lines.0.kind"),
        ({"article": "INTERCOM", "installation_ids": [1], "term_months": 7}, "lines.0.term_months"),
    ],
)
def test_invalid_lines_are_422_with_the_field(shop, line, field):
    response = call("post", "/orders/preview", shop["secret"], {"lines": [line]})
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]


def test_unknown_article_bundle_and_bad_email_name_their_field(shop):
    inst = installation_of(shop["partner"])
    unknown = call(
        "post", "/orders/preview", shop["secret"], {"lines": [{"article": "XYZ", "installation_ids": [inst.pk]}]}
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "lines.0.article"
    assert "Unbekannter Artikel „XYZ“" in unknown.json()["detail"]
    both = {"lines": [{"article": "INTERCOM", "bundle_id": 1, "installation_ids": [inst.pk]}]}
    assert call("post", "/orders/preview", shop["secret"], both).json()["errors"][0]["field"] == "lines.0.article"
    email = {**intercom_for([inst]), "delivery_email": "kein-at"}
    response = call("post", "/orders/preview", shop["secret"], email)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "delivery_email"
    nothing = call("post", "/orders/preview", shop["secret"], {"lines": []})
    assert nothing.status_code == 422 and nothing.json()["code"] == "nothing_ordered"


def test_another_partners_installation_is_404(shop):
    foreign = installation_of(shop["other"])
    response = call("post", "/orders/preview", shop["secret"], intercom_for([foreign]))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = call("post", "/orders", shop["secret"], intercom_for([foreign]), HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 404 and not Order.objects.exists()


def test_scopes_order_and_keys(shop):
    inst = installation_of(shop["partner"])
    response = call("post", "/orders/preview", shop["reader"], intercom_for([inst]))
    assert response.status_code == 403 and "„order“" in response.json()["detail"]


def test_draft_then_confirm_list_detail_delivery_note_and_licence(shop, send_outbox):
    partner = shop["partner"]
    installations = [installation_of(partner) for _n in range(2)]
    placed = call("post", "/orders", shop["secret"], intercom_for(installations), HTTP_IDEMPOTENCY_KEY="d1").json()
    assert placed["state"] == "draft" and placed["invoice"] is None and placed["licenses"] == []
    confirmed = call("post", f"/orders/{placed['id']}/confirm", shop["secret"])
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "fulfilled"
    # 2 × 169,00 = 338,00 net; VAT 64,22; gross 402,22.
    assert confirmed.json()["invoice"]["gross_total"] == "402.22"
    # Confirming again changes nothing.
    assert (
        call("post", f"/orders/{placed['id']}/confirm", shop["secret"]).json()["invoice"] == confirmed.json()["invoice"]
    )
    assert Invoice.objects.count() == 1

    listed = call("get", "/orders", shop["reader"]).json()["results"]
    assert [(o["reference"], o["net"], o["installations_count"]) for o in listed] == [
        (placed["reference"], "338.00", 2)
    ]
    assert call("get", "/orders?state=draft", shop["reader"]).json()["results"] == []
    assert call("get", "/orders?state=bogus", shop["reader"]).status_code == 422

    note = confirmed.json()["delivery_notes"][0]
    assert note["pdf_available"] is False  # rendered when the outbox sends it (ORD-2)
    assert call("get", f"/delivery-notes/{note['id']}/pdf", shop["secret"]).status_code == 404
    send_outbox()
    pdf = call("get", f"/orders/{placed['id']}/delivery-notes/{note['id']}/pdf", shop["secret"])
    assert pdf.status_code == 200 and content(pdf).startswith(b"%PDF")
    assert call("get", f"/delivery-notes/{note['id']}/pdf", shop["secret"]).status_code == 200
    # The delivery note carries the keys: scope "keys" needed.
    assert call("get", f"/delivery-notes/{note['id']}/pdf", shop["reader"]).status_code == 403

    lic = confirmed.json()["licenses"][0]
    detail = call("get", f"/licenses/{lic['id']}", shop["secret"]).json()
    assert detail["key"] == License.objects.get(pk=lic["id"]).key and detail["article"] == "INTERCOM"
    assert [n["id"] for n in detail["delivery_notes"]] == list(
        DeliveryNote.objects.filter(licenses__pk=lic["id"]).values_list("pk", flat=True)
    )
    assert call("get", f"/licenses/{lic['id']}", shop["reader"]).json()["key"] is None

    # Another partner's token sees none of it.
    other = shop["other_secret"]
    for path in (
        f"/orders/{placed['id']}",
        f"/licenses/{lic['id']}",
        f"/delivery-notes/{note['id']}/pdf",
        f"/orders/{placed['id']}/delivery-notes/{note['id']}/pdf",
    ):
        assert call("get", path, other).status_code == 404, path
    assert call("post", f"/orders/{placed['id']}/confirm", other).status_code == 404


def test_a_draft_from_yesterday_is_repriced_before_it_can_be_confirmed(shop, clock):
    inst = installation_of(shop["partner"])
    placed = call("post", "/orders", shop["secret"], intercom_for([inst]), HTTP_IDEMPOTENCY_KEY="y1").json()
    clock.set(date(2026, 11, 22))
    response = call("post", f"/orders/{placed['id']}/confirm", shop["secret"])
    assert response.status_code == 409 and response.json()["code"] == "repriced"
    assert response.json()["price"]["totals"][0]["gross"] == "201.11"  # 169,00 + 32,11 VAT
    assert call("post", f"/orders/{placed['id']}/confirm", shop["secret"]).json()["state"] == "fulfilled"


def test_cancel_a_draft_and_not_after_the_key(shop, send_outbox):
    inst = installation_of(shop["partner"])
    draft = call("post", "/orders", shop["secret"], intercom_for([inst]), HTTP_IDEMPOTENCY_KEY="c1").json()
    assert call("post", f"/orders/{draft['id']}/cancel", shop["secret"]).json()["state"] == "cancelled"
    other = installation_of(shop["partner"])
    done = call(
        "post", "/orders", shop["secret"], {**intercom_for([other]), "confirm": True}, HTTP_IDEMPOTENCY_KEY="c2"
    )
    refused = call("post", f"/orders/{done.json()['id']}/cancel", shop["secret"])
    assert refused.status_code == 422 and refused.json()["code"] == "not_cancellable"


def test_orders_list_keeps_its_query_count(shop, django_assert_max_num_queries):
    partner = shop["partner"]
    for n in (3, 60):
        while Order.objects.filter(partner=partner).count() < n:
            call(
                "post",
                "/orders",
                shop["secret"],
                intercom_for([installation_of(partner)]),
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )
        with django_assert_max_num_queries(10):
            response = call("get", "/orders?page_size=100", shop["reader"])
        assert len(response.json()["results"]) == n


def test_tier_upgrade_through_the_api(shop):
    from licensing.services.licenses import license_issue

    partner = shop["partner"]
    inst = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=15)
    callrec = Product.objects.get(article="CALLREC")
    lic = license_issue(
        product=callrec, installation=inst, version=callrec.versions.get(version="2.1"), delivery_note=False
    )
    inst.pbx_users = 30
    inst.save()
    preview = call("post", "/orders/preview", shop["secret"], {"tier_upgrades": [lic.pk]})
    assert preview.status_code == 200, preview.content
    line = preview.json()["lines"][0]
    assert line["tier"] == "21-40" and line["steps"][0]["code"] == "list"
    foreign = call("post", "/orders/preview", shop["other_secret"], {"tier_upgrades": [lic.pk]})
    assert foreign.status_code == 404


@pytest.fixture
def sample_prices(shop):
    """The demo data's sample Call Assist prices (valid from 2024-11-01): 94375 1-user pack
    29,00 · 94381 SWP per user and day 0,04."""
    from demo.loader import SAMPLE_PRICE_LIST
    from licensing.services.catalog import SEED_PRICE_LIST
    from licensing.tests.catalog_cache import catalog_load_cached

    catalog_load_cached(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])


def test_softwarepflege_quote_and_order_of_an_auerswald_system(shop, sample_prices, send_outbox):
    system = make_system(customer=CustomerFactory(partner=shop["partner"]))
    book(system, start=date(2026, 1, 1), end=date(2026, 12, 31), users=10)
    listed = call("get", "/systems", shop["reader"]).json()["results"]
    assert [(s["serial"], s["coverage_end"], s["call_assist_users"]) for s in listed] == [
        (system.identifier, "2026-12-31", 10)
    ]
    # SWP-3: 5 users added on 21.11.2026, coverage ends 31.12.2026 → 40 days; 5 × 40 − 5 × 21 = 95 user-days.
    quote = call("post", f"/systems/{system.pk}/maintenance-quote", shop["reader"], {"kind": "add_users", "users": 5})
    assert quote.status_code == 200, quote.content
    lines = {line["article"]: (line["quantity"], line["total"]) for line in quote.json()["lines"]}
    # 5 × 29,00 = 145,00; 95 × 0,04 = 3,80 → 148,80 net.
    assert lines == {"94375": (5, "145.00"), "94381": (95, "3.80")} and quote.json()["net_total"] == "148.80"
    missing = call("post", f"/systems/{system.pk}/maintenance-quote", shop["reader"], {"kind": "add_users"})
    assert missing.status_code == 422 and missing.json()["code"] == "swp_users_missing"
    foreign = call(
        "post", f"/systems/{system.pk}/maintenance-quote", shop["other_secret"], {"kind": "renewal", "months": 12}
    )
    assert foreign.status_code == 404
    body = {"maintenance": {"installation_id": system.pk, "kind": "add_users", "users": 5}}
    preview = call("post", "/orders/preview", shop["secret"], body).json()
    assert {line["article"]: line["quantity"] for line in preview["lines"]} == {"94375": 5, "94381": 95}
    placed = call("post", "/orders", shop["secret"], {**body, "confirm": True}, HTTP_IDEMPOTENCY_KEY="swp1")
    assert placed.status_code == 201, placed.content
    assert placed.json()["state"] == "fulfilled"


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_the_same_key_at_once_place_one_order(clock, modules):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent inserts need PostgreSQL")
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory(status_confirmed_on=None)
    secret = api_token_create(partner=partner, name="Shop", scopes=["order", "read"]).secret
    inst = installation_of(partner)
    results = []

    def post():
        results.append(call("post", "/orders", secret, intercom_for([inst]), HTTP_IDEMPOTENCY_KEY="same").status_code)
        connection.close()

    threads = [threading.Thread(target=post) for _n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 201] and Order.objects.count() == 1


def test_revoked_token_is_401_for_orders(shop):
    api_token_revoke(token=shop["token"])
    assert call("get", "/orders", shop["secret"]).status_code == 401


def test_english_details_with_accept_language(shop):
    english = call("get", "/orders/999999", shop["secret"], HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 404
    assert (english.json()["title"], english.json()["detail"]) == (
        "Not found",
        "This does not exist (or it belongs to another partner).",
    )
    german = call("get", "/orders/999999", shop["secret"], HTTP_ACCEPT_LANGUAGE="de")
    assert german.json()["detail"] == "Das gibt es nicht (oder es gehört einem anderen Partner)."
    assert call("get", "/orders", None, HTTP_ACCEPT_LANGUAGE="en").json()["detail"] == (
        "Please send a valid API token as a bearer token."
    )
    inst = installation_of(shop["partner"])
    call("post", "/orders", shop["secret"], intercom_for([inst]), HTTP_IDEMPOTENCY_KEY="en-1")
    reused = call(
        "post", "/orders", shop["secret"], {"lines": []}, HTTP_IDEMPOTENCY_KEY="en-1", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert reused.json()["detail"].startswith("This Idempotency-Key was already used for another order")
    scope = call("post", "/orders/preview", shop["reader"], intercom_for([inst]), HTTP_ACCEPT_LANGUAGE="en")
    assert scope.json()["detail"] == "This API token lacks the scope “order”."


def test_customers_and_installations_with_the_portals_fields(shop):
    """What the portal's forms take: the delivery e-mail (ORD-2), the vendor from the edition,
    the redundancy primary (LIC-9); the detail of one; bad input names the field."""
    secret = shop["secret"]
    created = call("post", "/customers", secret, {"company": "Praxis Weiß", "delivery_email": "it@praxis.test"})
    assert created.status_code == 201 and created.json()["delivery_email"] == "it@praxis.test"
    customer_id = created.json()["id"]
    assert call("get", f"/customers/{customer_id}", secret).json()["company"] == "Praxis Weiß"
    assert call("get", f"/customers/{customer_id}", shop["other_secret"]).status_code == 404
    bad = call("post", "/customers", secret, {"company": "X", "delivery_email": "kein-at"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "delivery_email"

    primary = call(
        "post",
        "/installations",
        secret,
        {"customer_id": customer_id, "edition": "appliance", "identifier": "ABCDE-12345-FGHIJ-67890"},
    ).json()
    assert primary["vendor"] == "starface"
    system = call(
        "post",
        "/installations",
        secret,
        {"customer_id": customer_id, "edition": "comtrexx_next", "identifier": "SN12345678"},
    )
    assert system.status_code == 201, system.content
    assert system.json()["vendor"] == "auerswald"
    secondary = call(
        "post",
        "/installations",
        secret,
        {
            "customer_id": customer_id,
            "edition": "appliance",
            "identifier": "ZZZZZ-12345-FGHIJ-67890",
            "secondary_of_id": primary["id"],
        },
    )
    assert secondary.status_code == 201 and secondary.json()["secondary_of_id"] == primary["id"]
    patched = call(
        "patch", f"/installations/{secondary.json()['id']}", secret, {"delivery_email": "zentrale@praxis.test"}
    )
    assert (
        patched.json()["delivery_email"] == "zentrale@praxis.test"
        and patched.json()["secondary_of_id"] == primary["id"]
    )
    assert call("get", f"/installations/{primary['id']}", secret).json()["identifier"] == "ABCDE-12345-FGHIJ-67890"
    unknown = call(
        "post", "/installations", secret, {"customer_id": customer_id, "edition": "bogus", "identifier": "ABC"}
    )
    assert unknown.status_code == 422 and "edition" in [e["field"] for e in unknown.json()["errors"]]
    foreign = installation_of(shop["other"])
    response = call(
        "post",
        "/installations",
        secret,
        {
            "customer_id": customer_id,
            "edition": "appliance",
            "identifier": "YYYYY-12345-FGHIJ-67890",
            "secondary_of_id": foreign.pk,
        },
    )
    assert response.status_code == 404
