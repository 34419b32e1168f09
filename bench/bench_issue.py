"""Issuing budget (issue 3): sign + store licence keys through ``licenses_issue``
(audit history, binding, NFR lock, delivery-note row and its queued task) — without
rendering the PDF. Target: >= 500 keys/s on SQLite on this machine.

Keys are issued as orders are: ten modules for one installation per call (one
transaction, one delivery note). The single-key path (one call per key, e.g. a demo
key from the admin) is measured too; its budget is in statements: at most 8 queries
(reads and writes; BEGIN/COMMIT/SAVEPOINT are counted and printed apart) for a key
with its history row, binding, delivery note and queued e-mail (issue 17).

Run: ``python bench/bench_issue.py`` (``make bench`` runs it). Uses a throw-away
database and key directory; the broker is Celery's in-memory transport, so queued
tasks are published but not run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

TARGET = 500
N = int(os.environ.get("BENCH_N", "2000"))

work = Path(tempfile.mkdtemp(prefix="bench-issue-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "vendorportal.settings",
        "VAR_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "EMAIL_URL": "memorymail://",
    }
)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from datetime import date  # noqa: E402

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
from licensing.constants import STARFACE  # noqa: E402
from licensing.models import Installation, ModuleVersion, Product  # noqa: E402
from licensing.services.catalog import catalog_load  # noqa: E402
from licensing.services.licenses import IssueRequest, license_issue, licenses_issue, signing_key  # noqa: E402
from vendorportal.parties.models import Customer, Partner  # noqa: E402

catalog_load()
partner = Partner.objects.create(company="Bench GmbH", delivery_email="l@bench.test", invoice_email="r@bench.test")
customer = Customer.objects.create(partner=partner, company="Kunde")
products = list(
    Product.objects.filter(kind=Product.MODULE, purchase_allowed=True).exclude(pricing_model=Product.TIERED)
)
versions = {
    p.pk: ModuleVersion.objects.create(product=p, version="2.1", released_on=date(2024, 4, 15)) for p in products
}
installations = Installation.objects.bulk_create(
    Installation(
        customer=customer,
        vendor=STARFACE,
        edition="appliance",
        identifier_kind="server_key",
        identifier=f"BENCH-{i // 100000:05d}-{i % 100000:05d}-ABCDE",
        pbx_users=10,
    )
    for i in range(N)
)
signing_key()  # generate the key outside the timed loop

PER_ORDER = 10
orders = [installations[i : i + PER_ORDER] for i in range(0, N, PER_ORDER)]
start = time.perf_counter()
for order in orders:
    # one installation per order gets ten different modules: reuse the first
    # installation of the slice, the others take the single-key path below
    inst = order[0]
    requests = [
        IssueRequest(product=products[j], installation=inst, version=versions[products[j].pk]) for j in range(PER_ORDER)
    ]
    licenses_issue(requests=requests, today=date(2026, 11, 21))
elapsed = time.perf_counter() - start
issued = len(orders) * PER_ORDER
rate = issued / elapsed
print(
    f"issue in orders of {PER_ORDER} (sign + store + delivery note row, no PDF): {issued} keys in {elapsed:.2f} s = {rate:,.0f} keys/s (target >= {TARGET})"
)

single = [inst for order in orders for inst in order[1:]][:200]
start = time.perf_counter()
for inst in single:
    license_issue(product=products[0], installation=inst, version=versions[products[0].pk], today=date(2026, 11, 21))
single_elapsed = time.perf_counter() - start
print(f"single-key path, one call per key (information): {len(single) / single_elapsed:,.0f} keys/s")

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

QUERY_BUDGET = 8
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
spare = installations[-1]
with CaptureQueriesContext(connection) as captured:
    license_issue(product=products[1], installation=spare, version=versions[products[1].pk], today=date(2026, 11, 21))
statements = [q["sql"] for q in captured.captured_queries]
control = [sql for sql in statements if sql.lstrip().upper().startswith(CONTROL)]
queries = len(statements) - len(control)
print(
    f"single-key path: {queries} queries (target <= {QUERY_BUDGET}) + {len(control)} transaction statements "
    f"({', '.join(sorted({sql.split()[0] for sql in control}))})"
)
sys.exit(0 if rate >= TARGET and queries <= QUERY_BUDGET else 1)
