"""Offline verifier for module licence keys (LIC-1, LIC-2, LIC-3, LIC-6, LIC-9).

This file is what a module embeds: it imports only the Python standard library and
``cryptography`` — never Django, never other project modules — so it can be copied
as it is. The issuing side (signing, key files) lives in ``licensing/keys.py``.

A licence key is ``payload || Ed25519 signature (64 bytes)``, written in Crockford
base32 (``0123456789ABCDEFGHJKMNPQRSTVWXYZ``, no padding, upper case) in groups of
five characters joined by ``-``. The payload is big-endian:

====== ===== ===================================================================
offset bytes field
====== ===== ===================================================================
0      1     format version (``1``)
1      2     key id: first 2 bytes of SHA-256 of the raw 32-byte public key
3      4     licence serial
7      4     module digest: first 4 bytes of SHA-256 of the article code
11     6     licensed version major, minor, patch (3 x u16)
17     2     user limit (0 = unlimited, tier ">250")
19     2     expiry, days since 2000-01-01 (0 = none; valid through that day)
21     1     flags: bit 0 demo, bit 1 subscription, bit 2 goodwill
22     1     binding count n (1..8)
23     8*n   binding digests: first 8 bytes of SHA-256 of
             ``b"LIC1|" + kind + b"|" + normalised identifier``
====== ===== ===================================================================

One binding gives 31 + 64 = 95 bytes = 152 characters (31 groups, the last one of
two characters); every further binding adds 8 bytes (12 or 13 characters).

Command line::

    python verifier.py KEY IDENTIFIER --public-key PEMFILE [--public-key ...]
        [--module CODE] [--hardware-id] [--required-version V] [--today YYYY-MM-DD]

prints the verdict code on the first line and a message on the second; exit status
0 when the key is valid, 1 otherwise (2 for unusable arguments).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "ALPHABET",
    "FORMAT_VERSION",
    "HARDWARE_ID",
    "SERVER_KEY",
    "KeyPayload",
    "MalformedKey",
    "VerifyResult",
    "binding_digest",
    "decode_key",
    "encode_key",
    "format_key",
    "key_id_for_public_bytes",
    "load_public_key_pem",
    "main",
    "module_digest",
    "normalize_hardware_id",
    "normalize_key",
    "normalize_server_key",
    "pack_payload",
    "parse_version",
    "unpack_payload",
    "verify_key",
]

FORMAT_VERSION = 1
SERVER_KEY = "server_key"
HARDWARE_ID = "hardware_id"
IDENTIFIER_KINDS = (SERVER_KEY, HARDWARE_ID)

MAX_BINDINGS = 8
SIGNATURE_SIZE = 64
BINDING_SIZE = 8
MODULE_DIGEST_SIZE = 4
GROUP_SIZE = 5

FLAG_DEMO = 0x01
FLAG_SUBSCRIPTION = 0x02
FLAG_GOODWILL = 0x04
_KNOWN_FLAGS = FLAG_DEMO | FLAG_SUBSCRIPTION | FLAG_GOODWILL

EXPIRY_EPOCH = date(2000, 1, 1)

_HEADER = struct.Struct(">BHI4sHHHHHBB")
HEADER_SIZE = _HEADER.size  # 23
_MIN_KEY_BYTES = HEADER_SIZE + BINDING_SIZE + SIGNATURE_SIZE
_MAX_KEY_BYTES = HEADER_SIZE + MAX_BINDINGS * BINDING_SIZE + SIGNATURE_SIZE
_MAX_KEY_CHARS = (_MAX_KEY_BYTES * 8 + 4) // 5

# --- Crockford base32 -----------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# RFC 4648 "base32hex" uses the digits of int(..., 32), so decoding translates to it
# and lets C code do the arithmetic instead of looping over characters in Python.
_BASE32HEX = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
_FROM_HEX = str.maketrans(_BASE32HEX, ALPHABET)
_HEX_TO_CROCKFORD = bytes.maketrans(_BASE32HEX.encode(), ALPHABET.encode())
_INVALID = b"!"


def _decode_table() -> bytes:
    """bytes.translate table: accepted character → base32hex digit, else ``!``."""
    table = bytearray(_INVALID * 256)
    for value, char in enumerate(ALPHABET):
        table[ord(char)] = table[ord(char.lower())] = ord(_BASE32HEX[value])
    # Crockford's reading aids: O looks like 0, I and L look like 1.
    for char, digit in (("O", "0"), ("I", "1"), ("L", "1")):
        table[ord(char)] = table[ord(char.lower())] = ord(digit)
    return bytes(table)


_TO_HEX = _decode_table()
# ASCII whitespace as str.split() sees it, and the hyphen-minus: ignored on input.
_IGNORED_ASCII = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-"
# Hyphen-minus plus the dashes a mail client or word processor may substitute.
_DASHES = str.maketrans(dict.fromkeys("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"))


class MalformedKey(ValueError):
    """The text is not a well-formed licence key (bad character, length, format)."""


def _strip_key_text(text: str) -> bytes:
    """ASCII bytes of ``text`` without whitespace and dashes (case still as typed)."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        # Rare path: non-breaking spaces, typographic dashes and the like.
        compact = "".join(text.translate(_DASHES).split())
        if not compact.isascii():
            # Refused before upper-casing: "ß".upper() == "SS" must not sneak through.
            raise MalformedKey("the key contains characters outside the key alphabet") from None
        return compact.encode("ascii")
    return raw.translate(None, _IGNORED_ASCII)


