"""Languages (issue 21): which language a request is answered in and a document is written in.

German stays the default (``settings.LANGUAGE_CODE``). See docs/i18n.md.

* **A request** is answered in the login's own language (``UserLanguage``, set by the switch);
  a partner login without one in its partner's language; anybody else in the language chosen
  with the switch before logging in (the language cookie), else German. The browser's
  ``Accept-Language`` is not read: the product speaks German unless somebody chose English.
  Only the partner API (``/api/``, machines without a session) answers in the language its
  client's ``Accept-Language`` asks for (docs/api.md).
  The language is kept in the session at login, so a page costs no query for it.
* **A document or e-mail to a partner** is written in the partner's language
  (``Partner.language``), whoever triggers it (a staff member working in English sends a
  German partner German mail): :func:`partner_language` / :func:`for_partner`.
* **Internal documents** (finance reports, the Softwarepflege report, staff e-mails) stay in
  German, the vendor's language: :func:`for_vendor`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

SESSION_KEY = "_language"
VENDOR_LANGUAGE = "de"  # the vendor's own documents and staff mail


def supported(language: str | None) -> str | None:
    """``language`` if the product speaks it, else ``None``."""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else None


def partner_language(partner) -> str:
    """The language of documents and e-mails to ``partner`` (German when unset or unknown)."""
    return supported(getattr(partner, "language", None)) or settings.LANGUAGE_CODE


def for_partner(partner) -> AbstractContextManager:
    """``with for_partner(partner):`` — texts inside are written in the partner's language."""
    return translation.override(partner_language(partner))


def for_vendor() -> AbstractContextManager:
    """``with for_vendor():`` — the vendor's internal documents and staff e-mails, German."""
    return translation.override(VENDOR_LANGUAGE)


def user_language(user) -> str | None:
    """The login's own language, else its partner's (partner logins), else ``None``."""
    from vendorportal.models import UserLanguage
    from vendorportal.parties.models import PartnerUser

    own = UserLanguage.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    if supported(own):
        return own
    partner_lang = PartnerUser.objects.filter(user_id=user.pk).values_list("partner__language", flat=True).first()
    return supported(partner_lang)


def language_for_user(user) -> str:
    """For e-mails to one login (invitation, password reset): its language, else German."""
    return user_language(user) or settings.LANGUAGE_CODE


@receiver(user_logged_in, dispatch_uid="vendorportal.i18n.remember_language")
def _remember_language(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        # "" when the login has no language of its own: the session then knows there is none,
        # and no page looks it up again (request_language) — a staff member's first page
        # after login would otherwise pay two queries and a session write for it.
        request.session[SESSION_KEY] = user_language(user) or ""


#: The partner API (issue 19, docs/api.md): called by machines, with no session and no switch;
#: its problem details follow the client's ``Accept-Language`` (German unless it asks for English).
API_PREFIX = "/api/"


def request_language(request) -> str:
    if request.path_info.startswith(API_PREFIX):
        return supported(translation.get_language_from_request(request)) or settings.LANGUAGE_CODE
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        session = request.session
        if SESSION_KEY not in session:  # a session from before this feature: look it up once
            session[SESSION_KEY] = user_language(user) or ""
        if supported(session[SESSION_KEY]):
            return session[SESSION_KEY]
    return supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)) or settings.LANGUAGE_CODE


class UserLanguageMiddleware:
    """Replaces Django's ``LocaleMiddleware``; after ``AuthenticationMiddleware`` (it needs the
    login). The language is active for the view and the response's rendering only, so nothing
    after the request (a test, a task in the same thread) inherits it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Accept-Language",) if request.path_info.startswith(API_PREFIX) else ("Cookie",))
        return response


@transaction.atomic
def user_language_set(*, user, language: str):
    """The login's own language (the switch): German or English, nothing else."""
    from vendorportal.models import UserLanguage

    row = UserLanguage(user=user, language=language)
    row.full_clean(validate_unique=False)
    UserLanguage.objects.update_or_create(user=user, defaults={"language": language})


@require_POST
def set_language(request):
    """The language switch of the portal header and the admin (a form, POST with CSRF, no
    JavaScript): stores the choice on the login (``UserLanguage``) and in the session, and in
    the language cookie for the login page. An unknown language changes nothing."""
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/portal/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/portal/"
    response = HttpResponseRedirect(target)
    language = supported(request.POST.get("language"))
    if language is None:
        return response
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
        request.session[SESSION_KEY] = language
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response
