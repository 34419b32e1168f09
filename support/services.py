"""Writes of the support desk (STYLE 3): tickets, replies, status, attachments, time, the
SLA job and the billable-time side of the monthly invoicing run.

Every e-mail is an outbox row written in the transaction that makes the change
(STYLE 13); its ``dedup_key`` makes a re-run or double submit write one e-mail.
"""

from __future__ import annotations

import calendar
import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing import rules as licensing_rules
from licensing.constants import AUERSWALD, STARFACE
from licensing.models import Installation, ModuleVersion, PbxVersion, Product
from support import rules, selectors
from support.exceptions import AlreadyBilled, AttachmentLocked, AttachmentRefused, SupportError
from support.models import Attachment, HourlyRate, Ticket, TicketMessage, TimeEntry
from vendorportal import clock, roles
from vendorportal.formats import format_date, format_datetime
from vendorportal.i18n import for_partner, for_vendor
from vendorportal.money import round_cents
from vendorportal.outbox import outbox_enqueue
from vendorportal.sequences import next_document_number
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import webhook_event_emit

logger = logging.getLogger(__name__)

TICKET_PREFIX = "T"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # 10 MiB per file
MAX_ATTACHMENTS_PER_MESSAGE = 5
ALLOWED_EXTENSIONS = {
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".eml": "message/rfc822",
}


# --- helpers ---------------------------------------------------------------------------


