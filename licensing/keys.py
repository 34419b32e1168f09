"""Issuing side of module licence keys (LIC-1, LIC-2, LIC-6, LIC-9): signing-key
files, payload building, signing and encoding; and the signed re-initialisation
response of Auerswald systems (SYS-1), which uses the same signing key.

No Django here: the service layer passes the paths from settings
(``LICENSE_SIGNING_KEY_FILE``, ``LICENSE_PUBLIC_KEYS_DIR``) in and turns the
``ValueError``\\ s raised here into the portal's own errors. The key format itself
is defined in :mod:`licensing.verifier`, the stand-alone file modules embed.

Rotating the signing key: copy the old key's public PEM (:func:`public_key_pem`)
into the public-keys directory, then replace the private key file. Keys signed
with the old key keep verifying because their key id selects the old public key.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from licensing.verifier import (
    HARDWARE_ID,
    MAX_BINDINGS,
    SERVER_KEY,
    KeyPayload,
    binding_digest,
    encode_key,
    format_key,
    key_id_for_public_bytes,
    load_public_key_pem,
    module_digest,
    normalize_hardware_id,
    normalize_key,
    normalize_server_key,
    pack_payload,
    parse_version,
)

__all__ = [
    "KeyFileError",
    "ReinitialisationResponseError",
    "build_payload",
    "cached_public_keys",
    "cached_signing_key",
    "key_id_for",
    "load_or_create_signing_key",
    "load_public_keys",
    "public_key_pem",
    "sign_key",
    "sign_reinitialisation_response",
    "verify_reinitialisation_response",
]

_SERVER_KEY_SHAPE_LENGTH = 23  # four groups of five, e.g. ABCDE-12345-FGHIJ-67890


class KeyFileError(ValueError):
    """A signing-key or public-key file cannot be used."""


class ReinitialisationResponseError(ValueError):
    """A re-initialisation response that is not genuine or not well-formed (SYS-1)."""


# --- Key files --------------------------------------------------------------------


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    data = path.read_bytes()  # FileNotFoundError goes to the caller on purpose
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # TypeError: the key is encrypted; we need it without a password.
        raise KeyFileError(f"{path}: not an unencrypted PEM (PKCS8) private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: the signing key must be Ed25519, not {type(key).__name__}")
    return key


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every platform; durability is best effort
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read the PEM private signing key at ``path``; create it on first use.

    A new key is written to a temporary file (mode 0600) in the same directory and
    then hard-linked into place. Unlike a rename, the link fails when the target
    exists, so when two processes race, exactly one key wins and the loser reads
    and returns that one — two different keys are never handed out.
    """
    path = Path(path)
    try:
        return _read_private_key(path)
    except FileNotFoundError:
        pass

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # mkstemp creates the file with mode 0600 before anything is written into it.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp_name, path)
        except FileExistsError:
            return _read_private_key(path)  # another process was faster: use its key
        except OSError:
            # File systems without hard links: rename, with only a tiny race left.
            if path.exists():
                return _read_private_key(path)
            os.replace(tmp_name, path)
        _fsync_directory(path.parent)
    finally:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
    return key


