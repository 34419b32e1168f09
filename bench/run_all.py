"""``make bench``: every performance budget of the issues, each in its own process."""

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
    "bench_cockpit.py",
]

failed = []
for name in BENCHES:
    script = HERE / name
    if not script.exists():
        print(f"!! {name} is missing")
        failed.append(name)
        continue
    print(f"\n=== {name}")
    if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
        failed.append(name)
print("\nbench:", "all budgets met" if not failed else f"budget missed in {', '.join(failed)}")
sys.exit(1 if failed else 0)
