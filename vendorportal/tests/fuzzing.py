"""The fuzzer of issue 17: garbage into every form field and typical query parameter of a
page, each request in its own savepoint, every 500 collected (``test_fuzz.py`` drives it).

Why it is shaped like this:

* **Every URL, found, not listed.** The portal's URLs come from the URL resolver, the
  admin's from the admin registry (``ModelAdmin.get_urls()``, so custom admin views too);
  the form fields and query parameters of a page from its HTML (``<form>``, ``<input>``,
  ``<select>``, ``<textarea>``, the ``?…`` links of filters). A new page is fuzzed without
  anyone adding it here.
* **A fixed set of garbage**, not random explosion: numbers out of every integer range,
  negative numbers, NUL bytes, very long strings, impossible dates, unicode, path
  traversal. Each value goes once into *all* fields at once (every field's own cleaning
  runs) and, per field, one value that fits the field's kind (huge number for a choice,
  NUL for text, impossible date for a date) goes in with the page's own values in the
  other fields, so a form that is otherwise valid reaches its service.
* **One savepoint per request**, rolled back after it: every request sees the same data
  (a POST that deactivates the login or logs out changes nothing for the next one), and a
  database error on PostgreSQL does not poison the rest of the run.
* A 500 is a failure; anything else (200, 302, 400, 403, 404, 405, 413, 429) is an answer.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

HUGE = "99999999999999999999999"
NUL = "a\x00b"
LONG = "A" * 5000
BAD_DATE = "31.02.99999"

# Into every field and parameter at once, one value per request.
GARBAGE: tuple[str, ...] = (
    HUGE,
    "-" + HUGE,
    "9223372036854775808",  # 2**63: one past PostgreSQL's bigint and SQLite's integer
    "-1",
    "1e309",  # a float that is infinite
    NUL,
    LONG,
    BAD_DATE,
    "2026-13-45",
    "ÄÖÜß € 😀 \u202e \ufeff",
    "../../../../etc/passwd",
)
# One value per query parameter, each parameter on its own (a filter refusing one
# parameter must not hide another one's 500).
PARAM_GARBAGE: tuple[str, ...] = (HUGE, "-" + HUGE, NUL, "-1", "../x")
# Query parameters pages typically read (search, filters, paging, sorting, redirects).
TYPICAL_PARAMS: tuple[str, ...] = (
    "q",
    "tag",
    "page",
    "p",
    "o",
    "status",
    "art",
    "year",
    "month",
    "partner",
    "customer",
    "installation",
    "next",
    "all",
    "e",
)

MANAGEMENT_FIELD = re.compile(r"-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$")
# Query parameters get fewer values than forms: a page reads a parameter or it does not.
PARAM_VALUES: tuple[str, ...] = (HUGE, "-" + HUGE, NUL, "2026-13-45", "ÄÖÜß € 😀 ../x")

OK_STATUSES = frozenset({200, 301, 302, 303, 304, 400, 403, 404, 405, 409, 410, 413, 422, 429})


# --- reading a page ---------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, number, date, checkbox, radio, select, textarea, file, hidden, submit
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)
    also_to: list[str] = field(default_factory=list)  # data-…-url: where a script posts it too

    def baseline(self) -> dict[str, list[str]]:
        """What the page would post as it stands (values, checked boxes, selected options)."""
        data: dict[str, list[str]] = {}
        for f in self.fields:
            if f.kind in ("checkbox", "radio"):
                if f.checked:
                    data.setdefault(f.name, []).append(f.value or "on")
            elif f.kind == "select":
                chosen = f.selected or [next((o for o in f.options if o), "")]
                data.setdefault(f.name, []).extend(chosen)
            elif f.kind == "file":
                continue
            else:
                data.setdefault(f.name, []).append(f.value)
        return data

    def names(self) -> list[str]:
        return list(dict.fromkeys(f.name for f in self.fields if f.kind not in ("submit",)))


class PageParser(HTMLParser):
    """The forms of a page and the query parameters its own links use."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.link_params: set[str] = set()
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: str | None = None
        self._textarea: Field | None = None
        self._loose = Form(action="", method="post")  # fields outside a <form> (admin inlines are inside)

    def _current(self) -> Form:
        return self._form or self._loose

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("?"):
            self.link_params.update(k for k, _ in parse_qsl(a["href"][1:], keep_blank_values=True))
        elif tag == "form":
            self._form = Form(
                action=a.get("action", ""),
                method=(a.get("method") or "get").lower(),
                also_to=[v for k, v in a.items() if k.startswith("data-") and k.endswith("url") and v],
            )
            self.forms.append(self._form)
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("button", "image", "reset"):
                return
            self._current().fields.append(
                Field(name=a["name"], kind=kind, value=a.get("value", ""), checked="checked" in a)
            )
        elif tag == "select" and a.get("name"):
            self._select = Field(name=a["name"], kind="select")
            self._current().fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            self._option = value
            if value is not None:
                self._select.options.append(value)
                if "selected" in a:
                    self._select.selected.append(value)
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(name=a["name"], kind="textarea")
            self._current().fields.append(self._textarea)
        elif tag == "button" and a.get("name"):
            self._current().fields.append(Field(name=a["name"], kind="submit", value=a.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    if parser._loose.fields:
        parser.forms.append(parser._loose)
    return parser


def garbage_for(f: Field) -> str:
    """The one value that most likely breaks a field of this kind."""
    if f.kind in ("select", "number", "hidden", "radio", "checkbox"):
        return HUGE
    if f.kind == "date" or re.search(r"date|datum|_on$|_at$|since|until|from|valid", f.name, re.I):
        return BAD_DATE
    return NUL


# --- sending ----------------------------------------------------------------------------


class _RollBack(Exception):
    pass


@dataclass
class Fuzzer:
    client: object  # django.test.Client(raise_request_exception=False)
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    seen_forms: set = field(default_factory=set)
    timings: dict = field(default_factory=dict)
    field_names: set = field(default_factory=set)  # of every form seen, for POST-only URLs
    post_only: list = field(default_factory=list)
    _session: str = ""

    def __post_init__(self):
        cookie = self.client.cookies.get(settings.SESSION_COOKIE_NAME)
        self._session = cookie.value if cookie else ""

    def send(self, method: str, url: str, data=None, *, label: str = ""):
        """One request in its own savepoint, rolled back afterwards; a 500 is recorded."""
        self.requests += 1
        response = None
        logging.disable(logging.CRITICAL)  # thousands of expected 400/404 warnings are no news
        try:
            with transaction.atomic():
                if method == "get":
                    response = self.client.get(url, data or {})
                else:
                    response = self.client.post(url, data or {})
                raise _RollBack
        except _RollBack:
            pass
        except Exception as exc:  # the client itself choked (the request never reached a view)
            self.failures.append(f"{method.upper()} {url} {label}: {type(exc).__name__}: {exc}"[:400])
        finally:
            logging.disable(logging.NOTSET)
            if self._session:  # a logout or password change in the request is undone with its data
                self.client.cookies[settings.SESSION_COOKIE_NAME] = self._session
        if response is not None and response.status_code not in OK_STATUSES:
            reason = ""
            exc_info = getattr(response, "exc_info", None)
            if exc_info:
                reason = f"{exc_info[0].__name__}: {exc_info[1]}"
            self.failures.append(f"{method.upper()} {url} {label} → {response.status_code} {reason}"[:400])
        return response

    # -- a page: its query parameters and its forms --

    def page(
        self,
        url: str,
        *,
        extra_params=(),
        params: bool = True,
        forms: bool = True,
        values: tuple[str, ...] = GARBAGE,
        query_values: tuple[str, ...] = PARAM_VALUES,
        param_values: tuple[str, ...] = PARAM_GARBAGE,
        per_field: bool = True,
    ):
        """GET ``url``; garbage (``values``) in the typical and the page's own query
        parameters, each own parameter alone with ``param_values``; ``values`` into every
        field of every form the page shows (posted to the form's action) and, with
        ``per_field``, one field at a time in an otherwise unchanged form."""
        started = time.monotonic()
        response = self.send("get", url, label="plain")
        is_html = response is not None and response.get("Content-Type", "").startswith("text/html")
        parsed = read_page(response.content.decode(errors="replace")) if is_html and not response.streaming else None
        if params:
            own = list(dict.fromkeys([*extra_params, *(parsed.link_params if parsed else ())]))
            names = list(dict.fromkeys([*TYPICAL_PARAMS, *own]))
            if response is not None and response.status_code == 405:  # POST only: see post_only_urls()
                self.post_only.append((url, names))
            elif not is_html:  # a download (PDF, CSV): the plain GET is all; rendering is slow
                pass
            else:
                for value in query_values:
                    self.send("get", url, dict.fromkeys(names, value), label=f"params={value[:20]!r}")
                for name in own:  # the page's own parameters (filters, paging) one by one
                    for value in param_values:
                        self.send("get", url, {name: value}, label=f"{name}={value[:20]!r}")
        if forms and parsed:
            for form in parsed.forms:
                self.form(url, form, values=values, per_field=per_field)
        self.timings[url] = self.timings.get(url, 0.0) + time.monotonic() - started
        return response

    def form(self, page_url: str, form: Form, *, values=GARBAGE, per_field: bool = True):
        self.form_to(urljoin(page_url, form.action) if form.action else page_url, form, values, per_field)
        for other in form.also_to:  # e.g. the order form's live price preview
            self.form_to(urljoin(page_url, other), form, values, per_field)

    def form_to(self, target: str, form: Form, values, per_field: bool):
        path = urlsplit(target).path
        key = (path, form.method, tuple(form.names()))
        if key in self.seen_forms or not path.startswith(("/portal/", "/admin/", "/i18n/")):
            return
        self.seen_forms.add(key)
        method = "post" if form.method == "post" else "get"
        baseline = form.baseline()
        # Formset management fields keep the page's values: Django refuses garbage there
        # itself, and a huge TOTAL_FORMS makes it build its 1,000-form maximum — seconds per
        # request for nothing learnt. "__prefix__" fields are the empty-form template.
        fixed = {name for name in baseline if MANAGEMENT_FIELD.search(name)}
        names = [name for name in form.names() if name not in fixed and "__prefix__" not in name]
        self.field_names.update(names)
        files = {f.name for f in form.fields if f.kind == "file"}
        kept = {name: baseline[name] for name in fixed}
        for value in values:
            data = {**kept, **{name: value for name in names if name not in files}}
            if method == "post":
                for name in files:
                    data[name] = SimpleUploadedFile("../../" + (value[:50] or "leer") + ".txt", value.encode())
            self.send(method, target, data, label=f"all fields={value[:20]!r}")
        if not per_field:
            return
        done = set()
        for f in form.fields:
            if f.kind in ("submit", "file") or f.name in done or f.name not in names:
                continue
            done.add(f.name)
            value = garbage_for(f)
            data = {**baseline, f.name: value}
            self.send(method, target, data, label=f"{f.name}={value[:20]!r}")

    def post_only_urls(self, values: tuple[str, ...] = GARBAGE):
        """URLs that take POST only (confirm, cancel, preview, logout), after every page was
        read: garbage in the typical parameters and in every form field name seen anywhere."""
        for url, names in self.post_only:
            names = sorted({*names, *self.field_names})
            for value in values:
                self.send("post", url, dict.fromkeys(names, value), label=f"post all names={value[:20]!r}")

    def slowest(self, n: int = 8) -> str:
        return ", ".join(f"{url} {t:.1f} s" for url, t in sorted(self.timings.items(), key=lambda i: -i[1])[:n])

    def report(self) -> str:
        shown = "\n".join(self.failures[:60])
        more = f"\n… and {len(self.failures) - 60} more" if len(self.failures) > 60 else ""
        return f"{len(self.failures)} of {self.requests} requests answered 500:\n{shown}{more}"