def _to_hex_digits(stripped: bytes) -> bytes:
    hexed = stripped.translate(_TO_HEX)
    if _INVALID in hexed:
        bad = sorted({chr(c) for c, h in zip(stripped, hexed) if h == _INVALID[0]})
        raise MalformedKey(f"the key contains characters outside the key alphabet: {''.join(bad)}")
    return hexed


def normalize_key(text: str) -> str:
    """Return the compact canonical form of a typed or pasted key (no dashes).

    Ignores all whitespace (including line breaks from e-mail copies), dashes and
    case; maps O to 0 and I, L to 1. Raises :class:`MalformedKey` on any other
    character outside the alphabet.
    """
    return _to_hex_digits(_strip_key_text(text)).translate(_HEX_TO_CROCKFORD).decode("ascii")


def format_key(compact: str) -> str:
    """Write a key in groups of five characters joined by ``-``."""
    compact = normalize_key(compact)
    return "-".join(compact[i : i + GROUP_SIZE] for i in range(0, len(compact), GROUP_SIZE))


def encode_key(data: bytes) -> str:
    """Encode bytes as compact Crockford base32 (no padding, no dashes)."""
    return base64.b32hexencode(data).decode("ascii").rstrip("=").translate(_FROM_HEX)


def _decode_stripped(stripped: bytes) -> bytes:
    length = len(stripped)
    if length == 0:
        raise MalformedKey("the key is empty")
    if length > _MAX_KEY_CHARS:
        raise MalformedKey(f"the key is too long ({length} characters)")
    hexed = _to_hex_digits(stripped)
    n_bytes = length * 5 // 8
    if (n_bytes * 8 + 4) // 5 != length:
        raise MalformedKey(f"a key cannot have {length} characters")
    pad_bits = length * 5 - n_bytes * 8
    value = int(hexed, 32)
    if value & ((1 << pad_bits) - 1):
        raise MalformedKey("the last character of the key is not possible")
    return (value >> pad_bits).to_bytes(n_bytes, "big")


def decode_key(text: str) -> bytes:
    """Decode a key (any accepted spelling) to its bytes.

    Only canonical encodings are accepted: the length must be one that
    :func:`encode_key` produces and the unused trailing bits must be zero, so that
    every change of a character changes the bytes (and so breaks the signature).
    """
    return _decode_stripped(_strip_key_text(text))


# --- Payload fields ---------------------------------------------------------------


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def key_id_for_public_bytes(raw: bytes) -> int:
    """Key id of a signing key: first 2 bytes of SHA-256 of its raw public key."""
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return int.from_bytes(_sha256(raw)[:2], "big")


@lru_cache(maxsize=256)
def module_digest(code: str) -> bytes:
    """First 4 bytes of SHA-256 of the module's article code (trimmed, upper case)."""
    return _sha256(code.strip().upper().encode("utf-8"))[:MODULE_DIGEST_SIZE]


def normalize_server_key(text: str) -> str:
    """Canonical server licence key: four groups of five, ``ABCDE-12345-FGHIJ-67890`` (LIC-1).

    Trims, removes whitespace and upper-cases. When the result is 20 letters/digits
    once dashes are ignored it is regrouped, so ``abcde 12345fghij-67890`` and
    ``ABCDE-12345-FGHIJ-67890`` bind the same; anything else is returned as it is
    (and simply will not match a binding). Same rule as ``rules.normalize_identifier``.
    """
    text = "".join(text.split()).upper()
    compact = text.replace("-", "")
    if len(compact) == 20 and compact.isascii() and compact.isalnum():
        return f"{compact[:5]}-{compact[5:10]}-{compact[10:15]}-{compact[15:]}"
    return text


