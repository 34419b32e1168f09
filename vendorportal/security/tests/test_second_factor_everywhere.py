"""Issue 17: the second factor guards every staff-only URL, not only ``/admin/``.

The attack run logged in an enrolled staff member with the password only: ``/admin/``
asked for the code, but ``/media/invoices/2026/RE-2026-000001.pdf`` answered 200 and the
portal's password change opened. These tests walk EVERY URL pattern of the project (the
admin's changelists, add and change pages of a real object, custom admin views, stored
documents, attachments, exports, the job schedule, the portal) — enumerated from the URL
resolver, so a new page is walked without anyone adding it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import pytest
from axes.models import AccessFailureLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.models import FinanceReport, Invoice, Payment, SepaBatch, VatRate, invoice_pdf_path
from licensing.models import (
    DeliveryNote,
    Installation,
    MaintenanceNotice,
    MaintenanceWeeklyReport,
    Price,
    Product,
    Reinitialisation,
)
from licensing.tests.factories import FAKE_PDF, UserFactory
from support import services as support_services
from support.models import InboundMail
from vendorportal import roles
from vendorportal.models import JobRun
from vendorportal.parties.models import PartnerUser
from vendorportal.security.middleware import OPEN_URL_NAMES
from vendorportal.security.models import StaffGroupPolicy
from vendorportal.security.tests.test_otp import token_for
from vendorportal.stored_files import stored_file_holders

pytestmark = pytest.mark.django_db

VERIFY = reverse("security:verify")
SETUP = reverse("security:setup")
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    name: str  # "admin:billing_invoice_pdf", or the route itself where the pattern has no name
    url: str


def _patterns(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, prefix + str(pattern.pattern)


def _model_of(route: str):
    """The registered model of an admin route ``admin/<app_label>/<model_name>/…``."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match is None:
        return None
    for model in admin.site._registry:
        if (model._meta.app_label, model._meta.model_name) == match.groups():
            return model
    return None


