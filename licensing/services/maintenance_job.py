"""The daily Softwarepflege expiry job and the weekly report (SWP-8).

Daily job, set-based (a fixed number of queries per run, none per system):

1. *Claim*: for each notice kind, the systems whose current coverage end lies in
   :func:`rules.notice_window` and that have no notice of that kind for that end
   are inserted as ``MaintenanceNotice`` rows with this run's claim token,
   ``bulk_create(ignore_conflicts=True)``. The unique constraint (installation,
   coverage end, kind) lets exactly one insert win, whichever worker runs it.
2. *Send*: the rows carrying this run's token — and only those — are this run's
   to send: one e-mail per partner listing its systems; then ``sent_at`` is set.

So two workers running at once, or a job run twice on a day, send every notice
once. A run that died after claiming leaves rows without ``sent_at``; a later run
takes them over once they are older than :data:`STALE_CLAIM_AFTER` and still due
(conditional update on the old token, so only one run can take them).
"""
from __future__ import annotations

from vendorportal import clock
import logging
import uuid
from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from licensing import rules
from licensing.constants import AUERSWALD
from licensing.models import MaintenanceCoverage, MaintenanceNotice
from licensing.models.installations import active_on_q
from licensing.selectors.systems import MaintenanceReport, SystemOverview, maintenance_report_data
from vendorportal.formats import format_date_de
from vendorportal.jobs import recorded_job
from vendorportal.money import format_eur
from vendorportal.pdf import render_pdf

logger = logging.getLogger(__name__)

JOB_NAME = "swp_expiry"
REPORT_JOB_NAME = "swp_report"
STALE_CLAIM_AFTER = timedelta(hours=1)
CLAIM_BATCH_SIZE = 500  # the backend may lower it (SQLite: 999 parameters per query)

NOTICE_TITLES = {
    rules.NOTICE_60: gettext_lazy("Softwarepflege endet in den nächsten 60 Tagen"),
    rules.NOTICE_30: gettext_lazy("Softwarepflege endet in den nächsten 30 Tagen"),
    rules.NOTICE_21: gettext_lazy(
        "Softwarepflege endet in den nächsten 21 Tagen – Benutzer hinzufügen nur noch bis 21 Tage vor Ende"
    ),
    rules.NOTICE_LAPSED: gettext_lazy("Softwarepflege abgelaufen"),
    rules.NOTICE_SURCHARGE: gettext_lazy("Softwarepflege seit mehr als 3 Monaten abgelaufen – Säumniszuschlag"),
}


# --- 1. Claim --------------------------------------------------------------------------