def normalize_hardware_id(text: str) -> str:
    """Canonical hardware ID (STARFACE Free Edition): no whitespace, upper case."""
    return "".join(text.split()).upper()


@lru_cache(maxsize=1024)  # an installation checks its own identifier over and over
def binding_digest(identifier: str, kind: str = SERVER_KEY) -> bytes:
    """8-byte digest an installation identifier is bound by (LIC-1, LIC-9).

    The key carries only this digest, so it does not reveal the server key. The
    kind is hashed in too: a hardware ID never matches a server key of equal text.
    """
    if kind == SERVER_KEY:
        normalized = normalize_server_key(identifier)
    elif kind == HARDWARE_ID:
        normalized = normalize_hardware_id(identifier)
    else:
        raise ValueError(f"unknown identifier kind {kind!r}; use {SERVER_KEY!r} or {HARDWARE_ID!r}")
    material = b"LIC1|" + kind.encode("ascii") + b"|" + normalized.encode("utf-8")
    return _sha256(material)[:BINDING_SIZE]


def parse_version(text: str | tuple[int, ...] | list[int]) -> tuple[int, int, int]:
    """``"46"`` → ``(46, 0, 0)``, ``"3.2"`` → ``(3, 2, 0)``, ``"22.2.14"`` → ``(22, 2, 14)``.

    Also accepts a tuple of one to three numbers. Raises ``ValueError`` on anything
    that is not one to three dot-separated numbers of 0..65535.
    """
    if isinstance(text, (tuple, list)):
        if not 1 <= len(text) <= 3 or not all(isinstance(p, int) and not isinstance(p, bool) for p in text):
            raise ValueError(f"version {text!r} must be one to three integers")
        return _pad_version(text, list(text))
    return _parse_version_text(str(text))


@lru_cache(maxsize=256)
def _parse_version_text(text: str) -> tuple[int, int, int]:
    raw = text.strip()
    pieces = raw.split(".")
    if not raw or len(pieces) > 3:
        raise ValueError(f"version {text!r} must look like 46, 3.2 or 22.2.14")
    for piece in pieces:
        if not (piece.isascii() and piece.isdigit()):
            raise ValueError(
                f"version {text!r} has a non-numeric part {piece!r}; use numbers only, e.g. 3.2 or 22.2.14"
            )
    return _pad_version(text, [int(piece) for piece in pieces])


def _pad_version(text: object, parts: list[int]) -> tuple[int, int, int]:
    for part in parts:
        if not 0 <= part <= 0xFFFF:
            raise ValueError(f"version {text!r}: each part must be between 0 and 65535")
    parts += [0] * (3 - len(parts))
    return (parts[0], parts[1], parts[2])


# --- Payload ----------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPayload:
    """What a licence key says, in friendly form (see the module docstring)."""

    key_id: int
    serial: int
    module_digest: bytes
    version: tuple[int, int, int]
    user_limit: int | None  # None = unlimited (tier ">250")
    expiry: date | None  # last valid day; only demo keys have one (LIC-6)
    demo: bool
    subscription: bool
    goodwill: bool
    bindings: tuple[bytes, ...]  # binding digests, 1..8 (LIC-9 redundancy)
    format_version: int = FORMAT_VERSION

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


def pack_payload(payload: KeyPayload) -> bytes:
    """Binary payload (the bytes that are signed). Raises ``ValueError`` when a
    field does not fit the format."""
    if payload.format_version != FORMAT_VERSION:
        raise ValueError(f"only format version {FORMAT_VERSION} can be written")
    if not 0 <= payload.key_id <= 0xFFFF:
        raise ValueError("key id must fit in 16 bits")
    if not 0 <= payload.serial <= 0xFFFFFFFF:
        raise ValueError("serial must be between 0 and 4294967295")
    if len(payload.module_digest) != MODULE_DIGEST_SIZE:
        raise ValueError("module digest must have 4 bytes")
    if len(payload.version) != 3 or not all(0 <= p <= 0xFFFF for p in payload.version):
        raise ValueError("version must be three numbers between 0 and 65535")
    if payload.user_limit is None:
        user_limit = 0
    elif 1 <= payload.user_limit <= 0xFFFF:
        user_limit = payload.user_limit
    else:
        raise ValueError("user limit must be 1..65535 or None (unlimited)")
    if payload.expiry is None:
        expiry = 0
    else:
        expiry = (payload.expiry - EXPIRY_EPOCH).days
        if not 1 <= expiry <= 0xFFFF:
            raise ValueError("expiry must lie between 2000-01-02 and 2179-06-06")
    if not 1 <= len(payload.bindings) <= MAX_BINDINGS:
        raise ValueError(f"a key needs 1 to {MAX_BINDINGS} bindings")
    if any(len(b) != BINDING_SIZE for b in payload.bindings):
        raise ValueError("each binding digest must have 8 bytes")
    flags = (
        (FLAG_DEMO if payload.demo else 0)
        | (FLAG_SUBSCRIPTION if payload.subscription else 0)
        | (FLAG_GOODWILL if payload.goodwill else 0)
    )
    header = _HEADER.pack(
        FORMAT_VERSION,
        payload.key_id,
        payload.serial,
        payload.module_digest,
        *payload.version,
        user_limit,
        expiry,
        flags,
        len(payload.bindings),
    )
    return header + b"".join(payload.bindings)