class World:
    """The demo data plus one stored file of every kind, and the values path arguments take."""

    def __init__(self):
        call_command("load_demo", verbosity=0)
        self.superuser = UserFactory(username="chefin", is_staff=True, is_superuser=True)  # password pw-123456
        self.device = TOTPDevice.objects.create(user=self.superuser, name="Authenticator-App", confirmed=True)
        self.documents = self._store_documents()
        self.attachment = self._attachment()
        self._records_the_demo_lacks()

    def _store_documents(self) -> list[str]:
        note = DeliveryNote.objects.filter(pdf="").first()
        note.pdf.save(f"{note.number}.pdf", ContentFile(FAKE_PDF), save=True)
        invoice = Invoice.objects.filter(pdf="").order_by("pk").first()
        invoice_name = default_storage.save(invoice_pdf_path(invoice, ""), ContentFile(FAKE_PDF))
        Invoice.objects.filter(pk=invoice.pk).update(pdf=invoice_name)  # the one allowed write: the PDF once
        report = FinanceReport(
            kind=FinanceReport.OPEN_ITEMS,
            period="2026-W49",
            report_date=date(2026, 12, 7),
            document_count=1,
            gross_total="0.00",
            created_at="2026-12-07T07:15:00+01:00",
        )
        report.pdf.save(report.filename, ContentFile(FAKE_PDF), save=True)
        swp = MaintenanceWeeklyReport(
            week="2026-W49",
            report_date=date(2026, 12, 7),
            expiring_count=0,
            lapsed_count=0,
            renewal_total="0.00",
            created_at="2026-12-07T07:00:00+01:00",
        )
        swp.pdf.save(swp.filename, ContentFile(FAKE_PDF), save=True)
        installation = Installation.objects.filter(vendor="starface").first()
        proof = default_storage.save("decommission-proofs/server_key/proof.pdf", ContentFile(FAKE_PDF))
        Installation.objects.filter(pk=installation.pk).update(decommission_proof=proof)
        names = [note.pdf.name, invoice_name, report.pdf.name, swp.pdf.name, proof]
        assert all(stored_file_holders(name) for name in names)
        return names

    def _attachment(self):
        login = PartnerUser.objects.select_related("partner", "user").first()
        ticket = support_services.ticket_open(
            partner=login.partner,
            by=login.user,
            kind="support",
            subject="Bilder fehlen",
            body="Seit dem Update fehlen die Bilder.",
            installation=None,
            pbx_version="8.2.0.5",
            product=Product.objects.filter(kind=Product.MODULE).first(),
            module_version="2.1",
            files=[SimpleUploadedFile("bild.png", b"PNGDATA")],
        )
        return ticket.attachments.get()

    def _records_the_demo_lacks(self) -> None:
        """One row of each admin model the demo leaves empty, so every change page is walked
        with a real object (written directly: only the pages are under test here)."""
        now = "2026-12-07T08:00:00+01:00"
        installation = Installation.objects.first()
        for model in (Price, VatRate):  # loaded in bulk (catalog, migration): no history yet
            model.objects.order_by("pk").first().save()
        JobRun.objects.create(name="heartbeat", started_at=now, finished_at=now, ok=True)
        StaffGroupPolicy.objects.create(group=Group.objects.get(name=roles.SALES), otp_required=False)
        Reinitialisation.objects.create(installation=installation, initialisation_code="CODE", response="ANTWORT")
        MaintenanceNotice.objects.create(
            installation=installation,
            coverage_end=date(2026, 12, 31),
            kind=MaintenanceNotice._meta.get_field("kind").choices[0][0],
        )
        Payment.objects.create(
            invoice=Invoice.objects.first(), amount="1.00", paid_on=date(2026, 12, 7), recorded_at=now
        )
        SepaBatch.objects.create(
            collection_date=date(2026, 12, 20), message_id="TEST-1", created_at=now, xml="<x/>", count=1, total="1.00"
        )
        from api.services import api_token_create
        from billing.models import BankEntry, BankStatement
        from vendorportal.parties.models import Partner

        statement = BankStatement.objects.create(iban="DE89370400440532013000", statement_id="S-1", file_name="a.xml")
        BankEntry.objects.create(
            statement=statement,
            iban=statement.iban,
            reference="R-1",
            booked_on=date(2026, 12, 1),
            amount="1.00",
            credit=True,
            state=BankEntry.UNMATCHED,
            rest="1.00",
        )
        api_token_create(partner=Partner.objects.order_by("pk").first(), name="Walk", scopes=["read"])
        # Dunning (issue 18): a base rate with history, a notice, a pause, a block.
        from billing.models import BaseRate, DunningBlock, DunningNotice, DunningPause

        BaseRate.objects.order_by("pk").first().save()  # written by a data migration: no history yet
        invoice = Invoice.objects.order_by("pk").first()
        DunningNotice.objects.create(
            invoice=invoice,
            partner=invoice.partner,
            level=1,
            issued_on=date(2026, 12, 7),
            deadline=date(2026, 12, 17),
            open_amount=invoice.gross_total,
            created_at=now,
        )
        DunningPause.objects.create(invoice=invoice, reason="Reklamation", paused_at=now)
        DunningBlock.objects.create(partner=invoice.partner, reason="Zahlungsverzug", blocked_at=now)
        # A charge (branch returns, merged into dunning) with its history row.
        from billing.services.charges import charge_add

        charge_add(
            partner=invoice.partner, kind="return_fee", amount="3.00", description="Rücklastschrift", dedup_key="walk-1"
        )
        # The monthly invoicing runs' admin list (issue 17).
        from billing.models import InvoicingRun

        InvoicingRun.objects.get_or_create(month=date(2026, 11, 1), defaults={"started_at": now, "finished_at": now})
        # Webhooks (issue 19): an endpoint and a delivery, for their admin pages.
        from django.db import transaction

        from vendorportal.webhooks.events import webhook_event_emit
        from vendorportal.webhooks.services import webhook_endpoint_create

        hooked = Partner.objects.order_by("pk").first()
        webhook_endpoint_create(partner=hooked, url="https://erp.walk.example/in", events=["invoice.paid"])
        with transaction.atomic():
            webhook_event_emit(partner=hooked, event="invoice.paid", payload={"id": 1}, dedup_key="walk-hook")
        from billing.models import Subscription, SubscriptionPriceChange

        if not SubscriptionPriceChange.objects.exists():  # the tier changes' list (issue 20)
            sub = Subscription.objects.order_by("pk").first()
            SubscriptionPriceChange.objects.create(
                subscription=sub, effective_from=date(2027, 1, 1), tier=sub.tier, monthly_price=sub.monthly_price
            )
        InboundMail.objects.create(
            message_id="<1@test>", outcome=InboundMail._meta.get_field("outcome").choices[0][0], processed_at=now
        )
        # A failed login: the lockout's access attempt (and its failure log, written directly);
        # a successful one: its access log row.
        Client().post(reverse("portal:login"), {"username": "muster", "password": "falsch"})
        Client().post(reverse("portal:login"), {"username": "beispiel", "password": "beispiel-demo"})
        AccessFailureLog.objects.create(user_agent="test", username="muster", http_accept="*/*", path_info="/")

    def routes(self) -> list[Route]:
        """Every URL of the project with real path arguments (several for stored documents)."""
        found = []
        for name, route in _patterns(get_resolver().url_patterns):
            if route.startswith("admin/") and "(?P<app_label>" in route:
                found.append(Route(name, reverse("admin:app_list", kwargs={"app_label": "billing"})))
            elif "(?P<url>" in route:  # the admin's catch-all for unknown admin paths
                found.append(Route(route, "/admin/gibt-es-nicht/"))
            elif (name or "").endswith("_simple_history"):  # one historical version of a real object
                found.append(Route(name, self._history_url(name, route)))
            elif name == "admin:stored_document":
                found += [Route(name, reverse(name, kwargs={"name": doc})) for doc in self.documents]
            else:
                found.append(
                    Route(name or route, "/" + CONVERTER.sub(lambda m, route=route: self._value(route, m), route))
                )
        return found

    @staticmethod
    def _row(model):
        """A real row of ``model``; one holding a stored document where the model has one."""
        rows = model._default_manager.order_by("pk")
        if model in (DeliveryNote, Invoice):
            rows = rows.exclude(pdf="")
        row = rows.first()
        assert row is not None, f"no {model._meta.label} row to walk its pages with: add one in World"
        return row

    def _history_url(self, name: str, route: str) -> str:
        model = _model_of(route)
        existing = model._default_manager.values("pk")
        version = model.history.filter(id__in=existing).order_by("history_id").first()
        assert version is not None, f"no {model._meta.label} row with history: add one in World"
        return reverse(name, args=[version.id, version.history_id])

    def _value(self, route: str, match) -> str:
        arg = match["name"]
        if route.startswith("admin/r/"):  # the admin's "view on site" shortcut
            return str(
                ContentType.objects.get_for_model(Invoice).pk
                if arg == "content_type_id"
                else Invoice.objects.first().pk
            )
        if route.startswith("admin/support/ticket/") and "attachment" in route:
            return str(self.attachment.ticket_id if arg == "ticket_id" else self.attachment.pk)
        if route.startswith("admin/otp_totp/totpdevice/"):
            return str(self.device.pk)
        if arg == "action":  # licence state change: revoke or block
            return "revoke"
        model = _model_of(route)
        if model is not None and arg in ("object_id", "pk", "id"):  # "id": the password change of a user
            return str(self._row(model).pk)
        return "1" if match["converter"] in ("int", None) and arg not in ("uidb64", "token", "slug") else "x"


