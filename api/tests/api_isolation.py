"""The API's entries for its tenant-isolation walker (api/testing.py): for every operation of
/api/v1/, the scope it needs and a request naming objects of the given partner."""

from __future__ import annotations

from datetime import date

from api.testing import api_case
from billing import services as billing_services
from licensing.models import ModuleVersion, Product
from licensing.services.delivery import delivery_note_render
from licensing.tests.factories import CustomerFactory, InstallationFactory, make_license, make_system, server_key


def _installation(partner):
    return InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=90, user_light_licenses=10)


def _product() -> Product:
    product = Product.objects.get(article="CALLREC")
    ModuleVersion.objects.get_or_create(product=product, version="2.1", defaults={"released_on": date(2024, 4, 15)})
    return product


def _draft(partner):
    order = billing_services.order_create(partner=partner)
    billing_services.order_line_add(
        order=order, installation=_installation(partner), product=_product(), kind="purchase"
    )
    return order


def _confirmed(partner):
    order = _draft(partner)
    invoice = billing_services.order_confirm(order=order)
    note = order.lines.get().licenses.get().delivery_notes.get()
    delivery_note_render(note=note)  # the worker renders it before mailing; here at once
    return order, invoice, note


def _subscription(partner):
    from billing.tests.factories import make_subscription

    _product()
    return make_subscription(partner, tier="21-40", minimum_months=24, signed_on=date(2026, 11, 21))


def _plan(partner):
    from billing.tests.factories import make_service_plan

    return make_service_plan(partner, installation=_installation(partner))


def _ticket(partner):
    from support import services as support_services

    return support_services.ticket_open(partner=partner, kind="feature", subject="Wunsch", body="Bitte CSV.")


def _lines(partner) -> dict:
    return {"lines": [{"article": "INTERCOM", "installation_ids": [_installation(partner).pk]}]}


# --- customers, installations, catalog, licences, key check, invoices -------------------------------


@api_case("GET /customers", scope="read", names_objects=False)
def _customers(partner):
    return {}


@api_case("POST /customers", scope="read", names_objects=False)
def _customers_create(partner):
    return {"body": {"company": "Neukunde GmbH"}}


@api_case("GET /customers/{customer_id}", scope="read")
def _customer(partner):
    return {"customer_id": CustomerFactory(partner=partner).pk}


@api_case("PATCH /customers/{customer_id}", scope="read")
def _customers_update(partner):
    return {"customer_id": CustomerFactory(partner=partner).pk, "body": {"company": "Umbenannt GmbH"}}


@api_case("GET /installations", scope="read", names_objects=False)
def _installations(partner):
    return {}


@api_case("POST /installations", scope="read")
def _installations_create(partner):
    customer = CustomerFactory(partner=partner)
    return {"body": {"customer_id": customer.pk, "edition": "appliance", "identifier": server_key()}}


@api_case("GET /installations/{installation_id}", scope="read")
def _installation_detail(partner):
    return {"installation_id": _installation(partner).pk}


@api_case("PATCH /installations/{installation_id}", scope="read")
def _installations_update(partner):
    return {"installation_id": _installation(partner).pk, "body": {"name": "Zentrale"}}


@api_case("GET /catalog", scope="read", names_objects=False)
def _catalog(partner):
    return {}


@api_case("GET /catalog/bundles", scope="read", names_objects=False)
def _bundles(partner):
    return {}


@api_case("GET /licenses", scope="read", names_objects=False)
def _licenses(partner):
    return {}


@api_case("GET /licenses/{license_id}", scope="read")
def _license(partner):
    return {"license_id": make_license(_installation(partner), _product().versions.get(version="2.1")).pk}


@api_case("POST /keys/check", scope="read", names_objects=False)
def _key_check(partner):
    return {"body": {"key": "ABCDE-FGHIJ", "identifier": "ABCDE-12345-FGHIJ-67890"}}


@api_case("GET /invoices", scope="read", names_objects=False)
def _invoices(partner):
    return {}


@api_case("GET /invoices/{invoice_id}/pdf", scope="read")
def _invoice_pdf(partner):
    return {"invoice_id": _confirmed(partner)[1].pk}


@api_case("GET /invoices/{invoice_id}/xml", scope="read")
def _invoice_xml(partner):
    return {"invoice_id": _confirmed(partner)[1].pk}


# --- orders -----------------------------------------------------------------------------------------


@api_case("POST /orders/preview", scope="order")
def _order_preview(partner):
    return {"body": _lines(partner)}


@api_case("POST /orders", scope="order")
def _order_place(partner):
    return {"body": _lines(partner), "headers": {"HTTP_IDEMPOTENCY_KEY": "walker"}}


@api_case("GET /orders", scope="read", names_objects=False)
def _orders(partner):
    return {}


@api_case("GET /orders/{order_id}", scope="read")
def _order(partner):
    return {"order_id": _draft(partner).pk}


