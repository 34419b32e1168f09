"""The daily Softwarepflege expiry job and the weekly report (SWP-8), both e-mailed
through the outbox (STYLE 13).

Daily job: one transaction per run and a fixed number of queries, none per system
and none per partner:

1. *Claim*: for each notice kind, the systems whose current coverage end lies in
   :func:`rules.notice_window` and that have no notice of that kind for that end
   are inserted as ``MaintenanceNotice`` rows with this run's token,
   ``bulk_create(ignore_conflicts=True)``. The unique constraint (installation,
   coverage end, kind) lets exactly one insert win, whichever worker runs it (on
   PostgreSQL the second insert waits for the first transaction and then skips).
2. *Write the e-mails*: the rows carrying this run's token — and only those — get
   one e-mail per partner listing its systems, written as outbox rows in the same
   transaction (:func:`vendorportal.outbox.outbox_enqueue_many`) and linked to
   their notices (``MaintenanceNotice.message``).
3. *Send*: the outbox sends each row after commit (or its periodic job does, after
   a lost broker message, a killed worker, a failed send); its ``on_sent`` hook
   stamps ``sent_at`` on the notices of that e-mail (:func:`notices_sent`).

Notices and their e-mail commit together or not at all, so nothing needs taking
over: a run that dies leaves neither, and the next run claims those notices again.
A re-run the same day finds every due notice written and writes nothing; a second
worker at once writes the notices the first did not (normally none) and only their
e-mail. The outbox key is per batch — ``swp-notices:<day>:<partner>:<run>`` — not
per partner and day: a partner whose system becomes due later the same day (added
by staff, a run with ``--today``) gets a second e-mail listing only the new notice,
where a per-day key would have swallowed it.

Weekly report: rendered once, stored as a :class:`MaintenanceWeeklyReport` (one per
ISO week, unique) with its e-mail to finance in one transaction; the outbox attaches
the stored bytes, on every resend the same.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from licensing import rules
from licensing.constants import AUERSWALD
from licensing.exceptions import LicensingError
from licensing.models import Installation, MaintenanceCoverage, MaintenanceNotice, MaintenanceWeeklyReport
from licensing.models.installations import active_on_q
from licensing.selectors.systems import MaintenanceReport, SystemOverview, maintenance_report_data
from vendorportal import clock
from vendorportal.documents import document_bytes, sha256_hex
from vendorportal.formats import format_date
from vendorportal.i18n import for_partner
from vendorportal.jobs import recorded_job
from vendorportal.models import OutboxMessage
from vendorportal.money import format_eur
from vendorportal.outbox import OutboxDraft, OutboxError, outbox_clean_recipients, outbox_enqueue, outbox_enqueue_many
from vendorportal.pdf import render_pdf
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import EventDraft, webhook_events_emit_many

logger = logging.getLogger(__name__)

JOB_NAME = "swp_expiry"
REPORT_JOB_NAME = "swp_report"
NOTICES_KIND = "swp-notices"  # outbox kinds (registered in LicensingConfig.ready)
REPORT_KIND = "swp-report"
CLAIM_BATCH_SIZE = 500  # the backend may lower it (SQLite: 999 parameters per query)
REPORT_TEMPLATE = "documents/swp_report.html"
# Notices and reports are German whatever language the staff member who started a run uses.
DOCUMENT_LANGUAGE = "de"

NOTICE_TITLES = {
    rules.NOTICE_60: gettext_lazy("Softwarepflege endet in den nächsten 60 Tagen"),
    rules.NOTICE_30: gettext_lazy("Softwarepflege endet in den nächsten 30 Tagen"),
    rules.NOTICE_21: gettext_lazy(
        "Softwarepflege endet in den nächsten 21 Tagen – Benutzer hinzufügen nur noch bis 21 Tage vor Ende"
    ),
    rules.NOTICE_LAPSED: gettext_lazy("Softwarepflege abgelaufen"),
    rules.NOTICE_SURCHARGE: gettext_lazy("Softwarepflege seit mehr als 3 Monaten abgelaufen – Säumniszuschlag"),
}


class MaintenanceReportMissing(LicensingError):
    """The stored report of an outbox e-mail is gone; retrying will not bring it back."""


# --- 1. Claim --------------------------------------------------------------------------


def due_systems(kind: str, today: date):
    """(installation id, coverage end) of the Auerswald systems for which ``kind`` is
    due on ``today`` and not yet claimed: one query (SWP-8).

    The current coverage end is the latest ``end`` of a system's ledger: a row counts
    only when no later-ending row of the same system exists. Ordered, so two runs
    insert in the same order and on PostgreSQL wait for each other instead of
    deadlocking on each other's rows.
    """
    low, high = rules.notice_window(kind, today)
    later_row = MaintenanceCoverage.objects.filter(installation=OuterRef("installation"), end__gt=OuterRef("end"))
    noticed = MaintenanceNotice.objects.filter(
        installation=OuterRef("installation"), coverage_end=OuterRef("end"), kind=kind
    )
    return (
        MaintenanceCoverage.objects.filter(end__gte=low, end__lte=high, installation__vendor=AUERSWALD)
        .filter(active_on_q(today, prefix="installation__"))
        .exclude(Exists(later_row))
        .exclude(Exists(noticed))
        .values_list("installation_id", "end")
        .distinct()
        .order_by("installation_id", "end")
    )


def notices_claim(*, today: date, claim: str) -> dict[str, int]:
    """Insert this run's notices for every kind due on ``today``; returns rows offered
    per kind (those another worker inserted first are silently skipped)."""
    offered = {}
    for kind in rules.NOTICE_KINDS:
        rows = [
            MaintenanceNotice(installation_id=installation_id, coverage_end=end, kind=kind, claim=claim)
            for installation_id, end in due_systems(kind, today)
        ]
        MaintenanceNotice.objects.bulk_create(rows, ignore_conflicts=True, batch_size=CLAIM_BATCH_SIZE)
        offered[kind] = len(rows)
    return offered


# --- 2. The partners' e-mails ------------------------------------------------------------


def _system_line(notice: MaintenanceNotice) -> str:
    system = notice.installation
    name = f" „{system.name}“" if system.name else ""
    head = f"- {system.identifier}{name} ({system.get_edition_display()}, {system.customer.company}): "
    end = notice.coverage_end
    if notice.kind in (rules.NOTICE_60, rules.NOTICE_30):
        return head + _("Softwarepflege bis %(end)s") % {"end": format_date(end)}
    if notice.kind == rules.NOTICE_21:
        return head + _("Softwarepflege bis %(end)s; Benutzer hinzufügen nur bis %(last)s") % {
            "end": format_date(end),
            "last": format_date(rules.add_users_last_day(end)),
        }
    if notice.kind == rules.NOTICE_LAPSED:
        return head + _("abgelaufen am %(end)s; ohne Säumniszuschlag verlängerbar bis %(until)s") % {
            "end": format_date(end),
            "until": format_date(rules.surcharge_free_until(end)),
        }
    return head + _("abgelaufen am %(end)s; Säumniszuschlag seit %(since)s; online verlängerbar bis %(until)s") % {
        "end": format_date(end),
        "since": format_date(rules.surcharge_free_until(end) + timedelta(days=1)),
        "until": format_date(rules.online_renewal_until(end)),
    }


def _loss_of_functions() -> str:
    """SWP-8: what a system loses without Softwarepflege (seed 003)."""
    return _(
        "Ohne aktive Softwarepflege können die PBX Call Assist App für Microsoft Teams und die aktuellen "
        "mobilen Apps (Android, iOS) nicht mehr genutzt werden, und das System erhält keine Updates, "
        "Bugfixes und Sicherheitsupdates mehr."
    )


def _kind_text(kind: str) -> str:
    if kind == rules.NOTICE_60:
        return _(
            "Die Softwarepflege folgender Systeme endet bald. Sie kann jederzeit um 12 oder 36 Monate "
            "verlängert werden; die neue Softwarepflege schließt direkt an das bisherige Ende an."
        )
    if kind == rules.NOTICE_30:
        return _(
            "Die Softwarepflege folgender Systeme endet in höchstens 30 Tagen. Bitte verlängern Sie sie "
            "um 12 oder 36 Monate; die neue Softwarepflege schließt direkt an das bisherige Ende an."
        )
    if kind == rules.NOTICE_21:
        return _(
            "Die Softwarepflege folgender Systeme endet in höchstens 21 Tagen. Weitere Benutzer können nur "
            "bis 21 Tage vor dem Ende der Softwarepflege hinzugefügt werden (Tag siehe unten); danach muss "
            "zuerst die Softwarepflege für die vorhandenen Benutzer um 12 oder 36 Monate verlängert werden."
        )
    if kind == rules.NOTICE_LAPSED:
        return _(
            "Die Softwarepflege folgender Systeme ist abgelaufen. %(loss)s Eine Verlängerung schließt "
            "rückwirkend an das alte Ende an; bis 3 Monate nach dem Ende ohne Säumniszuschlag."
        ) % {"loss": _loss_of_functions()}
    return _(
        "Die Softwarepflege folgender Systeme ist seit mehr als 3 Monaten abgelaufen. Für eine "
        "Verlängerung gilt jetzt der Säumniszuschlag: die seit dem Ende verstrichenen Tage werden je "
        "Benutzer zusätzlich berechnet (Artikel %(article)s). %(loss)s Mehr als 36 Monate nach dem Ende ist "
        "keine Verlängerung online mehr möglich; dann wenden Sie sich bitte direkt an uns."
    ) % {"article": rules.SWP_DAY, "loss": _loss_of_functions()}


def partner_notice_text(partner, notices: list[MaintenanceNotice], today: date) -> tuple[str, str]:
    """Subject and body of one German e-mail for one partner listing all its systems
    with a notice (SWP-8)."""
    by_kind = defaultdict(list)
    for notice in notices:
        by_kind[notice.kind].append(notice)
    body = [
        _("Guten Tag,"),
        "",
        _("Hinweise zur Softwarepflege PBX Call Assist 5, Stand %(today)s:") % {"today": format_date(today)},
    ]
    for kind in rules.NOTICE_KINDS:
        if kind not in by_kind:
            continue
        body += ["", str(NOTICE_TITLES[kind]), "", _kind_text(kind), ""]
        body += [_system_line(n) for n in by_kind[kind]]
    body += [
        "",
        _("Die Verlängerung bestellen Sie je System im Partnerportal unter „Auerswald-Systeme“."),
        "",
        settings.VENDOR["name"],
    ]
    systems = len({n.installation_id for n in notices})
    subject = ngettext(
        "Softwarepflege PBX Call Assist 5: Hinweis zu %(count)s System",
        "Softwarepflege PBX Call Assist 5: Hinweise zu %(count)s Systemen",
        systems,
    ) % {"count": systems}
    return subject, "\n".join(body)


def notice_batch_key(*, today: date, partner_id: int, claim: str) -> str:
    """The outbox key of one partner's e-mail of one run (see the module docstring)."""
    return f"{NOTICES_KIND}:{today.isoformat()}:{partner_id}:{claim}"


