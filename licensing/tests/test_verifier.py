"""Stand-alone verifier of module licence keys (LIC-1, LIC-2, LIC-3, LIC-6, LIC-9).

No database: keys are issued with ``licensing.keys`` and checked with
``licensing.verifier``. Expected bytes, digests and day counts are worked out by
hand in the comments, not copied from output.
"""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensing import verifier
from licensing.keys import build_payload, key_id_for, public_key_pem, sign_key
from licensing.verifier import (
    ALPHABET,
    KeyPayload,
    MalformedKey,
    binding_digest,
    decode_key,
    encode_key,
    format_key,
    module_digest,
    normalize_key,
    normalize_server_key,
    pack_payload,
    parse_version,
    unpack_payload,
    verify_key,
)

VERIFIER_FILE = Path(verifier.__file__)

SERVER_A = "ABCDE-12345-FGHIJ-67890"
SERVER_B = "ZYXWV-98765-UTSRQ-43210"
SERVER_C = "QQQQQ-11111-WWWWW-22222"
TODAY = date(2026, 11, 21)

KEY_A = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_B = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


PUBLIC_A = {key_id_for(KEY_A): _raw_public(KEY_A)}
PUBLIC_AB = {**PUBLIC_A, key_id_for(KEY_B): _raw_public(KEY_B)}
PUBLIC_B = {key_id_for(KEY_B): _raw_public(KEY_B)}


def issue(
    *,
    private_key: Ed25519PrivateKey = KEY_A,
    module_code: str = "CALLREC",
    version: str = "3.0",
    bindings: list[tuple[str, str]] | None = None,
    **kwargs,
) -> tuple[str, KeyPayload]:
    payload = build_payload(
        private_key=private_key,
        serial=4711,
        module_code=module_code,
        version=version,
        bindings=bindings or [("server_key", SERVER_A)],
        **kwargs,
    )
    return sign_key(payload, private_key), payload


GOOD_KEY, GOOD_PAYLOAD = issue(user_limit=40)


def test_the_two_signing_keys_of_these_tests_have_different_ids():
    assert key_id_for(KEY_A) != key_id_for(KEY_B)


# --- Crockford base32 ---------------------------------------------------------------


def test_encoding_of_hand_worked_bytes():
    # 0xFF = 11111|111(00) → 31, 28 → "Z", "W"
    assert encode_key(b"\xff") == "ZW"
    # 0x00 0x01 = 00000|00000|00000|1(0000) → "0", "0", "0", 16 = "G"
    assert encode_key(b"\x00\x01") == "000G"
    # five bytes = 40 bits = exactly 8 characters, no padding
    assert encode_key(b"\x00" * 5) == "00000000"
    assert decode_key("000G") == b"\x00\x01"
    assert decode_key("zw") == b"\xff"


def test_decode_refuses_set_padding_bits():
    # "000H" = ...1|0001: the unused last bit is set, so it is no encoding of 2 bytes.
    with pytest.raises(MalformedKey):
        decode_key("000H")


@pytest.mark.parametrize("length", [1, 3, 6])
def test_decode_refuses_lengths_no_byte_string_has(length):
    # 1 char = 5 bits (no byte), 3 chars = 15 bits (1 byte needs only 2 chars), 6 = 30
    # bits (3 bytes need only 5 characters).
    with pytest.raises(MalformedKey):
        decode_key("0" * length)


def test_normalize_key_ignores_spacing_dashes_case_and_maps_lookalikes():
    assert normalize_key(" ab-cd\n\tef gh ") == "ABCDEFGH"
    assert normalize_key("o0-iIlL") == "001111"
    # dashes a mail client may have substituted (en dash, non-breaking hyphen)
    assert normalize_key("AB\u2013CD\u2011EF") == "ABCDEF"


@pytest.mark.parametrize("text", ["ABCU", "AB*CD", "ABßCD", "AB_CD"])
def test_normalize_key_refuses_characters_outside_the_alphabet(text):
    with pytest.raises(MalformedKey):
        normalize_key(text)


def test_format_key_groups_of_five():
    assert format_key("0123456789abcde") == "01234-56789-ABCDE"
    assert format_key("0123456") == "01234-56"


