"""Invoice PDF budget (issue 9): the German invoice PDF with its embedded Factur-X XML
(``billing.invoice_pdf.invoice_pdf``: template, WeasyPrint PDF/A-3b, EN 16931 XML, XSD
check, factur-x embedding) — no database, the document is a plain ``InvoiceDocument``.

Measured on one core, after one warm-up render (fonts, imports):

1. invoice PDFs per second — budget >= 6/s;
2. the ratio of that rate to bare WeasyPrint rendering the same HTML (no PDF/A, no XML,
   no embedding) — goal >= 0.9, printed, it tells what the e-invoice costs on top;
3. two worker processes rendering a batch against one — budget >= 1.7x (issue 17), judged
   where the control shows the machine can: the same two measurements of bare WeasyPrint
   rendering the same HTML, interleaved with the invoice's (invoice 1, invoice 2, bare 1,
   bare 2, twice; the best time of each). Bare rendering that does not reach 1.7x on two
   processes means the machine is busy: the figure is printed as not judged and the bench
   fails, to be rerun on a quiet machine.

The workers are fresh processes (``forkserver``), as Celery's prefork children start from a
worker that has rendered nothing: forked from this process after its single-core phase, each
inherited its heap of some 200,000 objects (copy-on-write pages and garbage-collector passes
over them, ~5 % more CPU per document). The same cost inside any long-lived process — the
collector's full passes walking the ~170,000 objects every process holds — is why
:mod:`vendorportal.pdf` freezes them after a process's first document (≈13 % less CPU per
invoice, less memory touched per document by two workers side by side).

Run: ``python bench/bench_invoice_pdf.py`` (``make bench`` runs it).
``BENCH_SECONDS`` (default 8) sets how long each single-core rate is measured
(the two alternately, so ``2 × BENCH_SECONDS`` in all),
``BENCH_BATCH`` (default 120) the batch of each two-worker measurement.
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
BATCH = int(os.environ.get("BENCH_BATCH", "120"))
ROUNDS = 2

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


def _bare_html() -> tuple[str, str]:
    from django.conf import settings
    from django.template.loader import render_to_string

    from billing.invoice_pdf import TEMPLATE, invoice_context
    from vendorportal.pdf import document_vendor

    html = render_to_string(TEMPLATE, {"vendor": document_vendor(), **invoice_context(_document())})
    return html, str(settings.BASE_DIR / "templates")


def _render_bare_pdf(html: str, base_url: str) -> bytes:
    from weasyprint import HTML

    from vendorportal.pdf import _font_config, _no_network_fetcher

    return HTML(string=html, base_url=base_url, url_fetcher=_no_network_fetcher).write_pdf(font_config=_font_config())


_WORKER: dict = {}


def _worker_init(kind: str):
    _setup()
    from billing.invoice_pdf import invoice_pdf

    _WORKER["kind"] = kind
    if kind == "bare":
        _WORKER["html"] = _bare_html()
        _render_bare_pdf(*_WORKER["html"])  # warm up fonts and imports before the clock runs
    else:
        invoice_pdf(_document())


def _render_one(_):
    if _WORKER["kind"] == "bare":
        return len(_render_bare_pdf(*_WORKER["html"]))
    from billing.invoice_pdf import invoice_pdf

    return len(invoice_pdf(_document()))


def _check_in(_) -> int:
    time.sleep(0.2)  # long enough that every started worker gets one
    return os.getpid()


def _batch_seconds(kind: str, workers: int) -> float:
    with multiprocessing.get_context("forkserver").Pool(workers, initializer=_worker_init, initargs=(kind,)) as pool:
        # Every worker initialised and warm before the clock runs: a worker still starting takes
        # no task, so ask until each has answered (else the batch would time its start-up).
        seen: set[int] = set()
        while len(seen) < workers:
            seen.update(pool.map(_check_in, range(2 * workers), chunksize=1))
        start = time.perf_counter()
        sizes = pool.map(_render_one, range(BATCH), chunksize=1)
        elapsed = time.perf_counter() - start
    assert all(size > 0 for size in sizes)
    return elapsed


def _scaling() -> dict[tuple[str, int], float]:
    """Best batch time of each (kind, workers), measured interleaved ``ROUNDS`` times."""
    best: dict[tuple[str, int], float] = {}
    for _round in range(ROUNDS):
        for key in (("invoice", 1), ("invoice", 2), ("bare", 1), ("bare", 2)):
            seconds = _batch_seconds(*key)
            best[key] = min(best.get(key, seconds), seconds)
    return best


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

    best = _scaling()
    scaling = best[("invoice", 1)] / best[("invoice", 2)]
    control = best[("bare", 1)] / best[("bare", 2)]
    for kind, label in (("invoice", "invoice PDFs"), ("bare", "control, bare WeasyPrint")):
        one, two = best[(kind, 1)], best[(kind, 2)]
        print(
            f"batch of {BATCH}, {label}: one worker {one:.1f} s ({BATCH / one:.2f}/s), two workers {two:.1f} s "
            f"({BATCH / two:.2f}/s): {one / two:.2f}x"
        )

    ok = full_rate >= TARGET_RATE
    if ratio < TARGET_RATIO:
        print(f"note: ratio {ratio:.2f} below the goal of {TARGET_RATIO}")
    print(
        f"budget: invoice PDFs {full_rate:.2f}/s on one core (>= {TARGET_RATE:.0f}/s) — "
        f"{'met' if full_rate >= TARGET_RATE else 'MISSED'}"
    )
    if control < TARGET_SCALING:
        ok = False
        print(
            f"budget: two workers {scaling:.2f}x one (>= {TARGET_SCALING}x) — NOT JUDGED: the bare control reaches "
            f"only {control:.2f}x, the machine is busy (load {os.getloadavg()[0]:.1f}); rerun on a quiet machine"
        )
    else:
        ok &= scaling >= TARGET_SCALING
        print(
            f"budget: two workers {scaling:.2f}x one (>= {TARGET_SCALING}x; bare control {control:.2f}x) — "
            f"{'met' if scaling >= TARGET_SCALING else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
