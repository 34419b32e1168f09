"""Staff admin for licences: issue form, key-fragment search, revoke/block with reason, move."""

import pytest
from django.urls import reverse

from licensing.models import License
from licensing.services import licenses as svc
from licensing.tests.factories import InstallationFactory


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def inst(db):
    return InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890", pbx_users=30)


def issue(modules, inst, article="CALLREC", **kw):
    product = modules[article]
    return svc.license_issue(
        product=product, installation=inst, version=product.versions.get(version="2.1"), delivery_note=False, **kw
    )


def test_issue_form_issues_key_with_delivery_note(
    staff, modules, inst, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    callrec = modules["CALLREC"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:licensing_license_issue"),
            {
                "product": callrec.pk,
                "installation": inst.pk,
                "version": callrec.versions.get(version="2.1").pk,
                "kind": "purchase",
                "request_token": "1" * 32,
            },
        )
    assert response.status_code == 302
    lic = License.objects.get()
    assert (lic.tier, lic.issued_by.username) == ("21-40", "admin")
    assert lic.delivery_notes.count() == 1
    assert len(mailoutbox) == 1 and lic.key in mailoutbox[0].body
    assert mailoutbox[0].to == [inst.customer.partner.delivery_email]


def test_issue_form_refusal_is_shown_and_writes_nothing(staff, modules, inst):
    adsync = modules["ADSYNC"]
    response = staff.post(
        reverse("admin:licensing_license_issue"),
        {
            "product": adsync.pk,
            "installation": inst.pk,
            "version": adsync.versions.get(version="2.1").pk,
            "kind": "demo",
            "request_token": "2" * 32,
        },
    )
    assert response.status_code == 200
    assert "keine Demo-Schlüssel" in response.content.decode()
    assert not License.objects.exists()


def test_search_by_key_fragment_without_dashes_and_lower_case(staff, modules, inst):
    wanted = issue(modules, inst)
    issue(modules, InstallationFactory(), "INTERCOM")
    fragment = wanted.key.replace("-", "")[10:22].lower()
    result = staff.get(reverse("admin:licensing_license_changelist"), {"q": fragment}).context["cl"].result_list
    assert list(result) == [wanted]
    by_server_key = (
        staff.get(reverse("admin:licensing_license_changelist"), {"q": "ABCDE-12345"}).context["cl"].result_list
    )
    assert list(by_server_key) == [wanted]


def test_revoke_action_asks_for_reason_then_revokes(staff, modules, inst):
    lic = issue(modules, inst)
    changelist = reverse("admin:licensing_license_changelist")
    response = staff.post(changelist, {"action": "revoke_selected", "_selected_action": [lic.pk]})
    assert response.status_code == 302
    form_url = response["Location"]
    assert staff.post(form_url, {"reason": ""}).status_code == 200  # reason required
    lic.refresh_from_db()
    assert lic.state == "active"
    staff.post(form_url, {"reason": "Korrektur: falsche Version"})
    lic.refresh_from_db()
    assert (lic.state, lic.state_reason) == ("revoked", "Korrektur: falsche Version")


def test_block_action_refuses_purchase_keys_with_message(staff, modules, inst):
    lic = issue(modules, inst)
    url = reverse("admin:licensing_license_state", args=["block"]) + f"?ids={lic.pk}"
    response = staff.post(url, {"reason": "Abo beendet"}, follow=True)
    assert "nur Abo-Schlüssel" in response.content.decode()
    lic.refresh_from_db()
    assert lic.state == "active"


def test_license_cannot_be_edited_or_deleted(staff, modules, inst):
    lic = issue(modules, inst)
    url = reverse("admin:licensing_license_change", args=[lic.pk])
    assert staff.get(url).status_code == 200
    staff.post(url, {"key": "AAAAA"})
    lic.refresh_from_db()
    assert lic.key.startswith(lic.key[:5]) and lic.key != "AAAAA"
    assert staff.post(reverse("admin:licensing_license_delete", args=[lic.pk]), {"post": "yes"}).status_code == 403
    assert License.objects.filter(pk=lic.pk).exists()


def test_move_without_proof_shows_new_purchase_and_keeps_keys(staff, modules, inst):
    lic = issue(modules, inst)
    new = InstallationFactory(customer=inst.customer, identifier="NEWVM-12345-FGHIJ-67890")
    response = staff.post(reverse("admin:licensing_installation_move", args=[inst.pk]), {"new_installation": new.pk})
    assert response.status_code == 200 and "Neukauf" in response.content.decode()
    lic.refresh_from_db()
    assert lic.state == "active"