@dataclass
class NoticeRun:
    """What one run wrote: notices per kind, e-mails, partners left out (no valid address)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(rules.NOTICE_KINDS, 0))
    emails: int = 0
    refused: list[str] = field(default_factory=list)


def notices_enqueue(*, today: date, claim: str) -> NoticeRun:
    """Write one outbox e-mail per partner for this run's notices and link them to it.

    Runs in the transaction that inserted the notices. A partner without a valid
    delivery address gets no e-mail and its notices of this run are removed again, so
    the next run (after the address is fixed) writes them; the run's summary names it.
    """
    result = NoticeRun()
    notices = list(
        MaintenanceNotice.objects.filter(claim=claim, message__isnull=True)
        .select_related("installation", "installation__customer", "installation__customer__partner")
        .order_by("installation__customer__partner_id", "coverage_end", "installation__identifier")
    )
    by_partner: dict[int, list[MaintenanceNotice]] = defaultdict(list)
    for notice in notices:
        by_partner[notice.installation.customer.partner_id].append(notice)
    drafts, refused_partners = [], []
    with translation.override(DOCUMENT_LANGUAGE):
        for partner_id, partner_notices in by_partner.items():
            partner = partner_notices[0].installation.customer.partner
            try:
                recipients = outbox_clean_recipients([partner.delivery_email])
            except OutboxError as refusal:
                refused_partners.append(partner_id)
                result.refused.append(f"{partner.company} <{partner.delivery_email}>: {refusal.message}")
                continue
            with for_partner(partner):  # the partner's language (issue 21); the job's log stays German
                subject, body = partner_notice_text(partner, partner_notices, today)
            drafts.append(
                OutboxDraft(
                    dedup_key=notice_batch_key(today=today, partner_id=partner_id, claim=claim),
                    recipients=recipients,
                    subject=subject,
                    body=body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                )
            )
            for notice in partner_notices:
                result.counts[notice.kind] += 1
    if refused_partners:
        MaintenanceNotice.objects.filter(claim=claim, installation__customer__partner_id__in=refused_partners).delete()
    if not drafts:
        return result
    refused_set = set(refused_partners)
    webhook_events_emit_many(
        [
            EventDraft(
                partner_id=notice.installation.customer.partner_id,
                event=webhook_events.MAINTENANCE_LAPSED
                if notice.kind in (rules.NOTICE_LAPSED, rules.NOTICE_SURCHARGE)
                else webhook_events.MAINTENANCE_EXPIRING,
                payload=webhook_payloads.maintenance_payload(notice),
                dedup_key=f"maintenance.{notice.kind}:{notice.pk}",
            )
            for notice in notices
            if notice.installation.customer.partner_id not in refused_set
        ]
    )
    outbox_enqueue_many(kind=NOTICES_KIND, drafts=drafts)
    result.emails = len(drafts)
    # Link every notice to its partner's e-mail in one UPDATE: the e-mail's key is made
    # in SQL from the notice's partner, as notice_batch_key makes it.
    partner_of_notice = Installation.objects.filter(pk=OuterRef(OuterRef("installation_id"))).values(
        "customer__partner_id"
    )[:1]
    key = Concat(
        Value(f"{NOTICES_KIND}:{today.isoformat()}:"),
        Cast(Subquery(partner_of_notice), CharField()),
        Value(f":{claim}"),
        output_field=CharField(),
    )
    MaintenanceNotice.objects.filter(claim=claim, message__isnull=True).update(
        message=Subquery(OutboxMessage.objects.filter(dedup_key=key).values("pk")[:1])
    )
    return result


def notices_sent(message: OutboxMessage) -> None:
    """Outbox hook, in the transaction that marks the e-mail sent: the notices it lists
    count as sent from now on (a resend of it changes nothing: they were sent)."""
    MaintenanceNotice.objects.filter(message_id=message.pk, sent_at__isnull=True).update(sent_at=clock.now())


def maintenance_expiry_run(*, today: date) -> NoticeRun:
    """The daily Softwarepflege job (SWP-8): notices due on ``today``, each once, with
    their e-mails written to the outbox in the same transaction."""
    with recorded_job(JOB_NAME) as run:
        claim = str(uuid.uuid4())
        with transaction.atomic():
            notices_claim(today=today, claim=claim)
            result = notices_enqueue(today=today, claim=claim)
        lines = [f"Stichtag {format_date(today)}"]
        lines += [f"{rules.NOTICE_LABELS[kind]}: {result.counts[kind]}" for kind in rules.NOTICE_KINDS]
        lines.append(f"E-Mails zum Versand eingeplant: {result.emails}")
        if result.refused:
            lines.append(
                f"ohne gültige Liefer-E-Mail, Hinweise folgen im nächsten Lauf ({len(result.refused)}): "
                + "; ".join(result.refused[:20])
            )
        run.summary = "\n".join(lines)
    return result


def maintenance_expiry_daily(*, today: date) -> dict[str, int]:
    """:func:`maintenance_expiry_run`; returns the notices written per kind
    (keys: ``rules.NOTICE_KINDS``)."""
    return maintenance_expiry_run(today=today).counts


# --- Weekly report -------------------------------------------------------------------


def _report_row(row: SystemOverview) -> dict:
    system = row.system
    return {
        "serial": system.identifier,
        "name": system.name,
        "model": system.get_edition_display(),
        "customer": system.customer.company,
        "users": row.call_assist_users,
        "coverage_end": format_date(row.coverage_end),
        "state": row.swp_state_label,
        "surcharge_days": row.renewal.surcharge_days if row.renewal else 0,
        "renewal": row.renewal.net_total_display if row.renewal else "—",
        "renewal_note": row.renewal_refusal,
    }


def maintenance_report_context(report: MaintenanceReport) -> dict:
    """Display values of the weekly report (German dates and amounts); the template
    only lays them out (STYLE 7)."""
    return {
        "today": format_date(report.today),
        "expiring_until": format_date(report.expiring_until),
        "lapsed_since": format_date(report.lapsed_since),
        "expiring_count": report.expiring_count,
        "lapsed_count": report.lapsed_count,
        "renewal_total": format_eur(report.renewal_total),
        "sample_prices": report.sample_prices,
        "unpriced": report.unpriced,
        "groups": [
            {
                "partner": group.partner.company,
                "email": group.partner.delivery_email,
                "expiring": [_report_row(r) for r in group.expiring],
                "lapsed": [_report_row(r) for r in group.lapsed],
                "renewal_total": format_eur(group.renewal_total),
            }
            for group in report.groups
        ],
    }


def report_week(today: date) -> str:
    """ISO week of ``today``: ``2026-W23`` (the week of Monday 01.06.2026)."""
    year, week, _weekday = today.isocalendar()
    return f"{year}-W{week:02d}"


def _report_mail_text(report: MaintenanceReport) -> tuple[str, str]:
    subject = _("Softwarepflege-Bericht vom %(today)s") % {"today": format_date(report.today)}
    body = "\n".join(
        [
            _("Im Anhang der wöchentliche Bericht zur Softwarepflege PBX Call Assist 5."),
            "",
            ngettext(
                "Läuft in 60 Tagen ab: %(count)s System",
                "Läuft in 60 Tagen ab: %(count)s Systeme",
                report.expiring_count,
            )
            % {"count": report.expiring_count},
            ngettext(
                "Abgelaufen (bis 36 Monate): %(count)s System",
                "Abgelaufen (bis 36 Monate): %(count)s Systeme",
                report.lapsed_count,
            )
            % {"count": report.lapsed_count},
            _("Wert der Verlängerungen (12 Monate, netto): %(total)s") % {"total": format_eur(report.renewal_total)},
        ]
    )
    return subject, body


def _report_store(*, data: MaintenanceReport, pdf: bytes) -> tuple[MaintenanceWeeklyReport, bool]:
    """Store the report and write its e-mail in one transaction; ``(report, False)`` when
    another run stored this week's report first (its e-mail is the one)."""
    week = report_week(data.today)
    report = MaintenanceWeeklyReport(
        week=week,
        report_date=data.today,
        expiring_count=data.expiring_count,
        lapsed_count=data.lapsed_count,
        renewal_total=data.renewal_total,
        created_at=clock.now(),
    )
    # The file first (the row points to it); removed again if the row is not written.
    report.pdf.save(report.filename, ContentFile(pdf), save=False)
    report.pdf_sha256 = sha256_hex(pdf)  # GoBD: the file proves itself later
    try:
        with transaction.atomic():
            report.save()
            with translation.override(DOCUMENT_LANGUAGE):
                subject, body = _report_mail_text(data)
            outbox_enqueue(
                kind=REPORT_KIND,
                dedup_key=f"{REPORT_KIND}:{week}",
                recipients=[settings.FINANCE_EMAIL],
                subject=subject,
                body=body,
                document=report,
                from_email=settings.DEFAULT_FROM_EMAIL,
            )
    except IntegrityError:
        report.pdf.delete(save=False)
        existing = MaintenanceWeeklyReport.objects.filter(week=week).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        report.pdf.delete(save=False)
        raise
    return report, True


