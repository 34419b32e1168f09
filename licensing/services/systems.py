"""Writes about Auerswald systems: tryout, system licences, re-initialisation (SYS-1,
SYS-2) and PBX Call Assist 5 with its Softwarepflege (SWP-1…SWP-9).

Every decision comes from :mod:`licensing.rules`, every price from
:mod:`licensing.pricing`; these services check, then write append-only ledger rows in
one transaction — a refused request writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from licensing import keys, rules
from licensing.constants import AUERSWALD
from licensing.exceptions import SystemLicensingError
from licensing.models import Installation, MaintenanceCoverage, Reinitialisation, SystemLicense, Tryout
from licensing.pricing import CallAssistQuote, price_cart, renewal_quote_priced
from licensing.selectors.systems import call_assist_prices, license_totals, system_facts
from vendorportal.formats import format_date
from vendorportal.i18n import for_partner
from vendorportal.money import format_eur

logger = logging.getLogger(__name__)


def _require_system(installation: Installation) -> None:
    if installation.vendor != AUERSWALD:
        raise SystemLicensingError(
            _("%(identifier)s ist keine Auerswald-Anlage; das gilt nur für Auerswald-Systeme mit Seriennummer.")
            % {"identifier": installation.identifier},
            code="not_auerswald",
        )


def _locked(installation: Installation) -> Installation:
    """Re-read and lock the system row, so two requests for one system run one after
    the other (PostgreSQL row lock; SQLite runs write transactions one at a time)."""
    return Installation.objects.select_for_update().get(pk=installation.pk)


# --- Tryout and system licences (SYS-2) ---------------------------------------------


@transaction.atomic
def tryout_start(*, installation: Installation, today: date, by=None) -> Tryout:
    """Start the one 14-day tryout with 3 test user licences of a system (SYS-2).

    Refused for COMtrexx Business/Advanced, for a second tryout and after licences
    were bought (:func:`rules.tryout_refusal`). ``by`` is not stored: the tryout row
    has no author column; the start is logged.
    """
    _require_system(installation)
    system = _locked(installation)
    existing = Tryout.objects.filter(installation=system).first()
    refusal = rules.tryout_refusal(
        system.edition,
        existing.started_on if existing else None,
        system_facts(system).user_licenses > 0,
    )
    if refusal:
        raise SystemLicensingError(refusal, code="tryout_refused")
    try:
        with transaction.atomic():
            tryout = Tryout(installation=system, started_on=today, test_users=rules.TRYOUT_TEST_USERS)
            tryout.full_clean()
            tryout.save()
    except IntegrityError:  # a parallel request was faster; the one-to-one key holds
        started_on = Tryout.objects.filter(installation=system).values_list("started_on", flat=True).first()
        raise SystemLicensingError(
            rules.tryout_refusal(system.edition, started_on or today, False), code="tryout_refused"
        ) from None
    logger.info(
        "Tryout started for %s on %s by %s", system.identifier, today, getattr(by, "username", None) or "system"
    )
    return tryout


def _check_licensing(system: Installation, *, article_is_activation: bool, has_activation: bool) -> None:
    refusal = rules.licensing_refusal(system.edition, has_activation, article_is_activation)
    if refusal:
        raise SystemLicensingError(
            refusal, code="activation_first" if not article_is_activation else "activation_refused"
        )


def _end_running_tryout(system: Installation, today: date) -> None:
    """Buying user licences ends a running tryout (SYS-2)."""
    tryout = Tryout.objects.filter(installation=system, ended_by_purchase_on__isnull=True).first()
    if tryout and today >= tryout.started_on and rules.tryout_days_left(tryout.started_on, today) > 0:
        tryout.ended_by_purchase_on = today
        tryout.save(update_fields=["ended_by_purchase_on"])


@transaction.atomic
def system_licenses_add(
    *,
    installation: Installation,
    kind: str,
    quantity: int,
    article: str = "",
    order_reference: str = "",
    today: date,
    by=None,
) -> SystemLicense:
    """Book a system activation or floating user licences on a system (SYS-1, SYS-2).

    COMtrexx Business/Advanced: the activation comes first and only once
    (:func:`rules.licensing_refusal`); other models have no activation. Buying user
    licences ends a running tryout. PBX Call Assist users are booked with their
    Softwarepflege through :func:`maintenance_confirm` (SWP-1), not here.
    """
    _require_system(installation)
    if kind == SystemLicense.CALL_ASSIST_USERS:
        raise SystemLicensingError(
            _("PBX Call Assist 5 Benutzer werden nur zusammen mit ihrer Softwarepflege gebucht (Angebot bestätigen)."),
            code="call_assist_via_quote",
        )
    if kind not in (SystemLicense.ACTIVATION, SystemLicense.USER_LICENSES):
        raise SystemLicensingError(_("Unbekannte Lizenzart „%(kind)s“.") % {"kind": kind}, code="unknown_kind")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise SystemLicensingError(
            _("Die Anzahl muss eine ganze Zahl ab 1 sein, nicht %(quantity)s.") % {"quantity": quantity},
            code="invalid_quantity",
        )
    if kind == SystemLicense.ACTIVATION and quantity != 1:
        raise SystemLicensingError(_("Eine Anlage braucht genau eine Systemaktivierung."), code="invalid_quantity")
    system = _locked(installation)
    is_activation = kind == SystemLicense.ACTIVATION
    _check_licensing(system, article_is_activation=is_activation, has_activation=system_facts(system).has_activation)
    row = SystemLicense(
        installation=system,
        kind=kind,
        quantity=quantity,
        article=article,
        order_reference=order_reference,
        created_by=by,
    )
    row.full_clean()
    row.save()
    if kind == SystemLicense.USER_LICENSES:
        _end_running_tryout(system, today)
    return row


# --- Re-initialisation (SYS-1) ----------------------------------------------------------
#
# The response format and its signature are in :mod:`licensing.keys`
# (:func:`keys.sign_reinitialisation_response`), signed with the module-key signing key.


def reinitialisation_payload(system: Installation, initialisation_code: str) -> dict:
    """What the licence server answers for a system: its serial and all its licences."""
    facts = system_facts(system)
    return {
        "type": "comtrexx-reinitialisation",
        "serial": system.identifier,
        "model": system.edition,
        "code_sha256": hashlib.sha256(initialisation_code.encode("ascii")).hexdigest()[:32],
        "licenses": license_totals(system),
        "swp_end": facts.coverage_end.isoformat() if facts.coverage_end else None,
    }


@transaction.atomic
def system_reinitialise(*, installation: Installation, initialisation_code: str, by=None) -> Reinitialisation:
    """ "Zertifikat neu erstellen" after a reset (SYS-1): the signed response that gives
    the system all its licences back. Every re-initialisation is logged.

    The code is checked first (:func:`rules.normalize_initialisation_code`); a bad code
    writes nothing.
    """
    _require_system(installation)
    code = rules.normalize_initialisation_code(initialisation_code)
    system = _locked(installation)
    response = keys.sign_reinitialisation_response(
        reinitialisation_payload(system, code), keys.cached_signing_key(settings.LICENSE_SIGNING_KEY_FILE)
    )
    row = Reinitialisation(installation=system, initialisation_code=code, response=response, created_by=by)
    row.full_clean()
    row.save()
    return row


# --- PBX Call Assist 5 quotes and confirmation (SWP-1…SWP-9) ---------------------------


def call_assist_quote(
    *, installation: Installation, users: int | None, months: int | None = None, today: date
) -> CallAssistQuote:
    """Priced cart for one system (SWP-9), ordered on ``today`` at that day's prices.

    Which cart depends on the system:
    - no Softwarepflege yet → first order: ``users`` new users in packs plus SWP for
      ``months`` (12/36) per user (SWP-1, SWP-2);
    - Softwarepflege and ``months`` None → add ``users`` users for the rest of the
      running coverage, per user and day minus 21 goodwill days (SWP-3);
    - Softwarepflege and ``months`` given → renewal of all the system's users
      (``users`` None or that number) from the day after the old end (SWP-4…SWP-7).
    Raises :class:`rules.MaintenanceRuleError` when the rules refuse, and
    :class:`SystemLicensingError` for COMtrexx Business/Advanced without activation.
    """
    _require_system(installation)
    facts = system_facts(installation)
    if facts.coverage_end is None or months is None:
        # First order or added users: licences are added, which COMtrexx Business and
        # Advanced allow only once activated (SYS-2).
        _check_licensing(installation, article_is_activation=False, has_activation=facts.has_activation)
    prices = call_assist_prices(today)
    if facts.coverage_end is None:
        if users is None or months is None:
            raise rules.MaintenanceInputError(
                _("Für die Erstbestellung bitte die Anzahl der Benutzer und 12 oder 36 Monate Softwarepflege angeben."),
                code="first_order_incomplete",
            )
        cart = rules.initial_order_quote(users, months)
        kind, start, end, new_users, covered = (
            MaintenanceCoverage.INITIAL,
            today,
            rules.coverage_end(today, months),
            users,
            users,
        )
        lapsed_days = surcharge_days = 0
    elif months is None:
        if users is None:
            raise rules.MaintenanceInputError(
                _(
                    "Bitte angeben, wie viele Benutzer hinzukommen, oder 12 bzw. 36 Monate für eine Verlängerung wählen."
                ),
                code="quote_incomplete",
            )
        cart = rules.add_users_quote(facts.coverage_end, today, users)
        kind, start, end, new_users, covered = MaintenanceCoverage.ADD_USERS, today, facts.coverage_end, users, users
        lapsed_days = surcharge_days = 0
    else:
        if facts.call_assist_users < 1:
            raise rules.MaintenanceRuleError(
                _("Dieses System hat keine PBX Call Assist 5 Benutzer; es gibt nichts zu verlängern."),
                code="no_users",
            )
        if users is not None and users != facts.call_assist_users:
            raise rules.MaintenanceRuleError(
                _(
                    "Die Softwarepflege wird für alle %(all)s Benutzer des Systems verlängert, nicht für "
                    "%(users)s. Zusätzliche Benutzer bitte nach der Verlängerung hinzufügen."
                )
                % {"all": facts.call_assist_users, "users": users},
                code="renew_all_users",
            )
        return renewal_quote_priced(
            installation_id=installation.pk,
            serial=installation.identifier,
            coverage_end=facts.coverage_end,
            users=facts.call_assist_users,
            months=months,
            today=today,
            prices=prices,
        )
    priced = price_cart(cart, prices, today)
    return CallAssistQuote(
        kind=kind,
        installation_id=installation.pk,
        serial=installation.identifier,
        order_date=today,
        users=covered,
        new_users=new_users,
        months=months,
        coverage_start=start,
        coverage_end=end,
        lapsed_days=lapsed_days,
        surcharge_days=surcharge_days,
        lines=priced.lines,
        net_total=priced.net_total,
        sample_prices=priced.sample_prices,
        based_on_end=facts.coverage_end,
        based_on_users=facts.call_assist_users,
    )


@transaction.atomic
def maintenance_confirm(
    *, installation: Installation, quote: CallAssistQuote, order_reference: str = "", by=None
) -> MaintenanceCoverage:
    """Book a confirmed Call Assist order: append the coverage ledger row and, for a
    first order or added users, the Call Assist user licences per pack (SWP-1…SWP-7).

    Existing ledger rows are never changed. A quote for another system (SWP-9) or one
    computed before the system changed (another order was booked meanwhile) is refused.
    """
    _require_system(installation)
    if quote.installation_id != installation.pk:
        raise rules.MaintenanceRuleError(
            rules.order_systems_refusal([quote.serial, installation.identifier]), code="one_system_per_order"
        )
    system = _locked(installation)
    facts = system_facts(system)
    if facts.coverage_end != quote.based_on_end or facts.call_assist_users != quote.based_on_users:
        raise rules.MaintenanceRuleError(
            _(
                "Das Angebot vom %(date)s passt nicht mehr zum System %(serial)s (inzwischen wurde dort "
                "Softwarepflege oder ein Benutzer gebucht). Bitte das Angebot neu berechnen."
            )
            % {"date": format_date(quote.order_date), "serial": system.identifier},
            code="stale_quote",
        )
    if quote.new_users:
        _check_licensing(system, article_is_activation=False, has_activation=facts.has_activation)
    coverage = MaintenanceCoverage(
        installation=system,
        kind=quote.kind,
        start=quote.coverage_start,
        end=quote.coverage_end,
        months=quote.months,
        users=quote.users,
        surcharge_days=quote.surcharge_days,
        order_reference=order_reference,
        created_by=by,
    )
    coverage.full_clean()
    coverage.save()
    licences = [
        SystemLicense(
            installation=system,
            kind=SystemLicense.CALL_ASSIST_USERS,
            article=article,
            quantity=users,
            order_reference=order_reference,
            created_by=by,
        )
        for article, users in quote.pack_users.items()
    ]
    for licence in licences:
        licence.full_clean()
    SystemLicense.objects.bulk_create(licences)
    return coverage


def manual_coverage_refusal(*, installation: Installation, end: date) -> str | None:
    """Why staff cannot book a manual coverage ending ``end``, or None: a ledger row
    cannot shorten the coverage, so it must end after the current end."""
    if installation.vendor != AUERSWALD:
        return _("Softwarepflege gibt es nur für Auerswald-Systeme.")
    current_end = system_facts(installation).coverage_end
    if current_end is not None and end <= current_end:
        return _(
            "Die Softwarepflege dieses Systems läuft bereits bis %(end)s; ein neuer Zeitraum muss später enden."
        ) % {"end": format_date(current_end)}
    return None


@transaction.atomic
def maintenance_coverage_book_manual(
    *,
    installation: Installation,
    start: date,
    end: date,
    users: int,
    months: int | None = None,
    order_reference: str = "",
    note: str = "",
    by=None,
) -> MaintenanceCoverage:
    """Staff book Softwarepflege by hand (SWP-7: lapsed longer than 36 months, goodwill).

    Appends a ``manual`` ledger row; nothing is changed. The row may not end before
    the current coverage end (a ledger row cannot shorten the coverage).
    """
    _require_system(installation)
    system = _locked(installation)
    refusal = manual_coverage_refusal(installation=system, end=end)
    if refusal:
        raise rules.MaintenanceRuleError(refusal, code="coverage_not_extended")
    coverage = MaintenanceCoverage(
        installation=system,
        kind=MaintenanceCoverage.MANUAL,
        start=start,
        end=end,
        months=months,
        users=users,
        order_reference=order_reference,
        note=note,
        created_by=by,
    )
    coverage.full_clean()
    coverage.save()
    return coverage


def renewal_quote_send(*, installation: Installation, today: date, months: int = 12) -> CallAssistQuote:
    """E-mail a priced Softwarepflege renewal for one system to its partner (SWP-4…SWP-7).

    Nothing is booked; the partner orders as usual. Raises the rules' errors when no
    renewal is possible (no coverage, no users, lapsed over 36 months, no price).
    """
    _require_system(installation)
    if system_facts(installation).coverage_end is None:
        raise rules.MaintenanceRuleError(
            _("System %(serial)s hat keine Softwarepflege; es gibt nichts zu verlängern.")
            % {"serial": installation.identifier},
            code="no_coverage",
        )
    quote = call_assist_quote(installation=installation, users=None, months=months, today=today)
    partner = installation.customer.partner
    with for_partner(partner):  # the partner's language (issue 21), whoever sends it
        subject, body = _renewal_quote_mail(installation=installation, quote=quote, today=today)
    EmailMessage(subject=subject, body=body, to=[partner.delivery_email]).send()
    return quote


def _renewal_quote_mail(*, installation: Installation, quote: CallAssistQuote, today: date) -> tuple[str, str]:
    lines = [
        f"{line.quantity} × {line.article} {line.name}: {format_eur(line.unit_price)} = {format_eur(line.total)}"
        for line in quote.lines
    ]
    body = [
        _("Guten Tag,"),
        "",
        _(
            "hier das Angebot zur Verlängerung der Softwarepflege (PBX Call Assist 5) für das System "
            "%(serial)s (%(customer)s), Stand %(today)s:"
        )
        % {
            "serial": installation.identifier,
            "customer": installation.customer.company,
            "today": format_date(today),
        },
        "",
        _("Neue Softwarepflege: %(start)s bis %(end)s für %(users)s Benutzer (%(months)s Monate).")
        % {
            "start": format_date(quote.coverage_start),
            "end": format_date(quote.coverage_end),
            "users": quote.users,
            "months": quote.months,
        },
    ]
    if quote.surcharge_days:
        body.append(
            _(
                "Die Softwarepflege ist seit mehr als 3 Monaten abgelaufen: %(days)s Tage je Benutzer werden als Säumniszuschlag berechnet."
            )
            % {"days": quote.surcharge_days}
        )
    body += ["", *lines, "", _("Summe netto: %(total)s zzgl. USt.") % {"total": format_eur(quote.net_total)}]
    if quote.sample_prices:
        body.append(_("Hinweis: Die Preise sind Beispielpreise."))
    body += ["", _("Bitte bestellen Sie die Verlängerung für jedes System einzeln."), "", settings.VENDOR["name"]]
    subject = _("Angebot Verlängerung Softwarepflege %(serial)s") % {"serial": installation.identifier}
    return subject, "\n".join(body)