def _public_of(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key
    raise TypeError(f"expected an Ed25519 key, got {type(key).__name__}")


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_for(public_key: Ed25519PrivateKey | Ed25519PublicKey) -> int:
    """Key id (u16) written into every key signed by this key pair."""
    return key_id_for_public_bytes(_raw(_public_of(public_key)))


def public_key_pem(private_or_public_key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Public key as PEM SubjectPublicKeyInfo: what modules and the CLI verifier load."""
    return _public_of(private_or_public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_keys(signing_key: Ed25519PrivateKey, extra_dir: Path | None) -> dict[int, Ed25519PublicKey]:
    """Public keys that verify: the signing key's own plus every ``*.pem`` in
    ``extra_dir`` (rotated old keys). A missing directory counts as empty.

    Raises :class:`KeyFileError` for a file that is not an Ed25519 public key and
    when two different keys share a key id (verification would be ambiguous).
    """
    own = signing_key.public_key()
    keys: dict[int, Ed25519PublicKey] = {key_id_for(own): own}
    if extra_dir is None or not Path(extra_dir).is_dir():
        return keys
    for pem_path in sorted(Path(extra_dir).glob("*.pem")):
        data = pem_path.read_bytes()
        if b"PRIVATE KEY" in data:
            raise KeyFileError(f"{pem_path}: contains a private key; only public keys belong in this directory")
        try:
            public_key = load_public_key_pem(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyFileError(f"{pem_path}: not a PEM Ed25519 public key (SubjectPublicKeyInfo): {exc}") from exc
        key_id = key_id_for(public_key)
        known = keys.get(key_id)
        if known is not None and _raw(known) != _raw(public_key):
            raise KeyFileError(
                f"{pem_path}: key id {key_id:#06x} is already used by another key; generate a different signing key"
            )
        keys[key_id] = public_key
    return keys


# --- Cached loading: one read per process and path --------------------------------
#
# Signing reads the key file once per process, not once per key or response. The
# cache is keyed by path, so a test (or a rotation with a new path) gets its own key.


@lru_cache(maxsize=8)
def _signing_key_at(path: str) -> Ed25519PrivateKey:
    return load_or_create_signing_key(Path(path))


def cached_signing_key(path: Path | str) -> Ed25519PrivateKey:
    """The signing key at ``path`` (created on first use), read once per process."""
    return _signing_key_at(str(path))


@lru_cache(maxsize=8)
def _public_keys_at(path: str, public_dir: str) -> dict[int, Ed25519PublicKey]:
    return load_public_keys(_signing_key_at(path), Path(public_dir))


def cached_public_keys(path: Path | str, public_dir: Path | str) -> dict[int, Ed25519PublicKey]:
    """:func:`load_public_keys` for the signing key at ``path``, read once per process."""
    return _public_keys_at(str(path), str(public_dir))


# --- Issuing ----------------------------------------------------------------------


def _binding(kind: str, identifier: str) -> bytes:
    if kind == SERVER_KEY:
        normalized = normalize_server_key(identifier)
        if len(normalized) != _SERVER_KEY_SHAPE_LENGTH or normalized.count("-") != 3:
            raise ValueError(
                f"{identifier!r} is not a server licence key (four groups of five letters/digits, e.g. ABCDE-12345-FGHIJ-67890)"
            )
    elif kind == HARDWARE_ID:
        if not normalize_hardware_id(identifier):
            raise ValueError("the hardware ID is empty")
    else:
        raise ValueError(f"unknown binding kind {kind!r}; use {SERVER_KEY!r} or {HARDWARE_ID!r}")
    return binding_digest(identifier, kind)


def build_payload(
    *,
    private_key: Ed25519PrivateKey,
    serial: int,
    module_code: str,
    version: str | tuple[int, ...],
    user_limit: int | None = None,
    expiry: date | None = None,
    demo: bool = False,
    subscription: bool = False,
    goodwill: bool = False,
    bindings: list[tuple[str, str]],
) -> KeyPayload:
    """Payload for a new key, digests computed (LIC-1, LIC-2, LIC-6, LIC-9).

    ``bindings`` are ``(kind, identifier)`` pairs, kind ``"server_key"`` or
    ``"hardware_id"``: one installation, or primary + secondary for redundancy.
    Raises ``ValueError`` on anything the key format or the rules do not allow.
    """
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= 0xFFFFFFFF:
        raise ValueError("serial must be an integer between 0 and 4294967295")
    if not module_code or not module_code.strip():
        raise ValueError("module code is empty")
    if user_limit is not None and (
        isinstance(user_limit, bool) or not isinstance(user_limit, int) or not 1 <= user_limit <= 0xFFFF
    ):
        raise ValueError("user limit must be 1..65535, or None for unlimited (tier >250)")
    if expiry is not None and (isinstance(expiry, datetime) or not isinstance(expiry, date)):
        raise ValueError("expiry must be a date (the last valid day)")
    # LIC-6: only demo keys are time-limited, and a demo key is always time-limited.
    if demo and expiry is None:
        raise ValueError("a demo key needs an expiry date")
    if expiry is not None and not demo:
        raise ValueError("only demo keys have an expiry date")
    if not 1 <= len(bindings) <= MAX_BINDINGS:
        raise ValueError(f"a key is bound to 1 to {MAX_BINDINGS} installations, got {len(bindings)}")
    digests = tuple(_binding(kind, identifier) for kind, identifier in bindings)
    if len(set(digests)) != len(digests):
        raise ValueError("the same installation is listed twice in the bindings")

    payload = KeyPayload(
        key_id=key_id_for(private_key),
        serial=serial,
        module_digest=module_digest(module_code),
        version=parse_version(version),
        user_limit=user_limit,
        expiry=expiry,
        demo=demo,
        subscription=subscription,
        goodwill=goodwill,
        bindings=digests,
    )
    pack_payload(payload)  # surfaces format limits (e.g. expiry range) at build time
    return payload


def sign_key(payload: KeyPayload, private_key: Ed25519PrivateKey) -> str:
    """Sign and encode a payload: the key as shown to the customer (groups of 5)."""
    own_id = key_id_for(private_key)
    if payload.key_id != own_id:
        raise ValueError(f"payload names key id {payload.key_id:#06x} but the signing key has {own_id:#06x}")
    data = pack_payload(payload)
    return format_key(encode_key(data + private_key.sign(data)))


# --- Re-initialisation responses (SYS-1) ----------------------------------------------
#
# "Zertifikat neu erstellen": the licence server's answer that gives a reset COMtrexx
# all its licences back. Signed with the module-key signing key (LIC-2) and written
# like a module key: Crockford base32 in groups of five. Bytes:
#   "RI" | format (1 byte) | key id (u16) | canonical JSON | Ed25519 signature (64)
# The signature covers everything before it. The JSON (built by the service) lists
# the serial, a digest of the initialisation code it answers, and every licence the
# serial holds.

_REINIT_HEADER = struct.Struct(">2sBH")
_REINIT_MAGIC = b"RI"
_REINIT_FORMAT = 1
_SIGNATURE_SIZE = 64


def _canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign_reinitialisation_response(payload: dict, private_key: Ed25519PrivateKey) -> str:
    """The signed response for ``payload``, in groups of five like a module key (SYS-1)."""
    signed = _REINIT_HEADER.pack(_REINIT_MAGIC, _REINIT_FORMAT, key_id_for(private_key)) + _canonical_json(payload)
    return format_key(encode_key(signed + private_key.sign(signed)))


def verify_reinitialisation_response(text: str, public_keys: Mapping[int, Ed25519PublicKey | bytes]) -> dict:
    """Check a re-initialisation response and return its payload (SYS-1).

    ``public_keys`` maps key id → public key (as for module keys). Spaces, dashes and
    case are ignored. Raises :class:`ReinitialisationResponseError` when the text is
    not a response, was changed, or was signed by an unknown key.
    """
    try:
        compact = normalize_key(text)
    except ValueError as exc:
        raise ReinitialisationResponseError(f"not a re-initialisation response: {exc}") from None
    hexed = compact.translate(str.maketrans("0123456789ABCDEFGHJKMNPQRSTVWXYZ", "0123456789ABCDEFGHIJKLMNOPQRSTUV"))
    try:
        data = base64.b32hexdecode(hexed + "=" * (-len(hexed) % 8))
    except ValueError as exc:
        raise ReinitialisationResponseError(f"not a re-initialisation response: {exc}") from None
    if encode_key(data) != compact:  # only the canonical spelling is accepted
        raise ReinitialisationResponseError("not a re-initialisation response: impossible length or last character")
    if len(data) < _REINIT_HEADER.size + 2 + _SIGNATURE_SIZE:
        raise ReinitialisationResponseError("the response is too short")
    signed, signature = data[:-_SIGNATURE_SIZE], data[-_SIGNATURE_SIZE:]
    magic, version, key_id = _REINIT_HEADER.unpack_from(signed)
    if magic != _REINIT_MAGIC or version != _REINIT_FORMAT:
        raise ReinitialisationResponseError("not a re-initialisation response (unknown format)")
    public_key = public_keys.get(key_id)
    if public_key is None:
        raise ReinitialisationResponseError(f"signed with unknown key id {key_id:#06x}")
    if not isinstance(public_key, Ed25519PublicKey):
        public_key = Ed25519PublicKey.from_public_bytes(bytes(public_key))
    try:
        public_key.verify(signature, signed)
    except InvalidSignature:
        raise ReinitialisationResponseError("the signature does not match: the response was changed") from None
    return json.loads(signed[_REINIT_HEADER.size :].decode("ascii"))