def due_systems(kind: str, today: date):
    """(installation id, coverage end) of the Auerswald systems for which ``kind`` is
    due on ``today`` and not yet claimed: one query (SWP-8).

    The current coverage end is the latest ``end`` of a system's ledger: a row counts
    only when no later-ending row of the same system exists.
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
        .order_by()
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


def notices_take_over_stale(*, today: date, claim: str, now=None) -> int:
    """Take over notices a dead run claimed but never sent, if they are still due.

    One conditional UPDATE per dead run's token (``claim = old token``): when two runs
    try at once, only the first changes the rows. ``created_at`` is reset to mark
    when the current claim was taken.
    """
    now = now or clock.now()
    stale_tokens = list(
        MaintenanceNotice.objects.filter(sent_at__isnull=True, created_at__lt=now - STALE_CLAIM_AFTER)
        .exclude(claim=claim)
        .values_list("claim", flat=True)
        .distinct()
        .order_by()
    )
    if not stale_tokens:
        return 0
    still_due = Q()
    for kind in rules.NOTICE_KINDS:
        low, high = rules.notice_window(kind, today)
        still_due |= Q(kind=kind, coverage_end__gte=low, coverage_end__lte=high)
    later_row = MaintenanceCoverage.objects.filter(installation=OuterRef("installation"), end__gt=OuterRef("coverage_end"))
    taken = 0
    for old in stale_tokens:
        taken += (
            MaintenanceNotice.objects.filter(claim=old, sent_at__isnull=True)
            .filter(still_due, active_on_q(today, prefix="installation__"))
            .exclude(Exists(later_row))
            .update(claim=claim, created_at=now)
        )
    return taken


# --- 2. Send ---------------------------------------------------------------------------


def _system_line(notice: MaintenanceNotice) -> str:
    system = notice.installation
    name = f" „{system.name}“" if system.name else ""
    head = f"- {system.identifier}{name} ({system.get_edition_display()}, {system.customer.company}): "
    end = notice.coverage_end
    if notice.kind in (rules.NOTICE_60, rules.NOTICE_30):
        return head + _("Softwarepflege bis %(end)s") % {"end": format_date_de(end)}
    if notice.kind == rules.NOTICE_21:
        return head + _("Softwarepflege bis %(end)s; Benutzer hinzufügen nur bis %(last)s") % {
            "end": format_date_de(end), "last": format_date_de(rules.add_users_last_day(end)),
        }
    if notice.kind == rules.NOTICE_LAPSED:
        return head + _("abgelaufen am %(end)s; ohne Säumniszuschlag verlängerbar bis %(until)s") % {
            "end": format_date_de(end), "until": format_date_de(rules.surcharge_free_until(end)),
        }
    return head + _("abgelaufen am %(end)s; Säumniszuschlag seit %(since)s; online verlängerbar bis %(until)s") % {
        "end": format_date_de(end),
        "since": format_date_de(rules.surcharge_free_until(end) + timedelta(days=1)),
        "until": format_date_de(rules.online_renewal_until(end)),
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


def partner_notice_mail(partner, notices: list[MaintenanceNotice], today: date) -> EmailMessage:
    """One German e-mail for one partner listing all its systems with a notice (SWP-8)."""
    by_kind = defaultdict(list)
    for notice in notices:
        by_kind[notice.kind].append(notice)
    body = [_("Guten Tag,"), "", _("Hinweise zur Softwarepflege PBX Call Assist 5, Stand %(today)s:") % {"today": format_date_de(today)}]
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
    return EmailMessage(
        subject=ngettext(
            "Softwarepflege PBX Call Assist 5: Hinweis zu %(count)s System",
            "Softwarepflege PBX Call Assist 5: Hinweise zu %(count)s Systemen",
            systems,
        )
        % {"count": systems},
        body="\n".join(body),
        to=[partner.delivery_email],
    )


def notices_send(*, today: date, claim: str) -> tuple[dict[str, int], int, list[str]]:
    """Send this run's claimed notices, one e-mail per partner, and mark them sent.

    Returns (sent notices per kind, e-mails sent, failure messages). A partner whose
    e-mail fails keeps its notices unsent; a later run takes them over.
    """
    notices = list(
        MaintenanceNotice.objects.filter(claim=claim, sent_at__isnull=True)
        .select_related("installation", "installation__customer", "installation__customer__partner")
        .order_by("installation__customer__partner_id", "coverage_end", "installation__identifier")
    )
    by_partner: dict[int, list[MaintenanceNotice]] = defaultdict(list)
    for notice in notices:
        by_partner[notice.installation.customer.partner_id].append(notice)
    sent_counts = {kind: 0 for kind in rules.NOTICE_KINDS}
    failed_partners, failures, mails = [], [], 0
    if not by_partner:
        # Opening a connection is not free of effects: the file backend creates its
        # file on open, so a run with nothing to send left an empty file in var/mail/.
        return sent_counts, mails, failures
    with get_connection() as connection:
        for partner_notices in by_partner.values():
            partner = partner_notices[0].installation.customer.partner
            message = partner_notice_mail(partner, partner_notices, today)
            message.connection = connection
            try:
                message.send()
            except Exception as exc:  # one unreachable mailbox must not stop the others
                logger.exception("Softwarepflege notice to %s failed", partner.delivery_email)
                failed_partners.append(partner.pk)
                failures.append(f"{partner.company} <{partner.delivery_email}>: {exc}")
                continue
            mails += 1
            for notice in partner_notices:
                sent_counts[notice.kind] += 1
    if mails:
        MaintenanceNotice.objects.filter(claim=claim, sent_at__isnull=True).exclude(
            installation__customer__partner_id__in=failed_partners
        ).update(sent_at=clock.now())
    return sent_counts, mails, failures


def maintenance_expiry_daily(*, today: date) -> dict[str, int]:
    """The daily Softwarepflege job (SWP-8): notices due on ``today``, each once.

    Returns the number of notices sent per kind (keys: ``rules.NOTICE_KINDS``).
    """
    with recorded_job(JOB_NAME) as run:
        claim = str(uuid.uuid4())
        taken_over = notices_take_over_stale(today=today, claim=claim)
        notices_claim(today=today, claim=claim)
        counts, mails, failures = notices_send(today=today, claim=claim)
        lines = [f"Stichtag {format_date_de(today)}"]
        lines += [f"{rules.NOTICE_LABELS[kind]}: {counts[kind]}" for kind in rules.NOTICE_KINDS]
        lines.append(f"E-Mails: {mails}")
        if taken_over:
            lines.append(f"von abgebrochenen Läufen übernommen: {taken_over}")
        if failures:
            lines.append(f"nicht zugestellt ({len(failures)}): " + "; ".join(failures[:20]))
        run.summary = "\n".join(lines)
    return counts


# --- Weekly report -------------------------------------------------------------------


def _report_row(row: SystemOverview) -> dict:
    system = row.system
    return {
        "serial": system.identifier,
        "name": system.name,
        "model": system.get_edition_display(),
        "customer": system.customer.company,
        "users": row.call_assist_users,
        "coverage_end": format_date_de(row.coverage_end),
        "state": row.swp_state_label,
        "surcharge_days": row.renewal.surcharge_days if row.renewal else 0,
        "renewal": row.renewal.net_total_display if row.renewal else "—",
        "renewal_note": row.renewal_refusal,
    }


def maintenance_report_context(report: MaintenanceReport) -> dict:
    """Display values of the weekly report (German dates and amounts); the template
    only lays them out (STYLE 7)."""
    return {
        "today": format_date_de(report.today),
        "expiring_until": format_date_de(report.expiring_until),
        "lapsed_since": format_date_de(report.lapsed_since),
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


def maintenance_report_weekly(*, today: date) -> bytes:
    """PDF of systems whose Softwarepflege ends in the next 60 days or lapsed up to 36
    months ago, per partner with the value of a 12-month renewal at today's prices;
    e-mailed to ``settings.FINANCE_EMAIL``. Returns the PDF."""
    with recorded_job(REPORT_JOB_NAME) as run:
        report = maintenance_report_data(today=today)
        pdf = render_pdf("documents/swp_report.html", {"report": maintenance_report_context(report)})
        message = EmailMessage(
            subject=_("Softwarepflege-Bericht vom %(today)s") % {"today": format_date_de(today)},
            body="\n".join(
                [
                    _("Im Anhang der wöchentliche Bericht zur Softwarepflege PBX Call Assist 5."),
                    "",
                    _("Läuft in 60 Tagen ab: %(count)s System(e)") % {"count": report.expiring_count},
                    _("Abgelaufen (bis 36 Monate): %(count)s System(e)") % {"count": report.lapsed_count},
                    _("Wert der Verlängerungen (12 Monate, netto): %(total)s") % {"total": format_eur(report.renewal_total)},
                ]
            ),
            to=[settings.FINANCE_EMAIL],
        )
        message.attach(f"softwarepflege-bericht-{today.isoformat()}.pdf", pdf, "application/pdf")
        message.send()
        run.summary = (
            f"Stichtag {format_date_de(today)}: {report.expiring_count} laufen ab, {report.lapsed_count} abgelaufen, "
            f"Verlängerungswert {format_eur(report.renewal_total)}"
        )
    return pdf
