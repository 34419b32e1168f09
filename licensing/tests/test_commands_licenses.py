"""The two licence commands as an operator runs them: output lines and exit codes."""
import io

import pytest
from django.core.management import call_command

from licensing.models import DeliveryNote, License
from licensing.tests.factories import InstallationFactory


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue().splitlines(), err.getvalue()


@pytest.fixture
def inst(db):
    return InstallationFactory(identifier="ABCDE-12345-FGHIJ-67890", pbx_users=30)


def test_issue_then_check_round_trip(modules, inst):
    code, lines, _err = run("issue_license", "--module", "callrec", "--server-key", "abcde12345fghij67890", "--version", "2.1")
    assert code == 0
    key = lines[0]
    lic = License.objects.get()
    assert key == lic.key and lic.tier == "21-40"
    assert DeliveryNote.objects.filter(licenses=lic).exists()  # audited issue with delivery note

    code, lines, _err = run("license_check", key, "--server-key", "ABCDE-12345-FGHIJ-67890", "--module", "CALLREC")
    assert (code, lines[0]) == (0, "valid")
    code, lines, _err = run("license_check", key, "--server-key", "ZZZZZ-12345-FGHIJ-67890")
    assert (code, lines[0]) == (1, "other-server-key")
    assert "anderen Serverlizenzschlüssel" in lines[1]


def test_check_paid_update_and_server_key_entered(modules, inst):
    _code, lines, _err = run("issue_license", "--module", "CALLREC", "--server-key", inst.identifier, "--version", "1.8")
    key = lines[0]
    code, lines, _err = run("license_check", key, "--server-key", inst.identifier, "--installed-version", "2.1")
    assert (code, lines[0]) == (1, "paid-update-needed")
    code, lines, _err = run("license_check", inst.identifier, "--server-key", inst.identifier)
    assert (code, lines[0]) == (1, "server-key-entered")


def test_demo_key_and_expiry(modules, inst):
    code, lines, _err = run("issue_license", "--module", "INTERCOM", "--server-key", inst.identifier, "--version", "2.1", "--demo-days", "10")
    assert code == 0
    lic = License.objects.get()
    from django.utils import timezone

    # 10 days including the issue day (Europe/Berlin): the last valid day is 9 days later
    assert lic.kind == "demo" and (lic.valid_until - timezone.localtime(lic.issued_at).date()).days == 9
    code, lines, _err = run("license_check", lines[0], "--server-key", inst.identifier, "--today", "2099-01-01")
    assert (code, lines[0]) == (1, "expired")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--module", "NOPE", "--server-key", "ABCDE-12345-FGHIJ-67890", "--version", "2.1"], "Unbekanntes Modul"),
        (["--module", "CALLREC", "--server-key", "QQQQQ-12345-FGHIJ-67890", "--version", "2.1"], "Keine Installation"),
        (["--module", "CALLREC", "--server-key", "ABC", "--version", "2.1"], "vier Gruppen"),
        (["--module", "CALLREC", "--server-key", "ABCDE-12345-FGHIJ-67890", "--version", "9.9"], "keine Version"),
        (["--module", "ADSYNC", "--server-key", "ABCDE-12345-FGHIJ-67890", "--version", "2.1", "--demo-days", "30"], "keine Demo-Schlüssel"),
        (["--module", "CALLREC", "--server-key", "ABCDE-12345-FGHIJ-67890", "--version", "1.8", "--demo-days", "30"], "03/2019"),
        (["--module", "TEAMSPRESENCE", "--server-key", "ABCDE-12345-FGHIJ-67890", "--version", "2.1"], "nur im Abo"),
    ],
)
def test_refusals_exit_2_and_write_nothing(modules, inst, args, message):
    code, lines, err = run("issue_license", *args)
    assert code == 2
    assert message in err and not lines
    assert not License.objects.exists() and not DeliveryNote.objects.exists()


def test_decommissioned_installation_refused(modules):
    from datetime import date

    InstallationFactory(identifier="OLDSV-12345-FGHIJ-67890", decommissioned_on=date(2026, 1, 31))
    code, _lines, err = run("issue_license", "--module", "CALLREC", "--server-key", "OLDSV-12345-FGHIJ-67890", "--version", "2.1")
    assert code == 2 and "außer Betrieb" in err
