"""Custom admin views and actions check the permission their effect needs (STYLE 15, issue 8):
one test per staff group (sales, finance, support — created by the migrations from
``vendorportal.roles``), and unknown ids answer 404, not 500."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licensing.models import DeliveryNote, InsightOwnUse, Installation, License, MaintenanceNotice
from licensing.services import licenses as svc
from licensing.tests.factories import (
    CustomerFactory,
    InstallationFactory,
    PartnerFactory,
    UserFactory,
    book,
    make_system,
)
from vendorportal import roles

pytestmark = pytest.mark.django_db

SALES, FINANCE, SUPPORT = roles.SALES, roles.FINANCE, roles.SUPPORT


@pytest.fixture
def as_group(client):
    """Log in a staff member of one group (or of none, with ``None``)."""

    def login(group: str | None):
        user = UserFactory(username=f"staff-{group or 'none'}", is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        return client

    return login


@pytest.fixture
def inst(db):
    return InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890", pbx_users=30)


def issue(modules, inst, article="CALLREC", **kw):
    product = modules[article]
    kw.setdefault("delivery_note", False)
    return svc.license_issue(product=product, installation=inst, version=product.versions.get(version="2.1"), **kw)


# --- moving an installation: add licence + change installation ------------------------------


@pytest.mark.parametrize("group, status", [(SALES, 200), (FINANCE, 403), (SUPPORT, 403)])
def test_move_page_opens_only_for_who_may_issue_and_decommission(as_group, inst, group, status):
    assert as_group(group).get(reverse("admin:licensing_installation_move", args=[inst.pk])).status_code == status


@pytest.mark.parametrize("group, status", [(SALES, 302), (FINANCE, 403), (SUPPORT, 403)])
def test_move_with_proof_is_carried_out_only_by_sales(as_group, modules, inst, group, status):
    old_key = issue(modules, inst)
    new = InstallationFactory(customer=inst.customer, identifier="NEWVM-12345-FGHIJ-67890")
    proof = SimpleUploadedFile("bestaetigung.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    response = as_group(group).post(
        reverse("admin:licensing_installation_move", args=[inst.pk]), {"new_installation": new.pk, "proof": proof}
    )
    assert response.status_code == status
    old_key.refresh_from_db()
    inst.refresh_from_db()
    moved = status == 302
    assert (old_key.state == "revoked") is moved
    assert (inst.decommissioned_on is not None) is moved
    assert License.objects.filter(installation=new, kind="goodwill").count() == (1 if moved else 0)


@pytest.mark.parametrize("group, offered", [(SALES, True), (FINANCE, False), (SUPPORT, False)])
def test_installation_page_offers_the_move_only_to_who_may_move(as_group, inst, group, offered):
    page = as_group(group).get(reverse("admin:licensing_installation_change", args=[inst.pk])).content.decode()
    assert (reverse("admin:licensing_installation_move", args=[inst.pk]) in page) is offered


@pytest.mark.parametrize("group", [SALES, None])
def test_move_of_unknown_installation_is_404(as_group, admin_client, group):
    client = as_group(group) if group else admin_client
    assert client.get(reverse("admin:licensing_installation_move", args=[999999])).status_code == 404


def test_move_of_an_auerswald_system_is_404(admin_client):
    system = make_system()
    assert admin_client.get(reverse("admin:licensing_installation_move", args=[system.pk])).status_code == 404


# --- issue form and revoke/block: add / change licence ---------------------------------------


@pytest.mark.parametrize("group, status", [(SALES, 200), (FINANCE, 403), (SUPPORT, 403)])
def test_issue_form_only_for_who_may_add_licences(as_group, modules, group, status):
    assert as_group(group).get(reverse("admin:licensing_license_issue")).status_code == status


@pytest.mark.parametrize("group, status", [(SALES, 302), (FINANCE, 403), (SUPPORT, 403)])
def test_posting_the_issue_form_without_the_permission_issues_nothing(as_group, modules, inst, group, status):
    callrec = modules["CALLREC"]
    response = as_group(group).post(
        reverse("admin:licensing_license_issue"),
        {
            "product": callrec.pk,
            "installation": inst.pk,
            "version": callrec.versions.get(version="2.1").pk,
            "kind": "purchase",
            "request_token": "0" * 32,
        },
    )
    assert response.status_code == status
    assert License.objects.count() == (1 if status == 302 else 0)


@pytest.mark.parametrize("group, status", [(SALES, 302), (FINANCE, 403), (SUPPORT, 403)])
def test_revoke_only_for_who_may_change_licences(as_group, modules, inst, group, status):
    lic = issue(modules, inst)
    url = reverse("admin:licensing_license_state", args=["revoke"]) + f"?ids={lic.pk}"
    response = as_group(group).post(url, {"reason": "Korrektur"})
    assert response.status_code == status
    lic.refresh_from_db()
    assert lic.state == ("revoked" if status == 302 else "active")


@pytest.mark.parametrize("group, status", [(SALES, 302), (FINANCE, 403), (SUPPORT, 403)])
def test_block_only_for_who_may_change_licences(as_group, modules, inst, group, status):
    lic = issue(modules, inst, kind="subscription", subscription_reference="ABO-7")
    url = reverse("admin:licensing_license_state", args=["block"]) + f"?ids={lic.pk}"
    assert as_group(group).post(url, {"reason": "Abo beendet"}).status_code == status
    lic.refresh_from_db()
    assert lic.state == ("blocked" if status == 302 else "active")


def test_unknown_state_action_is_404(admin_client):
    assert admin_client.get(reverse("admin:licensing_license_state", args=["delete"])).status_code == 404


@pytest.mark.parametrize("group, sent", [(SALES, True), (FINANCE, True), (SUPPORT, True), (None, False)])
def test_resend_from_licence_list_for_who_may_see_delivery_notes(as_group, modules, inst, group, sent):
    lic = issue(modules, inst, delivery_note=True)
    response = as_group(group).post(
        reverse("admin:licensing_license_changelist"),
        {"action": "resend_delivery_notes", "_selected_action": [lic.pk]},
        follow=True,
    )
    if not sent:
        assert response.status_code == 403
        return
    assert "1 Lieferschein wird erneut gesendet." in [str(m) for m in response.context["messages"]]


# --- delivery note PDF and resend: view delivery note ----------------------------------------


@pytest.mark.parametrize("group, status", [(SALES, 200), (FINANCE, 200), (SUPPORT, 200), (None, 403)])
def test_delivery_note_pdf_for_who_may_see_delivery_notes(as_group, modules, inst, group, status):
    lic = issue(modules, inst, delivery_note=True)
    note = DeliveryNote.objects.get(licenses=lic)
    note.pdf.save(f"{note.number}.pdf", ContentFile(b"%PDF-1.4 Lieferschein"), save=True)
    response = as_group(group).get(reverse("admin:licensing_deliverynote_pdf", args=[note.pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == b"%PDF-1.4 Lieferschein"


def test_delivery_note_pdf_of_unknown_note_is_404(as_group):
    assert as_group(SUPPORT).get(reverse("admin:licensing_deliverynote_pdf", args=[424242])).status_code == 404


# --- Insight own-use refunds: change own use -------------------------------------------------


@pytest.mark.parametrize("group, status", [(SALES, 302), (FINANCE, 302), (SUPPORT, 403)])
def test_insight_refund_only_for_who_may_change_own_uses(as_group, modules, clock, group, status):
    clock.set(date(2026, 11, 21))
    partner = PartnerFactory()
    own_inst = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=30)  # own tier 21-40
    own = InsightOwnUse.objects.create(
        partner=partner,
        license=issue(modules, own_inst, "INSIGHT"),
        purchased_on=date(2026, 1, 15),
        price_paid="960.00",
    )
    # one customer sale of tier 21-40: 40 ≥ 40, so the refund is due (LIC-13)
    issue(modules, InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=25), "INSIGHT")
    response = as_group(group).post(
        reverse("admin:licensing_insightownuse_changelist"), {"action": "mark_refunded", "_selected_action": [own.pk]}
    )
    assert response.status_code == status
    own.refresh_from_db()
    assert own.refunded_on == (date(2026, 11, 21) if status == 302 else None)


# --- Auerswald systems: quote = change system, notices = add notice, manual SWP = add coverage --


@pytest.fixture
def expiring_system(db, clock):
    clock.set(date(2026, 11, 21))
    system = make_system(customer=CustomerFactory(partner=PartnerFactory(delivery_email="technik@muster.test")))
    book(system, start=date(2025, 12, 11), end=date(2026, 12, 10), users=8)  # ends in 19 days
    return system


@pytest.mark.parametrize("group, sent", [(SALES, 1), (SUPPORT, 1), (FINANCE, 0)])
def test_renewal_quote_only_for_who_may_change_systems(as_group, expiring_system, prices, settings, group, sent):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    as_group(group).post(
        reverse("admin:licensing_auerswaldsystem_changelist"),
        {"action": "send_renewal_quote", "_selected_action": [expiring_system.pk]},
    )
    assert len(mail.outbox) == sent


@pytest.mark.parametrize("group", [SALES, SUPPORT, FINANCE])
def test_notice_check_needs_the_permission_to_add_notices(as_group, expiring_system, settings, group):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    as_group(group).post(
        reverse("admin:licensing_auerswaldsystem_changelist"),
        {"action": "check_maintenance_notices", "_selected_action": [expiring_system.pk]},
    )
    assert not MaintenanceNotice.objects.exists() and mail.outbox == []


def test_notice_check_runs_for_a_superuser(admin_client, expiring_system, settings, send_outbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin_client.post(
        reverse("admin:licensing_auerswaldsystem_changelist"),
        {"action": "check_maintenance_notices", "_selected_action": [expiring_system.pk]},
    )
    # 19 days left: the 21-day reminder (SWP-8), one mail to the partner
    assert list(MaintenanceNotice.objects.values_list("kind", flat=True)) == ["remind_21"]
    assert send_outbox() == 1 and len(mail.outbox) == 1


@pytest.mark.parametrize("group, status", [(SALES, 200), (FINANCE, 403), (SUPPORT, 403)])
def test_manual_coverage_form_only_for_who_may_add_coverage(as_group, group, status):
    assert as_group(group).get(reverse("admin:licensing_maintenancecoverage_add")).status_code == status


def test_unknown_installation_change_page_is_not_a_500(admin_client):
    response = admin_client.get(reverse("admin:licensing_installation_change", args=[999999]))
    assert response.status_code in (302, 404)
    assert not Installation.objects.filter(pk=999999).exists()


def test_resend_from_licence_list_of_a_revoked_key_says_why_instead_of_a_500(admin_client, modules, inst):
    lic = issue(modules, inst, delivery_note=True)
    License.objects.filter(pk=lic.pk).update(state=License.REVOKED)
    response = admin_client.post(
        reverse("admin:licensing_license_changelist"),
        {"action": "resend_delivery_notes", "_selected_action": [lic.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("wird nicht erneut gesendet" in m and "widerrufen" in m for m in shown), shown
    assert not any("werden erneut gesendet" in m for m in shown)
