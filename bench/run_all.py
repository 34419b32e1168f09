"""``make bench``: every performance budget of the issues, each in its own process.

Each bench prints its figures beside their budgets and exits non-zero when one is missed;
the budget lines are repeated at the end, so the summary shows every figure against its
budget in one place (the budgets are listed in the README)."""

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_keys.py",
    "bench_issue.py",
    "bench_swp_expiry.py",
    "bench_invoice_pdf.py",
    "bench_invoicing.py",
    "bench_portal_dashboard.py",
    "bench_finance.py",
    "bench_api.py",
    "bench_cockpit.py",
]
# Lines that state a figure against its budget (the benches' own wording).
BUDGET_LINE = re.compile(r"budget|target|missed|not judged", re.IGNORECASE)

failed = []
summary: list[tuple[str, str]] = []
for name in BENCHES:
    script = HERE / name
    if not script.exists():
        print(f"!! {name} is missing")
        failed.append(name)
        continue
    print(f"\n=== {name}", flush=True)
    with subprocess.Popen(
        [sys.executable, str(script)], cwd=HERE.parent, stdout=subprocess.PIPE, text=True, bufsize=1
    ) as proc:
        for line in proc.stdout:
            print(line, end="", flush=True)
            if BUDGET_LINE.search(line):
                summary.append((name, line.strip()))
    if proc.returncode != 0:
        failed.append(name)
print("\n=== budgets")
for name, line in summary:
    print(f"{name:28s} {line}")
print("\nbench:", "all budgets met" if not failed else f"budget missed in {', '.join(failed)}")
sys.exit(1 if failed else 0)
