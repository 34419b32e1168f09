"""Issuing side: signing-key files, payload building, signing (LIC-1, LIC-2, LIC-6, LIC-9).

No database needed; files go to ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from datetime import date, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licensing import keys
from licensing.keys import (
    KeyFileError,
    build_payload,
    key_id_for,
    load_or_create_signing_key,
    load_public_keys,
    public_key_pem,
    sign_key,
)
from licensing.verifier import binding_digest, normalize_key, verify_key

SERVER_A = "ABCDE-12345-FGHIJ-67890"
SERVER_B = "ZYXWV-98765-UTSRQ-43210"
TODAY = date(2026, 11, 21)
KEY_A = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_B = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))


def _raw_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _private_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# --- Signing-key file -------------------------------------------------------------


def test_signing_key_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "var" / "keys" / "license-signing.pem"
    first = load_or_create_signing_key(path)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")

    second = load_or_create_signing_key(path)
    assert _raw_public(second) == _raw_public(first)
    # only the key file is left behind, no temporary files
    assert [p.name for p in path.parent.iterdir()] == ["license-signing.pem"]


def test_existing_signing_key_is_read_not_replaced(tmp_path):
    path = tmp_path / "signing.pem"
    path.write_bytes(_private_pem(KEY_A))
    assert _raw_public(load_or_create_signing_key(path)) == _raw_public(KEY_A)
    assert path.read_bytes() == _private_pem(KEY_A)


def test_losing_the_creation_race_returns_the_winners_key(tmp_path, monkeypatch):
    """Another process writes the key between our existence check and our link."""
    path = tmp_path / "signing.pem"
    real_link = os.link

    def link_after_the_other_process(src, dst):
        path.write_bytes(_private_pem(KEY_B))
        return real_link(src, dst)

    monkeypatch.setattr(keys.os, "link", link_after_the_other_process)
    key = load_or_create_signing_key(path)
    assert _raw_public(key) == _raw_public(KEY_B)
    assert path.read_bytes() == _private_pem(KEY_B)
    assert [p.name for p in tmp_path.iterdir()] == ["signing.pem"]


def test_concurrent_creation_hands_out_one_key(tmp_path):
    path = tmp_path / "keys" / "signing.pem"
    start = threading.Barrier(8)
    results: list[bytes] = []

    def worker():
        start.wait()
        results.append(_raw_public(load_or_create_signing_key(path)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert _raw_public(load_or_create_signing_key(path)) == results[0]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"garbage", id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(
            KEY_A.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            id="encrypted",
        ),
        pytest.param(
            Ed448PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            id="ed448",
        ),
    ],
)
def test_unusable_signing_key_file_is_refused_not_overwritten(tmp_path, content):
    path = tmp_path / "signing.pem"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match="signing.pem"):
        load_or_create_signing_key(path)
    assert path.read_bytes() == content


# --- Public keys ------------------------------------------------------------------


def test_key_id_is_first_two_bytes_of_sha256_of_the_raw_public_key():
    expected = int.from_bytes(hashlib.sha256(_raw_public(KEY_A)).digest()[:2], "big")
    assert key_id_for(KEY_A) == expected
    assert key_id_for(KEY_A.public_key()) == expected
    assert 0 <= expected <= 0xFFFF


def test_public_key_pem_loads_back_to_the_same_key():
    pem = public_key_pem(KEY_A)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert public_key_pem(KEY_A.public_key()) == pem
    loaded = serialization.load_pem_public_key(pem)
    assert loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == _raw_public(KEY_A)


def test_load_public_keys_own_key_plus_rotated_keys(tmp_path):
    (tmp_path / "2024-old.pem").write_bytes(public_key_pem(KEY_B))
    (tmp_path / "README.txt").write_text("not a key, and not *.pem: ignored")
    loaded = load_public_keys(KEY_A, tmp_path)
    assert set(loaded) == {key_id_for(KEY_A), key_id_for(KEY_B)}
    raw = {
        key_id: key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        for key_id, key in loaded.items()
    }
    assert raw == {key_id_for(KEY_A): _raw_public(KEY_A), key_id_for(KEY_B): _raw_public(KEY_B)}


def test_load_public_keys_without_directory(tmp_path):
    assert set(load_public_keys(KEY_A, None)) == {key_id_for(KEY_A)}
    assert set(load_public_keys(KEY_A, tmp_path / "missing")) == {key_id_for(KEY_A)}


def test_load_public_keys_tolerates_the_own_key_listed_again(tmp_path):
    (tmp_path / "current.pem").write_bytes(public_key_pem(KEY_A))
    assert set(load_public_keys(KEY_A, tmp_path)) == {key_id_for(KEY_A)}


def test_load_public_keys_refuses_a_bad_file(tmp_path):
    (tmp_path / "broken.pem").write_text("-----BEGIN PUBLIC KEY-----\nnope\n")
    with pytest.raises(KeyFileError, match="broken.pem"):
        load_public_keys(KEY_A, tmp_path)


def test_load_public_keys_refuses_a_private_key_in_the_public_directory(tmp_path):
    (tmp_path / "oops.pem").write_bytes(_private_pem(KEY_B))
    with pytest.raises(KeyFileError, match="private key"):
        load_public_keys(KEY_A, tmp_path)


def test_load_public_keys_refuses_another_algorithm(tmp_path):
    other = Ed448PrivateKey.generate().public_key()
    (tmp_path / "ed448.pem").write_bytes(
        other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="ed448.pem"):
        load_public_keys(KEY_A, tmp_path)


# --- Building and signing ---------------------------------------------------------


def _build(**overrides):
    arguments = dict(
        private_key=KEY_A,
        serial=1001,
        module_code=" callrec ",
        version="22.2.14",
        user_limit=40,
        bindings=[("server_key", "abcde12345fghij67890")],
    )
    arguments.update(overrides)
    return build_payload(**arguments)


def test_build_payload_computes_digests():
    payload = _build()
    assert payload.key_id == key_id_for(KEY_A)
    assert payload.serial == 1001
    assert payload.module_digest == hashlib.sha256(b"CALLREC").digest()[:4]
    assert payload.version == (22, 2, 14)
    assert payload.user_limit == 40
    assert payload.bindings == (hashlib.sha256(b"LIC1|server_key|ABCDE-12345-FGHIJ-67890").digest()[:8],)
    assert (payload.expiry, payload.demo, payload.subscription, payload.goodwill) == (
        None,
        False,
        False,
        False,
    )


def test_build_payload_two_installations_for_redundancy():
    payload = _build(bindings=[("server_key", SERVER_A), ("server_key", SERVER_B)])
    assert payload.bindings == (binding_digest(SERVER_A), binding_digest(SERVER_B))


def test_build_payload_flags_and_demo_expiry():
    payload = _build(demo=True, expiry=date(2026, 12, 20), user_limit=None)
    assert payload.demo and payload.expiry == date(2026, 12, 20)
    assert payload.user_limit is None
    assert _build(subscription=True, goodwill=True).subscription is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bindings": []}, "1 to 8"),
        ({"bindings": [("server_key", f"ABCDE-12345-FGHIJ-6789{i}") for i in range(9)]}, "1 to 8"),
        ({"serial": -1}, "serial"),
        ({"serial": 2**32}, "serial"),
        ({"expiry": date(2026, 12, 20)}, "only demo keys"),
        ({"demo": True}, "needs an expiry"),
        ({"demo": True, "expiry": datetime(2026, 12, 20)}, "must be a date"),
        ({"demo": True, "expiry": date(2180, 1, 1)}, "expiry"),
        ({"user_limit": 0}, "user limit"),
        ({"user_limit": 65536}, "user limit"),
        ({"version": "3.x"}, "non-numeric"),
        ({"module_code": "  "}, "module code"),
        ({"bindings": [("server_key", "ABCDE-12345")]}, "not a server licence key"),
        ({"bindings": [("hardware_id", "   ")]}, "hardware ID is empty"),
        ({"bindings": [("serial", "1AB2345678")]}, "unknown binding kind"),
        ({"bindings": [("server_key", SERVER_A), ("server_key", SERVER_A.lower())]}, "twice"),
    ],
)
def test_build_payload_refuses(overrides, message):
    with pytest.raises(ValueError, match=message):
        _build(**overrides)


def test_sign_key_gives_groups_of_five_that_verify():
    payload = _build()
    key = sign_key(payload, KEY_A)
    groups = key.split("-")
    assert all(len(group) == 5 for group in groups[:-1])
    assert 1 <= len(groups[-1]) <= 5
    assert key == key.upper()
    assert len(normalize_key(key)) == 152
    result = verify_key(key, SERVER_A, load_public_keys(KEY_A, None), module="CALLREC", today=TODAY)
    assert result.code == "valid"
    assert result.payload == payload


def test_sign_key_is_deterministic():
    # Ed25519 signatures are deterministic: re-issuing the same payload gives the same key.
    payload = _build()
    assert sign_key(payload, KEY_A) == sign_key(payload, KEY_A)


def test_sign_key_refuses_a_payload_for_another_signing_key():
    payload = _build(private_key=KEY_A)
    with pytest.raises(ValueError, match="key id"):
        sign_key(payload, KEY_B)


def test_rotated_key_from_files_still_verifies(tmp_path):
    """Rotation as an operator does it: old public PEM into the directory, new key file."""
    # Fixed keys, so the two key ids are known to differ (random ones clash 1 in 65536).
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "signing.pem").write_bytes(_private_pem(KEY_A))
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "signing.pem").write_bytes(_private_pem(KEY_B))
    old_signing = load_or_create_signing_key(tmp_path / "old" / "signing.pem")
    old_key = sign_key(_build(private_key=old_signing), old_signing)
    public_dir = tmp_path / "public"
    public_dir.mkdir()
    (public_dir / "old.pem").write_bytes(public_key_pem(old_signing))

    new_signing = load_or_create_signing_key(tmp_path / "new" / "signing.pem")
    assert key_id_for(new_signing) != key_id_for(old_signing)
    new_key = sign_key(_build(private_key=new_signing), new_signing)

    public_keys = load_public_keys(new_signing, public_dir)
    assert verify_key(old_key, SERVER_A, public_keys, today=TODAY).code == "valid"
    assert verify_key(new_key, SERVER_A, public_keys, today=TODAY).code == "valid"
    assert verify_key(old_key, SERVER_A, load_public_keys(new_signing, None), today=TODAY).code == "mistyped"


def test_cached_signing_key_is_read_once_per_path(tmp_path, monkeypatch):
    reads = []
    real = keys.load_or_create_signing_key
    monkeypatch.setattr(keys, "load_or_create_signing_key", lambda path: reads.append(path) or real(path))
    path = tmp_path / "cached" / "signing.pem"
    first = keys.cached_signing_key(path)
    assert keys.cached_signing_key(str(path)) is first
    assert reads == [path]
    other = keys.cached_signing_key(tmp_path / "other" / "signing.pem")
    assert key_id_for(other) != key_id_for(first) and len(reads) == 2


def test_reinitialisation_response_signed_with_the_module_signing_key():
    payload = {"serial": "1AC5008123", "licenses": {"user_licenses": 10}}
    response = keys.sign_reinitialisation_response(payload, KEY_A)
    assert keys.verify_reinitialisation_response(response.lower(), load_public_keys(KEY_A, None)) == payload
    with pytest.raises(keys.ReinitialisationResponseError, match="unknown key id"):
        keys.verify_reinitialisation_response(response, load_public_keys(KEY_B, None))