def support_staff_emails() -> list[str]:
    """Active members of the support group with an address, else ``SUPPORT_EMAIL``."""
    emails = list(
        get_user_model()
        .objects.filter(groups__name=roles.SUPPORT, is_active=True, is_staff=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return emails or [getattr(settings, "SUPPORT_EMAIL", "support@vendor.example")]


def support_from_email() -> str:
    """The sender of every support e-mail; replies go to ``SUPPORT_REPLY_TO`` (the support
    mailbox), which the outbox sets for the partner-facing kinds (see support.apps)."""
    return settings.SUPPORT_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL


def _local(moment: datetime) -> str:
    return format_datetime(moment)  # Berlin wall-clock time, in the reader's language


def _portal_link(ticket: Ticket) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    return f"{base}{reverse('portal:support_ticket', args=[ticket.pk])}"


def _partner_recipients(ticket: Ticket) -> list[str]:
    return [ticket.contact_email or ticket.partner.delivery_email]


def _notify_partner(ticket: Ticket, *, key: str, subject: str, body: str) -> None:
    outbox_enqueue(
        kind="support-partner",
        dedup_key=f"support-partner-{ticket.pk}-{key}",
        recipients=_partner_recipients(ticket),
        subject=f"[{ticket.number}] {subject}",
        body=body + "\n\n" + _("Zum Ticket im Partnerportal: %(link)s") % {"link": _portal_link(ticket)},
        document=ticket,
        from_email=support_from_email(),
    )


# --- tickets ---------------------------------------------------------------------------


def _validate_versions(
    *,
    kind: str,
    vendor: str,
    pbx_version: str,
    product: Product | None,
    module_version: str,
    serial_number: str,
    firmware_version: str,
    call_assist_version: str,
    strict: bool,
) -> dict[str, str]:
    """SUP-7: what a ticket states about its system, checked and normalised.

    STARFACE: PBX and module version, stated for support requests and bug reports and
    existing in the catalog. Auerswald (seed 003): serial number (SYS-1), firmware and
    PBX Call Assist version, stated for the same kinds. ``strict=False`` (an e-mail) lets
    missing values pass; what is stated is still checked. Returns the normalised
    Auerswald values; raises ValidationError (German, by field) otherwise.
    """
    errors = {}
    needs = kind in rules.KINDS_NEEDING_VERSIONS and strict
    normalised = {"serial_number": "", "firmware_version": "", "call_assist_version": ""}
    if vendor == AUERSWALD:
        if needs and not serial_number:
            errors["serial_number"] = _("Bitte die Seriennummer des Systems angeben.")
        if needs and not firmware_version:
            errors["firmware_version"] = _("Bitte die Firmware-Version des Systems angeben.")
        if needs and not call_assist_version:
            errors["call_assist_version"] = _("Bitte die Version von PBX Call Assist angeben.")
        if serial_number:
            try:
                normalised["serial_number"] = licensing_rules.normalize_identifier(
                    licensing_rules.SERIAL_NUMBER, serial_number
                )
            except licensing_rules.IdentifierFormatError as exc:
                errors["serial_number"] = exc.message
        for name, value in (("firmware_version", firmware_version), ("call_assist_version", call_assist_version)):
            if value:
                normalised[name] = rules.normalize_version(value) or ""
                if not normalised[name]:
                    errors[name] = _("„%(v)s“ ist keine Versionsnummer; bitte so angeben: 2.0.3") % {"v": value[:20]}
        if errors:
            raise ValidationError(errors)
        return normalised
    if needs and not pbx_version:
        errors["pbx_version"] = _("Bitte die Version der Telefonanlage angeben.")
    if needs and product is None:
        errors["product"] = _("Bitte das Modul angeben.")
    if needs and not module_version:
        errors["module_version"] = _("Bitte die Modulversion angeben.")
    if pbx_version and not PbxVersion.objects.filter(number=pbx_version).exists():
        errors["pbx_version"] = _("STARFACE-Version %(v)s ist keine freigegebene Version.") % {"v": pbx_version}
    if product is not None and product.kind != Product.MODULE:
        errors["product"] = _("Bitte ein Modul wählen.")
    elif module_version and product is not None:
        if not ModuleVersion.objects.filter(product=product, version=module_version).exists():
            errors["module_version"] = _("Version %(v)s von %(p)s gibt es nicht.") % {
                "v": module_version,
                "p": product.name,
            }
    if errors:
        raise ValidationError(errors)
    return normalised


def _auerswald_system(*, partner, installation, customer, serial_number: str):
    """The Auerswald system a ticket names (SYS-1: by its serial number): a chosen
    installation must carry that serial; without one, the partner's system with that
    serial is taken when there is one. Returns (installation, customer)."""
    if installation is not None:
        if serial_number and serial_number != installation.identifier:
            raise ValidationError(
                {
                    "serial_number": _("Die gewählte Installation hat die Seriennummer %(s)s, nicht %(t)s.")
                    % {"s": installation.identifier, "t": serial_number}
                }
            )
        return installation, installation.customer
    if serial_number:
        found = (
            Installation.objects.for_partner(partner)
            .filter(vendor=AUERSWALD, identifier=serial_number)
            .select_related("customer")
            .first()
        )
        if found is not None:
            return found, found.customer
    return None, customer


@transaction.atomic
def ticket_open(
    *,
    partner,
    by=None,
    kind: str,
    subject: str,
    body: str,
    urgency: str = rules.NORMAL,
    installation: Installation | None = None,
    customer=None,
    pbx_version: str = "",
    product: Product | None = None,
    module_version: str = "",
    vendor: str = STARFACE,
    serial_number: str = "",
    firmware_version: str = "",
    call_assist_version: str = "",
    channel: str = Ticket.PORTAL,
    contact_email: str = "",
    files=(),
    files_are_log_data: bool = False,
    portal_token: str = "",
) -> Ticket:
    """Open a ticket with its first message and files; tell partner and staff (outbox).

    Enterprise tickets (plan on the server key today) get a first-response due time
    24 support hours after arrival (SUP-2). Bug reports and feature requests get the
    acknowledgement that says how they are handled (SUP-6).

    ``portal_token`` is the portal form's one-time token: the same form posted twice
    returns the ticket of the first post, with no second message, file or e-mail (the
    ``ticket_portal_token_unique`` constraint decides two posts at the same moment).
    """
    portal_token = (portal_token or "").strip()
    if len(portal_token) > Ticket._meta.get_field("portal_token").max_length:
        raise SupportError(_("Das Formular ist abgelaufen; bitte die Seite neu laden."), code="token")
    if portal_token:
        existing = Ticket.objects.filter(partner=partner, portal_token=portal_token).first()
        if existing is not None:
            return existing
    if installation is not None:
        if installation.customer.partner_id != partner.pk:
            raise SupportError(_("Diese Installation gehört nicht zu Ihren Kunden."), code="foreign_installation")
        customer = installation.customer
    if customer is not None and customer.partner_id != partner.pk:
        raise SupportError(_("Dieser Kunde gehört nicht zu Ihnen."), code="foreign_customer")
    if installation is not None:
        vendor = installation.vendor  # the chosen installation decides what the ticket states
        if vendor == AUERSWALD and not (serial_number or "").strip():
            serial_number = installation.identifier  # SYS-1: the system is known by its serial
    if vendor not in (STARFACE, AUERSWALD):
        raise ValidationError({"vendor": _("Bitte STARFACE oder Auerswald wählen.")})
    if vendor == AUERSWALD:
        pbx_version, product, module_version = "", None, ""
    else:
        serial_number = firmware_version = call_assist_version = ""
    auerswald = _validate_versions(
        kind=kind,
        vendor=vendor,
        pbx_version=pbx_version,
        product=product,
        module_version=module_version,
        serial_number=serial_number,
        firmware_version=firmware_version,
        call_assist_version=call_assist_version,
        strict=channel != Ticket.EMAIL,
    )
    if vendor == AUERSWALD:
        installation, customer = _auerswald_system(
            partner=partner, installation=installation, customer=customer, serial_number=auerswald["serial_number"]
        )
        auerswald["serial_number"] = installation.identifier if installation else auerswald["serial_number"]
    now = clock.now()
    ticket = Ticket(
        number="",
        partner=partner,
        customer=customer,
        installation=installation,
        kind=kind,
        urgency=urgency,
        subject=" ".join(subject.split())[:200],
        pbx_version=pbx_version,
        product=product,
        module_version=module_version,
        vendor=vendor,
        **auerswald,
        channel=channel,
        contact_email=contact_email or (by.email if by is not None and by.email else ""),
        created_by=by,
        received_at=now,
        portal_token=portal_token,
    )
    plan = selectors.plan_of(ticket, timezone.localdate(now))
    if plan == rules.ENTERPRISE:
        ticket.sla_due_at = rules.sla_due(now, rules.ENTERPRISE_SLA_HOURS)
        ticket.sla_warning_at = rules.sla_warning_at(now, rules.ENTERPRISE_SLA_HOURS)
    try:
        # The number is drawn inside the savepoint: a post that loses the race on the
        # token rolls its number back too, so ticket numbers stay without gaps.
        with transaction.atomic():
            ticket.number = next_document_number(TICKET_PREFIX, timezone.localdate(now).year)
            # The token's constraint is left to the database (a check here could not see a
            # post that is not committed yet); every other field and constraint is checked.
            ticket.full_clean(exclude=["portal_token"])
            ticket.save()
    except IntegrityError:
        if not portal_token:
            raise
        return Ticket.objects.get(partner=partner, portal_token=portal_token)
    message = TicketMessage.objects.create(
        ticket=ticket, author=by, author_email=ticket.contact_email, body=body, created_at=now
    )
    for upload in files:
        attachment_add(
            ticket=ticket, message=message, upload=upload, by=by, from_staff=False, marked_log_data=files_are_log_data
        )

    with for_partner(ticket.partner):
        _notify_partner(
            ticket,
            key="opened",
            subject=_("Ihr Ticket ist eingegangen: %(s)s") % {"s": ticket.subject},
            body=_opened_text(ticket),
        )
    with for_vendor():  # the support staff's mail stays German (docs/i18n.md)
        staff_body = _("Neues Ticket %(n)s von %(p)s (%(k)s, Dringlichkeit %(u)s).") % {
            "n": ticket.number,
            "p": partner.company,
            "k": ticket.get_kind_display(),
            "u": ticket.get_urgency_display(),
        }
        if ticket.sla_due_at:
            staff_body += "\n" + _("Enterprise-SLA: erste Antwort fällig bis %(due)s.") % {
                "due": _local(ticket.sla_due_at)
            }
        outbox_enqueue(
            kind="support-staff",
            dedup_key=f"support-staff-{ticket.pk}-opened",
            recipients=support_staff_emails(),
            subject=f"[{ticket.number}] " + _("Neues Ticket: %(s)s") % {"s": ticket.subject},
            body=staff_body + "\n\n" + body,
            document=ticket,
            from_email=support_from_email(),
        )
    if kind in (rules.BUG_REPORT, rules.FEATURE_REQUEST):
        entitled = selectors.ticket_entitlements(ticket, timezone.localdate(now))
        with for_partner(ticket.partner):
            outbox_enqueue(
                kind="support-ack",
                dedup_key=f"support-ack-{ticket.pk}",
                recipients=_partner_recipients(ticket),
                subject=f"[{ticket.number}] " + _("Eingangsbestätigung: %(s)s") % {"s": ticket.subject},
                body=acknowledgement_text(kind, status_replies=entitled.status_replies),
                document=ticket,
                from_email=support_from_email(),
            )
    return ticket


def _opened_text(ticket: Ticket) -> str:
    text = _("vielen Dank, Ihr Ticket %(n)s „%(s)s“ ist eingegangen.") % {"n": ticket.number, "s": ticket.subject}
    if ticket.sla_due_at:
        text += "\n" + _("Service-Plan Enterprise: Wir antworten spätestens bis %(due)s.") % {
            "due": _local(ticket.sla_due_at)
        }
    text += "\n" + _("Supportzeiten: Mo–Do 09:00–17:00, Fr 09:00–15:30.")
    return _("Guten Tag,") + "\n\n" + text


def acknowledgement_text(kind: str, *, status_replies: bool) -> str:
    """SUP-6 / SUP-3: how a bug report or feature request is handled."""
    if kind == rules.BUG_REPORT:
        text = _(
            "vielen Dank für Ihre Fehlermeldung. Wir prüfen den geschilderten Sachverhalt. Sie erhalten eine "
            "Rückmeldung über die vorgesehene Fehlerbehebung oder einen Workaround, sofern wir Ihre Einschätzung "
            "teilen, dass es sich um einen Fehler handelt. Eine Rückmeldung unterbleibt, wenn das Verhalten "
            "dokumentiert ist, auf einem Missverständnis beruht oder ein Bedienfehler vorliegt."
        )
    else:
        text = _(
            "vielen Dank für Ihren Funktionswunsch. Wir nehmen ihn in unsere Produktplanung auf und prüfen "
            "Anwendungsfall und gewünschte Umsetzung."
        )
        if not status_replies:
            text += " " + _("Individuelle Rückmeldungen zu Funktionswünschen versenden wir nicht.")
    if status_replies:
        text += "\n\n" + _("Mit Ihrem Service-Plan erhalten Sie Statusmitteilungen zum weiteren Verlauf.")
    else:
        text += "\n\n" + _(
            "Statusmitteilungen gehören zu den Service-Plänen Premium und Enterprise; ohne Service-Plan wird die "
            "Meldung ohne weitere Rückmeldung aufgenommen."
        )
    return _("Guten Tag,") + "\n\n" + text


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    by,
    body: str,
    from_staff: bool,
    internal: bool = False,
    files=(),
    files_are_log_data: bool = False,
    new_status: str | None = None,
    author_email: str = "",
    portal_token: str = "",
) -> TicketMessage:
    """A public reply or an internal note (staff only).

    ``portal_token`` is the portal reply form's one-time token: the same form posted twice
    stores one message (checked under the ticket's row lock; the
    ``ticketmessage_portal_token_unique`` constraint backs it).

    The first public staff reply stops the Enterprise SLA clock (SUP-2). A bug report gets
    a public reply only once staff have confirmed the bug (SUP-6). A partner's reply to a
    ticket waiting for it, solved or closed puts it back to "open".
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    portal_token = (portal_token or "").strip()
    if len(portal_token) > TicketMessage._meta.get_field("portal_token").max_length:
        raise SupportError(_("Das Formular ist abgelaufen; bitte die Seite neu laden."), code="token")
    if portal_token:
        existing = TicketMessage.objects.filter(ticket=ticket, portal_token=portal_token).first()
        if existing is not None:
            return existing
    if not body.strip():
        raise SupportError(_("Bitte einen Text eingeben."), code="empty")
    if internal and not from_staff:
        raise SupportError(_("Interne Notizen schreibt nur der Support."), code="note_by_partner")
    if from_staff and not internal and ticket.kind == rules.BUG_REPORT and not ticket.confirmed_bug:
        raise SupportError(
            _("Eine Fehlermeldung wird erst beantwortet, wenn der Fehler bestätigt ist."),
            code="bug_not_confirmed",
        )
    now = clock.now()
    message = TicketMessage.objects.create(
        ticket=ticket,
        author=by,
        author_email=author_email or (getattr(by, "email", "") or ""),
        from_staff=from_staff,
        internal=internal,
        body=body,
        created_at=now,
        portal_token=portal_token,
    )
    for upload in files:
        attachment_add(
            ticket=ticket,
            message=message,
            upload=upload,
            by=by,
            from_staff=from_staff,
            marked_log_data=files_are_log_data,
        )
    changed = []
    if from_staff and not internal and ticket.first_response_at is None:
        ticket.first_response_at = now
        changed.append("first_response_at")
    if not from_staff and ticket.status in (rules.WAITING, rules.SOLVED, rules.CLOSED):
        ticket.transition_to(rules.OPEN)
        changed.append("status")
    if changed:
        ticket.save(update_fields=[*changed, "updated_at"])
    if from_staff and not internal:
        webhook_event_emit(
            partner=ticket.partner_id,
            event=webhook_events.TICKET_REPLIED,
            payload=webhook_payloads.ticket_reply_payload(ticket, message),
            dedup_key=f"{webhook_events.TICKET_REPLIED}:{message.pk}",
        )
        with for_partner(ticket.partner):
            _notify_partner(
                ticket,
                key=f"reply-{message.pk}",
                subject=_("Antwort des Supports: %(s)s") % {"s": ticket.subject},
                body=_("Guten Tag,") + "\n\n" + body,
            )
    if not from_staff:
        with for_vendor():
            outbox_enqueue(
                kind="support-staff",
                dedup_key=f"support-staff-{ticket.pk}-reply-{message.pk}",
                recipients=support_staff_emails(),
                subject=f"[{ticket.number}] " + _("Antwort des Partners: %(s)s") % {"s": ticket.subject},
                body=body,
                document=ticket,
                from_email=support_from_email(),
            )
    if new_status and new_status != ticket.status:
        ticket_set_status(ticket=ticket, status=new_status, by=by)
    return message


@transaction.atomic
def ticket_automatic_reply(*, ticket: Ticket, body: str, author_email: str, reason: str) -> TicketMessage:
    """An automatic e-mail (an out-of-office reply, RFC 3834) that names a ticket: kept on
    the ticket as a *visible* entry marked "Automatische Antwort", so staff and partner see
    it — not an internal note, which only staff write. Unlike :func:`ticket_reply` it
    changes no status (a solved ticket stays solved) and sends no e-mail to anybody, so two
    auto-responders cannot keep each other going."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    header = _("Automatische Antwort (%(reason)s) — nicht beantwortet, Ticketstatus unverändert.") % {"reason": reason}
    return TicketMessage.objects.create(
        ticket=ticket,
        author=None,
        author_email=author_email,
        from_staff=False,
        internal=False,
        body=header + "\n\n" + (body.strip() or _("(ohne Text)")),
        created_at=clock.now(),
    )


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, by=None) -> Ticket:
    """Move the ticket along the workflow (raises ValidationError on an illegal move) and
    tell the partner. Unconfirmed bug reports are changed silently (SUP-6)."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    old = ticket.status
    ticket.transition_to(status)
    if old == status:
        return ticket
    ticket.save(update_fields=["status", "updated_at"])
    if not (ticket.kind == rules.BUG_REPORT and not ticket.confirmed_bug):
        with for_partner(ticket.partner):
            _notify_partner(
                ticket,
                key=f"status-{ticket.history.count()}",
                subject=_("Status geändert: %(s)s") % {"s": ticket.get_status_display()},
                body=_("Guten Tag,")
                + "\n\n"
                + _("Ihr Ticket %(n)s hat jetzt den Status „%(s)s“.")
                % {"n": ticket.number, "s": ticket.get_status_display()},
            )
    return ticket


# --- attachments -----------------------------------------------------------------------


def attachment_check(upload) -> str:
    """Size and type limits; returns the content type stored. Raises AttachmentRefused."""
    name = os.path.basename(getattr(upload, "name", "") or "")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise AttachmentRefused(
            _("Dateien vom Typ „%(ext)s“ nehmen wir nicht an. Erlaubt sind: %(allowed)s.")
            % {"ext": extension or name, "allowed": ", ".join(sorted(ALLOWED_EXTENSIONS))},
            code="type",
        )
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(
            _("„%(name)s“ ist größer als %(mb)s MB.") % {"name": name, "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
            code="size",
        )
    return ALLOWED_EXTENSIONS[extension]


def attachment_log_reason(upload, *, marked: bool = False) -> str:
    """SUP-4: why a customer's file counts as log data (rules.log_data_reason), judged by its
    name and its first bytes — the one check for portal uploads and e-mail attachments."""
    upload.seek(0)
    head = upload.read(rules.LOG_SNIFF_BYTES)
    upload.seek(0)
    return rules.log_data_reason(os.path.basename(upload.name or ""), head, marked=marked)


def attachment_add(
    *,
    ticket: Ticket,
    upload,
    by=None,
    message: TicketMessage | None = None,
    from_staff: bool,
    marked_log_data: bool = False,
) -> Attachment:
    """Store a file of the ticket. A customer's file that is log data (by the partner's mark,
    by being an archive, by its content or its name; SUP-4) is stored locked for staff."""
    content_type = attachment_check(upload)
    name = os.path.basename(upload.name)
    log_reason = "" if from_staff else attachment_log_reason(upload, marked=marked_log_data)
    attachment = Attachment(
        ticket=ticket,
        message=message,
        filename=name[:200],
        content_type=content_type,
        size=upload.size,
        is_log=bool(log_reason),
        log_reason=log_reason,
        from_staff=from_staff,
        uploaded_by=by,
        created_at=clock.now(),
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment


def attachment_locked_for_staff(attachment: Attachment, on: date) -> bool:
    """SUP-4: a customer's log file is not opened by staff while no DPA is on file."""
    return attachment.is_log and not selectors.dpa_on_file(attachment.ticket.customer, on)