@pytest.fixture
def world():
    return World()


def _password_only(client, user) -> None:
    # The portal's login form asks for the password only: the session it opens is not verified.
    response = client.post(reverse("portal:login"), {"username": user.username, "password": "pw-123456"})
    assert response.status_code == 302


def _assert_covers_what_the_attack_used(routes: list[Route], world: World) -> None:
    urls = {route.url for route in routes}
    names = {route.name for route in routes}
    assert len(urls) > 300  # every admin model's pages, the custom views, the portal
    for needed in (
        "admin:index",
        "admin:job_schedule",
        "admin:billing_invoice_changelist",
        "admin:billing_invoice_add",
        "admin:billing_invoice_change",
        "admin:billing_invoice_pdf",
        "admin:licensing_deliverynote_pdf",
        "admin:billing_sepabatch_export",
        "admin:support_ticket_attachment",
        "portal:password_change",
        "portal:dashboard",
    ):
        assert needed in names, needed
    for document in world.documents:
        assert reverse("admin:stored_document", kwargs={"name": document}) in urls


def test_password_only_session_of_an_enrolled_staff_member_gets_no_page(client, world):
    routes = world.routes()
    _assert_covers_what_the_attack_used(routes, world)
    _password_only(client, world.superuser)
    open_paths = {reverse(name) for name in OPEN_URL_NAMES}
    served = []
    for route in routes:
        if route.url in open_paths:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(route.url)
            expected = f"{VERIFY}?{urlencode({'next': route.url})}"
            if response.status_code != 302 or response["Location"] != expected:
                served.append(f"{method.upper()} {route.url} ({route.name}): {response.status_code}")
    assert served == [], "\n".join(served)


