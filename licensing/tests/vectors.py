"""Shared test vectors for the Python and the Java licence verifier (issue 21, LIC-2, LIC-3).

The Python side writes them, both verifiers check every one, and ``test_verifier_java.py``
requires that they agree on the verdict, the German sentence and the decoded payload. The
vectors are generated afresh on every run (deterministically, from a seed), not committed:

* hand-made cases: valid keys with one and two bindings and a hardware-ID binding, demo keys
  before, on and after their last day, each LIC-3 diagnosis (server key entered, mistyped,
  other module, other server key, expired, paid update needed), the verdict order when two
  of them hold, and the spellings the input normalisation must accept or refuse;
* keys signed over payloads the issuing side would refuse but the format allows (edge values)
  and well-signed bytes that break the payload layout;
* fuzzed texts and fuzzed identifiers, module codes and dates;
* one-character mutations (replaced, deleted, inserted, swapped, case-changed) of valid keys.

No Django: ``python -m licensing.tests.vectors OUT.json`` writes the same file for someone
working on the Java side; each vector carries the Python verifier's verdict code as
``expected_code`` (the German sentence needs Django's gettext, so the test computes it).
``vector["installed_version"]`` with ``paid_updates`` asks both sides to work out the
required version themselves (LIC-4, ``rules.required_key_version``).
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licensing import verifier
from licensing.keys import build_payload, key_id_for, public_key_pem, sign_key

SEED = 21
TODAY = date(2026, 11, 21)
SERVER_A = "ABCDE-12345-FGHIJ-67890"
SERVER_B = "ZYXWV-98765-UTSRQ-43210"
SERVER_C = "QQQQQ-11111-WWWWW-22222"
HARDWARE = "HW-0A1B2C3D4E5F"
MODULE = "CALLREC"
OTHER_MODULE = "ADSYNC"

# Deterministic signing keys: A and B are listed as public keys (B as a rotated old key),
# C is not, so its keys carry an unknown key id.
KEY_A = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_B = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
KEY_C = Ed25519PrivateKey.from_private_bytes(bytes(range(200, 232)))
LISTED_KEYS = (KEY_A, KEY_B)

# Characters the fuzzer mixes in: the alphabet, its look-alikes and lower case, separators
# (ASCII and Unicode spaces and dashes) and letters outside it (ß upper-cases to two letters).
_FUZZ_CHARS = (
    verifier.ALPHABET
    + "abcdefghjkmnpqrstvwxyz"
    + "OoIiLlUu"
    + "- \t\n\r\x0b\x0c\x1c\x1f"
    + "\u00a0\u2007\u202f\u3000\u2028\u0085\u200b"
    + "\u2010\u2011\u2013\u2014\u2212\u00ad"
    + "*_.,:;/+=!?#ßäÄéµſﬁ€İı"
)
_IDENTIFIER_CHARS = "ABCDEFGHJKLMNOPQRSTUVWXYZ0123456789abcdefxyz-  \t\u00a0\u2013ßäéµſﬁİı"


def public_keys_pem() -> list[str]:
    return [public_key_pem(key).decode("ascii") for key in LISTED_KEYS]


def public_keys_raw() -> dict[int, bytes]:
    return {key_id_for(key): bytes.fromhex(_raw_hex(key)) for key in LISTED_KEYS}


def _raw_hex(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _issue(
    *,
    private_key: Ed25519PrivateKey = KEY_A,
    serial: int = 4711,
    module: str = MODULE,
    version: str = "3.0",
    bindings: list[tuple[str, str]] | None = None,
    **kwargs,
) -> str:
    payload = build_payload(
        private_key=private_key,
        serial=serial,
        module_code=module,
        version=version,
        bindings=bindings or [(verifier.SERVER_KEY, SERVER_A)],
        **kwargs,
    )
    return sign_key(payload, private_key)


def _sign_raw(payload: bytes, private_key: Ed25519PrivateKey = KEY_A) -> str:
    """Sign any bytes as a key: payloads the issuing side refuses, broken layouts."""
    return verifier.format_key(verifier.encode_key(payload + private_key.sign(payload)))


def _vector(
    name: str,
    key: str,
    identifier: str = SERVER_A,
    *,
    kind: str = verifier.SERVER_KEY,
    module: str = MODULE,
    today: date = TODAY,
    required_version: str | None = None,
    installed_version: str | None = None,
    paid_updates: list[str] | None = None,
) -> dict:
    vector = {
        "name": name,
        "key": key,
        "identifier": identifier,
        "kind": kind,
        "module": module,
        "today": today.isoformat(),
        "required_version": required_version,
    }
    if installed_version is not None:
        vector["installed_version"] = installed_version
        vector["paid_updates"] = list(paid_updates or [])
    return vector


def required_version_of(vector: dict) -> str | None:
    """The version requirement of a vector: given, or worked out from installed + paid (LIC-4)."""
    if vector.get("installed_version") is None:
        return vector["required_version"]
    from licensing.rules.licenses import required_key_version  # pure; imports without settings

    return required_key_version(vector["installed_version"], [(v, True) for v in vector["paid_updates"]])


def _base_keys() -> dict[str, str]:
    return {
        "one-binding": _issue(),
        "two-bindings": _issue(serial=4712, bindings=[("server_key", SERVER_A), ("server_key", SERVER_B)]),
        "hardware-id": _issue(serial=4713, bindings=[("hardware_id", HARDWARE)]),
        # LIC-6: 30 days from 21.11.2026 → valid through 20.12.2026.
        "demo": _issue(serial=4714, demo=True, expiry=date(2026, 12, 20), user_limit=20),
        "subscription": _issue(serial=4715, subscription=True, version="3.0.0", user_limit=250),
        "goodwill": _issue(serial=4716, goodwill=True, version="2.4.1", user_limit=40),
        "rotated-key": _issue(private_key=KEY_B, serial=4717),
        "unknown-key-id": _issue(private_key=KEY_C, serial=4718),
        "eight-bindings": _issue(
            serial=4719,
            bindings=[("server_key", f"AAAA{i}-12345-FGHIJ-67890") for i in range(7)] + [("server_key", SERVER_C)],
        ),
        "demo-two-bindings": _issue(
            serial=4720,
            demo=True,
            expiry=date(2027, 1, 31),
            bindings=[("server_key", SERVER_B), ("hardware_id", HARDWARE)],
            goodwill=True,
        ),
    }


def _hand_made(keys: dict[str, str]) -> list[dict]:
    one, two, demo = keys["one-binding"], keys["two-bindings"], keys["demo"]
    compact = verifier.normalize_key(one)
    v = _vector
    cases = [
        # valid: one and two bindings (LIC-9), hardware ID, rotated key, eight bindings
        v("valid one binding", one),
        v("valid two bindings, primary", two, SERVER_A),
        v("valid two bindings, secondary", two, SERVER_B),
        v("two bindings, a third server key", two, SERVER_C),
        v("valid hardware id", keys["hardware-id"], HARDWARE.lower(), kind=verifier.HARDWARE_ID),
        v("hardware id given as a server key", keys["hardware-id"], HARDWARE),
        v("server key given as a hardware id", one, SERVER_A, kind=verifier.HARDWARE_ID),
        v("valid with the rotated old key", keys["rotated-key"]),
        v("eight bindings, the last one", keys["eight-bindings"], SERVER_C),
        v("eight bindings, the first one", keys["eight-bindings"], "aaaa0 12345 fghij 67890"),
        # demo keys before, on and after their last day (LIC-6)
        v("demo on its first day", demo, today=TODAY),
        v("demo on its last day", demo, today=date(2026, 12, 20)),
        v("demo the day after", demo, today=date(2026, 12, 21)),
        v("demo years later", demo, today=date(2031, 1, 1)),
        v("demo before it was issued", demo, today=date(2020, 1, 1)),
        v("demo, two bindings, expired", keys["demo-two-bindings"], SERVER_B, today=date(2027, 2, 1)),
        v("demo, two bindings, hardware id", keys["demo-two-bindings"], HARDWARE, kind=verifier.HARDWARE_ID),
        # (b) server key entered instead of a module key
        v("server key entered", SERVER_A),
        v("server key entered lower case, no dashes", "abcde12345fghij67890"),
        v("server key entered with spaces", " ABCDE 12345 FGHIJ 67890 "),
        v("server key entered with en dashes", "ABCDE\u201312345\u2013FGHIJ\u201367890"),
        v("server key shape with letters outside the alphabet", "UUUUU-12345-FGHIJ-67890"),
        v("nineteen characters", "ABCDE-12345-FGHIJ-6789"),
        v("twenty-one characters", "ABCDE-12345-FGHIJ-678901"),
        v("twenty characters, one not a letter", "ABCDE-12345-FGHIJ-6789*"),
        # (d) mistyped
        v("empty", ""),
        v("only dashes and spaces", " - -- \t"),
        v("last character missing", compact[:-1]),
        v("extra character", compact + "0"),
        v("a group missing", compact[5:]),
        v("unknown key id", keys["unknown-key-id"]),
        v("two keys pasted together", compact + compact),
        v("too long", "0" * 243),
        v("umlaut in the key", compact[:10] + "Ä" + compact[11:]),
        v("sharp s in the key", compact[:10] + "ß" + compact[12:]),
        # (f) other module; module code trimmed and case-insensitive
        v("other module", one, module=OTHER_MODULE),
        v("module lower case with spaces", one, module=" callrec \u00a0"),
        v("module with a zero-width space", one, module="CALLREC\u200b"),
        v("other module and other server key: module first", one, SERVER_B, module=OTHER_MODULE),
        # (c) other server key; identifier normalisation
        v("other server key", one, SERVER_B),
        v("server key lower case without dashes", one, "abcde12345fghij67890"),
        v("server key with spaces and tabs", one, " ABCDE\t12345 FGHIJ 67890\n"),
        v("server key with no-break spaces", one, "ABCDE\u00a012345\u00a0FGHIJ\u00a067890"),
        v("server key with en dashes", one, "ABCDE\u201312345\u2013FGHIJ\u201367890"),
        v("server key too short", one, "ABCDE-12345-FGHIJ"),
        v("server key with an umlaut", one, "ÄBCDE-12345-FGHIJ-67890"),
        v("server key empty", one, ""),
        # (e) expired before (a) paid update; other server key before expired
        v("expired and paid update: expired first", demo, today=date(2027, 1, 1), required_version="9.0"),
        v("expired and other server key: server key first", demo, SERVER_B, today=date(2027, 1, 1)),
        # (a) paid update needed (LIC-4) and subscription keys (LIC-12)
        v("paid update needed", one, required_version="4.0"),
        v("paid update needed, numeric compare", one, required_version="22.11"),
        v("required exactly the licensed version", one, required_version="3"),
        v("required an older version", one, required_version="2.9.9"),
        v("required version with spaces", one, required_version=" 3.0.1 "),
        v("subscription key runs a paid update", keys["subscription"], required_version="7.0"),
        v("goodwill key, paid update", keys["goodwill"], required_version="2.4.2"),
        v("goodwill key, free update", keys["goodwill"], required_version="2.4.1"),
        v("installed free update", one, installed_version="3.5", paid_updates=["2.0", "4.0"]),
        v("installed after a paid update", one, installed_version="4.1", paid_updates=["2.0", "4.0"]),
        v("installed the paid update itself", one, installed_version="4", paid_updates=["4.0", "2.0"]),
        v("installed older version", one, installed_version="1.0", paid_updates=["2.0", "4.0"]),
        v("installed without paid updates", one, installed_version="9.9.9", paid_updates=[]),
        v("installed, subscription", keys["subscription"], installed_version="8.0", paid_updates=["5.0"]),
    ]
    # Spellings that must be accepted (LIC-2: spaces, dashes, case; O→0, I/L→1).
    spellings = {
        "compact": compact,
        "lower case": one.lower(),
        "spaces instead of dashes": one.replace("-", " "),
        "line breaks": "\n".join(compact[i : i + 40] for i in range(0, len(compact), 40)),
        "no-break spaces and en dashes": one.replace("-", "\u00a0\u2013 "),
        "minus signs": one.replace("-", "\u2212"),
        "ideographic spaces": one.replace("-", "\u3000"),
        "O for 0, l for 1": compact.replace("0", "O").replace("1", "l"),
        "i for 1": compact.replace("1", "i"),
        "soft hyphen (not a dash)": one.replace("-", "\u00ad", 1),
        "zero-width space (not a space)": one.replace("-", "\u200b", 1),
    }
    cases += [v(f"spelling: {name}", text) for name, text in spellings.items()]
    return cases


def _edge_payloads() -> list[dict]:
    """Signed by a listed key, over payloads build_payload refuses but the format allows,
    and over bytes that break the layout (they must fail before or at the payload check)."""
    a_id = key_id_for(KEY_A)
    binding_a = verifier.binding_digest(SERVER_A)
    module = verifier.module_digest(MODULE)

    def header(*, fmt=1, key_id=a_id, serial=1, version=(1, 0, 0), users=0, expiry=0, flags=0, count=1) -> bytes:
        return (
            bytes([fmt])
            + key_id.to_bytes(2, "big")
            + serial.to_bytes(4, "big")
            + module
            + b"".join(p.to_bytes(2, "big") for p in version)
            + users.to_bytes(2, "big")
            + expiry.to_bytes(2, "big")
            + bytes([flags, count])
        )

    def v(name: str, payload: bytes, **kwargs) -> dict:
        return _vector(f"edge: {name}", _sign_raw(payload), **kwargs)

    return [
        v(
            "largest serial, version and user limit",
            header(serial=0xFFFFFFFF, version=(65535,) * 3, users=65535) + binding_a,
            required_version="65535.65535.65535",
        ),
        v("expiry without demo flag, not yet", header(expiry=9821) + binding_a),  # 2026-11-21 + 0
        v("expiry without demo flag, passed", header(expiry=9820) + binding_a),
        v("demo flag without expiry", header(flags=1) + binding_a, today=date(2179, 6, 6)),
        v("last expressible expiry", header(expiry=0xFFFF, flags=1) + binding_a, today=date(2179, 6, 6)),
        v("expiry day 1", header(expiry=1, flags=1) + binding_a, today=date(2000, 1, 2)),
        v("every known flag", header(flags=7, version=(0, 0, 0)) + binding_a, required_version="65535"),
        v("unknown flag", header(flags=8) + binding_a),
        v("format version 2", header(fmt=2) + binding_a),
        v("format version 0", header(fmt=0) + binding_a),
        v("binding count 0", header(count=0) + binding_a),
        v("binding count 9", header(count=9) + binding_a * 9),
        v("count says 2, one binding", header(count=2) + binding_a),
        v("count says 1, two bindings", header(count=1) + binding_a * 2),
        v("same binding twice", header(count=2) + binding_a * 2),
        v("key id of B, signed by A", header(key_id=key_id_for(KEY_B)) + binding_a),
        v("short payload", header()[:20]),
        _vector(
            "edge: signature of the wrong bytes",
            verifier.format_key(verifier.encode_key(header() + binding_a + KEY_A.sign(header(serial=2) + binding_a))),
        ),
    ]


def _fuzzed(rng: random.Random, keys: dict[str, str], count: int) -> list[dict]:
    vectors = []
    base = list(keys.values())
    for index in range(count):
        shape = index % 5
        if shape == 0:  # random text of any length
            text = "".join(rng.choice(_FUZZ_CHARS) for _ in range(rng.randint(0, 260)))
        elif shape == 1:  # random alphabet text of a possible key length
            length = rng.choice([152, 165, 178, 191, 242, 20, 19, 21, 0, 1, 2, 160])
            text = "".join(rng.choice(verifier.ALPHABET) for _ in range(length))
        elif shape == 2:  # random bytes that look like a payload: version 1, a listed key id
            count_bindings = rng.randint(1, 8)
            body = bytearray(rng.randbytes(23 + 8 * count_bindings + 64))
            body[0] = 1
            body[1:3] = key_id_for(rng.choice(LISTED_KEYS)).to_bytes(2, "big")
            body[21] = rng.choice([0, 1, 2, 4, 7, 8])
            body[22] = count_bindings
            text = verifier.format_key(verifier.encode_key(bytes(body)))
        elif shape == 3:  # a valid key cut, doubled or spliced
            key = verifier.normalize_key(rng.choice(base))
            cut = rng.randint(0, len(key))
            text = rng.choice([key[:cut], key[cut:], key[:cut] + key, key + key[:cut]])
        else:  # a valid key with random separators between random runs of it
            key = verifier.normalize_key(rng.choice(base))
            pieces, pos = [], 0
            while pos < len(key):
                step = rng.randint(1, 12)
                pieces.append(key[pos : pos + step])
                pieces.append("".join(rng.choice("- \t\n\u00a0\u2013\u2212\u3000") for _ in range(rng.randint(0, 3))))
                pos += step
            text = "".join(pieces)
            text = text.lower() if rng.random() < 0.3 else text
        vectors.append(_fuzz_context(rng, f"fuzz {index}", text))
    return vectors


def _fuzz_context(rng: random.Random, name: str, text: str) -> dict:
    """A vector for ``text`` with a mostly matching, sometimes fuzzed installation and date."""
    roll = rng.random()
    if roll < 0.6:
        identifier, kind = rng.choice([SERVER_A, SERVER_B, SERVER_C]), verifier.SERVER_KEY
    elif roll < 0.75:
        identifier, kind = HARDWARE, verifier.HARDWARE_ID
    else:
        identifier = "".join(rng.choice(_IDENTIFIER_CHARS) for _ in range(rng.randint(0, 30)))
        kind = rng.choice([verifier.SERVER_KEY, verifier.HARDWARE_ID])
    module = rng.choice([MODULE, MODULE, MODULE, OTHER_MODULE, " callrec ", "CallRec\u3000", "ßtraße", "İnsight"])
    today = TODAY + timedelta(days=rng.choice([0, 29, 30, 31, 60, 400, -3000]))
    required = rng.choice([None, None, "3.0", "3.0.1", "2", "65535.0.0"])
    return _vector(name, text, identifier, kind=kind, module=module, today=today, required_version=required)


def _mutated(rng: random.Random, keys: dict[str, str], count: int) -> list[dict]:
    """One-character changes of valid keys: almost all must be ``mistyped``; the harmless
    ones (case, look-alikes, a separator) must keep the verdict."""
    vectors = []
    bases = [k for name, k in keys.items() if name != "unknown-key-id"]
    replacements = verifier.ALPHABET + "abcxyzOoIiLlU-  \u2013ß*"
    for index in range(count):
        key = rng.choice(bases)
        position = rng.randrange(len(key))
        how = index % 5
        if how == 0:
            text = key[:position] + rng.choice(replacements) + key[position + 1 :]
        elif how == 1:
            text = key[:position] + key[position + 1 :]
        elif how == 2:
            text = key[:position] + rng.choice(replacements) + key[position:]
        elif how == 3:
            text = key[:position] + key[position + 1 : position + 2] + key[position] + key[position + 2 :]
        else:  # the last characters carry the padding bits and the signature's end
            position = len(key) - 1 - rng.randrange(3)
            text = key[:position] + rng.choice(verifier.ALPHABET) + key[position + 1 :]
        vectors.append(_fuzz_context(rng, f"mutation {index}", text))
    return vectors


def build_vectors(*, seed: int = SEED, fuzzed: int = 2000, mutated: int = 2500) -> dict:
    """The vector document: ``{"public_keys": [PEM, ...], "vectors": [{...}, ...]}``."""
    rng = random.Random(seed)
    keys = _base_keys()
    vectors = _hand_made(keys) + _edge_payloads() + _fuzzed(rng, keys, fuzzed) + _mutated(rng, keys, mutated)
    raw = public_keys_raw()
    for vector in vectors:
        vector["expected_code"] = python_result(vector, raw, required_version_of(vector)).code
    return {"public_keys": public_keys_pem(), "vectors": vectors}


def python_result(vector: dict, public_keys: dict[int, bytes], required_version: str | None):
    return verifier.verify_key(
        vector["key"],
        vector["identifier"],
        public_keys,
        identifier_kind=vector["kind"],
        module=vector["module"],
        today=date.fromisoformat(vector["today"]),
        required_version=required_version,
    )


def write_vectors(path, **kwargs) -> dict:
    document = build_vectors(**kwargs)
    with open(path, "w", encoding="ascii") as handle:
        json.dump(document, handle, ensure_ascii=True, indent=0)
    return document


if __name__ == "__main__":  # python -m licensing.tests.vectors OUT.json
    write_vectors(sys.argv[1] if len(sys.argv) > 1 else "license-vectors.json")
