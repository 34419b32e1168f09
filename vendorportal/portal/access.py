"""Access to the partner portal: one decorator and one mixin every portal view uses.

``partner_required`` lets a view run only for an active login that belongs to a partner
and hands it the partner as ``request.partner`` (and the membership as
``request.partner_user``); ``admin_only=True`` limits it to the partner's administrators.
Anonymous users go to the login page; a staff account gets a page that says the portal
is for partners and links to the admin — not a 403 with a traceback in the log.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.utils.translation import gettext as _

from vendorportal.parties.models import PartnerUser
from vendorportal.parties.selectors import partner_admin_names, partner_user_for


def _no_partner_response(request):
    if request.user.is_staff:
        return render(request, "portal/staff_notice.html", {"title": _("Partnerportal")})
    return render(
        request,
        "403.html",
        {"title": _("Kein Zugriff"), "reason": _("Dieses Konto gehört zu keinem Partner.")},
        status=403,
    )


def admins_reason(partner) -> str:
    """Why a member login cannot do this, and whom to ask (issue 21: a member did not see why
    it could not order)."""
    names = partner_admin_names(partner)
    reason = _("Bestellen, Kündigen und Zugänge verwalten können nur die Administratoren Ihres Partnerkontos.")
    if names:
        reason += " " + _("Bitte wenden Sie sich an: %(names)s.") % {"names": ", ".join(names)}
    return reason


def _admin_refused(request, membership):
    return render(
        request,
        "403.html",
        {"title": _("Kein Zugriff"), "reason": admins_reason(membership.partner)},
        status=403,
    )


def _check(request, admin_only: bool):
    membership = partner_user_for(request.user)
    if membership is None:
        return _no_partner_response(request)
    if admin_only and membership.role != PartnerUser.ADMIN:
        return _admin_refused(request, membership)
    request.partner_user = membership
    request.partner = membership.partner
    return None


def partner_required(view=None, *, admin_only: bool = False):
    """Decorator: ``@partner_required`` or ``@partner_required(admin_only=True)``."""

    def decorate(func):
        @wraps(func)
        @login_required
        def wrapper(request, *args, **kwargs):
            refused = _check(request, admin_only)
            if refused is not None:
                return refused
            return func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


class PartnerRequiredMixin(LoginRequiredMixin):
    """Class-based views: ``self.partner`` is the login's partner."""

    partner_admin_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        refused = _check(request, self.partner_admin_only)
        if refused is not None:
            return refused
        self.partner = request.partner
        return super().dispatch(request, *args, **kwargs)