def maintenance_report_weekly(*, today: date) -> MaintenanceWeeklyReport:
    """The weekly report (SWP-8): a PDF of the systems whose Softwarepflege ends in the
    next 60 days or lapsed up to 36 months ago, per partner with the value of a 12-month
    renewal at today's prices, stored and e-mailed to ``settings.FINANCE_EMAIL`` through
    the outbox. One per ISO week: a re-run in the same week returns the stored report
    and writes no second e-mail."""
    week = report_week(today)
    with recorded_job(REPORT_JOB_NAME) as run:
        existing = MaintenanceWeeklyReport.objects.filter(week=week).first()
        if existing is not None:
            run.summary = (
                f"Bericht der Woche {week} besteht bereits (Stichtag {format_date(existing.report_date)}): "
                "keine zweite E-Mail"
            )
            return existing
        data = maintenance_report_data(today=today)
        # Rendered before the transaction: on SQLite a write transaction locks the whole
        # database, and a WeasyPrint run inside it would stall every other writer.
        with translation.override(DOCUMENT_LANGUAGE):
            pdf = render_pdf(REPORT_TEMPLATE, {"report": maintenance_report_context(data)})
        report, created = _report_store(data=data, pdf=pdf)
        run.summary = (
            f"Stichtag {format_date(today)}: {data.expiring_count} laufen ab, {data.lapsed_count} abgelaufen, "
            f"Verlängerungswert {format_eur(data.renewal_total)}; "
            + (
                f"E-Mail an {settings.FINANCE_EMAIL} zum Versand eingeplant"
                if created
                else f"Bericht der Woche {week} von einem anderen Lauf: keine zweite E-Mail"
            )
        )
    return report


def report_attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    """Outbox hook: the stored PDF, byte for byte (never rendered again)."""
    report = MaintenanceWeeklyReport.objects.filter(pk=message.document_id).first()
    if report is None:
        raise MaintenanceReportMissing(
            _("Den Softwarepflege-Bericht zu dieser E-Mail gibt es nicht mehr."), code="report_missing"
        )
    return [(report.filename, document_bytes(report), "application/pdf")]