def attachment_open_check(attachment: Attachment, *, staff: bool) -> None:
    if staff and attachment_locked_for_staff(attachment, clock.today()):
        raise AttachmentLocked(
            _(
                "Log-Datei gesperrt: Für diesen Kunden liegt kein AV-Vertrag vor. Ohne AV-Vertrag analysieren wir "
                "keine Log-Dateien; die Datei wird frei, sobald ein AV-Vertrag eingetragen ist."
            ),
            code="dpa_missing",
        )


# --- time (SUP-5) ----------------------------------------------------------------------


@transaction.atomic
def time_entry_add(*, ticket: Ticket, staff, worked_on: date, minutes: int, note: str = "") -> TimeEntry:
    """Log time on a ticket. Work covered by a service & maintenance contract in force on
    that day is logged as not billable (seed 004: contractual support)."""
    facts = selectors.customer_facts(ticket.customer)
    covered = bool(facts and facts.service_contract_until and facts.service_contract_until >= worked_on)
    entry = TimeEntry(ticket=ticket, staff=staff, worked_on=worked_on, minutes=minutes, note=note, billable=not covered)
    entry.full_clean()
    entry.save()
    return entry


def rate_on(kind: str, on: date) -> HourlyRate | None:
    return (
        HourlyRate.objects.filter(kind=kind, valid_from__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .order_by("-valid_from")
        .first()
    )


@dataclass
class TimeLineProposal:
    """One invoice line proposed for a ticket's unbilled time of a month (SUP-5)."""

    ticket: Ticket
    description: str
    quantity: Decimal  # hours, rounded by SUP-5
    unit_price: Decimal
    period_start: date
    period_end: date  # inclusive
    entries: list[TimeEntry] = field(default_factory=list)

    @property
    def net_total(self) -> Decimal:
        return round_cents(self.quantity * self.unit_price)


def _month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def billable_time_lines(partner, month: date) -> list[TimeLineProposal]:
    """Unbilled billable time of the partner's tickets worked in ``month`` (any day of it),
    one proposal per ticket (SUP-5): at least 0,5 h per case — only when none of the case's
    time was billed before — then per started 15 minutes; the normal hourly rate, or the
    discounted one when a Premium/Enterprise plan is on the ticket's server key. Rate and
    plan are those in force on the day of the ticket's first entry in the month. Raises
    SupportError when no rate is entered for that day (staff enter rates)."""
    first, last = _month_bounds(month)
    entries = (
        TimeEntry.objects.filter(
            ticket__partner=partner,
            billable=True,
            invoice_line__isnull=True,
            worked_on__gte=first,
            worked_on__lte=last,
        )
        .select_related("ticket", "ticket__installation", "ticket__customer")
        .order_by("ticket__number", "worked_on", "pk")
    )
    by_ticket: dict[int, list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        by_ticket[entry.ticket_id].append(entry)
    billed_before = set(
        TimeEntry.objects.filter(ticket_id__in=by_ticket, invoice_line__isnull=False).values_list(
            "ticket_id", flat=True
        )
    )
    proposals = []
    for ticket_id, ticket_entries in by_ticket.items():
        ticket = ticket_entries[0].ticket
        day = ticket_entries[0].worked_on
        plan = selectors.plan_of(ticket, day)
        kind = HourlyRate.DISCOUNTED if plan in rules.PLANS_WITH_SERVICE else HourlyRate.NORMAL
        rate = rate_on(kind, day)
        if rate is None:
            raise SupportError(
                _("Für den %(day)s ist kein %(kind)s erfasst.")
                % {"day": format_date(day), "kind": dict(HourlyRate.KIND_CHOICES)[kind]},
                code="no_rate",
            )
        minutes = sum(e.minutes for e in ticket_entries)
        billed = rules.billable_minutes(minutes, first_billing_of_case=ticket_id not in billed_before)
        proposals.append(
            TimeLineProposal(
                ticket=ticket,
                description=_("Supportleistung Ticket %(n)s: %(s)s") % {"n": ticket.number, "s": ticket.subject},
                quantity=(Decimal(billed) / Decimal(60)).quantize(Decimal("0.01")),
                unit_price=rate.amount,
                period_start=ticket_entries[0].worked_on,
                period_end=ticket_entries[-1].worked_on,
                entries=ticket_entries,
            )
        )
    return proposals


@transaction.atomic
def mark_time_billed(entries, invoice_line) -> int:
    """Record that ``entries`` are billed by ``invoice_line``, in the invoicing run's
    transaction. One conditional UPDATE: an entry already billed (a re-run, a second
    worker) is not billed again — then nothing is marked and AlreadyBilled is raised, so
    the caller's transaction (and its invoice line) rolls back."""
    ids = [e.pk for e in entries]
    marked = TimeEntry.objects.filter(pk__in=ids, invoice_line__isnull=True, billable=True).update(
        invoice_line=invoice_line, billed_at=clock.now()
    )
    if marked != len(set(ids)):
        raise AlreadyBilled(_("Ein Teil dieser Zeiten ist bereits abgerechnet."), code="already_billed")
    return marked


# --- the SLA job (every 15 minutes) ----------------------------------------------------


@dataclass
class SlaRun:
    warned: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)


def sla_check() -> SlaRun:
    """Warn the support staff once, one support hour before an Enterprise first response
    is due, and flag breaches (SUP-2). Each flag is set by a conditional UPDATE, so two
    runs at once warn once; the e-mail is written in the same transaction."""
    now = clock.now()
    run = SlaRun()
    running = Ticket.objects.filter(
        status__in=rules.OPEN_STATES, sla_due_at__isnull=False, first_response_at__isnull=True
    )
    for ticket in running.filter(sla_breached_at__isnull=True, sla_due_at__lte=now).order_by("sla_due_at"):
        with transaction.atomic():
            if not Ticket.objects.filter(pk=ticket.pk, sla_breached_at__isnull=True).update(sla_breached_at=now):
                continue
            _sla_mail(ticket, "breach", _("SLA verletzt"), now)
            run.breached.append(ticket.number)
    due_soon = running.filter(
        sla_warned_at__isnull=True, sla_breached_at__isnull=True, sla_warning_at__lte=now, sla_due_at__gt=now
    )
    for ticket in due_soon.order_by("sla_due_at"):
        with transaction.atomic():
            if not Ticket.objects.filter(pk=ticket.pk, sla_warned_at__isnull=True).update(sla_warned_at=now):
                continue
            _sla_mail(ticket, "warning", _("SLA läuft in einer Supportstunde ab"), now)
            run.warned.append(ticket.number)
    return run


def _sla_mail(ticket: Ticket, key: str, headline: str, now) -> None:
    outbox_enqueue(
        kind="support-sla",
        dedup_key=f"support-sla-{ticket.pk}-{key}",
        recipients=support_staff_emails(),
        subject=f"[{ticket.number}] {headline}: {ticket.subject}",
        body=_("Ticket %(n)s (%(p)s): erste Antwort fällig bis %(due)s; noch keine Antwort.")
        % {"n": ticket.number, "p": ticket.partner.company, "due": _local(ticket.sla_due_at)},
        document=ticket,
        from_email=support_from_email(),
    )


# --- billable time on the monthly invoice (SUP-5, INV-3) ---------------------------------------
# The monthly invoicing run of month M bills the support time worked in month M − 1. Support
# registers these three functions as an invoicing source (billing.invoicing_sources, in
# SupportConfig.ready); billing never imports support.

SUPPORT_ARTICLE = "SUPPORT-STD"


def _previous_month(month: date) -> date:
    first = month.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def partners_with_billable_time(month: date) -> list[int]:
    """Partners with unbilled billable time worked in the month before ``month``."""
    first = _previous_month(month)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return list(
        TimeEntry.objects.filter(billable=True, invoice_line__isnull=True, worked_on__gte=first, worked_on__lte=last)
        .values_list("ticket__partner_id", flat=True)
        .distinct()
    )


def billable_time_proposals(partner, month: date):
    """The invoice lines for the partner's billable time of the month before ``month``: one per
    ticket, in hours (unit HUR), priced by :func:`billable_time_lines` (SUP-5). Without an
    hourly rate for a day the time stays unbilled (logged), so the partner's subscriptions
    are still invoiced; it is billed by a later run once staff enter the rate."""
    from billing.invoicing_sources import LineProposal

    try:
        lines = billable_time_lines(partner, _previous_month(month))
    except SupportError as exc:
        logger.warning("Support time of partner %s not billed: %s", partner.pk, exc.message)
        return []
    return [
        LineProposal(
            article=SUPPORT_ARTICLE,
            description=line.description[:300],
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit="HUR",
            period_start=line.period_start,
            period_end=line.period_end,
            ref=line.entries,
        )
        for line in lines
    ]


def time_billed(partner, month: date, pairs) -> None:
    """Record each proposal's time entries as billed by its invoice line, in the run's
    transaction; a concurrent run that billed them first makes this one roll back."""
    for proposal, invoice_line in pairs:
        mark_time_billed(proposal.ref, invoice_line)
