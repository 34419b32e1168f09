"""The partner API, /api/v1/ (issue 19), on django-ninja (docs/api.md says why).

- Authentication: ``Authorization: Bearer vp_…`` — a partner's API token (portal
  "API-Zugänge"); the token acts for its partner only, with a partner admin's rights limited by
  its scopes. A missing, unknown, revoked or expired token: 401; a missing scope: 403.
- Errors are RFC 9457 ``application/problem+json`` with a stable ``code`` and a German
  ``detail`` (English with ``Accept-Language: en``); invalid input 422 with the fields; another
  partner's id 404 — never a 500.
- A rate limit per token (``API_RATE_LIMIT``, default 600 a minute) answers 429 with
  ``Retry-After``.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from api.services import api_token_authenticate
from vendorportal.errors import PortalError

PROBLEM = "application/problem+json"


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = api_token_authenticate(token)
        if found is None:
            return None
        request.api_token = found
        request.partner = found.partner
        return found


class TokenRateThrottle(AuthRateThrottle):
    """``API_RATE_LIMIT`` requests per token (read on every request, so a changed setting
    applies at once), counted in the default cache."""

    scope = "api-token"

    def __init__(self):
        super().__init__(settings.API_RATE_LIMIT)

    def allow_request(self, request) -> bool:
        self.num_requests, self.duration = self.parse_rate(settings.API_RATE_LIMIT)
        return super().allow_request(request)

    def get_cache_key(self, request) -> str:
        token = getattr(request, "api_token", None)
        ident = f"token-{token.pk}" if token is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BodyRefused(Exception):
    """A request body or parameter the API will not read; ``field`` names where."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def _nul_at(value, where: tuple = ()) -> tuple | None:
    """The path of the first string (key or value) with a NUL character in ``value``, else None."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str) and "\x00" in key:
                return (*where, key)
            found = _nul_at(inner, (*where, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, inner in enumerate(value):
            found = _nul_at(inner, (*where, index))
            if found is not None:
                return found
    return None


class StrictParser(Parser):
    """JSON bodies and parameters without NUL characters: PostgreSQL cannot store them in a text
    column (a DataError, a 500, after the services' checks) and no partner data contains them.
    django-ninja turns anything the parser raises into a 400; :func:`_http_error` reads the
    :class:`BodyRefused` behind it for a German detail with the field."""

    def parse_body(self, request):
        data = super().parse_body(request)
        self._refuse_nul(data)
        return data

    def parse_querydict(self, data, list_fields, request):
        parsed = super().parse_querydict(data, list_fields, request)
        self._refuse_nul(parsed, query=True)
        return parsed

    @staticmethod
    def _refuse_nul(data, query: bool = False) -> None:
        where = _nul_at(data)
        if where is not None:
            field = ".".join(str(part) for part in where) or None
            message = _("Das Feld „%(field)s“ enthält ein Nullzeichen; das ist nicht erlaubt.") % {
                "field": field or "—"
            }
            if query:
                raise ValidationError([{"loc": ("query", *where), "msg": message}])
            raise BodyRefused(message, field)


class ProblemApi(NinjaAPI):
    def create_response(self, request, data, *, status=200, temporal_response=None):
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        if status >= 400:
            response["Content-Type"] = PROBLEM
        return response


api = ProblemApi(
    title="Vendor Portal Partner API",
    version="1.0.0",
    description=_("Kunden, Installationen, Katalog, Lizenzen und Rechnungen eines Partners (Issue 19)."),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    throttle=TokenRateThrottle(),
    parser=StrictParser(),
)


def problem(request, status: int, code: str, detail: str, **extra) -> HttpResponse:
    titles = {
        400: pgettext("problem", "Ungültige Anfrage"),
        401: pgettext("problem", "Nicht angemeldet"),
        403: pgettext("problem", "Keine Berechtigung"),
        404: pgettext("problem", "Nicht gefunden"),
        409: pgettext("problem", "Konflikt"),
        422: pgettext("problem", "Ungültige Eingabe"),
        429: pgettext("problem", "Zu viele Anfragen"),
        500: pgettext("problem", "Interner Fehler"),
    }
    body = {"type": f"https://vendorportal.example/problems/{code}", "title": titles.get(status, ""), "status": status}
    body.update({"code": code, "detail": str(detail), **extra})
    return api.create_response(request, body, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = problem(request, 401, "unauthenticated", _("Bitte ein gültiges API-Token als Bearer-Token mitsenden."))
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(AuthorizationError)
def _forbidden(request, exc):
    return problem(request, 403, "forbidden", str(exc))


@api.exception_handler(PermissionDenied)
def _permission_denied(request, exc):
    return problem(request, 403, "forbidden", str(exc) or _("Dieses Token hat dafür keine Berechtigung."))


@api.exception_handler(Throttled)
def _throttled(request, exc):
    response = problem(request, 429, "rate_limited", _("Zu viele Anfragen mit diesem Token; bitte kurz warten."))
    response["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
    return response


def _field_of(loc) -> str | None:
    """("body", "data", "company") → "company"; ("query", "state") → "state"; ("path", "customer_id")."""
    parts = [str(p) for p in loc[1:]]
    if loc and loc[0] == "body" and len(parts) > 1:
        parts = parts[1:]  # the body parameter's own name
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    errors = [{"field": _field_of(err.get("loc", ())), "message": err.get("msg", "")} for err in exc.errors]
    return problem(request, 422, "invalid", _("Die Eingabe ist ungültig."), errors=errors)


@api.exception_handler(DjangoValidationError)
def _model_invalid(request, exc):
    if hasattr(exc, "message_dict"):
        errors = [{"field": field, "message": m} for field, messages in exc.message_dict.items() for m in messages]
    else:
        errors = [{"field": None, "message": m} for m in exc.messages]
    return problem(
        request, 422, "invalid", errors[0]["message"] if errors else _("Die Eingabe ist ungültig."), errors=errors
    )


@api.exception_handler(PortalError)
def _refused(request, exc):
    return problem(request, 422, exc.code or "refused", exc.message)


@api.exception_handler(Http404)
@api.exception_handler(ObjectDoesNotExist)
def _not_found(request, exc):
    return problem(request, 404, "not_found", _("Das gibt es nicht (oder es gehört einem anderen Partner)."))


@api.exception_handler(HttpError)
def _http_error(request, exc):
    cause = exc.__cause__
    if isinstance(cause, BodyRefused):
        return problem(
            request, 422, "invalid", cause.message, errors=[{"field": cause.field, "message": cause.message}]
        )
    if exc.status_code == 400 and cause is not None:
        # django-ninja's "Cannot parse request body" (broken JSON, wrong encoding) in German.
        return problem(request, 400, "invalid_json", _("Der Inhalt der Anfrage ist kein gültiges JSON (UTF-8)."))
    return problem(request, exc.status_code, "http_error", str(exc))


def require_scope(request, scope: str) -> None:
    if scope not in request.api_token.scope_list:
        raise AuthorizationError(
            message=_("Diesem API-Token fehlt das Recht „%(scope)s“.") % {"scope": scope},
        )


# Routes register on import; the routers of the later modules are mounted here.
from api import endpoints, endpoints_orders, endpoints_subscriptions, endpoints_support, endpoints_webhooks  # noqa: E402, F401

api.add_router("", endpoints_orders.router)
api.add_router("", endpoints_subscriptions.router)
api.add_router("", endpoints_support.router)