@api_case("POST /orders/{order_id}/confirm", scope="order")
def _order_confirm(partner):
    return {"order_id": _draft(partner).pk}


@api_case("POST /orders/{order_id}/cancel", scope="order")
def _order_cancel(partner):
    return {"order_id": _draft(partner).pk}


@api_case("GET /orders/{order_id}/delivery-notes/{note_id}/pdf", scope="keys")
def _order_delivery_note(partner):
    order, _invoice, note = _confirmed(partner)
    return {"order_id": order.pk, "note_id": note.pk}


@api_case("GET /delivery-notes/{note_id}/pdf", scope="keys")
def _delivery_note(partner):
    return {"note_id": _confirmed(partner)[2].pk}


@api_case("GET /systems", scope="read", names_objects=False)
def _systems(partner):
    return {}


@api_case("POST /systems/{system_id}/maintenance-quote", scope="read")
def _maintenance_quote(partner):
    system = make_system(customer=CustomerFactory(partner=partner))
    return {"system_id": system.pk, "body": {"kind": "renewal", "months": 12}}


# --- subscriptions and service plans ------------------------------------------------------------------


@api_case("GET /subscriptions", scope="read", names_objects=False)
def _subscriptions(partner):
    return {}


@api_case("GET /subscriptions/{subscription_id}", scope="read")
def _subscription_detail(partner):
    return {"subscription_id": _subscription(partner).pk}


@api_case("POST /subscriptions/{subscription_id}/notice/preview", scope="order")
def _notice_preview(partner):
    return {"subscription_id": _subscription(partner).pk, "body": {}}


@api_case("POST /subscriptions/{subscription_id}/notice", scope="order")
def _notice(partner):
    return {"subscription_id": _subscription(partner).pk, "body": {"ends_on": "2028-11-30"}}


@api_case("POST /subscriptions/{subscription_id}/tier-change/preview", scope="order")
def _tier_preview(partner):
    return {"subscription_id": _subscription(partner).pk, "body": {"tier": "41-80"}}


@api_case("POST /subscriptions/{subscription_id}/tier-change", scope="order")
def _tier_change(partner):
    body = {"tier": "41-80", "effective_from": "2026-12-01", "monthly_price": "89.50"}
    return {"subscription_id": _subscription(partner).pk, "body": body}


@api_case("GET /service-plans", scope="read", names_objects=False)
def _plans(partner):
    return {}


@api_case("GET /service-plans/prices", scope="read", names_objects=False)
def _plan_prices(partner):
    return {}


@api_case("POST /service-plans", scope="order")
def _plan_book(partner):
    return {"body": {"installation_id": _installation(partner).pk, "plan": "premium"}}


@api_case("POST /service-plans/{plan_id}/notice/preview", scope="order")
def _plan_notice_preview(partner):
    return {"plan_id": _plan(partner).pk}


@api_case("POST /service-plans/{plan_id}/notice", scope="order")
def _plan_notice(partner):
    return {"plan_id": _plan(partner).pk, "body": {"ends_on": "2027-11-30"}}


# --- support ---------------------------------------------------------------------------------------------


@api_case("GET /tickets", scope="support", names_objects=False)
def _tickets(partner):
    return {}


@api_case("POST /tickets", scope="support", names_objects=False)
def _ticket_open(partner):
    return {"body": {"kind": "feature", "subject": "Wunsch", "body": "Bitte CSV."}}


@api_case("GET /tickets/{ticket_id}", scope="support")
def _ticket_detail(partner):
    return {"ticket_id": _ticket(partner).pk}


@api_case("POST /tickets/{ticket_id}/messages", scope="support")
def _ticket_reply(partner):
    return {"ticket_id": _ticket(partner).pk, "body": {"body": "Nachtrag"}}


@api_case("POST /tickets/{ticket_id}/attachments", scope="support")
def _attachment_upload(partner):
    return {"ticket_id": _ticket(partner).pk, "files": {"file": ("notiz.txt", b"Hallo")}}


@api_case("GET /tickets/{ticket_id}/attachments/{attachment_id}", scope="support")
def _attachment_download(partner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from support import services as support_services

    ticket = _ticket(partner)
    attachment = support_services.attachment_add(
        ticket=ticket, upload=SimpleUploadedFile("a.txt", b"Hallo"), from_staff=False
    )
    return {"ticket_id": ticket.pk, "attachment_id": attachment.pk}


@api_case("GET /knowledge-base", scope="support", names_objects=False)
def _knowledge_base(partner):
    return {}


@api_case("GET /knowledge-base/{slug}", scope="support", names_objects=False)
def _knowledge_base_article(partner):
    from support.models import Article

    article, _created = Article.objects.get_or_create(slug="walker", defaults={"title": "Walker", "body": "Text"})
    return {"slug": article.slug}