# --- Fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("46", (46, 0, 0)),
        ("3.2", (3, 2, 0)),
        ("22.2.14", (22, 2, 14)),
        (" 4.0 ", (4, 0, 0)),
        ((3, 2), (3, 2, 0)),
    ],
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["", "3.x", "3..1", "1.2.3.4", "4.0-beta", "70000", "-1", "²"])
def test_parse_version_refuses_non_numeric_or_too_many_parts(text):
    with pytest.raises(ValueError):
        parse_version(text)


def test_parse_version_names_the_bad_part():
    with pytest.raises(ValueError, match="non-numeric part 'x'"):
        parse_version("3.x")


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDE-12345-FGHIJ-67890",
        "abcde-12345-fghij-67890",
        "ABCDE12345FGHIJ67890",
        " abcde 12345 fghij 67890\n",
        "ABCDE-12345-FGHIJ67890",
    ],
)
def test_normalize_server_key(typed):
    assert normalize_server_key(typed) == "ABCDE-12345-FGHIJ-67890"


def test_binding_digest_is_sha256_of_kind_and_normalised_identifier():
    expected = hashlib.sha256(b"LIC1|server_key|ABCDE-12345-FGHIJ-67890").digest()[:8]
    assert binding_digest("abcde12345fghij67890") == expected
    hardware = hashlib.sha256(b"LIC1|hardware_id|00:1A:2B:3C").digest()[:8]
    assert binding_digest(" 00:1a:2b:3c ", "hardware_id") == hardware


def test_binding_digest_refuses_unknown_kind():
    with pytest.raises(ValueError):
        binding_digest(SERVER_A, "serial")


def test_module_digest_uses_trimmed_upper_case_code():
    assert module_digest(" callrec ") == hashlib.sha256(b"CALLREC").digest()[:4]
    assert module_digest("CALLREC") != module_digest("ADSYNC")


# --- Payload layout -------------------------------------------------------------------


def test_pack_payload_layout_byte_by_byte():
    payload = KeyPayload(
        key_id=0x1234,
        serial=0x01020304,
        module_digest=b"ABCD",
        version=(22, 2, 14),
        user_limit=40,
        # 2000-01-01 → 2026-01-01: 26 years incl. 7 leap days (2000..2024) = 9497 days;
        # + 334 (Jan..Nov) + 19 = 9850 = 0x267A.
        expiry=date(2026, 12, 20),
        demo=True,
        subscription=True,
        goodwill=False,
        bindings=(b"11111111", b"22222222"),
    )
    expected = (
        b"\x01"  # format version
        + b"\x12\x34"  # key id
        + b"\x01\x02\x03\x04"  # serial
        + b"ABCD"  # module digest
        + b"\x00\x16\x00\x02\x00\x0e"  # 22.2.14
        + b"\x00\x28"  # 40 users
        + b"\x26\x7a"  # expiry day 9850
        + b"\x03"  # demo | subscription
        + b"\x02"  # two bindings
        + b"11111111"
        + b"22222222"
    )
    assert pack_payload(payload) == expected
    assert unpack_payload(expected) == payload


def test_unlimited_users_and_no_expiry_are_zero():
    packed = pack_payload(replace(GOOD_PAYLOAD, user_limit=None))
    assert packed[17:21] == b"\x00\x00\x00\x00"
    assert unpack_payload(packed).user_limit is None
    assert unpack_payload(packed).expiry is None


def test_key_length_one_binding_152_characters_in_31_groups():
    # 23 header + 8 binding + 64 signature = 95 bytes = 760 bits = 152 characters
    assert len(normalize_key(GOOD_KEY)) == 152
    groups = GOOD_KEY.split("-")
    assert len(groups) == 31
    assert all(len(g) == 5 for g in groups[:-1]) and len(groups[-1]) == 2


