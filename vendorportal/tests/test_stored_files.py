"""Stored documents are served only by views that check rights (issue 17), never from /media/.

Before, ``/media/invoices/2026/RE-2026-000001.pdf`` served every stored invoice and delivery
note to any staff login. Now ``MEDIA_ROOT`` has no URL; staff download through
``/admin/dokumente/<name>`` with the view right on the row that holds the file, partners
through the portal's own downloads.
"""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from billing import services
from billing.models import FinanceReport, Invoice
from billing.tests.factories import make_order, make_partner
from licensing.models import Installation
from licensing.tests.factories import FAKE_PDF, InstallationFactory, PartnerUserFactory, UserFactory
from vendorportal import roles

pytestmark = pytest.mark.django_db

GROUPS = [roles.SALES, roles.FINANCE, roles.SUPPORT]


def staff(group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def invoice(modules, clock):
    """RE-2026-000001 with its stored PDF (the one the attack run downloaded)."""
    clock.set(date(2026, 11, 21))
    invoice = services.order_confirm(order=make_order(make_partner(), ("CALLREC", "purchase", 0)))
    name = default_storage.save("invoices/2026/RE-2026-000001.pdf", ContentFile(FAKE_PDF))
    Invoice.objects.filter(pk=invoice.pk).update(pdf=name)  # stored once, as the PDF task does
    invoice.refresh_from_db()
    assert invoice.number == "RE-2026-000001" and invoice.pdf.name == "invoices/2026/RE-2026-000001.pdf"
    return invoice


@pytest.fixture
def finance_report():
    report = FinanceReport(
        kind=FinanceReport.JOURNAL,
        period="2026-11",
        report_date=date(2026, 12, 1),
        document_count=3,
        gross_total="1190.00",
        created_at="2026-12-01T07:30:00+01:00",
    )
    report.pdf.save(report.filename, ContentFile(FAKE_PDF), save=True)
    return report


def document_url(name: str) -> str:
    return reverse("admin:stored_document", kwargs={"name": name})


def test_old_media_path_is_gone_for_everyone(client, invoice, admin_user):
    assert (default_storage.path(invoice.pdf.name)).endswith("media/invoices/2026/RE-2026-000001.pdf")
    old = "/media/invoices/2026/RE-2026-000001.pdf"
    assert client.get(old).status_code == 404  # anonymous
    client.force_login(PartnerUserFactory(partner=invoice.partner).user)  # even the invoice's own partner
    assert client.get(old).status_code == 404
    client.force_login(admin_user)  # and a superuser without a second factor
    assert client.get(old).status_code == 404
    assert client.get("/media/").status_code == 404


@pytest.mark.parametrize("group_name", GROUPS)
def test_every_group_with_the_view_right_downloads_the_stored_invoice(client, invoice, group_name):
    client.force_login(staff(group_name))
    response = client.get(document_url(invoice.pdf.name))
    assert response.status_code == 200 and body(response) == FAKE_PDF
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="RE-2026-000001.pdf"' in response["Content-Disposition"]


@pytest.mark.parametrize("group_name,status", [(roles.FINANCE, 200), (roles.SALES, 403), (roles.SUPPORT, 403)])
def test_finance_reports_only_for_finance(client, finance_report, group_name, status):
    client.force_login(staff(group_name))
    assert client.get(document_url(finance_report.pdf.name)).status_code == status


def test_anonymous_and_partner_logins_never_get_a_document(client, invoice):
    url = document_url(invoice.pdf.name)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    client.force_login(PartnerUserFactory(partner=invoice.partner).user)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_only_files_a_row_holds_are_served(client, invoice, admin_user, settings):
    client.force_login(admin_user)
    default_storage.save("invoices/2026/RE-2026-000002.pdf", ContentFile(b"stray"))  # no row holds it
    (settings.MEDIA_ROOT.parent / "secret_key").write_text("geheim")
    for name in ("invoices/2026/RE-2026-000002.pdf", "../secret_key", "invoices/2026/"):
        assert client.get(document_url(name)).status_code == 404, name
    # A NUL byte in a path is refused for every URL before any view (issue 17's input guard).
    assert client.get(document_url("x\x00.pdf")).status_code == 400


def test_missing_file_is_a_plain_404_not_a_500(client, invoice, admin_user):
    default_storage.delete(invoice.pdf.name)
    client.force_login(admin_user)
    response = client.get(document_url(invoice.pdf.name))
    assert response.status_code == 404
    assert "Die Datei invoices/2026/RE-2026-000001.pdf fehlt im Speicher." in response.content.decode()


def test_an_uploaded_proof_is_a_download_not_a_page(client, admin_user):
    installation = InstallationFactory()
    installation.decommission_proof.save("bestaetigung.html", ContentFile(b"<script>alert(1)</script>"), save=False)
    Installation.objects.filter(pk=installation.pk).update(decommission_proof=installation.decommission_proof.name)
    client.force_login(admin_user)
    response = client.get(document_url(installation.decommission_proof.name))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")


def test_admin_links_point_to_the_checked_view(client, finance_report, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:billing_financereport_changelist")).content.decode()
    assert f'href="{document_url(finance_report.pdf.name)}"' in page and "/media/" not in page

    installation = InstallationFactory()
    installation.decommission_proof.save("bestaetigung.pdf", ContentFile(FAKE_PDF), save=False)
    Installation.objects.filter(pk=installation.pk).update(decommission_proof=installation.decommission_proof.name)
    page = client.get(reverse("admin:licensing_installation_change", args=[installation.pk])).content.decode()
    assert f'href="{document_url(installation.decommission_proof.name)}"' in page and "/media/" not in page
