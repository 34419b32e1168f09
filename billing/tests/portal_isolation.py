"""Billing's entries for the portal's tenant-isolation walker (vendorportal/portal/testing.py):
for each of billing's portal URLs with arguments, an object of the given partner."""

import uuid
from datetime import date

from billing import services
from licensing.models import ModuleVersion, Product
from licensing.services.delivery import delivery_note_render
from licensing.tests.factories import CustomerFactory, InstallationFactory
from vendorportal.portal.testing import isolation_case


def _call_recording() -> Product:
    """Call Recording from the seed 001 catalog, with a released version (loaded once per test)."""
    if not Product.objects.filter(article="CALLREC").exists():
        from licensing.services.catalog import catalog_load

        catalog_load()
    product = Product.objects.get(article="CALLREC")
    ModuleVersion.objects.get_or_create(product=product, version="2.1", defaults={"released_on": date(2024, 4, 15)})
    return product


def _installation(partner):
    return InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=90, user_light_licenses=10)


def _draft(partner):
    order = services.order_create(partner=partner)
    services.order_line_add(
        order=order, installation=_installation(partner), product=_call_recording(), kind="purchase"
    )
    return order


def _confirmed(partner):
    order = _draft(partner)
    invoice = services.order_confirm(order=order)
    return order, invoice


@isolation_case("portal:order_new_for")
def _order_new_for(partner):
    return {"installation": _installation(partner).pk}


@isolation_case("portal:order_price_preview")
def _order_price_preview(partner):
    return {"installation": _installation(partner).pk}


@isolation_case("portal:order_detail")
def _order_detail(partner):
    return {"pk": _draft(partner).pk}


@isolation_case("portal:order_confirm")
def _order_confirm(partner):
    return {"pk": _draft(partner).pk}


@isolation_case("portal:order_lines_edit")
def _order_lines_edit(partner):
    return {"pk": _draft(partner).pk}


@isolation_case("portal:order_lines_preview")
def _order_lines_preview(partner):
    return {"pk": _draft(partner).pk}


@isolation_case("portal:order_line_remove")
def _order_line_remove(partner):
    order = _draft(partner)
    return {"pk": order.pk, "line": order.lines.get().pk}


@isolation_case("portal:order_cancel")
def _order_cancel(partner):
    return {"pk": _draft(partner).pk}


@isolation_case("portal:order_delivery_note", download=True)
def _order_delivery_note(partner):
    order, _invoice = _confirmed(partner)
    note = order.lines.get().licenses.get().delivery_notes.get()
    delivery_note_render(note=note)  # the worker renders it before mailing; here at once
    return {"pk": order.pk, "note": note.pk}


@isolation_case("portal:invoice_pdf", download=True)
def _invoice_pdf(partner):
    _order, invoice = _confirmed(partner)
    return {"pk": invoice.pk}


@isolation_case("portal:dunning_notice_pdf", download=True)
def _dunning_notice_pdf(partner):
    from billing.models import DunningNotice
    from vendorportal import clock

    _order, invoice = _confirmed(partner)
    notice = DunningNotice.objects.create(
        invoice=invoice,
        partner=partner,
        level=1,
        issued_on=invoice.issue_date,
        deadline=invoice.issue_date,
        open_amount=invoice.gross_total,
        email=invoice.email,
        created_at=clock.now(),
    )
    return {"pk": notice.pk}


# --- subscriptions and service plans (issue 12) -------------------------------------------------


def _subscription(partner):
    from billing.tests.factories import make_subscription

    _call_recording()
    return make_subscription(partner, tier="21-40", signed_on=date(2026, 11, 21))


@isolation_case("portal:subscription_cancel")
def _subscription_cancel(partner):
    return {"pk": _subscription(partner).pk}


@isolation_case("portal:subscription_tier")
def _subscription_tier(partner):
    return {"pk": _subscription(partner).pk}


@isolation_case("portal:service_plan_book")
def _service_plan_book(partner):
    return {"installation": _installation(partner).pk}


@isolation_case("portal:service_plan_cancel")
def _service_plan_cancel(partner):
    from billing.tests.factories import make_service_plan

    return {"pk": make_service_plan(partner, installation=_installation(partner)).pk}


# --- SEPA mandate form (issue 16) ----------------------------------------------------------------


@isolation_case("portal:sepa_mandate_pdf", download=True)
def _sepa_mandate_pdf(partner):
    # Not signed yet: the form to print carries its reference already.
    mandate = services.sepa_mandate_enter(
        token=uuid.uuid4().hex,
        partner=partner,
        account_holder=partner.company,
        iban="DE02120300000000202051",
        bic="",
        signed_on=None,
    )
    return {"pk": mandate.pk}