def unpack_payload(data: bytes) -> KeyPayload:
    """Inverse of :func:`pack_payload`; raises :class:`MalformedKey`."""
    if not data:
        raise MalformedKey("empty payload")
    if data[0] != FORMAT_VERSION:
        raise MalformedKey(f"unknown key format version {data[0]}")
    if len(data) < HEADER_SIZE:
        raise MalformedKey("the key is too short")
    (
        _version,
        key_id,
        serial,
        digest,
        major,
        minor,
        patch,
        user_limit,
        expiry,
        flags,
        count,
    ) = _HEADER.unpack_from(data)
    if not 1 <= count <= MAX_BINDINGS:
        raise MalformedKey(f"invalid binding count {count}")
    if len(data) != HEADER_SIZE + count * BINDING_SIZE:
        raise MalformedKey("the key length does not match its binding count")
    if flags & ~_KNOWN_FLAGS:
        raise MalformedKey("unknown flags set")
    offsets = range(HEADER_SIZE, len(data), BINDING_SIZE)
    bindings = tuple([data[offset : offset + BINDING_SIZE] for offset in offsets])
    return KeyPayload(
        key_id=key_id,
        serial=serial,
        module_digest=digest,
        version=(major, minor, patch),
        user_limit=user_limit or None,
        expiry=EXPIRY_EPOCH + timedelta(days=expiry) if expiry else None,
        demo=bool(flags & FLAG_DEMO),
        subscription=bool(flags & FLAG_SUBSCRIPTION),
        goodwill=bool(flags & FLAG_GOODWILL),
        bindings=bindings,
    )


# --- Verification -----------------------------------------------------------------

SERVER_KEY_ENTERED = "server-key-entered"
MISTYPED = "mistyped"
OTHER_MODULE = "other-module"
OTHER_SERVER_KEY = "other-server-key"
EXPIRED = "expired"
PAID_UPDATE_NEEDED = "paid-update-needed"
VALID = "valid"


@dataclass(frozen=True)
class VerifyResult:
    """Verdict on a key (LIC-3). ``payload`` is set only once the signature held."""

    ok: bool
    code: str
    payload: KeyPayload | None
    message: str


@lru_cache(maxsize=64)
def _public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    # Parsing is cheap but not free; callers pass the same few keys every time.
    return Ed25519PublicKey.from_public_bytes(raw)


