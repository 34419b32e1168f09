"""Issuing and managing module licence keys (LIC-1…LIC-13) through the services."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from licensing import keys as keymod
from licensing.models import License, NfrLock
from licensing.selectors.licenses import newest_module_version_for_pbx, runs_without_key, version_covered
from licensing.services import licenses as svc
from licensing.tests.factories import CustomerFactory, InstallationFactory
from licensing.verifier import verify_key
from vendorportal.errors import PortalError

TODAY = date(2026, 11, 21)


def version(product, number):
    return product.versions.get(version=number)


def issue(product, installation, number="2.1", **kwargs):
    kwargs.setdefault("delivery_note", False)
    kwargs.setdefault("today", TODAY)
    return svc.license_issue(product=product, installation=installation, version=version(product, number), **kwargs)


@pytest.fixture
def inst(db):
    return InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890", pbx_users=90, user_light_licenses=10)


def test_issued_key_verifies_for_its_server_key_only(modules, inst):
    lic = issue(modules["CALLREC"], inst)
    # 90 PBX users + 10 User Light = 100 installed → tier 81-150, limit 150 (CAT-2)
    assert (lic.tier, lic.user_limit, lic.kind, lic.state) == ("81-150", 150, "purchase", "active")
    result = verify_key(
        lic.key, "ABCDE-12345-FGHIJ-67890", svc.public_keys(), module="CALLREC", today=date(2026, 11, 21)
    )
    assert result.code == "valid" and result.payload.serial == lic.serial
    assert (
        verify_key(lic.key, "ZZZZZ-12345-FGHIJ-67890", svc.public_keys(), today=date(2026, 11, 21)).code
        == "other-server-key"
    )
    assert list(lic.bindings.values_list("identifier", flat=True)) == ["ABCDE-12345-FGHIJ-67890"]


def test_portal_key_verifies_in_standalone_verifier_process(modules, inst, tmp_path):
    lic = issue(modules["CALLREC"], inst)
    pem = tmp_path / "vendor.pem"
    pem.write_bytes(keymod.public_key_pem(svc.signing_key()))
    verifier = Path(settings.BASE_DIR) / "licensing" / "verifier.py"
    blocker = "import sys; sys.modules['django'] = None; import runpy; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"

    def run(server_key):
        return subprocess.run(
            [
                sys.executable,
                "-I",
                "-c",
                blocker,
                str(verifier),
                lic.key,
                server_key,
                "--public-key",
                str(pem),
                "--module",
                "CALLREC",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    ok = run("abcde-12345-fghij-67890")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0] == "valid"
    other = run("ZZZZZ-12345-FGHIJ-67890")
    assert other.returncode == 1 and other.stdout.splitlines()[0] == "other-server-key"


def test_paid_key_locks_nfr_unlock_for_good(modules):
    nfr_vm = InstallationFactory(edition="vm", has_nfr_server_license=True)
    assert runs_without_key(nfr_vm, modules["BLACKLIST"])
    lic = issue(modules["BLACKLIST"], nfr_vm)
    assert NfrLock.objects.filter(
        license__product=modules["BLACKLIST"], identifier=nfr_vm.identifier, license=lic
    ).exists()
    svc.license_revoke(license=lic, reason="Storno gewünscht")
    # LIC-8: even after the key is revoked the NFR unlock stays blocked
    assert not runs_without_key(nfr_vm, modules["BLACKLIST"])
    # Insight Analytics never runs by NFR (LIC-7)
    assert not runs_without_key(nfr_vm, modules["INSIGHT"])


def test_demo_key_rules(modules, inst):
    lic = issue(modules["CALLREC"], inst, kind="demo")
    assert lic.valid_until == date(2026, 12, 20)  # 30 days incl. 21.11.2026
    result = verify_key(lic.key, inst.identifier, svc.public_keys(), today=date(2026, 12, 21))
    assert result.code == "expired"
    with pytest.raises(PortalError, match="keine Demo-Schlüssel"):
        issue(modules["ADSYNC"], inst, kind="demo")
    with pytest.raises(PortalError, match="03/2019"):
        issue(modules["CALLREC"], inst, "1.8", kind="demo")
    assert issue(modules["INTERCOM"], inst, kind="demo", demo_days=14).valid_until == date(2026, 12, 4)


def test_demo_refused_where_nfr_runs_the_module_or_a_paid_key_exists(modules, inst):
    nfr_vm = InstallationFactory(edition="vm", has_nfr_user_license=True)
    with pytest.raises(PortalError, match="NFR"):
        issue(modules["CALLREC"], nfr_vm, kind="demo")
    issue(modules["INTERCOM"], inst)
    with pytest.raises(PortalError, match="bereits einen bezahlten"):
        issue(modules["INTERCOM"], inst, kind="demo")


def test_refusals_write_nothing(modules, inst):
    before = License.objects.count()
    gone = InstallationFactory(decommissioned_on=date(2026, 1, 1))
    with pytest.raises(PortalError, match="außer Betrieb"):
        issue(modules["CALLREC"], gone)
    with pytest.raises(PortalError, match="nur im Abo"):
        issue(modules["TEAMSPRESENCE"], inst)
    with pytest.raises(PortalError, match="gehört nicht"):
        svc.license_issue(
            product=modules["CALLREC"],
            installation=inst,
            version=version(modules["INTERCOM"], "2.1"),
            delivery_note=False,
        )
    assert License.objects.count() == before


def test_lic9_redundancy_one_key_for_two_server_keys_from_08_2018(modules):
    customer = CustomerFactory()
    primary = InstallationFactory(customer=customer, identifier="PRIMA-11111-AAAAA-00001")
    secondary = InstallationFactory(customer=customer, identifier="SECON-22222-BBBBB-00002", secondary_of=primary)
    lic = issue(modules["INTERCOM"], primary, also_installations=[secondary])
    for sk in (primary.identifier, secondary.identifier):
        assert verify_key(lic.key, sk, svc.public_keys(), today=date(2026, 11, 21)).code == "valid"
    with pytest.raises(PortalError, match="vor 08/2018"):
        issue(modules["INTERCOM"], primary, "1.8", also_installations=[secondary])


def test_lic4_paid_update_coverage(modules, inst):
    callrec = modules["CALLREC"]
    old = issue(callrec, inst, "1.8")
    covered, lic = version_covered(installation=inst, product=callrec, target_version="2.1")
    assert not covered and lic.module_version.version == "1.8"  # jump over paid 2.0
    new = issue(callrec, inst, "2.0", replaces=old)  # the paid update's key replaces the old one (ORD-6)
    old.refresh_from_db()
    assert (old.state, new.replaces) == ("revoked", old)
    assert f"Lizenz Nr. {new.serial}" in old.state_reason
    covered, lic = version_covered(installation=inst, product=callrec, target_version="2.1")
    assert covered and lic.module_version.version == "2.0"
    assert version_covered(installation=inst, product=callrec, target_version="1.8")[0]


def test_lic5_newest_version_for_pbx(modules):
    callrec = modules["CALLREC"]
    assert newest_module_version_for_pbx(callrec, "8.2.0.5").version == "2.1"
    assert newest_module_version_for_pbx(callrec, "7.3.0.10").version == "2.0"
    assert newest_module_version_for_pbx(callrec, "9.0.0.4") is None  # not tested (yet)


def test_state_machine(modules, inst):
    sub = issue(modules["CALLREC"], inst, kind="subscription", subscription_reference="ABO-1")
    purchase = issue(modules["INTERCOM"], inst)
    with pytest.raises(PortalError, match="nur Abo-Schlüssel"):
        svc.license_block(license=purchase, reason="Abo beendet")
    assert svc.subscription_keys_block(subscription_reference="ABO-1", reason="Abo zum 30.11. beendet") == 1
    sub.refresh_from_db()
    assert sub.state == "blocked" and sub.state_reason == "Abo zum 30.11. beendet"
    svc.license_revoke(license=sub, reason="Korrektur")
    with pytest.raises(PortalError, match="widerrufen"):
        svc.license_unblock(license=sub, reason="versehentlich")
    with pytest.raises(PortalError, match="Grund"):
        svc.license_revoke(license=purchase, reason=" ")
    assert [h.state for h in sub.history.order_by("history_date")] == ["active", "blocked", "revoked"]


def test_lic10_move_with_proof_issues_goodwill_and_revokes(modules, inst, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    old_keys = [issue(modules["CALLREC"], inst), issue(modules["INTERCOM"], inst)]
    new = InstallationFactory(customer=inst.customer, edition="vm", identifier="NEWVM-12345-FGHIJ-67890", pbx_users=100)
    result = svc.installation_move(
        old=inst, new=new, proof=ContentFile(b"%PDF STARFACE", name="bestaetigung.pdf"), today=TODAY
    )
    assert len(result.new_licenses) == 2
    by_replaced = {lic.replaces_id: lic for lic in result.new_licenses}
    for old_lic in old_keys:
        new_lic = by_replaced[old_lic.pk]
        old_lic.refresh_from_db()
        assert old_lic.state == "revoked"
        assert (new_lic.kind, new_lic.replaces_id, new_lic.tier, new_lic.module_version_id) == (
            "goodwill",
            old_lic.pk,
            old_lic.tier,
            old_lic.module_version_id,
        )
        assert verify_key(new_lic.key, new.identifier, svc.public_keys(), today=date(2026, 11, 21)).code == "valid"
    inst.refresh_from_db()
    assert inst.decommissioned_on == TODAY and inst.decommission_proof.name.endswith(".pdf")


def test_lic10_move_without_proof_changes_nothing(modules, inst):
    lic = issue(modules["CALLREC"], inst)
    new = InstallationFactory(customer=inst.customer, identifier="NEWVM-12345-FGHIJ-67890")
    with pytest.raises(PortalError, match="Neukauf"):
        svc.installation_move(old=inst, new=new, today=TODAY)
    lic.refresh_from_db()
    inst.refresh_from_db()
    assert lic.state == "active" and inst.decommissioned_on is None
    assert License.objects.count() == 1


def test_lic10_free_edition_no_transfer(modules):
    free = InstallationFactory(edition="free", identifier_kind="hardware_id", identifier="3F9A-77C1-D2E4-0B6A")
    issue(modules["CALLREC"], free, tier="1-20")
    new = InstallationFactory(
        customer=free.customer, edition="free", identifier_kind="hardware_id", identifier="4F9A-77C1-D2E4-0B6A"
    )
    with pytest.raises(PortalError, match="neues System"):
        svc.installation_move(old=free, new=new, proof=b"x", today=TODAY)


def test_lic11_transfer_with_same_server_key(modules, inst):
    lic = issue(modules["CALLREC"], inst)
    buyer = CustomerFactory(partner=inst.customer.partner)
    svc.installation_transfer(installation=inst, customer=buyer)
    lic.refresh_from_db()
    assert lic.installation.customer == buyer and lic.state == "active"
    other = InstallationFactory(customer=buyer)
    with pytest.raises(PortalError, match="Neukauf"):
        svc.license_transfer_to_other_installation(license=lic, installation=other)


def test_lic13_insight_own_use_refund(modules):
    from decimal import Decimal

    partner_vm = InstallationFactory(edition="vm", pbx_users=30)  # 21-40
    partner = partner_vm.customer.partner
    own = svc.insight_own_use_register(
        license=issue(modules["INSIGHT"], partner_vm), purchased_on=TODAY, price_paid=Decimal("1920.00")
    )
    sale1 = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=15)
    issue(modules["INSIGHT"], sale1)
    assert not svc.insight_refund_due(own)  # 20 < 40
    with pytest.raises(PortalError, match="noch nicht fällig"):
        svc.insight_refund_mark(own_use=own, on=TODAY)
    sale2 = InstallationFactory(customer=CustomerFactory(partner=partner), pbx_users=12)
    issue(modules["INSIGHT"], sale2)
    assert svc.insight_refund_due(own)  # 20 + 20 = 40 ≥ 40
    svc.insight_refund_mark(own_use=own, on=TODAY)
    own.refresh_from_db()
    assert own.refunded_on == TODAY and not svc.insight_refund_due(own)


@pytest.mark.parametrize(
    "case, verdict",
    [
        ("valid", "valid"),
        ("server-key", "server-key-entered"),
        ("other-server", "other-server-key"),
        ("typo", "mistyped"),
        ("other-module", "other-module"),
        ("expired", "expired"),
        ("paid-update", "paid-update-needed"),
    ],
)
def test_lic3_diagnosis(modules, inst, case, verdict):
    purchase = issue(modules["CALLREC"], inst, "1.8")
    demo = issue(modules["INTERCOM"], inst, kind="demo")
    key, server, module, installed, today = purchase.key, inst.identifier, "CALLREC", None, TODAY
    if case == "server-key":
        key = inst.identifier
    elif case == "other-server":
        server = "OTHER-12345-FGHIJ-67890"
    elif case == "typo":
        key = key[:-3] + ("0" if key[-3] != "0" else "1") + key[-2:]
    elif case == "other-module":
        module = "INTERCOM"
    elif case == "expired":
        key, module, today = demo.key, "INTERCOM", date(2027, 1, 1)
    elif case == "paid-update":
        installed = "2.1"  # 1.8 → 2.1 jumps over the paid 2.0
    diagnosis = svc.license_diagnose(
        key_text=key, identifier=server, module_code=module, installed_version=installed, today=today
    )
    assert diagnosis.verdict == verdict
    assert diagnosis.message
    if case == "other-module":
        assert "Call Recording" in diagnosis.message and "Intercom" in diagnosis.message
    if case == "paid-update":
        assert "1.8" in diagnosis.message and "2.0" in diagnosis.message


def test_a_malformed_server_key_is_named_as_such(modules, inst):
    # Issue 21: "OTHER-1234-…" (a group of four) is no server key at all — the self-check says
    # so instead of "belongs to another server key"; a well-formed other key still gets that.
    purchase = issue(modules["CALLREC"], inst, "1.8")
    diagnosis = svc.license_diagnose(key_text=purchase.key, identifier="OTHER-1234-FGHIJ-67890", today=TODAY)
    assert diagnosis.message.startswith("„OTHER-1234-FGHIJ-67890“ ist kein Serverlizenzschlüssel.")
    assert "Modullizenzschlüssel selbst ist echt" in diagnosis.message
    other = svc.license_diagnose(key_text=purchase.key, identifier="OTHER-12345-FGHIJ-67890", today=TODAY)
    assert "ist kein Serverlizenzschlüssel" not in other.message


def test_purchase_date_comes_from_the_portal_clock(modules, inst, clock):
    # ORD-7's time discount and SUB-8's retroactive booking read the purchase date
    # (issue 16): a key issued while the clock says 22.05.2026 was bought that day, not on
    # the day the test machine runs — also through bulk_create, which auto_now_add overrode.
    from django.utils import timezone

    clock.set(date(2026, 5, 22))
    lic = issue(modules["CALLREC"], inst, today=date(2026, 5, 22))
    lic.refresh_from_db()
    assert timezone.localdate(lic.issued_at) == date(2026, 5, 22)
    clock.set(date(2026, 11, 21))
    later = InstallationFactory(identifier="ZZZZZ-12345-FGHIJ-67890")
    assert timezone.localdate(later.created_at) == date(2026, 11, 21)