def test_key_length_two_bindings_165_characters():
    # 103 bytes = 824 bits → 165 characters (one padding bit)
    key, _ = issue(bindings=[("server_key", SERVER_A), ("server_key", SERVER_B)])
    assert len(normalize_key(key)) == 165


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"\x02" + b[1:], "format version 2"),
        (lambda b: b[:-1], "length"),
        (lambda b: b + b"\x00", "length"),
        (lambda b: b[:22] + b"\x00" + b[23:], "binding count 0"),
        (lambda b: b[:22] + b"\x09" + b[23:], "binding count 9"),
        (lambda b: b[:21] + b"\x08" + b[22:], "flags"),
        (lambda b: b[:10], "too short"),
    ],
)
def test_unpack_payload_refuses_broken_payloads(mutate, message):
    with pytest.raises(MalformedKey, match=message):
        unpack_payload(mutate(pack_payload(GOOD_PAYLOAD)))


@pytest.mark.parametrize(
    "change",
    [
        {"user_limit": 0},
        {"user_limit": 65536},
        {"serial": -1},
        {"serial": 2**32},
        {"bindings": ()},
        {"bindings": (b"12345678",) * 9},
        {"bindings": (b"short",)},
        {"module_digest": b"ABC"},
        {"version": (1, 2, 65536)},
        {"expiry": date(2000, 1, 1)},
        {"expiry": date(2179, 6, 7)},
    ],
)
def test_pack_payload_refuses_values_that_do_not_fit(change):
    with pytest.raises(ValueError):
        pack_payload(replace(GOOD_PAYLOAD, **change))


# --- Verdicts (LIC-3) -------------------------------------------------------------


def test_round_trip_valid_and_payload_fields_come_back():
    result = verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, module="CALLREC", required_version="3.0", today=TODAY)
    assert result.ok
    assert result.code == "valid"
    assert result.payload == GOOD_PAYLOAD
    assert result.payload.serial == 4711
    assert result.payload.version == (3, 0, 0)
    assert result.payload.user_limit == 40
    assert result.payload.expiry is None
    assert result.payload.module_digest == hashlib.sha256(b"CALLREC").digest()[:4]


def _every_20(text: str) -> str:
    return "\n".join(text[i : i + 20] for i in range(0, len(text), 20))


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda k: k.lower(), id="lower-case"),
        pytest.param(lambda k: k.replace("-", " - "), id="spaces"),
        pytest.param(lambda k: _every_20(k), id="e-mail line breaks"),
        pytest.param(lambda k: "\r\n".join(k[i : i + 20] for i in range(0, len(k), 20)), id="crlf"),
        pytest.param(lambda k: k.replace("-", ""), id="no dashes"),
        pytest.param(lambda k: k.replace("0", "O"), id="O for 0"),
        pytest.param(lambda k: k.replace("1", "l").lower(), id="l for 1"),
        pytest.param(lambda k: "  " + k + "\n", id="surrounding whitespace"),
        pytest.param(lambda k: k.replace("-", "\u2013"), id="en dashes from a mail client"),
        pytest.param(lambda k: k.replace("-", "\u00a0"), id="non-breaking spaces"),
    ],
)
def test_input_tolerance(spelling):
    assert "0" in GOOD_KEY and "1" in GOOD_KEY  # so the lookalike cases test something
    assert verify_key(spelling(GOOD_KEY), SERVER_A, PUBLIC_A, today=TODAY).code == "valid"


def test_server_key_typed_into_the_key_field():
    for typed in ("ABCDE-12345-FGHIJ-67890", "abcde12345fghij67890", " ABCDE 12345 FGHIJ 67890 "):
        result = verify_key(typed, SERVER_A, PUBLIC_A, today=TODAY)
        assert (result.ok, result.code, result.payload) == (False, "server-key-entered", None)
        assert "server licence key" in result.message


def _replace_char(key: str, index: int) -> str:
    compact = normalize_key(key)
    new = "1" if compact[index] != "1" else "2"
    return format_key(compact[:index] + new + compact[index + 1 :])


@pytest.mark.parametrize("index", [0, 3, 40, 100, 151])
def test_one_character_changed_is_mistyped(index):
    result = verify_key(_replace_char(GOOD_KEY, index), SERVER_A, PUBLIC_A, today=TODAY)
    assert (result.ok, result.code, result.payload) == (False, "mistyped", None)


def test_missing_character_is_mistyped():
    compact = normalize_key(GOOD_KEY)
    for index in (0, 75, 151):
        assert verify_key(compact[:index] + compact[index + 1 :], SERVER_A, PUBLIC_A, today=TODAY).code == "mistyped"


