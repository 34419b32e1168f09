"""Daily Softwarepflege expiry job (SWP-8) at scale: 10,000 and 100,000 Auerswald
systems, each size in its own process with a fresh SQLite database.

Budget: one daily run over 100,000 systems in < 30 s on this machine, and a query
count that does not grow with the number of systems (besides the INSERT batches of the
rows written that day).

Per size the script builds partners (1 per 50 systems), customers (1 per 10), the
systems and their coverage ledger with bulk_create: current ends spread evenly over
2,100 days around the bench day (about 40 % still active, the rest expiring or
lapsed up to beyond 36 months); every 10th system was renewed (two rows), every 20th
added users (a second row with the same end). Then:

1. *catch-up run* on the day before: the first run ever, so every system with a
   notice due gets one (tens of thousands of notices and e-mails) — the worst case;
2. *daily run* on the bench day — the steady state: only the systems that reach
   a notice window today. This is the budgeted run.

The run writes each partner's e-mail to the outbox in its transaction (the outbox's
worker sends it; sending is not part of the budget); "e-mails" counts the rows written,
the wake-up messages go to Celery's in-memory broker. Queries are counted with
``CaptureQueriesContext``. The daily run's count must be equal at both sizes; the
catch-up run inserts its notices in batches (``bulk_create``), so its count grows
with the number of notices due, which it prints.

Run: ``python bench/bench_swp_expiry.py`` (``make bench`` runs it). Exits 1 when a
budget is missed. Takes about a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = (10_000, 100_000)
BUDGET_SECONDS = 30.0


def child(n: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-swp-{n}-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "vendorportal.settings",
            "VAR_DIR": str(work),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "CELERY_BROKER_URL": "memory://",
            "EMAIL_URL": "memorymail://",
            "SECRET_KEY": "bench-only",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from datetime import date, timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from licensing.constants import AUERSWALD
    from licensing.models import Installation, MaintenanceCoverage, MaintenanceNotice
    from licensing.services.maintenance_job import maintenance_expiry_daily
    from vendorportal.models import OutboxMessage
    from vendorportal.parties.models import Customer, Partner

    call_command("migrate", verbosity=0)
    today = date(2026, 11, 23)
    started = time.perf_counter()
    partners = Partner.objects.bulk_create(
        Partner(
            company=f"Partner {p:05d} GmbH",
            delivery_email=f"technik{p}@partner.test",
            invoice_email=f"rechnung{p}@partner.test",
        )
        for p in range(max(1, n // 50))
    )
    customers = Customer.objects.bulk_create(
        Customer(partner=partners[c % len(partners)], company=f"Kunde {c:06d}") for c in range(max(1, n // 10))
    )
    systems = Installation.objects.bulk_create(
        (
            Installation(
                customer=customers[i % len(customers)],
                vendor=AUERSWALD,
                edition="comtrexx_next",
                identifier_kind="serial",
                identifier=f"BN{i:010d}",
                name=f"Standort {i}",
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    rows = []
    for i, system in enumerate(systems):
        end = today + timedelta(days=(i * 7919) % 2100 - 1300)
        users = 5 + i % 20
        if i % 10 == 0:  # renewed: an earlier period, then the current one
            rows.append(
                MaintenanceCoverage(
                    installation=system,
                    kind="initial",
                    start=end - timedelta(days=729),
                    end=end - timedelta(days=365),
                    months=12,
                    users=users,
                )
            )
            rows.append(
                MaintenanceCoverage(
                    installation=system,
                    kind="renewal",
                    start=end - timedelta(days=364),
                    end=end,
                    months=12,
                    users=users,
                )
            )
        else:
            rows.append(
                MaintenanceCoverage(
                    installation=system,
                    kind="initial",
                    start=end - timedelta(days=364),
                    end=end,
                    months=12,
                    users=users,
                )
            )
        if i % 20 == 1:  # users added mid-term: a second row with the same end
            rows.append(
                MaintenanceCoverage(
                    installation=system, kind="add_users", start=end - timedelta(days=100), end=end, users=5
                )
            )
    MaintenanceCoverage.objects.bulk_create(rows, batch_size=5000)
    build = time.perf_counter() - started

    def run(day):
        rows_before = OutboxMessage.objects.count()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            counts = maintenance_expiry_daily(today=day)
            elapsed = time.perf_counter() - t0
        inserts = sum(1 for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT"))
        return {
            "seconds": round(elapsed, 2),
            "queries": len(queries.captured_queries),
            "insert_queries": inserts,
            "notices": sum(counts.values()),
            "per_kind": counts,
            "emails": OutboxMessage.objects.count() - rows_before,
        }

    catch_up = run(today - timedelta(days=1))
    daily = run(today)
    again = run(today)  # the same day once more: nothing to send
    result = {
        "systems": n,
        "coverage_rows": len(rows),
        "partners": len(partners),
        "build_seconds": round(build, 1),
        "catch_up": catch_up,
        "daily": daily,
        "daily_again": again,
        "notices_total": MaintenanceNotice.objects.count(),
    }
    connection.close()
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> int:
    results = []
    for n in SIZES:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(n)], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, sep="\n")
            print(f"!! bench child for {n} systems failed")
            return 1
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"{result['systems']:>7,} systems ({result['coverage_rows']:,} coverage rows, {result['partners']:,} partners; "
            f"built in {result['build_seconds']} s)"
        )
        for label, key in (
            ("catch-up run (first run ever, day before)", "catch_up"),
            ("daily run (bench day)", "daily"),
            ("same day again", "daily_again"),
        ):
            r = result[key]
            print(
                f"    {label:<42} {r['seconds']:>6.2f} s  {r['queries']:>4} queries "
                f"({r['insert_queries']} INSERT)  {r['notices']:>6,} notices  {r['emails']:>5,} e-mails"
            )
    small, large = results
    ok = True
    daily_large = large["daily"]["seconds"]
    print(
        f"\nbudget: daily run over {large['systems']:,} systems {daily_large:.2f} s (< {BUDGET_SECONDS:.0f} s)"
        f" — {'met' if daily_large < BUDGET_SECONDS else 'MISSED'}"
    )
    ok &= daily_large < BUDGET_SECONDS
    catch_up_large = large["catch_up"]["seconds"]
    print(
        f"        catch-up run over {large['systems']:,} systems {catch_up_large:.2f} s (< {BUDGET_SECONDS:.0f} s)"
        f" — {'met' if catch_up_large < BUDGET_SECONDS else 'MISSED'}"
    )
    ok &= catch_up_large < BUDGET_SECONDS

    # INSERTs come in batches (SQLite: 999 parameters per query, so ≤ 199 notices or ≤ 76
    # outbox rows per INSERT; PostgreSQL: one per table): their number follows the rows
    # written that day, everything else must not move.
    def fixed(r):
        return r["queries"] - r["insert_queries"]

    same = fixed(small["daily"]) == fixed(large["daily"])
    print(
        f"queries of the daily run besides INSERT batches: {fixed(small['daily'])} at {small['systems']:,} systems, "
        f"{fixed(large['daily'])} at {large['systems']:,} — {'constant' if same else 'GROWING'}"
    )
    ok &= same
    ok &= large["daily_again"]["notices"] == 0 and large["daily_again"]["emails"] == 0
    ratio = large["catch_up"]["notices"] / max(1, small["catch_up"]["notices"])
    print(
        f"catch-up run: {small['catch_up']['queries']} → {large['catch_up']['queries']} queries for "
        f"{ratio:.1f}× the notices (INSERT batches of ≤ 199 rows on SQLite; selects stay fixed)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]))))
        sys.exit(0)
    sys.exit(main())
