"""A paid key is issued once (ORD-6, STYLE 14, issue 8): double submits, re-runs, the same
order and concurrent issues each end with one active paid key; moves keep a key's limits
(LIC-10). The concurrent tests use real separate connections: on PostgreSQL they show the
constraint holding between transactions; on SQLite they run serialised and still pass."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from licensing.models import DeliveryNote, IssueClaim, License
from licensing.services import licenses as svc
from licensing.tests.factories import InstallationFactory, UserFactory
from licensing.verifier import verify_key
from vendorportal.errors import PortalError

pytestmark = pytest.mark.django_db

ORD6 = "Staffel-Upgrade bestellen; "


@pytest.fixture
def inst(db):
    return InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890", pbx_users=30)


def issue(modules, inst, article="CALLREC", **kw):
    product = modules[article]
    kw.setdefault("delivery_note", False)
    return svc.license_issue(product=product, installation=inst, version=product.versions.get(version="2.1"), **kw)


def form_data(modules, inst, token="a" * 32, **extra):
    callrec = modules["CALLREC"]
    return {
        "product": callrec.pk,
        "installation": inst.pk,
        "version": callrec.versions.get(version="2.1").pk,
        "kind": "purchase",
        "request_token": token,
        **extra,
    }


# --- services ------------------------------------------------------------------------------


def test_second_active_paid_key_is_refused_with_the_way_forward(modules, inst):
    first = issue(modules, inst)
    for kind in ("purchase", "subscription"):
        with pytest.raises(PortalError) as refused:
            issue(modules, inst, kind=kind)
        assert refused.value.code == "paid_key_exists"
        assert f"Lizenz Nr. {first.serial}" in refused.value.message and ORD6 in refused.value.message
        assert "Umzug mit Kulanzschlüssel" in refused.value.message
    assert License.objects.count() == 1
    # other modules, unpaid kinds and other installations are not affected
    issue(modules, inst, "INTERCOM")
    issue(modules, InstallationFactory(), "CALLREC")
    issue(modules, inst, kind="goodwill")
    assert License.objects.filter(product__article="CALLREC", installation=inst).count() == 2


def test_a_revoked_or_blocked_paid_key_makes_room_for_a_new_one(modules, inst):
    sub = issue(modules, inst, kind="subscription", subscription_reference="ABO-1")
    svc.license_block(license=sub, reason="Abo beendet")
    bought = issue(modules, inst)
    svc.license_revoke(license=bought, reason="Korrektur")
    issue(modules, inst)
    assert License.objects.filter(state="active").count() == 1


def test_unblocking_beside_a_newer_paid_key_is_refused(modules, inst):
    sub = issue(modules, inst, kind="subscription", subscription_reference="ABO-2")
    svc.license_block(license=sub, reason="Abo beendet")
    bought = issue(modules, inst)
    with pytest.raises(PortalError, match=f"Lizenz Nr. {bought.serial}"):
        svc.license_unblock(license=sub, reason="doch weiter")
    sub.refresh_from_db()
    assert sub.state == "blocked"


def test_the_database_refuses_a_second_active_paid_key_even_past_the_service(modules, inst):
    from django.db import IntegrityError, transaction

    first = issue(modules, inst)
    twin = License(
        serial=first.serial + 1,
        product=first.product,
        module_version=first.module_version,
        installation=inst,
        kind="purchase",
        tier=first.tier,
        key=first.key + "X",
        key_compact="X",
        signing_key_id=1,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_same_module_twice_in_one_order_is_refused(modules, inst):
    callrec = modules["CALLREC"]
    line = svc.IssueRequest(product=callrec, installation=inst, version=callrec.versions.get(version="2.1"))
    with pytest.raises(PortalError, match="zweimal als bezahlter Schlüssel"):
        svc.licenses_issue(requests=[line, line], delivery_note=False)
    assert not License.objects.exists()


def test_an_order_reference_issues_once(modules, inst):
    first = issue(modules, inst, order_reference="B-2026-0042")
    with pytest.raises(PortalError) as refused:
        # even for another module: the order was carried out
        issue(modules, inst, "INTERCOM", order_reference=" B-2026-0042")
    assert refused.value.code == "order_already_issued"
    assert refused.value.message == (
        f"Zur Bestellung B-2026-0042 wurden bereits Schlüssel ausgestellt (Lizenz Nr. {first.serial}). "
        "Eine Bestellung wird nur einmal ausgestellt."
    )
    assert License.objects.count() == 1
    assert list(IssueClaim.objects.values_list("claim", flat=True)) == ["order:B-2026-0042"]


def test_one_order_may_issue_several_modules_at_once(modules, inst):
    lines = [
        svc.IssueRequest(
            product=modules[a], installation=inst, version=modules[a].versions.get(version="2.1"), order_reference="B-7"
        )
        for a in ("CALLREC", "INTERCOM")
    ]
    issued = svc.licenses_issue(requests=lines, delivery_note=False)
    assert set(IssueClaim.objects.get().licenses.all()) == set(issued)


def test_order_reference_longer_than_the_field_is_refused(modules, inst):
    with pytest.raises(PortalError, match="Die Bestellnummer ist zu lang \\(höchstens 64 Zeichen\\)"):
        issue(modules, inst, order_reference="B" * 65)
    assert not License.objects.exists() and not IssueClaim.objects.exists()


def test_redundancy_key_equal_to_the_primary_is_refused_in_german(modules, inst):
    with pytest.raises(PortalError) as refused:
        issue(modules, inst, also_installations=[inst])
    assert refused.value.code == "duplicate_binding"
    assert "ABCDE-12345-FGHIJ-67890 ist doppelt angegeben" in refused.value.message
    assert not License.objects.exists()


def test_paid_update_key_replaces_the_old_paid_key(modules, inst):
    old = svc.license_issue(
        product=modules["CALLREC"],
        installation=inst,
        version=modules["CALLREC"].versions.get(version="1.8"),
        delivery_note=False,
    )
    new = issue(modules, inst, replaces=old)
    old.refresh_from_db()
    assert (old.state, new.state, new.replaces_id) == ("revoked", "active", old.pk)


# --- admin form: one-time token ---------------------------------------------------------------


def test_issue_form_carries_a_fresh_one_time_token(admin_client, modules):
    first = admin_client.get(reverse("admin:licensing_license_issue")).context["form"]["request_token"].value()
    second = admin_client.get(reverse("admin:licensing_license_issue")).context["form"]["request_token"].value()
    assert len(first) == 32 and first != second


def test_double_submit_issues_once_and_shows_the_issued_key(admin_client, modules, inst):
    url = reverse("admin:licensing_license_issue")
    first = admin_client.post(url, form_data(modules, inst))
    lic = License.objects.get()
    assert first["Location"] == reverse("admin:licensing_license_change", args=[lic.pk])
    second = admin_client.post(url, form_data(modules, inst), follow=True)
    assert second.redirect_chain[-1][0] == reverse("admin:licensing_license_change", args=[lic.pk])
    assert (
        f"Dieses Formular wurde bereits abgeschickt; dabei wurde Lizenz Nr. {lic.serial} ausgestellt."
        in second.content.decode()
    )
    assert License.objects.count() == 1 and DeliveryNote.objects.count() == 1


def test_a_new_form_for_the_same_paid_key_shows_the_ord6_refusal(admin_client, modules, inst):
    url = reverse("admin:licensing_license_issue")
    admin_client.post(url, form_data(modules, inst, token="a" * 32))
    response = admin_client.post(url, form_data(modules, inst, token="b" * 32))
    assert response.status_code == 200 and ORD6 in response.content.decode()
    assert License.objects.count() == 1


@pytest.mark.parametrize("token", ["", "../../etc", "A" * 32])
def test_issue_form_without_a_valid_token_issues_nothing(admin_client, modules, inst, token):
    response = admin_client.post(reverse("admin:licensing_license_issue"), form_data(modules, inst, token=token))
    assert response.status_code == 200 and not License.objects.exists()


def test_issue_form_refuses_the_primary_as_its_own_redundancy_key(admin_client, modules, inst):
    response = admin_client.post(
        reverse("admin:licensing_license_issue"), form_data(modules, inst, also_installations=[inst.pk])
    )
    assert response.status_code == 200
    assert "ist die Primäranlage selbst" in response.content.decode()
    assert not License.objects.exists()


# --- concurrency: separate connections, one winner --------------------------------------------


def _race(n, work):
    """Run ``work(i)`` in n threads released at once; each thread has its own DB connection."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", work(i))
        except PortalError as exc:
            results[i] = (exc.code, exc.message)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            results[i] = ("crash", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_token", [True, False])
def test_five_parallel_issues_make_one_paid_key(modules, same_token):
    inst = InstallationFactory(identifier="PARAL-12345-FGHIJ-67890", pbx_users=30)
    svc.signing_key()  # created once, before the race
    results = _race(5, lambda i: issue(modules, inst, request_token="c" * 32 if same_token else f"{i:032x}").pk)
    outcomes = sorted(code for code, _detail in results)
    expected_refusal = "form_already_used" if same_token else "paid_key_exists"
    assert outcomes == sorted(["ok"] + [expected_refusal] * 4), results
    assert License.objects.filter(installation=inst, state="active").count() == 1


@pytest.mark.django_db(transaction=True)
def test_five_parallel_admin_posts_issue_one_key_and_one_delivery_note(modules):
    from django.test import Client

    from vendorportal.models import OutboxMessage

    inst = InstallationFactory(identifier="POSTS-12345-FGHIJ-67890", pbx_users=30)
    admin = UserFactory(username="chef", is_staff=True, is_superuser=True)
    svc.signing_key()
    clients = [Client() for _ in range(5)]
    for c in clients:
        c.force_login(admin)
    data = form_data(modules, inst, token="d" * 32)
    responses = _race(5, lambda i: clients[i].post(reverse("admin:licensing_license_issue"), data))
    assert [code for code, _r in responses] == ["ok"] * 5
    lic = License.objects.get(installation=inst)
    change_page = reverse("admin:licensing_license_change", args=[lic.pk])
    # every click ends on the one key issued, none in an error page
    assert [r.status_code for _c, r in responses] == [302] * 5
    assert {r["Location"] for _c, r in responses} == {change_page}
    note = DeliveryNote.objects.get(licenses=lic)
    # one e-mail for the one note, written with it (the outbox's row)
    assert list(OutboxMessage.objects.filter(kind="delivery-note").values_list("document_id", flat=True)) == [note.pk]


@pytest.mark.django_db(transaction=True)
def test_parallel_runs_with_the_same_order_issue_once(modules):
    inst = InstallationFactory(identifier="ORDER-12345-FGHIJ-67890", pbx_users=30)
    svc.signing_key()
    articles = ["CALLREC", "INTERCOM", "ADSYNC", "BLACKLIST", "HOLIDAY"]
    results = _race(5, lambda i: issue(modules, inst, articles[i], order_reference="B-RACE-1").pk)
    assert sorted(code for code, _d in results) == sorted(["ok"] + ["order_already_issued"] * 4), results
    assert License.objects.filter(order_reference="B-RACE-1").count() == 1


# --- moving keeps the limits of the replaced key (LIC-10) ------------------------------------


def test_moved_demo_keeps_its_expiry_day(modules, inst, clock):
    clock.set(date(2026, 11, 21))
    demo = issue(modules, inst, "INTERCOM", kind="demo", demo_days=5, today=date(2026, 11, 21))
    assert demo.valid_until == date(2026, 11, 25)  # 5 days including the issue day (LIC-6)
    new = InstallationFactory(customer=inst.customer, identifier="NEWVM-12345-FGHIJ-67890")
    result = svc.installation_move(old=inst, new=new, proof="proof.pdf", today=date(2026, 11, 22))  # day 2
    (replacement,) = result.new_licenses
    assert (replacement.kind, replacement.valid_until, replacement.replaces_id) == (
        "goodwill",
        date(2026, 11, 25),
        demo.pk,
    )
    keys = svc.public_keys()
    assert verify_key(replacement.key, new.identifier, keys, today=date(2026, 11, 25)).code == "valid"
    assert verify_key(replacement.key, new.identifier, keys, today=date(2026, 11, 26)).code == "expired"


def test_moved_subscription_key_stays_bound_to_its_subscription(modules, inst):
    sub = issue(modules, inst, kind="subscription", subscription_reference="ABO-9")
    new = InstallationFactory(customer=inst.customer, identifier="NEWVM-12345-FGHIJ-67890")
    (replacement,) = svc.installation_move(old=inst, new=new, proof="proof.pdf").new_licenses
    assert (replacement.kind, replacement.subscription_reference, replacement.valid_until) == (
        "goodwill",
        "ABO-9",
        None,
    )
    # updates stay free while the subscription runs (LIC-12): the key passes any paid update
    result = verify_key(
        replacement.key, new.identifier, svc.public_keys(), today=date(2026, 11, 21), required_version="9.0"
    )
    assert result.code == "valid" and result.payload.subscription
    # the subscription ends: its replacement key is blocked with it
    assert svc.subscription_keys_block(subscription_reference="ABO-9", reason="Abo beendet") == 1
    replacement.refresh_from_db()
    assert replacement.state == "blocked"
    sub.refresh_from_db()
    assert sub.state == "revoked"


def test_moved_purchase_key_stays_permanent(modules, inst):
    issue(modules, inst)
    new = InstallationFactory(customer=inst.customer, identifier="NEWVM-12345-FGHIJ-67890")
    (replacement,) = svc.installation_move(old=inst, new=new, proof="proof.pdf").new_licenses
    result = verify_key(replacement.key, new.identifier, svc.public_keys(), today=date(2099, 1, 1))
    assert (result.code, replacement.valid_until, result.payload.subscription) == ("valid", None, False)
    with pytest.raises(PortalError, match="nur Abo-Schlüssel"):
        svc.license_block(license=replacement, reason="kein Abo")
