"""Invoice PDF budget (issue 9): the German invoice PDF with its embedded Factur-X XML
(``billing.invoice_pdf.invoice_pdf``: template, WeasyPrint PDF/A-3b, EN 16931 XML, XSD
check, factur-x embedding) — no database, the document is a plain ``InvoiceDocument``.

Measured on one core, after one warm-up render (fonts, imports):

1. invoice PDFs per second — budget >= 6/s;
2. the ratio of that rate to bare WeasyPrint rendering the same HTML (no PDF/A, no XML,
   no embedding) — goal >= 0.9, printed, it tells what the e-invoice costs on top;
3. two worker processes rendering a batch of 200 against one — goal >= 1.7x
   (multiprocessing stands in for two Celery workers; the machine has two cores shared
   with other work, so this figure is noisy).

Run: ``python bench/bench_invoice_pdf.py`` (``make bench`` runs it).
``BENCH_SECONDS`` (default 8) sets how long each single-core rate is measured
(the two alternately, so ``2 × BENCH_SECONDS`` in all),
``BENCH_BATCH`` (default 200) the batch of the two-worker measurement.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path

TARGET_RATE = 6.0
TARGET_RATIO = 0.9
TARGET_SCALING = 1.7
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
BATCH = int(os.environ.get("BENCH_BATCH", "200"))

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vendorportal.settings")
sys.path.insert(0, str(ROOT))


def _setup():
    import django

    django.setup()
    logging.getLogger("factur-x").setLevel(logging.WARNING)  # it logs every XSD check at INFO


def _document():
    from billing.tests.conftest import make_domestic_invoice

    return make_domestic_invoice()


def _rates(first, second, seconds: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Documents per CPU second and per wall-clock second of ``first()`` and ``second()``,
    called alternately for about ``seconds`` of CPU time in all.

    "On one core" is CPU time: on this two-core machine other engineers' test runs take
    cores away at random, which stretches the wall clock but not the work a render
    needs. Alternating the two keeps their ratio fair either way."""
    cpu = [0.0, 0.0]
    wall = [0.0, 0.0]
    count = 0
    while sum(cpu) < seconds:
        for index, render in enumerate((first, second)):
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            render()
            cpu[index] += time.process_time() - cpu_start
            wall[index] += time.perf_counter() - wall_start
        count += 1
    return (count / cpu[0], count / cpu[1]), (count / wall[0], count / wall[1])


def _worker_init():
    _setup()
    from billing.invoice_pdf import invoice_pdf

    invoice_pdf(_document())  # warm up fonts and imports before the clock runs


def _render_one(_):
    from billing.invoice_pdf import invoice_pdf

    return len(invoice_pdf(_document()))


def _batch_seconds(workers: int) -> float:
    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init) as pool:
        pool.map(_render_one, range(workers))  # every worker initialised and warm
        start = time.perf_counter()
        sizes = pool.map(_render_one, range(BATCH), chunksize=1)
        elapsed = time.perf_counter() - start
    assert all(size > 0 for size in sizes)
    return elapsed


def main() -> int:
    _setup()
    from django.conf import settings
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from billing.invoice_pdf import TEMPLATE, invoice_context, invoice_pdf
    from vendorportal.pdf import _font_config, _no_network_fetcher, document_vendor

    doc = _document()
    html = render_to_string(TEMPLATE, {"vendor": document_vendor(), **invoice_context(doc)})
    base_url = str(settings.BASE_DIR / "templates")

    def bare():
        HTML(string=html, base_url=base_url, url_fetcher=_no_network_fetcher).write_pdf(font_config=_font_config())

    def full():
        invoice_pdf(doc)

    full()  # warm-up: font configuration, fontTools, lxml schema, pypdf
    bare()
    (bare_rate, full_rate), (bare_wall, full_wall) = _rates(bare, full, 2 * SECONDS)
    ratio = full_rate / bare_rate
    print(f"bare WeasyPrint, same HTML:       {bare_rate:6.2f} documents/s ({1000 / bare_rate:.0f} ms CPU each)")
    print(
        f"invoice PDF/A-3 + Factur-X XML:   {full_rate:6.2f} documents/s ({1000 / full_rate:.0f} ms CPU each)"
        f"  (budget >= {TARGET_RATE:.0f}/s)"
    )
    print(f"ratio to bare WeasyPrint:         {ratio:6.2f}  (goal >= {TARGET_RATIO})")
    print(
        f"wall clock meanwhile:             {full_wall:6.2f}/s invoice, {bare_wall:.2f}/s bare "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )

    one = _batch_seconds(1)
    two = _batch_seconds(2)
    scaling = one / two
    print(
        f"batch of {BATCH}: one worker {one:.1f} s ({BATCH / one:.2f}/s), two workers {two:.1f} s "
        f"({BATCH / two:.2f}/s): {scaling:.2f}x  (goal >= {TARGET_SCALING}x; {os.cpu_count()} cores)"
    )

    ok = full_rate >= TARGET_RATE
    if ratio < TARGET_RATIO:
        print(f"note: ratio {ratio:.2f} below the goal of {TARGET_RATIO}")
    if scaling < TARGET_SCALING:
        print(f"note: two workers scale {scaling:.2f}x, below the goal of {TARGET_SCALING}x")
    print("budget met" if ok else f"BUDGET MISSED: {full_rate:.2f} < {TARGET_RATE} documents/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
