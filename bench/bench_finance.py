"""Finance budgets (issue 18): a bank statement with 5,000 entries against 20,000 open
invoices is imported in under 30 s; the DATEV export of a month with 20,000 documents is
written in under 30 s with a bounded number of queries.

Data (throw-away SQLite database, bulk-created): 2,000 partners, 20,000 invoices issued in
November 2026 (119,00 € gross each, one line). The statement: 4,000 credits paying one
invoice each, 500 partial payments, 250 credits naming two invoices, 250 naming none.

Run: ``python bench/bench_finance.py`` (``make bench`` runs it).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 30.0
PARTNERS, INVOICES = 2000, 20000

work = Path(tempfile.mkdtemp(prefix="bench-finance-"))
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

from datetime import UTC, date, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

call_command("migrate", verbosity=0)

from billing.datev import datev_export  # noqa: E402
from billing.models import BankEntry, Invoice, InvoiceLine  # noqa: E402
from billing.services.bank import bank_statement_import  # noqa: E402
from vendorportal import clock  # noqa: E402
from vendorportal.parties.models import Partner  # noqa: E402

D = Decimal
partners = Partner.objects.bulk_create(
    Partner(
        company=f"Partner {n:04d} GmbH",
        street="Hauptstraße 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        delivery_email=f"l{n}@bench.test",
        invoice_email=f"r{n}@bench.test",
    )
    for n in range(PARTNERS)
)
issued = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
invoices = Invoice.objects.bulk_create(
    Invoice(
        kind=Invoice.INVOICE,
        number=f"RE-2026-{n + 1:06d}",
        issue_date=date(2026, 11, 1) + timedelta(days=n % 30),
        issued_at=issued + timedelta(days=n % 30),
        partner=partners[n % PARTNERS],
        buyer_name=partners[n % PARTNERS].company,
        buyer_country="DE",
        vat_category="S",
        net_total=D("100.00"),
        vat_total=D("19.00"),
        gross_total=D("119.00"),
        due_date=date(2026, 12, 15),
        state=Invoice.OPEN,
    )
    for n in range(INVOICES)
)
InvoiceLine.objects.bulk_create(
    InvoiceLine(
        invoice=inv,
        position=1,
        article="INTERCOM",
        description="Intercom",
        quantity=D("1"),
        unit_price=D("100.00"),
        net_total=D("100.00"),
        vat_category="S",
        vat_percent=D("19.00"),
    )
    for inv in invoices
)


def entry(ref: str, amount: str, text: str) -> str:
    return f"""<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-12-01</Dt></BookgDt><ValDt><Dt>2026-12-01</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
<RltdPties><Dbtr><Pty><Nm>Partner</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


entries = []
number = iter(range(1, INVOICES + 1))
for n in range(4000):
    entries.append(entry(f"B{n}", "119.00", f"Rechnung RE-2026-{next(number):06d}"))
for n in range(500):
    entries.append(entry(f"P{n}", "50.00", f"RE-2026-{next(number):06d} Teilzahlung"))
for n in range(250):
    a, b = next(number), next(number)
    entries.append(entry(f"T{n}", "238.00", f"RE-2026-{a:06d}, RE-2026-{b:06d}"))
for n in range(250):
    entries.append(entry(f"U{n}", "75.00", f"Rechnung 4711-{n}"))
content = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-12-01T20:00:00</CreDtTm></GrpHdr>
<Stmt><Id>2026-12-01-BENCH</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
{"".join(entries)}
</Stmt></BkToCstmrStmt></Document>""".encode()

clock.freeze(date(2026, 12, 2))
ok = True


class Counter:
    """Counts statements (Django's query log stops at 9,000)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self._cm = connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


with Counter() as captured:
    start = time.perf_counter()
    result = bank_statement_import(content=content, file_name="bench.xml")
    elapsed = time.perf_counter() - start
states = dict(BankEntry.objects.values_list("state").annotate(n=django.db.models.Count("pk")).values_list("state", "n"))
print(
    f"bank statement: {len(entries):,} entries against {INVOICES:,} open invoices in {elapsed:.1f} s "
    f"(target < {BUDGET_S:.0f} s), {captured.n:,} queries; {result.payments:,} payments; {states}"
)
ok &= elapsed < BUDGET_S and result.payments == 4000 + 500 + 500

with Counter() as captured:
    start = time.perf_counter()
    export = datev_export(
        month=date(2026, 11, 1), today=date(2026, 12, 6), created=datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    )
    elapsed = time.perf_counter() - start
queries = captured.n
print(
    f"DATEV export: {len(export.rows):,} bookings ({INVOICES:,} documents) in {elapsed:.1f} s (target < {BUDGET_S:.0f} s), "
    f"{queries} queries (target <= 10), {len(export.bookings) / 1e6:.1f} MB"
)
ok &= elapsed < BUDGET_S and queries <= 10 and len(export.rows) == INVOICES
sys.exit(0 if ok else 1)
