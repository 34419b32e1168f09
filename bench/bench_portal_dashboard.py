"""Partner portal dashboard at scale (issue 12): a partner with 500 installations.

Budget: median answer time of the dashboard < 150 ms over 30 requests with Django's
test client on SQLite, on this machine; the query count is printed too (the panels
are bounded, so it does not grow with the installations).

The partner has 50 customers with 10 installations each: 250 STARFACE installations,
every other one with a demo key whose expiry is spread over the next 60 days (about
half of them in the panel's 30-day window), and 250 Auerswald systems whose
Softwarepflege ends spread from 120 days ago to 240 days ahead (expiring and lapsed
ones are on the dashboard); 500 open or overdue invoices and 500 support tickets, every
fifth waiting for the partner, so the billing and support panels have rows too. Rows are made with ``bulk_create`` in a fresh SQLite
database in a temp directory; the client is logged in as the partner's administrator,
one request warms up, then 30 are timed.

Run: ``python bench/bench_portal_dashboard.py`` (``make bench`` runs it). Exits 1 when
the budget is missed.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INSTALLATIONS = 500
REQUESTS = 30
BUDGET_MS = 150.0


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-portal-"))
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
    try:
        return run()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run() -> int:
    import warnings

    import django

    # WhiteNoise warns when collectstatic has not run; the dashboard's HTML is what is measured.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from datetime import date, timedelta

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from licensing.models import Installation, License, MaintenanceCoverage, ModuleVersion, Product
    from vendorportal import clock
    from vendorportal.parties.models import Customer, Partner, PartnerUser

    setup_test_environment()
    call_command("migrate", verbosity=0)
    today = date(2026, 11, 21)
    clock.freeze(today)

    partner = Partner.objects.create(
        company="Bench Partner GmbH", delivery_email="l@bench.test", invoice_email="r@bench.test"
    )
    user = get_user_model().objects.create_user("bench", "bench@bench.test", "pw-123456")
    PartnerUser.objects.create(user=user, partner=partner, role=PartnerUser.ADMIN)
    customers = Customer.objects.bulk_create(Customer(partner=partner, company=f"Kunde {c:03d} AG") for c in range(50))
    rows = []
    for n in range(INSTALLATIONS):
        customer = customers[n % len(customers)]
        if n % 2 == 0:
            rows.append(
                Installation(
                    customer=customer, vendor="starface", edition="appliance", identifier_kind="server_key",
                    identifier=f"BENCH-{n:05d}-ABCDE-12345", pbx_users=10 + n % 200, pbx_version="9.0.1",
                )
            )  # fmt: skip
        else:
            rows.append(
                Installation(
                    customer=customer, vendor="auerswald", edition="comtrexx_next", identifier_kind="serial",
                    identifier=f"SN{n:08d}",
                )
            )  # fmt: skip
    installations = Installation.objects.bulk_create(rows)
    product = Product.objects.create(article="CALLREC", name="Call Recording", kind="module", pricing_model="tiered")
    version = ModuleVersion.objects.create(product=product, version="2.1", released_on=date(2024, 4, 15))
    starface = [i for i in installations if i.vendor == "starface"]
    License.objects.bulk_create(
        License(
            serial=5_000_000 + n, product=product, module_version=version, installation=inst, kind="demo",
            valid_until=today + timedelta(days=n % 60), key=f"BENCH-KEY-{n:06d}", key_compact=f"BENCHKEY{n:06d}",
            signing_key_id=1,
        )
        for n, inst in enumerate(starface[::2])
    )  # fmt: skip
    auerswald = [i for i in installations if i.vendor == "auerswald"]
    MaintenanceCoverage.objects.bulk_create(
        MaintenanceCoverage(
            installation=inst, kind="initial", start=today - timedelta(days=400), months=12, users=5,
            end=today + timedelta(days=-120 + (n * 360) // len(auerswald)),
        )
        for n, inst in enumerate(auerswald)
    )  # fmt: skip

    # Every panel has rows (issue 12): 500 invoices (every other one overdue) and 500 support
    # tickets of the partner's customers, every fifth waiting for the partner.
    from datetime import UTC, datetime
    from decimal import Decimal

    from billing.models import Invoice
    from support.models import Ticket

    Invoice.objects.bulk_create(
        Invoice(
            number=f"RE-2026-{n + 1:06d}", issue_date=date(2026, 11, 1), issued_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
            partner=partner, buyer_name=partner.company, buyer_country="DE", email="r@bench.test", vat_category="S",
            net_total=Decimal("100.00"), vat_total=Decimal("19.00"), gross_total=Decimal("119.00"),
            due_date=date(2026, 11, 15) if n % 2 else date(2026, 12, 1), state="overdue" if n % 2 else "open",
        )
        for n in range(INSTALLATIONS)
    )  # fmt: skip
    Ticket.objects.bulk_create(
        Ticket(
            number=f"T-2026-{n + 1:05d}", partner=partner, customer=inst.customer, installation=inst,
            subject=f"Ticket {n + 1}", status=("new", "open", "waiting", "solved", "closed")[n % 5],
            received_at=datetime(2026, 11, 1, 10, tzinfo=UTC) + timedelta(minutes=n),
        )
        for n, inst in enumerate(installations)
    )  # fmt: skip

    client = Client()
    client.force_login(user)
    # Counted with an execute wrapper: the test client's request_started signal empties
    # connection.queries, so CaptureQueriesContext would report none.
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        first = client.get("/portal/")
    assert first.status_code == 200, first.status_code
    page = first.content.decode()
    assert "Ablaufende Lizenzschlüssel" in page and "Softwarepflege läuft ab" in page
    assert f"50 Kunden · {INSTALLATIONS} Installationen" in page
    assert "Offene Rechnungen" in page and "Tickets, die auf Sie warten" in page and "T-2026-00498" in page
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get("/portal/")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    median = statistics.median(timings)
    ok = median < BUDGET_MS
    print(
        f"portal dashboard, partner with {INSTALLATIONS} installations (SQLite, test client): "
        f"median {median:.1f} ms over {REQUESTS} requests (min {min(timings):.1f}, max {max(timings):.1f}), "
        f"{len(queries)} queries — budget < {BUDGET_MS:.0f} ms: {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
