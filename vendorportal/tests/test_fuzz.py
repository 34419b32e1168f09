"""No input ends as a 500 (issue 17): every portal URL and every admin URL — found through
the URL resolver and the admin registry, so a new page is covered without an entry here —
gets garbage in every form field and typical query parameter, on GET and POST, logged in as
the user who may use it (a partner administrator; a superuser with a verified second
factor). Runs in both CI passes (SQLite and PostgreSQL). How: ``fuzzing.py``."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.loader import demo_load
from vendorportal.parties.models import PartnerUser
from vendorportal.portal.testing import isolation_cases, load_isolation_entries
from vendorportal.tests.fuzzing import BAD_DATE, HUGE, LONG, NUL, Fuzzer

pytestmark = pytest.mark.django_db

load_isolation_entries()


def _walk(patterns, prefix: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


def portal_urls() -> dict[str, URLPattern]:
    """Every named URL outside the admin: the portal, the language switch, the 2FA pages."""
    return {
        name: pattern
        for name, pattern in _walk(get_resolver().url_patterns, "")
        # The partner API answers to API tokens, not sessions: api/tests fuzz its inputs (422/404).
        if not name.startswith(("admin:", "api-v1:")) and name not in NOT_FUZZED
    }


NOT_FUZZED = {
    # Staff files under /media/: a path, no form or parameter; issue 17's 2FA work tests its access.
    "staff-media",
}

# Portal URLs with path arguments that the tenant-isolation registry exempts: the arguments
# the fuzzer uses (a new one without an entry fails test_every_url_with_arguments_is_fuzzed).
EXTRA_ARGS = {
    "portal:password_reset_confirm": lambda partner: {"uidb64": "MQ", "token": "set-password"},
    "portal:support_article": lambda partner: {"slug": _article_slug()},
}


def _article_slug() -> str:
    from support.models import Article

    return Article.objects.order_by("pk").values_list("slug", flat=True).first()


def _args_for(name: str, partner) -> dict | None:
    cases = isolation_cases()
    if name in cases:
        return cases[name].make(partner)
    if name in EXTRA_ARGS:
        return EXTRA_ARGS[name](partner)
    return None


def test_every_url_with_arguments_is_fuzzed():
    missing = sorted(
        name
        for name, pattern in portal_urls().items()
        if pattern.pattern.regex.groupindex and name not in isolation_cases() and name not in EXTRA_ARGS
    )
    assert not missing, f"Portal URLs with arguments the fuzzer cannot fill: {missing} (add to EXTRA_ARGS)"


@pytest.fixture
def demo(clock):
    # A fixed day (STYLE 16): the demo data and every page see the same "today" in every run.
    clock.set(date(2026, 11, 18))
    demo_load()


def _with_huge_ints(url_name: str, kwargs: dict) -> list[str]:
    """The URL with each integer argument replaced by one beyond every integer range."""
    urls = []
    for key, value in kwargs.items():
        if isinstance(value, int):
            urls.append(reverse(url_name, kwargs={**kwargs, key: int(HUGE)}))
    return urls


def _finish(fuzzer: Fuzzer, started: float, what: str):
    took = time.monotonic() - started
    print(
        f"\nfuzz {what} on {connection.vendor}: {fuzzer.requests} requests in {took:.1f} s; slowest: {fuzzer.slowest()}"
    )
    assert not fuzzer.failures, fuzzer.report()


def test_no_garbage_gives_a_500_in_the_portal(demo):
    started = time.monotonic()
    login = PartnerUser.objects.select_related("user", "partner").get(user__username="muster")
    assert login.role == "admin"  # admin-only pages (logins) let it in
    client = Client(raise_request_exception=False)
    client.force_login(login.user)
    fuzzer = Fuzzer(client)
    for name, pattern in sorted(portal_urls().items()):
        if pattern.pattern.regex.groupindex:
            kwargs = _args_for(name, login.partner)
            url = reverse(name, kwargs=kwargs)
            for bad in _with_huge_ints(name, kwargs):
                fuzzer.send("get", bad, label="huge id")
                fuzzer.send("post", bad, {}, label="huge id")
        else:
            url = reverse(name)
        fuzzer.page(url)
        fuzzer.send("post", url, {"x": NUL}, label="post without form")
    fuzzer.post_only_urls()
    assert fuzzer.requests > 600  # the walk found the pages and their forms
    _finish(fuzzer, started, "portal")


# --- the admin --------------------------------------------------------------------------


def _superuser_client() -> Client:
    """The demo superuser with a confirmed TOTP device and a verified session, as after a
    login with password and code (django-otp keeps the device id in the session)."""
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser
    device = TOTPDevice.objects.create(user=user, name="Fuzz", confirmed=True)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert client.get(reverse("admin:index")).status_code == 200
    return client


def _admin_object_args(model_admin, pattern: URLPattern, obj) -> dict | None:
    """Arguments for a model admin's URL: the object's id for every argument (the own
    views take the object's id; support's attachment view takes the ticket's and the file's)."""
    names = list(pattern.pattern.regex.groupindex)
    if not pattern.pattern.regex.groups:
        return {}
    if obj is None:
        return None
    if pattern.name.endswith("_simple_history"):  # <object_id>/history/<history_id>/, positional
        record = obj.history.order_by("pk").first()
        return {"args": [obj.pk, record.pk]} if record else None
    if pattern.name == "support_ticket_attachment":
        attachment = obj.attachments.order_by("pk").first()
        return {"ticket_id": obj.pk, "pk": attachment.pk} if attachment else None
    return dict.fromkeys(names, obj.pk)


def _date_params(model_admin) -> list[str]:
    hierarchy = model_admin.date_hierarchy
    return [f"{hierarchy}__year", f"{hierarchy}__month", f"{hierarchy}__day"] if hierarchy else []


LIST_VALUES = (HUGE, "-1", "99999", "2026-13-45", "ÄÖÜß € 😀 ../x")
ADD_VALUES = (HUGE, BAD_DATE, LONG)
CHANGE_VALUES = ("-" + HUGE, "2026-13-45", "ÄÖÜß € 😀 \u202e ../../etc/passwd")
OWN_VIEW_VALUES = (HUGE, BAD_DATE, "-1")


def test_no_garbage_gives_a_500_in_the_admin(demo):
    started = time.monotonic()
    client = _superuser_client()
    # The demo has no ticket: one with a file, so the ticket's change page and the staff
    # download are walked too (made as the tenant-isolation walker makes it).
    muster = PartnerUser.objects.get(user__username="muster").partner
    isolation_cases()["portal:support_attachment"].make(muster)
    fuzzer = Fuzzer(client)
    for url in ("/admin/", reverse("admin:job_schedule"), reverse("admin:password_change"), "/admin/autocomplete/"):
        fuzzer.page(url, extra_params=("app_label", "model_name", "field_name", "term"), query_values=LIST_VALUES)
    without_object = []
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            without_object.append(model._meta.label)
        for pattern in model_admin.get_urls():
            if not pattern.name or pattern.name.endswith("_delete"):
                continue
            kwargs = _admin_object_args(model_admin, pattern, obj)
            if kwargs is None:
                continue
            args = kwargs.pop("args", None)
            url = reverse(f"admin:{pattern.name}", args=args, kwargs=kwargs or None)
            # Admin pages are heavy (forms with inlines): a share of the garbage each, chosen
            # so that lists get the numbers and dates, forms every kind once.
            if pattern.name.endswith("_changelist"):
                fuzzer.page(
                    url,
                    extra_params=_date_params(model_admin),
                    query_values=LIST_VALUES,
                    param_values=(HUGE,),
                    values=LIST_VALUES,  # the search and the actions form
                    per_field=False,
                )
            elif pattern.name.endswith("_add"):
                fuzzer.page(url, params=False, values=ADD_VALUES, per_field=False)
            elif pattern.name.endswith("_change"):
                fuzzer.page(url, params=False, values=CHANGE_VALUES, per_field=False)
                fuzzer.send("get", re.sub(r"/\d+/change/$", f"/{HUGE}/change/", url), label="huge object id")
            elif pattern.name.endswith(("_history", "_simple_history")):
                fuzzer.send("get", url, label="history")
            else:  # the apps' own views: their parameters and forms
                fuzzer.page(url, values=OWN_VIEW_VALUES, query_values=OWN_VIEW_VALUES, per_field=False, param_values=())
        # Delete: the confirmation page and a post (rolled back like every request).
        if obj is not None:
            delete = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_delete", args=[obj.pk])
            fuzzer.send("get", delete, label="delete page")
            fuzzer.send("post", delete, {"post": "yes"}, label="delete post")
    fuzzer.post_only_urls(values=OWN_VIEW_VALUES)
    print(f"\nadmin models without an object to change: {without_object}")
    assert fuzzer.requests > 800  # the walk found the pages and their forms
    _finish(fuzzer, started, "admin")
