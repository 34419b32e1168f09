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
    code, lines, _err = run(
        "issue_license", "--module", "callrec", "--server-key", "abcde12345fghij67890", "--version", "2.1"
    )
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
    _code, lines, _err = run(
        "issue_license", "--module", "CALLREC", "--server-key", inst.identifier, "--version", "1.8"
    )
    key = lines[0]
    code, lines, _err = run("license_check", key, "--server-key", inst.identifier, "--installed-version", "2.1")
    assert (code, lines[0]) == (1, "paid-update-needed")
    code, lines, _err = run("license_check", inst.identifier, "--server-key", inst.identifier)
    assert (code, lines[0]) == (1, "server-key-entered")


def test_demo_key_and_expiry(modules, inst):
    code, lines, _err = run(
        "issue_license",
        "--module",
        "INTERCOM",
        "--server-key",
        inst.identifier,
        "--version",
        "2.1",
        "--demo-days",
        "10",
    )
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
        (
            ["--module", "ADSYNC", "--server-key", "ABCDE-12345-FGHIJ-67890", "--version", "2.1", "--demo-days", "30"],
            "keine Demo-Schlüssel",
        ),
        (
            ["--module", "CALLREC", "--server-key", "ABCDE-12345-FGHIJ-67890", "--version", "1.8", "--demo-days", "30"],
            "03/2019",
        ),
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
    code, _lines, err = run(
        "issue_license", "--module", "CALLREC", "--server-key", "OLDSV-12345-FGHIJ-67890", "--version", "2.1"
    )
    assert code == 2 and "außer Betrieb" in err


# --- license_check: German errors, exit 2 for arguments (issue 8) ---------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--installed-version", "x.y"], "--installed-version: „x.y“ ist keine Versionsnummer"),
        (["--installed-version", "2.1.0.4"], "keine Versionsnummer"),
        (["--today", "21.11.2026"], "--today: „21.11.2026“ ist kein Datum im Format JJJJ-MM-TT"),
        (["--module", "NOPE"], "Unbekanntes Modul „NOPE“"),
    ],
)
def test_check_argument_errors_are_german_and_exit_2(modules, inst, args, message):
    code, lines, err = run("license_check", "AAAAA-BBBBB", "--server-key", inst.identifier, *args)
    assert code == 2
    assert message in err and not lines


def test_check_missing_or_clashing_arguments_are_german_and_exit_2(modules, inst, capsys):
    assert run("license_check", "AAAAA-BBBBB")[0] == 2
    assert "Bitte genau eine dieser Angaben machen: --server-key --hardware-id." in capsys.readouterr().err
    assert (
        run("license_check", "AAAAA-BBBBB", "--server-key", inst.identifier, "--hardware-id", "0011-2233-4455-6677")[0]
        == 2
    )
    assert "--hardware-id und --server-key schließen sich aus." in capsys.readouterr().err


def test_check_from_the_shell_exits_2_with_german_message(modules, inst):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "license_check",
            "AAAAA",
            "--server-key",
            "ABCDE-12345-FGHIJ-67890",
            "--installed-version",
            "x.y",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert done.returncode == 2, done.stderr
    assert "ist keine Versionsnummer" in done.stderr and "Traceback" not in done.stderr and done.stdout == ""
    done = subprocess.run(
        [sys.executable, "manage.py", "license_check", "AAAAA"], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert "Bitte genau eine dieser Angaben machen" in done.stderr


# --- issue_license: once per paid key and order, German refusals (issue 8) --------------------


def test_issue_twice_refuses_the_second_paid_key(modules, inst):
    args = ["issue_license", "--module", "CALLREC", "--server-key", inst.identifier, "--version", "2.1"]
    assert run(*args)[0] == 0
    serial = License.objects.get().serial
    code, lines, err = run(*args)
    assert (code, lines) == (2, [])
    assert f"bereits einen aktiven bezahlten Schlüssel für Call Recording (Lizenz Nr. {serial})" in err
    assert "Staffel-Upgrade" in err
    assert License.objects.count() == 1 and DeliveryNote.objects.count() == 1


def test_issue_twice_with_the_same_order_issues_once(modules, inst):
    assert (
        run(
            "issue_license",
            "--module",
            "CALLREC",
            "--server-key",
            inst.identifier,
            "--version",
            "2.1",
            "--order",
            "B-1",
        )[0]
        == 0
    )
    serial = License.objects.get().serial
    code, lines, err = run(
        "issue_license", "--module", "INTERCOM", "--server-key", inst.identifier, "--version", "2.1", "--order", "B-1"
    )
    assert (code, lines) == (2, [])
    assert f"Zur Bestellung B-1 wurden bereits Schlüssel ausgestellt (Lizenz Nr. {serial})" in err
    assert License.objects.count() == 1


@pytest.mark.parametrize("also", ["ABCDE-12345-FGHIJ-67890", "abcde12345fghij67890", " abcde 12345 FGHIJ 67890"])
def test_redundancy_key_equal_to_primary_exits_2_in_german(modules, inst, also):
    code, lines, err = run(
        "issue_license",
        "--module",
        "CALLREC",
        "--server-key",
        inst.identifier,
        "--version",
        "2.1",
        "--also-server-key",
        also,
    )
    assert (code, lines) == (2, [])
    assert "ABCDE-12345-FGHIJ-67890 ist doppelt angegeben" in err and "Traceback" not in err
    assert not License.objects.exists() and not DeliveryNote.objects.exists()


def test_order_longer_than_the_field_exits_2(modules, inst):
    code, lines, err = run(
        "issue_license", "--module", "CALLREC", "--server-key", inst.identifier, "--version", "2.1", "--order", "B" * 65
    )
    assert (code, lines) == (2, [])
    assert "Die Bestellnummer ist zu lang (höchstens 64 Zeichen)." in err
    assert not License.objects.exists()