def test_extra_character_is_mistyped():
    compact = normalize_key(GOOD_KEY)
    for index in (0, 75, 152):
        longer = compact[:index] + "7" + compact[index:]
        assert verify_key(longer, SERVER_A, PUBLIC_A, today=TODAY).code == "mistyped"


@pytest.mark.parametrize("text", ["", "   ", "HELLO", "U" * 152, GOOD_KEY[:-5], GOOD_KEY + GOOD_KEY])
def test_garbage_is_mistyped(text):
    assert verify_key(text, SERVER_A, PUBLIC_A, today=TODAY).code == "mistyped"


def test_key_for_another_module():
    result = verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, module="ADSYNC", today=TODAY)
    assert (result.ok, result.code) == (False, "other-module")
    assert result.payload == GOOD_PAYLOAD  # signature held; the portal may show details
    assert verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, module=" callrec ", today=TODAY).code == "valid"


def test_key_for_another_server_key():
    result = verify_key(GOOD_KEY, SERVER_B, PUBLIC_A, today=TODAY)
    assert (result.ok, result.code) == (False, "other-server-key")


def test_other_module_is_reported_before_other_server_key():
    assert verify_key(GOOD_KEY, SERVER_B, PUBLIC_A, module="ADSYNC", today=TODAY).code == "other-module"


def test_demo_key_valid_through_its_expiry_day():
    key, payload = issue(demo=True, expiry=date(2026, 12, 20))
    assert payload.demo and payload.expiry == date(2026, 12, 20)
    assert verify_key(key, SERVER_A, PUBLIC_A, today=date(2026, 11, 21)).code == "valid"
    assert verify_key(key, SERVER_A, PUBLIC_A, today=date(2026, 12, 20)).code == "valid"
    result = verify_key(key, SERVER_A, PUBLIC_A, today=date(2026, 12, 21))
    assert (result.ok, result.code) == (False, "expired")
    assert "2026-12-20" in result.message


@pytest.mark.parametrize("today", [None, "2026-12-21", 20261221])
def test_verify_fails_closed_without_a_date(today):
    # An embedding module that leaves the date out must not get an expired demo key accepted.
    key, _payload = issue(demo=True, expiry=date(2026, 12, 20))
    with pytest.raises(TypeError, match="today must be a date"):
        verify_key(key, SERVER_A, PUBLIC_A, today=today)
    with pytest.raises(TypeError):
        verify_key(key, SERVER_A, PUBLIC_A)  # today has no default


def test_key_without_expiry_never_expires():
    assert verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, today=date(2179, 1, 1)).code == "valid"


def test_paid_update_needed_and_older_versions_covered():
    # GOOD_KEY licenses 3.0 (LIC-4)
    result = verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, required_version="4.0", today=TODAY)
    assert (result.ok, result.code) == (False, "paid-update-needed")
    assert "3.0.0" in result.message
    assert verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, required_version="2.5", today=TODAY).code == "valid"
    assert verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, required_version="3", today=TODAY).code == "valid"
    assert verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, required_version=(3, 0, 1), today=TODAY).code == (
        "paid-update-needed"
    )


def test_subscription_key_runs_every_later_version():
    # LIC-12: during a subscription all updates are free — no paid-update verdict
    key, _ = issue(version="3.0", subscription=True)
    assert verify_key(key, SERVER_A, PUBLIC_A, required_version="4.0", today=TODAY).code == "valid"
    # … but it is still bound to its server key
    assert verify_key(key, SERVER_B, PUBLIC_A, required_version="4.0", today=TODAY).code == "other-server-key"


def test_versions_compare_numerically_not_as_text():
    key, _ = issue(version="22.10")
    assert verify_key(key, SERVER_A, PUBLIC_A, required_version="22.9", today=TODAY).code == "valid"
    assert verify_key(key, SERVER_A, PUBLIC_A, required_version="22.11", today=TODAY).code == "paid-update-needed"


def test_expired_is_reported_before_paid_update():
    key, _ = issue(version="3.0", demo=True, expiry=date(2026, 12, 20))
    result = verify_key(key, SERVER_A, PUBLIC_A, today=date(2027, 1, 1), required_version="4.0")
    assert result.code == "expired"


