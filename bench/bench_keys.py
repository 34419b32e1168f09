"""Throughput of module licence keys (LIC-2): offline verification and issuing.

Run from the repository root::

    python bench/bench_keys.py

Verification uses ``licensing/verifier.py`` loaded from its file as a stand-alone
module (as a module embeds it, without the ``licensing`` package). Everything runs
in this one thread, i.e. on one core. The process is not pinned to a CPU: pinning
to a core that other processes use as well only adds their load to the figure.

The three phases run interleaved, ROUNDS rounds over 2,000 distinct keys each, so
that all of them see the same background load. As with ``timeit``, the best round
decides whether a target is met — slower rounds measure other processes, not this
code — and the median is printed next to it so a loaded machine is visible.

Issuing measures ``build_payload`` + ``sign_key`` (digests, signing, encoding;
storing in the database is measured elsewhere). For reference the bare OpenSSL
Ed25519 verification over the same keys is measured too: it is the ceiling any
verifier built on ``cryptography`` can reach on this machine.

Exits 1 when a target is missed. Takes about 10 seconds.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from licensing.keys import build_payload, key_id_for, sign_key  # noqa: E402

VERIFY_TARGET = 5_000  # keys/s, one core
SIGN_TARGET = 500  # keys/s; "well above" is expected
N_KEYS = 2_000
ROUNDS = 5
TODAY = date(2026, 6, 1)


def load_standalone_verifier():
    spec = importlib.util.spec_from_file_location("standalone_verifier", REPO_ROOT / "licensing" / "verifier.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def server_key(i: int) -> str:
    text = f"{i:020d}"
    return "-".join(text[j : j + 5] for j in range(0, 20, 5))


def issue(private_key: Ed25519PrivateKey, i: int) -> str:
    """One key of a realistic mix: one in four redundant (LIC-9), one in ten demo."""
    bindings = [("server_key", server_key(i))]
    if i % 4 == 0:
        bindings.append(("server_key", server_key(i + 10**9)))
    demo = i % 10 == 0
    payload = build_payload(
        private_key=private_key,
        serial=i,
        module_code="CALLREC",
        version="22.2.14",
        user_limit=None if i % 7 == 0 else 40,
        expiry=date(2026, 12, 20) if demo else None,
        demo=demo,
        bindings=bindings,
    )
    return sign_key(payload, private_key)


def measure(actions: dict[str, object]) -> dict[str, tuple[float, float]]:
    """Best and median keys/s of each action, rounds of N_KEYS interleaved."""
    rates: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(ROUNDS):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            rates[name].append(N_KEYS / (time.perf_counter() - started))
    return {name: (max(r), statistics.median(r)) for name, r in rates.items()}


def show(label: str, figures: tuple[float, float], target: int | None) -> str:
    best, median = figures
    goal = f"target >= {target:,}" if target else "(reference)"
    return f"  {label:<42}{best:>8,.0f} keys/s  (median {median:>6,.0f})  {goal}"


def main() -> int:
    verifier = load_standalone_verifier()
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    public_keys = {key_id_for(private_key): public_key.public_bytes_raw()}

    keys = [issue(private_key, i) for i in range(N_KEYS)]  # also the warm-up
    identifiers = [server_key(i) for i in range(N_KEYS)]
    pairs = list(zip(keys, identifiers))

    def sign_all() -> None:
        for i in range(N_KEYS):
            issue(private_key, i)

    def verify_all() -> None:
        for key, identifier in pairs:
            result = verifier.verify_key(
                key,
                identifier,
                public_keys,
                module="CALLREC",
                today=TODAY,
                required_version="22.2",
            )
            if not result.ok:
                raise SystemExit(f"benchmark key did not verify: {result.code}")

    decoded = [verifier.decode_key(key) for key in keys]
    signed_parts = [(data[:-64], data[-64:]) for data in decoded]

    def raw_verify_all() -> None:
        for signed, signature in signed_parts:
            public_key.verify(signature, signed)

    verify_all()  # warm-up and correctness check
    figures = measure({"sign": sign_all, "verify": verify_all, "raw": raw_verify_all})
    sign, verify, raw = figures["sign"], figures["verify"], figures["raw"]

    print(
        f"licence keys benchmark (one thread, Python {sys.version.split()[0]}, "
        f"best of {ROUNDS} rounds x {N_KEYS:,} keys)"
    )
    print(
        f"  key length: 1 binding {len(verifier.normalize_key(keys[1]))} characters, "
        f"2 bindings {len(verifier.normalize_key(keys[0]))}"
    )
    print(show("verify (stand-alone verifier.verify_key)", verify, VERIFY_TARGET))
    print(show("sign + encode (build_payload + sign_key)", sign, SIGN_TARGET))
    print(show("bare Ed25519 verify (OpenSSL ceiling)", raw, None))
    print(f"  verify_key reaches {100 * verify[0] / raw[0]:.0f}% of the bare signature check")

    missed = []
    if verify[0] < VERIFY_TARGET:
        missed.append("verify")
    if sign[0] < SIGN_TARGET:
        missed.append("sign")
    if missed:
        print(f"TARGET MISSED: {', '.join(missed)}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
