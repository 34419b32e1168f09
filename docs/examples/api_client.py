#!/usr/bin/env python3
"""Example client of the Vendor Portal partner API (docs/api.md) — copy it into your shop or ERP.

Needs Python 3.10+ and ``requests`` only. What it shows:

- listing installations (following the cursor pages),
- the catalog's prices, an order's price preview, placing an order with an
  ``Idempotency-Key`` (a retry after a timeout never orders twice) and confirming it,
- the licence keys of that order and the invoice PDF,
- verifying a webhook's ``Webhook-Signature`` (:func:`verify_webhook`), e.g. in your web app's
  view for the URL you registered.

Run it: ``VP_API=https://portal.example/api/v1 VP_TOKEN=vp_… python api_client.py`` lists your
installations and prices; with ``--order ARTICLE INSTALLATION_ID…`` it orders, confirms and
saves the keys and the invoice PDF into the current folder.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import sys
import time
import uuid
from collections.abc import Iterator

import requests

TIMEOUT = (5, 30)  # connect, read (seconds)


class ApiError(Exception):
    """An RFC 9457 problem answer: ``status``, stable ``code``, German ``detail``."""

    def __init__(self, response: requests.Response):
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        self.status = response.status_code
        self.code = problem.get("code", "")
        self.detail = problem.get("detail", response.text[:200])
        self.problem = problem
        super().__init__(f"{self.status} {self.code}: {self.detail}")


class PartnerApi:
    def __init__(self, base_url: str, token: str, *, language: str = "de"):
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json", "Accept-Language": language}
        )

    # --- plumbing ---------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        url = path if path.startswith(("https://", "http://")) else f"{self.base}{path}"
        for _attempt in range(5):
            response = self.session.request(method, url, timeout=TIMEOUT, **kwargs)
            if response.status_code != 429:
                break
            time.sleep(min(int(response.headers.get("Retry-After", "1")), 60))  # the rate limit
        if response.status_code >= 400:
            raise ApiError(response)
        return response

    def _json(self, method: str, path: str, **kwargs):
        return self._request(method, path, **kwargs).json()

    def _pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every item of a cursor-paginated list."""
        page = self._json("GET", path, params=dict(params or {}, page_size=100))
        while True:
            yield from page["results"]
            if not page.get("next"):
                return
            page = self._json("GET", page["next"])  # a full URL with the cursor and the filters

    # --- reading ----------------------------------------------------------------------------------

    def installations(self, customer_id: int | None = None) -> list[dict]:
        return list(self._pages("/installations", {"customer_id": customer_id} if customer_id else None))

    def catalog(self) -> list[dict]:
        """Articles with today's net list price (a string: "169.00")."""
        return self._json("GET", "/catalog")

    def licenses(self, order: str | None = None) -> list[dict]:
        """Licences (key text with the ``keys`` scope), those of one order with ``order``."""
        return list(self._pages("/licenses", {"order": order} if order else None))

    def invoices(self, state: str | None = None) -> list[dict]:
        return list(self._pages("/invoices", {"state": state} if state else None))

    def invoice_pdf(self, invoice_id: int) -> bytes:
        return self._request("GET", f"/invoices/{invoice_id}/pdf").content

    # --- ordering (scope "order") -----------------------------------------------------------------

    @staticmethod
    def order_body(article: str, installation_ids: list[int], *, kind: str = "purchase", term_months: int = 0) -> dict:
        return {
            "lines": [
                {"article": article, "installation_ids": installation_ids, "kind": kind, "term_months": term_months}
            ]
        }

    def preview_order(self, body: dict) -> dict:
        """The price breakdown the portal shows for these lines; nothing is stored."""
        return self._json("POST", "/orders/preview", json=body)

    def place_order(self, body: dict, *, idempotency_key: str | None = None, confirm: bool = False) -> dict:
        """Place (and with ``confirm`` confirm) an order. Keep the key and send it again when
        you retry after a timeout: the same key gives the same order, never a second one."""
        key = idempotency_key or str(uuid.uuid4())
        return self._json("POST", "/orders", json={**body, "confirm": confirm}, headers={"Idempotency-Key": key})

    def confirm_order(self, order_id: int) -> dict:
        return self._json("POST", f"/orders/{order_id}/confirm")

    # --- webhooks ---------------------------------------------------------------------------------

    def create_webhook(self, url: str, events: list[str], description: str = "") -> dict:
        """Register an endpoint; the answer's ``secret`` is shown this once — store it."""
        return self._json("POST", "/webhooks", json={"url": url, "events": events, "description": description})

    def webhook_deliveries(self, webhook_id: int) -> list[dict]:
        return list(self._pages(f"/webhooks/{webhook_id}/deliveries"))


def verify_webhook(
    signature_header: str, body: bytes, secret: str, *, now: int | None = None, tolerance: int = 300
) -> bool:
    """True when ``Webhook-Signature: t=<unix time>,v1=<hex>`` signs ``body`` with ``secret``.

    ``<hex>`` is HMAC-SHA256, key = the secret (``whsec_…``, UTF-8), message = ``f"{t}."``
    followed by the raw request body (bytes exactly as received — not re-serialised JSON).
    Refuse a ``t`` more than ``tolerance`` seconds away (replay) and compare in constant time.
    Then answer 2xx quickly and de-duplicate by the event's ``id`` (a delivery may come twice).
    """
    timestamp, signatures = None, []
    for part in (signature_header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    now = int(time.time()) if now is None else now
    if timestamp is None or not signatures or abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", nargs="+", metavar=("ARTICLE", "INSTALLATION_ID"), help="order and confirm")
    args = parser.parse_args(argv)
    api = PartnerApi(os.environ["VP_API"], os.environ["VP_TOKEN"])
    for inst in api.installations():
        print(f"{inst['id']:>6}  {inst['identifier']:<28} {inst['customer']}")
    for row in api.catalog():
        print(
            f"{row['article']:<14} {row['kind']:<12} {row['term_months']:>2} Monate  {row['price']:>9} € / {row['unit']}"
        )
    if not args.order:
        return 0
    article, *installation_ids = args.order
    body = api.order_body(article, [int(i) for i in installation_ids])
    preview = api.preview_order(body)
    for total in preview["totals"]:
        print(f"Preis ({total['unit']}): netto {total['net']} €, brutto {total['gross']} €")
    order = api.place_order(body, confirm=True)
    print(f"Bestellung {order['reference']}: {order['state']}")
    for lic in api.licenses(order=order["reference"]):
        print(lic["article"], lic["installation_id"], lic.get("key") or "(Schlüssel nur mit Recht „keys“)")
    if order.get("invoice"):
        pdf = api.invoice_pdf(order["invoice"]["id"])
        with open(f"{order['invoice']['number']}.pdf", "wb") as out:
            out.write(pdf)
        print(f"Rechnung {order['invoice']['number']} gespeichert")
    return 0


if __name__ == "__main__":
    sys.exit(main())