def test_multi_binding_key_for_primary_and_secondary():
    key, _ = issue(bindings=[("server_key", SERVER_A), ("server_key", SERVER_B)])
    assert verify_key(key, SERVER_A, PUBLIC_A, today=TODAY).code == "valid"
    assert verify_key(key, SERVER_B.lower().replace("-", ""), PUBLIC_A, today=TODAY).code == "valid"
    assert verify_key(key, SERVER_C, PUBLIC_A, today=TODAY).code == "other-server-key"


def test_rotation_old_key_keeps_verifying_while_listed():
    old_key, _ = issue(private_key=KEY_A)
    new_key, _ = issue(private_key=KEY_B)
    assert verify_key(old_key, SERVER_A, PUBLIC_AB, today=TODAY).code == "valid"
    assert verify_key(new_key, SERVER_A, PUBLIC_AB, today=TODAY).code == "valid"
    result = verify_key(old_key, SERVER_A, PUBLIC_B, today=TODAY)
    assert result.code == "mistyped"
    assert "unknown key id" in result.message


def test_right_key_id_with_wrong_public_key_is_mistyped():
    forged = {key_id_for(KEY_A): _raw_public(KEY_B)}
    assert verify_key(GOOD_KEY, SERVER_A, forged, today=TODAY).code == "mistyped"


def test_public_keys_may_be_objects_or_raw_bytes():
    objects = {key_id_for(KEY_A): KEY_A.public_key()}
    assert verify_key(GOOD_KEY, SERVER_A, objects, today=TODAY).code == "valid"
    assert verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, today=TODAY).code == "valid"


def test_hardware_id_binding_and_kind_is_part_of_the_digest():
    # A 20-character hardware ID reads like a server key without dashes; the kind
    # still keeps the two apart.
    hardware_id = "00112233445566778899"
    key, _ = issue(bindings=[("hardware_id", hardware_id)])
    assert verify_key(key, "0011 2233 4455 6677 8899", PUBLIC_A, identifier_kind="hardware_id", today=TODAY).code == (
        "valid"
    )
    assert verify_key(key, hardware_id, PUBLIC_A, today=TODAY).code == "other-server-key"
    assert verify_key(key, hardware_id, PUBLIC_A, identifier_kind="server_key", today=TODAY).code == (
        "other-server-key"
    )
    # and the other way round
    assert verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, identifier_kind="hardware_id", today=TODAY).code == (
        "other-server-key"
    )


def test_unknown_identifier_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="identifier kind"):
        verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, identifier_kind="serial", today=TODAY)


def test_result_is_frozen():
    result = verify_key(GOOD_KEY, SERVER_A, PUBLIC_A, today=TODAY)
    with pytest.raises(AttributeError):
        result.ok = False  # type: ignore[misc]


# --- Properties (hypothesis) ------------------------------------------------------

payloads = st.builds(
    KeyPayload,
    key_id=st.integers(0, 0xFFFF),
    serial=st.integers(0, 0xFFFFFFFF),
    module_digest=st.binary(min_size=4, max_size=4),
    version=st.tuples(*[st.integers(0, 0xFFFF)] * 3),
    user_limit=st.none() | st.integers(1, 0xFFFF),
    expiry=st.none() | st.dates(date(2000, 1, 2), date(2179, 6, 6)),
    demo=st.booleans(),
    subscription=st.booleans(),
    goodwill=st.booleans(),
    bindings=st.lists(st.binary(min_size=8, max_size=8), min_size=1, max_size=8).map(tuple),
)

server_keys = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=20, max_size=20).map(
    normalize_server_key
)


@given(payloads)
def test_property_pack_unpack_round_trip(payload):
    packed = pack_payload(payload)
    assert len(packed) == 23 + 8 * len(payload.bindings)
    assert unpack_payload(packed) == payload


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=payloads, identifiers=st.lists(server_keys, min_size=1, max_size=8, unique=True))
def test_property_sign_verify_round_trip(payload, identifiers):
    payload = replace(
        payload,
        key_id=key_id_for(KEY_A),
        bindings=tuple(binding_digest(i) for i in identifiers),
    )
    key = sign_key(payload, KEY_A)
    for identifier in identifiers:
        # the day before the earliest expiry the format can hold (2000-01-02)
        result = verify_key(key, identifier, PUBLIC_A, today=date(2000, 1, 1))
        assert result.code == "valid"
        assert result.payload == payload