def test_the_open_two_factor_pages_give_a_password_only_session_nothing(client):
    user = UserFactory(username="erika", is_staff=True)
    TOTPDevice.objects.create(user=user, name="Authenticator-App", confirmed=True)
    _password_only(client, user)
    assert client.get(SETUP).context["already"] is True  # no second device to confirm
    assert client.get(reverse("security:setup-qr")).status_code == 404  # and no secret to scan
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()
    assert "sechsstelligen Code" in client.get(VERIFY).content.decode()


def test_mandatory_group_without_device_is_sent_to_enrolment_everywhere(client, world):
    StaffGroupPolicy.objects.create(group=Group.objects.get(name=roles.FINANCE), otp_required=True)
    frida = UserFactory(username="frida", is_staff=True)
    frida.groups.add(Group.objects.get(name=roles.FINANCE))
    _password_only(client, frida)
    open_paths = {reverse(name) for name in OPEN_URL_NAMES}
    let_in = [
        f"{route.url}: {response.status_code}"
        for route in world.routes()
        if route.url not in open_paths
        for response in [client.get(route.url)]
        if response.status_code != 302 or response["Location"] != SETUP
    ]
    assert let_in == [], "\n".join(let_in)
    assert client.get(SETUP).status_code == 200  # enrolment itself opens
    assert not TOTPDevice.objects.filter(user=frida, confirmed=True).exists()


def test_with_the_code_given_the_same_urls_work(client, world):
    _password_only(client, world.superuser)
    response = client.post(VERIFY, {"otp_token": token_for(world.device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"

    must_open = re.compile(
        r"_(changelist|change|add|history|pdf|attachment|export|xml)$|^admin:(index|job_schedule|app_list)$"
    )
    refused, broken = [], []
    for route in world.routes():
        if route.url in {reverse("admin:logout"), reverse("portal:logout")}:
            continue  # would end the session the walk runs in
        response = client.get(route.url)
        location = response.get("Location", "")
        if response.status_code >= 500:
            broken.append(f"{route.url}: {response.status_code}")
        elif location.startswith((VERIFY, SETUP, reverse("admin:login"))):
            refused.append(f"{route.url}: to {location}")
        elif route.name.startswith("api-v1:"):
            continue  # the partner API answers to API tokens, not to sessions (401 here, tested in api/)
        elif must_open.search(route.name) and route.name != "admin:licensing_license_add":  # the issue form
            if response.status_code not in (200, 403) or (
                response.status_code == 403 and not _add_refused_by_design(route)
            ):
                refused.append(f"{route.url} ({route.name}): {response.status_code}")
    assert broken == [] and refused == [], "\n".join(broken + refused)

    for document in world.documents:
        response = client.get(reverse("admin:stored_document", kwargs={"name": document}))
        assert response.status_code == 200 and b"".join(response.streaming_content) == FAKE_PDF, document
        assert client.get(f"/media/{document}").status_code == 404  # the old public path is gone
    assert client.get(reverse("portal:password_change")).status_code == 200


def _add_refused_by_design(route: Route) -> bool:
    """Issued documents, the job log and other records made by the system have no add form."""
    if not route.name.endswith("_add"):
        return False
    model = _model_of(route.url.lstrip("/"))
    return model is not None and not admin.site._registry[model].has_add_permission(_superuser_request())


def _superuser_request():
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True, is_active=True)
    return request
