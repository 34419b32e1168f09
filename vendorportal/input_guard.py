"""Input no page can use, refused before any view sees it (issue 17).

* **NUL bytes** (``\\x00``) in the path, a query parameter or a form field (name or value,
  uploaded file names included): PostgreSQL cannot store or even compare them in text
  (``ValueError: A string literal cannot contain NUL (0x00) characters``), and no person
  types one. Answered with a German 400 page before the view runs, on every page; nothing
  is changed. (Stripping them would silently change what was asked for.)
* **Admin list parameters out of range** (``admin_list_params_problem``, used by the admin
  site's view wrapper): date drill-downs with years Python's dates do not have
  (``?issued_on__year=99999`` raises in the admin's ``ChangeList`` or at query time) and
  whole numbers beyond a 64-bit integer.
"""

from __future__ import annotations

import re

from django.template import loader
from django.utils.translation import gettext as _

NUL = "\x00"


def _has_nul(values) -> bool:
    return any(NUL in value for value in values if isinstance(value, str))


def request_has_nul(request) -> bool:
    if NUL in request.path:
        return True
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            if NUL in key or _has_nul(values):
                return True
    for key, uploads in request.FILES.lists():
        if NUL in key or _has_nul(upload.name or "" for upload in uploads):
            return True
    return False


class RejectNulBytesMiddleware:
    """400 with a German explanation for a request that carries a NUL byte anywhere a page
    reads input from. Placed after the session/locale middleware, before CSRF and views."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request_has_nul(request):
            from django.http import HttpResponseBadRequest

            message = _(
                "Die Anfrage enthält ein unzulässiges Steuerzeichen (NUL-Byte). Bitte prüfen Sie Ihre Eingabe "
                "bzw. die aufgerufene Adresse; es wurde nichts gespeichert."
            )
            if request.path.startswith("/api/"):  # the partner API answers RFC 9457 problems (issue 19)
                import json

                body = {
                    "type": "https://vendorportal.example/problems/nul_byte",
                    "title": _("Ungültige Anfrage"),
                    "status": 400,
                    "code": "nul_byte",
                    "detail": message,
                }
                return HttpResponseBadRequest(json.dumps(body), content_type="application/problem+json")
            home = "/admin/" if request.path.startswith("/admin/") else "/portal/"
            html = loader.get_template("400.html").render({"message": message, "home": home})
            return HttpResponseBadRequest(html)
        return self.get_response(request)


# --- admin lists -----------------------------------------------------------------------

BIGINT_MAX = 2**63 - 1
INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
# Date parts of a drill-down (date_hierarchy) or a date lookup, and the values they allow.
# Years stop at 9998: the admin's drill-down asks for "the next year" of the one given.
DATE_PART_RANGES = {"year": (1, 9998), "iso_year": (1, 9998), "month": (1, 12), "day": (1, 31)}
# Free text, not a filter: a search for a long number is a search.
FREE_TEXT_PARAMS = frozenset({"q"})


def admin_list_params_problem(params) -> str:
    """A German message naming the first query parameter an admin list cannot use, or ""."""
    for key, values in params.lists():
        if key in FREE_TEXT_PARAMS:
            continue
        part = key.rsplit("__", 1)[-1] if "__" in key else ""
        for value in values:
            if not INTEGER.match(value or ""):
                if part in DATE_PART_RANGES and value.strip():
                    return _("„%(value)s“ ist für den Filter „%(name)s“ keine Zahl.") % {
                        "value": value[:30],
                        "name": key,
                    }
                continue
            number = int(value)
            if part in DATE_PART_RANGES:
                low, high = DATE_PART_RANGES[part]
                if not low <= number <= high:
                    return _("%(value)s liegt für den Filter „%(name)s“ außerhalb von %(low)s bis %(high)s.") % {
                        "value": value.strip()[:30],
                        "name": key,
                        "low": low,
                        "high": high,
                    }
            elif abs(number) > BIGINT_MAX:
                return _("Die Zahl %(value)s im Filter „%(name)s“ ist zu groß.") % {
                    "value": value.strip()[:30] + ("…" if len(value.strip()) > 30 else ""),
                    "name": key,
                }
    return ""
