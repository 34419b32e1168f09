"""Written confirmations (schriftliche Bestätigungen) of every change with legal effect: a
subscription's notice (SUB-5) or special termination (SUB-6), a tier change (SUB-7: the new
price and the period it applies from), a service plan's booking and notice (SUB-8), a SEPA
mandate created, signed, changed or revoked (ORD-8).

Each is written by the service that makes the change, in its transaction, with one call:
a :class:`~billing.models.Confirmation` row (the text as confirmed, in German) and its outbox
e-mail to the partner's invoice address (contracts and payment are the invoice recipient's
business). The e-mail carries the confirmation as a one-page PDF, rendered from the row by the
outbox's attachment hook (:func:`confirmation_attachments`) through the one PDF service — not
in the transaction, which stays short. A rolled-back change leaves no row and no e-mail.

Idempotent: the row's ``key`` names the change (unique), and the outbox key is derived from it,
so the same change confirmed again — a double submit, a re-run — writes nothing more.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.constants import CONFIRMATION_KIND
from billing.exceptions import BillingError
from billing.models import Confirmation, SepaMandate, ServicePlan, Subscription
from vendorportal import clock
from vendorportal.formats import format_date, postal_country
from vendorportal.i18n import for_partner
from vendorportal.models import OutboxMessage
from vendorportal.money import format_eur
from vendorportal.outbox import outbox_enqueue

TEMPLATE = "documents/confirmation.html"


def _address(partner) -> list[str]:
    lines = [partner.company, partner.street, f"{partner.postal_code} {partner.city}".strip()]
    if partner.country and partner.country != settings.VENDOR.get("country", "DE"):
        lines.append(postal_country(partner.country))
    return [line for line in lines if line]


def _mail(confirmation: Confirmation) -> tuple[str, str]:
    subject = _("Bestätigung: %(title)s (%(reference)s)") % {
        "title": confirmation.title,
        "reference": confirmation.reference,
    }
    body = "\n".join(
        [
            _("Guten Tag,"),
            "",
            *[paragraph for text in confirmation.paragraphs for paragraph in (text, "")],
            _("Die schriftliche Bestätigung liegt als PDF bei; bitte bewahren Sie sie auf."),
            "",
            _("Mit freundlichen Grüßen"),
            settings.VENDOR["name"],
        ]
    )
    return subject, body


def _confirm(
    *, kind: str, key: str, partner, reference: str, title: str, paragraphs: list[str], facts: list, by=None
) -> Confirmation:
    """The confirmation row and its e-mail, in the caller's transaction; once per ``key``."""
    existing = Confirmation.objects.filter(key=key).first()
    if existing is not None:
        return existing
    confirmation = Confirmation(
        kind=kind,
        key=key,
        partner=partner,
        reference=reference,
        title=title,
        address=_address(partner),
        paragraphs=[str(p) for p in paragraphs if p],
        facts=[[str(label), str(value)] for label, value in facts if value not in (None, "")],
        email=partner.invoice_email,
        confirmed_on=clock.today(),
        created_at=clock.now(),
        created_by=by if getattr(by, "pk", None) else None,
    )
    confirmation.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            confirmation.save()
    except IntegrityError:  # the same change confirmed by a concurrent transaction first
        existing = Confirmation.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing
    subject, body = _mail(confirmation)
    outbox_enqueue(
        kind=CONFIRMATION_KIND,
        dedup_key=f"{CONFIRMATION_KIND}:{key}",
        recipients=[confirmation.email],
        subject=subject,
        body=body,
        document=confirmation,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    return confirmation


def _subscription_facts(sub: Subscription) -> list:
    installation = sub.installation
    return [
        (_("Abo"), sub.reference),
        (_("Produkt"), sub.product.name),
        (_("Endkunde"), installation.customer.company),
        (installation.get_identifier_kind_display(), installation.identifier),
        (_("Lizenzen"), sub.quantity),
        (
            _("Mindestlaufzeit"),
            _("%(months)s Monate, bis %(end)s")
            % {
                "months": sub.minimum_months,
                "end": format_date(sub.minimum_end),
            },
        ),
    ]


# --- SUB-5 / SUB-6 ---------------------------------------------------------------------------


def confirmation_subscription_notice(*, subscription: Subscription, preview, by=None) -> Confirmation:
    """The notice recorded by ``subscription_give_notice`` (SUB-5), or the special termination
    (SUB-6): received on, the end, every subscription of the package that ends with it."""
    with for_partner(subscription.partner):
        special = preview.special
        facts = _subscription_facts(subscription) + [
            (_("Kündigung eingegangen am"), format_date(preview.notice_on)),
            (_("Art der Kündigung"), _("Sonderkündigung") if special else _("ordentliche Kündigung")),
            (_("Vertragsende (letzter Tag)"), format_date(preview.ends_on)),
        ]
        if len(preview.subscriptions) > 1:
            facts.append(
                (
                    _("Endet zusammen mit"),
                    ", ".join(
                        f"{s.reference} ({s.product.name})" for s in preview.subscriptions if s.pk != subscription.pk
                    ),
                )
            )
        return _confirm(
            kind=Confirmation.SPECIAL_TERMINATION if special else Confirmation.SUBSCRIPTION_NOTICE,
            key=f"subscription-notice:{subscription.pk}:{preview.notice_on:%Y-%m-%d}",
            partner=subscription.partner,
            reference=subscription.reference,
            title=_("Sonderkündigung Ihres Abos") if special else _("Kündigung Ihres Abos"),
            paragraphs=[
                _("wir bestätigen den Eingang Ihrer Kündigung."),
                preview.text,
                _(
                    "Bis zu diesem Tag läuft das Abo wie vereinbart weiter und wird berechnet; danach werden die "
                    "Lizenzschlüssel des Abos gesperrt."
                ),
            ],
            facts=facts,
            by=by,
        )


# --- SUB-7 -----------------------------------------------------------------------------------


def confirmation_tier_change(*, change, preview, by=None) -> Confirmation:
    """The tier change recorded by ``subscription_change_tier`` (SUB-7): the new tier or users,
    the new monthly price and the billing period it applies from."""
    sub = change.subscription
    with for_partner(sub.partner):
        what = preview.tier or _("%(users)s Benutzer") % {"users": preview.users}
        total = preview.monthly_price * sub.quantity
        return _confirm(
            kind=Confirmation.TIER_CHANGE,
            key=(
                f"tier-change:{sub.pk}:{preview.effective_from:%Y-%m-%d}:"
                f"{preview.tier or '-'}:{preview.users or '-'}:{preview.monthly_price}"
            ),
            partner=sub.partner,
            reference=sub.reference,
            title=_("Staffelwechsel Ihres Abos"),
            paragraphs=[
                _(
                    "wir bestätigen den Staffelwechsel Ihres Abos %(ref)s (%(product)s) auf %(what)s. Der neue "
                    "Monatspreis von %(price)s je Lizenz gilt ab dem Abrechnungszeitraum, der am %(date)s beginnt."
                )
                % {
                    "ref": sub.reference,
                    "product": sub.product.name,
                    "what": what,
                    "price": format_eur(preview.monthly_price),
                    "date": format_date(preview.effective_from),
                },
                _("Laufzeit, Beginn und Abrechnungsintervall bleiben unverändert."),
            ],
            facts=_subscription_facts(sub)
            + [
                (_("Neue Staffel") if preview.tier else _("Neue Benutzerzahl"), what),
                (_("Bisheriger Monatspreis je Lizenz"), format_eur(preview.current_price)),
                (_("Neuer Monatspreis je Lizenz"), format_eur(preview.monthly_price)),
                (_("Neuer Monatspreis gesamt (netto)"), format_eur(total)),
                (_("Gilt ab Abrechnungszeitraum ab"), format_date(preview.effective_from)),
            ],
            by=by,
        )


# --- SUB-8 -----------------------------------------------------------------------------------


def _plan_facts(plan: ServicePlan) -> list:
    installation = plan.installation
    return [
        (_("Service-Plan"), plan.reference),
        (_("Plan"), plan.get_plan_display()),
        (_("Endkunde"), installation.customer.company),
        (installation.get_identifier_kind_display(), installation.identifier),
        (_("Jahrespreis (netto)"), format_eur(plan.yearly_price)),
        (_("Beginn"), format_date(plan.starts_on)),
    ]


def confirmation_plan_booking(*, service_plan: ServicePlan, by=None) -> Confirmation:
    """A service plan booked (SUB-8): plan, server key, price, start, how it can be ended."""
    with for_partner(service_plan.partner):
        facts = _plan_facts(service_plan) + [
            (_("gebucht am"), format_date(service_plan.signed_on)),
            (
                _("Abrechnung"),
                _("jährlich im Voraus, ab %(date)s") % {"date": format_date(service_plan.billed_from)},
            ),
            (_("Kündigung"), _("mit 3 Monaten Frist zum Ende eines Planjahres")),
        ]
        paragraphs = [
            _(
                "wir bestätigen die Buchung des Service-Plans %(plan)s für den Serverlizenzschlüssel %(id)s ab "
                "%(start)s zum Jahrespreis von %(price)s netto."
            )
            % {
                "plan": service_plan.get_plan_display(),
                "id": service_plan.installation.identifier,
                "start": format_date(service_plan.starts_on),
                "price": format_eur(service_plan.yearly_price),
            },
        ]
        if service_plan.retroactive:
            paragraphs.append(
                _("Die Buchung gilt rückwirkend ohne Aufschlag; berechnet wird ab %(date)s.")
                % {"date": format_date(service_plan.billed_from)}
            )
        return _confirm(
            kind=Confirmation.PLAN_BOOKING,
            key=f"plan-booking:{service_plan.pk}",
            partner=service_plan.partner,
            reference=service_plan.reference,
            title=_("Buchung Ihres Service-Plans"),
            paragraphs=paragraphs,
            facts=facts,
            by=by,
        )


def confirmation_plan_notice(*, service_plan: ServicePlan, preview, by=None) -> Confirmation:
    """A service plan's notice (SUB-8): received on and the end of the plan year it ends with."""
    with for_partner(service_plan.partner):
        return _confirm(
            kind=Confirmation.PLAN_NOTICE,
            key=f"plan-notice:{service_plan.pk}:{preview.notice_on:%Y-%m-%d}",
            partner=service_plan.partner,
            reference=service_plan.reference,
            title=_("Kündigung Ihres Service-Plans"),
            paragraphs=[_("wir bestätigen den Eingang Ihrer Kündigung."), preview.text],
            facts=_plan_facts(service_plan)
            + [
                (_("Kündigung eingegangen am"), format_date(preview.notice_on)),
                (_("Vertragsende (letzter Tag)"), format_date(preview.ends_on)),
            ],
            by=by,
        )


# --- ORD-8: SEPA mandates --------------------------------------------------------------------

MANDATE_CREATED = "created"
MANDATE_SIGNED = "signed"
MANDATE_CHANGED = "changed"
MANDATE_REVOKED = "revoked"


def _masked_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    masked = compact[:4] + "X" * max(len(compact) - 8, 0) + compact[-4:] if len(compact) > 8 else compact
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def confirmation_mandate(*, mandate: SepaMandate, event: str, by=None) -> Confirmation:
    """A SEPA mandate created (``"created"``; unsigned: waiting for the signature), signed,
    changed or revoked (ORD-8): reference, creditor, account and what happened."""
    from billing.selectors import sepa_creditor

    creditor = sepa_creditor()
    with for_partner(mandate.partner):
        facts = [
            (_("Mandatsreferenz"), mandate.reference),
            (_("Zahlungsempfänger"), creditor.name),
            (_("Gläubiger-Identifikationsnummer"), creditor.creditor_id),
            (_("Art"), _("SEPA-Basislastschrift, wiederkehrende Zahlungen")),
            (_("Kontoinhaber"), mandate.account_holder or mandate.partner.company),
            (_("IBAN"), _masked_iban(mandate.iban)),
            (_("BIC"), mandate.bic),
            (
                _("unterschrieben am"),
                format_date(mandate.signed_on) if mandate.signed_on else _("wartet auf Unterschrift"),
            ),
            (_("widerrufen am"), format_date(mandate.revoked_on) if mandate.revoked_on else ""),
        ]
        if event == MANDATE_CREATED:
            kind, key, title = (
                Confirmation.MANDATE_CREATED,
                f"mandate-created:{mandate.pk}",
                _("SEPA-Lastschriftmandat"),
            )
            if mandate.signed_on:
                text = _(
                    "wir bestätigen das SEPA-Lastschriftmandat %(ref)s, unterschrieben am %(date)s. Ab jetzt ziehen "
                    "wir fällige Beträge nach Vorabankündigung auf der Rechnung von diesem Konto ein."
                ) % {"ref": mandate.reference, "date": format_date(mandate.signed_on)}
            else:
                text = _(
                    "wir haben das SEPA-Lastschriftmandat %(ref)s angelegt. Es wird wirksam, sobald uns das "
                    "unterschriebene Formular vorliegt; bis dahin ziehen wir nichts ein. Das Formular mit "
                    "Mandatsreferenz und Gläubiger-ID steht im Portal unter „SEPA-Mandat“ zum Herunterladen bereit."
                ) % {"ref": mandate.reference}
        elif event == MANDATE_SIGNED:
            kind, key, title = Confirmation.MANDATE_SIGNED, f"mandate-signed:{mandate.pk}", _("SEPA-Lastschriftmandat")
            text = _(
                "wir bestätigen den Eingang des unterschriebenen SEPA-Lastschriftmandats %(ref)s vom %(date)s. Ab "
                "jetzt ziehen wir fällige Beträge nach Vorabankündigung auf der Rechnung von diesem Konto ein."
            ) % {"ref": mandate.reference, "date": format_date(mandate.signed_on)}
        elif event == MANDATE_CHANGED:
            kind, title = Confirmation.MANDATE_CHANGED, _("Änderung Ihres SEPA-Lastschriftmandats")
            key = f"mandate-changed:{mandate.pk}:{mandate.reference}:{mandate.iban}:{mandate.bic}:{mandate.signed_on}"
            text = _("wir bestätigen die Änderung der Daten des SEPA-Lastschriftmandats %(ref)s.") % {
                "ref": mandate.reference
            }
        elif event == MANDATE_REVOKED:
            kind, key = Confirmation.MANDATE_REVOKED, f"mandate-revoked:{mandate.pk}"
            title = _("Widerruf Ihres SEPA-Lastschriftmandats")
            text = (
                _(
                    "das nicht unterschriebene SEPA-Lastschriftmandat %(ref)s ist seit dem %(date)s ungültig; bitte "
                    "verwenden Sie dieses Formular nicht mehr."
                )
                if mandate.signed_on is None
                else None
            ) or _(
                "wir bestätigen den Widerruf des SEPA-Lastschriftmandats %(ref)s zum %(date)s. Ab diesem Tag ziehen "
                "wir unter diesem Mandat nichts mehr ein."
            ) % {"ref": mandate.reference, "date": format_date(mandate.revoked_on)}
        else:
            raise BillingError(f"unknown mandate event {event!r}")
        return _confirm(
            kind=kind,
            key=key[:200],
            partner=mandate.partner,
            reference=mandate.reference,
            title=title,
            paragraphs=[text],
            facts=facts,
            by=by,
        )


# --- the PDF -----------------------------------------------------------------------------------


def confirmation_context(confirmation: Confirmation) -> dict:
    return {
        "confirmation": confirmation,
        "date": format_date(confirmation.confirmed_on),
        "address": confirmation.address,
        "paragraphs": confirmation.paragraphs,
        "facts": confirmation.facts,
    }


def confirmation_pdf(confirmation: Confirmation) -> bytes:
    """The one-page confirmation PDF, from the row (the text as confirmed)."""
    from vendorportal.pdf import render_pdf

    with for_partner(confirmation.partner):
        return render_pdf(TEMPLATE, confirmation_context(confirmation))


def confirmation_attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    """Outbox hook: the confirmation as PDF, rendered when the e-mail is sent."""
    confirmation = Confirmation.objects.select_related("partner").filter(pk=message.document_id).first()
    if confirmation is None:
        raise BillingError(_("Zu dieser E-Mail gibt es keine Bestätigung."))
    return [(confirmation.filename, confirmation_pdf(confirmation), "application/pdf")]
