"""Partner API budgets (issue 19).

1. Order price preview: ``POST /api/v1/orders/preview`` with a token — the portal's
   ``order_draft_place`` in a transaction that is rolled back. Budget: median ≤ 100 ms over
   200 requests through Django's test client on SQLite (after 5 warm-up requests), for the
   live price of one module on one installation (what the portal's form asks on every tick).
   Ten installations in one order (ten lines, ORD-4's volume discount) are measured too and
   printed for information: billing's services check and price line by line (about 22
   queries a line), so that preview grows with its lines.
2. List endpoints: queries per request at two data sizes (20 and 200 rows each); budget
   ≤ 10 queries, and the count must not grow with the data.

Throw-away SQLite database and key directory in a temp folder (as the other benches);
rows for the lists are made with ``bulk_create``. The rate limit is lifted for the run.

Run: ``python bench/bench_api.py`` (``make bench`` runs it). Exits 1 when a budget is missed.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_N", "200"))
WARM_UP = 5
BUDGET_MS = 100.0
QUERY_BUDGET = 10
SIZES = (20, 200)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "vendorportal.settings",
            "VAR_DIR": str(work),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "CELERY_BROKER_URL": "memory://",
            "EMAIL_URL": "memorymail://",
            "SECRET_KEY": "bench-only",
            "LOG_LEVEL": "WARNING",
            "API_RATE_LIMIT": "1000000/m",
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

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from datetime import UTC, date, datetime, timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from api.services import api_token_create
    from billing.models import Order, ServicePlan, Subscription
    from licensing.models import Installation, ModuleVersion, Product
    from licensing.services.catalog import catalog_load
    from support.models import Article, Ticket
    from vendorportal import clock
    from vendorportal.parties.models import Customer, Partner

    setup_test_environment()
    call_command("migrate", verbosity=0)
    today = date(2026, 11, 21)
    clock.freeze(today)
    catalog_load()
    intercom = Product.objects.get(article="INTERCOM")
    ModuleVersion.objects.create(product=intercom, version="2.1", released_on=date(2024, 4, 15))

    partner = Partner.objects.create(
        company="Bench Partner GmbH", delivery_email="l@bench.test", invoice_email="r@bench.test"
    )
    secret = api_token_create(partner=partner, name="Bench", scopes=["read", "order", "keys", "support"]).secret
    customer = Customer.objects.create(partner=partner, company="Kunde AG")
    ten = Installation.objects.bulk_create(
        Installation(
            customer=customer, vendor="starface", edition="appliance", identifier_kind="server_key",
            identifier=f"BENCH-{n:05d}-ABCDE-12345", pbx_users=30,
        )
        for n in range(10)
    )  # fmt: skip
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def counter(queries):
        return lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)

    def measure(installations, gross: str, requests: int) -> tuple[float, float, int]:
        body = json.dumps({"lines": [{"article": "INTERCOM", "installation_ids": [i.pk for i in installations]}]})

        def preview():
            return client.post("/api/v1/orders/preview", body, content_type="application/json")

        queries = []
        with connection.execute_wrapper(counter(queries)):
            first = preview()
        assert first.status_code == 200, first.content
        assert first.json()["totals"][0]["gross"] == gross, first.json()["totals"]  # the portal's price
        for _ in range(WARM_UP - 1):
            preview()
        timings, cpu = [], []
        for _ in range(requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = preview()
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        assert not Order.objects.exists()  # the preview writes nothing
        return statistics.median(timings), statistics.median(cpu), len(queries)

    # The live price of one module on one installation: 169,00 net, 201,11 gross (19 % VAT).
    median, cpu, queries = measure(ten[:1], "201.11", REQUESTS)
    ok = median <= BUDGET_MS
    print(
        f"order price preview, 1 line (SQLite, test client, token): median {median:.1f} ms over {REQUESTS} requests "
        f"(CPU median {cpu:.1f} ms; {queries} queries) — budget <= {BUDGET_MS:.0f} ms: {'met' if ok else 'MISSED'}"
    )
    # For information: ten installations in one order (ORD-4: 10 × 152,10 = 1.521,00 net, 1.809,99 gross);
    # the services check and price line by line, so the time grows with the lines.
    median10, cpu10, queries10 = measure(ten, "1809.99", max(20, REQUESTS // 10))
    print(
        f"order price preview, 10 lines (information): median {median10:.1f} ms (CPU median {cpu10:.1f} ms; "
        f"{queries10} queries)"
    )

    lists = [
        "/api/v1/customers",
        "/api/v1/installations",
        "/api/v1/orders",
        "/api/v1/subscriptions?status=all",
        "/api/v1/service-plans",
        "/api/v1/tickets",
        "/api/v1/knowledge-base",
        "/api/v1/invoices",
        "/api/v1/licenses",
        "/api/v1/systems",
    ]
    counts: dict[str, list[int]] = {path: [] for path in lists}
    made = 0
    for size in SIZES:
        new = range(made, size)
        customers = Customer.objects.bulk_create(Customer(partner=partner, company=f"Kunde {n:04d}") for n in new)
        installations = Installation.objects.bulk_create(
            Installation(
                customer=c, vendor="starface", edition="appliance", identifier_kind="server_key",
                identifier=f"LIST{n % 10}-{n:05d}-ABCDE-12345", pbx_users=30,
            )
            for n, c in zip(new, customers)
        )  # fmt: skip
        Order.objects.bulk_create(
            Order(partner=partner, order_date=today, delivery_email="l@bench.test", invoice_email="r@bench.test")
            for _n in new
        )
        Subscription.objects.bulk_create(
            Subscription(
                reference=f"ABO-BENCH-{n:06d}", partner=partner, installation=inst, product=intercom,
                minimum_months=12, billing_months=1, monthly_price="10.00", signed_on=today,
                term_start=date(2026, 12, 1), minimum_end=date(2027, 11, 30),
            )
            for n, inst in zip(new, installations)
        )  # fmt: skip
        ServicePlan.objects.bulk_create(
            ServicePlan(
                reference=f"SP-BENCH-{n:06d}", partner=partner, installation=inst, plan="premium",
                yearly_price="828.00", signed_on=today, starts_on=today, billed_from=today,
            )
            for n, inst in zip(new, installations)
        )  # fmt: skip
        Ticket.objects.bulk_create(
            Ticket(
                number=f"T-2026-{n + 1:05d}", partner=partner, customer=inst.customer, installation=inst,
                subject=f"Ticket {n + 1}", received_at=datetime(2026, 11, 1, 10, tzinfo=UTC) + timedelta(minutes=n),
            )
            for n, inst in zip(new, installations)
        )  # fmt: skip
        Article.objects.bulk_create(Article(title=f"Artikel {n}", slug=f"artikel-{n}", body="Text") for n in new)
        made = size
        for path in lists:
            queries = []
            with connection.execute_wrapper(counter(queries)):
                response = client.get(path + ("&" if "?" in path else "?") + "page_size=100")
            assert response.status_code == 200, (path, response.content)
            counts[path].append(len(queries))
    lists_ok = True
    for path, (small, large) in counts.items():
        good = large <= QUERY_BUDGET and large <= small
        lists_ok &= good
        print(f"  {path}: {small} queries with {SIZES[0]} rows, {large} with {SIZES[1]} — {'ok' if good else 'MISSED'}")
    print(f"list endpoints <= {QUERY_BUDGET} queries whatever the data size: {'met' if lists_ok else 'MISSED'}")
    return 0 if ok and lists_ok else 1


if __name__ == "__main__":
    sys.exit(main())