@settings(deadline=None)
@given(data=st.data())
def test_property_any_single_character_change_is_never_valid(data):
    bindings = data.draw(st.lists(server_keys, min_size=1, max_size=3, unique=True))
    key, _ = issue(bindings=[("server_key", b) for b in bindings])
    compact = normalize_key(key)
    index = data.draw(st.integers(0, len(compact) - 1))
    new = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != compact[index]))
    changed = compact[:index] + new + compact[index + 1 :]
    assert verify_key(changed, bindings[0], PUBLIC_A, today=TODAY).code != "valid"


# --- Stand-alone: no Django, no project modules -----------------------------------


def test_verifier_imports_only_stdlib_and_cryptography():
    tree = ast.parse(VERIFIER_FILE.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports in the stand-alone verifier"
            roots.add(node.module.split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


_RUN_WITHOUT_DJANGO = """
import runpy, sys
for name in ("django", "licensing", "vendorportal", "billing", "support"):
    sys.modules[name] = None  # any import of these now raises ImportError
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-I", "-c", _RUN_WITHOUT_DJANGO, str(VERIFIER_FILE), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_in_a_fresh_process_without_django(tmp_path):
    pem = tmp_path / "portal-public.pem"
    pem.write_bytes(public_key_pem(KEY_A))

    good = _run_cli(tmp_path, GOOD_KEY, SERVER_A, "--public-key", str(pem), "--module", "CALLREC")
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[0] == "valid"

    other = _run_cli(tmp_path, GOOD_KEY, SERVER_B, "--public-key", str(pem))
    assert other.returncode == 1, other.stderr
    assert other.stdout.splitlines()[0] == "other-server-key"
    assert other.stdout.splitlines()[1] == "key belongs to another server licence key"


def _pem_file(tmp_path: Path, private_key: Ed25519PrivateKey, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(public_key_pem(private_key))
    return str(path)


def test_cli_options_in_process(tmp_path, capsys):
    pem_a = _pem_file(tmp_path, KEY_A, "a.pem")
    pem_b = _pem_file(tmp_path, KEY_B, "b.pem")
    demo_key, _ = issue(demo=True, expiry=date(2026, 12, 20))
    hw_key, _ = issue(bindings=[("hardware_id", "HW-0042-ABCD")])

    cases = [
        ([demo_key, SERVER_A, "--public-key", pem_a, "--today", "2026-12-20"], 0, "valid"),
        ([demo_key, SERVER_A, "--public-key", pem_a, "--today", "2026-12-21"], 1, "expired"),
        ([GOOD_KEY, SERVER_A, "--public-key", pem_b, "--public-key", pem_a], 0, "valid"),
        ([GOOD_KEY, SERVER_A, "--public-key", pem_b], 1, "mistyped"),
        ([GOOD_KEY, SERVER_A, "--public-key", pem_a, "--module", "ADSYNC"], 1, "other-module"),
        ([GOOD_KEY, SERVER_A, "--public-key", pem_a, "--required-version", "4.0"], 1, "paid-update-needed"),
        ([hw_key, "hw-0042-abcd", "--public-key", pem_a, "--hardware-id"], 0, "valid"),
        ([SERVER_A, SERVER_A, "--public-key", pem_a], 1, "server-key-entered"),
    ]
    for argv, status, code in cases:
        assert verifier.main(argv) == status, argv
        out = capsys.readouterr().out.splitlines()
        assert out[0] == code, argv
        assert len(out) == 2 and out[1]


def test_cli_refuses_a_file_that_is_not_a_public_key(tmp_path, capsys):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(SystemExit) as exit_info:
        verifier.main([GOOD_KEY, SERVER_A, "--public-key", str(bad)])
    assert exit_info.value.code == 2
    assert "cannot use public key" in capsys.readouterr().err