def _public_key(value: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    if isinstance(value, Ed25519PublicKey):
        return value
    return _public_key_from_raw(bytes(value))


def _fail(code: str, message: str, payload: KeyPayload | None = None) -> VerifyResult:
    return VerifyResult(ok=False, code=code, payload=payload, message=message)


def verify_key(
    key_text: str,
    identifier: str,
    public_keys: Mapping[int, Ed25519PublicKey | bytes],
    *,
    identifier_kind: str = SERVER_KEY,
    module: str | None = None,
    today: date,
    required_version: str | tuple[int, ...] | None = None,
) -> VerifyResult:
    """Check a licence key against an installation identifier (LIC-3).

    ``today`` is required and has no default: the verifier fails closed, so a
    module that embeds it cannot forget the expiry check of demo keys by leaving
    the date out (``None`` or anything that is not a date raises ``TypeError``).

    ``public_keys`` maps key id → raw 32-byte public key or ``Ed25519PublicKey``
    (old, rotated keys keep verifying as long as they are listed).
    ``required_version`` is the lowest licensed version the installed module version
    needs (LIC-4, computed from paid updates); older versions are always covered.
    Checks run in the order of the codes: server-key-entered, mistyped,
    other-module, other-server-key, expired, paid-update-needed, valid.
    """
    if identifier_kind not in IDENTIFIER_KINDS:
        raise ValueError(f"unknown identifier kind {identifier_kind!r}")
    if isinstance(today, datetime):
        today = today.date()
    if not isinstance(today, date):
        raise TypeError("today must be a date: the expiry of demo keys is always checked")
    try:
        stripped = _strip_key_text(key_text)
    except MalformedKey as exc:  # non-ASCII: cannot be a server key either
        return _fail(MISTYPED, f"key is mistyped: {exc}")
    # LIC-3 (b): four groups of five letters/digits is the shape of a server key;
    # a module key is at least 152 characters long, so the two never overlap.
    if len(stripped) == 20 and stripped.isalnum():
        return _fail(
            SERVER_KEY_ENTERED,
            "this is a server licence key, not a module licence key",
        )
    try:
        data = _decode_stripped(stripped)
        if len(data) < _MIN_KEY_BYTES:
            raise MalformedKey("the key is too short")
        signed, signature = data[:-SIGNATURE_SIZE], data[-SIGNATURE_SIZE:]
        payload = unpack_payload(signed)
    except MalformedKey as exc:
        return _fail(MISTYPED, f"key is mistyped or incomplete: {exc}")
    public_key = public_keys.get(payload.key_id)
    if public_key is None:
        return _fail(MISTYPED, f"key is mistyped: signed with unknown key id {payload.key_id:#06x}")
    try:
        _public_key(public_key).verify(signature, signed)
    except InvalidSignature:
        return _fail(MISTYPED, "key is mistyped: the signature does not match")

    if module is not None and module_digest(module) != payload.module_digest:
        return _fail(OTHER_MODULE, "key is for another module", payload)
    if binding_digest(identifier, identifier_kind) not in payload.bindings:
        what = "server licence key" if identifier_kind == SERVER_KEY else "hardware ID"
        return _fail(OTHER_SERVER_KEY, f"key belongs to another {what}", payload)
    if payload.expiry is not None and today > payload.expiry:
        return _fail(EXPIRED, f"demo key expired on {payload.expiry.isoformat()}", payload)
    # LIC-12: during a subscription all updates are free, so a subscription key
    # runs every version; the portal blocks it when the subscription ends.
    if required_version is not None and not payload.subscription:
        required = parse_version(required_version)
        if payload.version < required:
            return _fail(
                PAID_UPDATE_NEEDED,
                f"key licenses version {payload.version_text}; the installed version "
                f"needs a key for {'.'.join(map(str, required))} or later (paid update)",
                payload,
            )
    return VerifyResult(ok=True, code=VALID, payload=payload, message="key is valid")


# --- Command line -----------------------------------------------------------------


def load_public_key_pem(data: bytes) -> Ed25519PublicKey:
    """Parse a PEM SubjectPublicKeyInfo Ed25519 public key; ``ValueError`` otherwise."""
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _raw_public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify a STARFACE module licence key offline.",
    )
    parser.add_argument("key", help="the module licence key (spaces, dashes and case are ignored)")
    parser.add_argument("identifier", help="server licence key (or hardware ID with --hardware-id)")
    parser.add_argument(
        "--public-key",
        action="append",
        required=True,
        metavar="PEMFILE",
        help="Ed25519 public key in PEM; repeat for rotated keys",
    )
    parser.add_argument("--module", help="article code of the module the key must be for")
    parser.add_argument(
        "--hardware-id",
        action="store_true",
        help="IDENTIFIER is a hardware ID (STARFACE Free Edition)",
    )
    parser.add_argument("--required-version", help="lowest licensed version needed, e.g. 4.0")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="date for the demo-key expiry check (default: today)",
    )
    args = parser.parse_args(argv)

    public_keys: dict[int, Ed25519PublicKey] = {}
    for path in args.public_key:
        try:
            with open(path, "rb") as handle:
                key = load_public_key_pem(handle.read())
        except (OSError, ValueError, UnsupportedAlgorithm) as exc:
            parser.error(f"cannot use public key {path}: {exc}")
        public_keys[key_id_for_public_bytes(_raw_public_bytes(key))] = key
    if args.required_version is not None:
        try:
            parse_version(args.required_version)
        except ValueError as exc:
            parser.error(str(exc))

    result = verify_key(
        args.key,
        args.identifier,
        public_keys,
        identifier_kind=HARDWARE_ID if args.hardware_id else SERVER_KEY,
        module=args.module,
        # A module checking its key wants the expiry checked, so default to today.
        today=args.today or date.today(),
        required_version=args.required_version,
    )
    print(result.code)
    print(result.message)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
