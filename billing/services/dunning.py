"""Dunning levels (issue 18): Zahlungserinnerung, 1. Mahnung, letzte Mahnung — replacing the one
friendly reminder.

Issuing (:func:`dunning_issue_due`, called by the daily overdue job after it marked invoices
overdue): for every overdue invoice that is not paused (per partner or per invoice) the next
level by :func:`billing.rules.dunning_next_level`; per invoice in a savepoint with the invoice
row locked (PostgreSQL: a second worker waits and then sees the level issued), and the unique
``(invoice, level)`` constraint decides what the lock cannot (SQLite, a lost lock). In that
transaction: the :class:`~billing.models.DunningNotice` row with its amounts, its e-mail in the
outbox (key ``dunning-notice:<invoice>:<level>``) and — for the letzte Mahnung — fee and interest
as charges for the next invoice run (:func:`dunning_charge`, ``billing.Charge``). The PDF is rendered after commit
and stored once with its SHA-256 (:func:`dunning_pdf_ensure`, as the invoices do); the e-mail's
attachment hook renders it if the process died first.

Pausing (:func:`dunning_pause`, :func:`dunning_resume`): rows of
:class:`~billing.models.DunningPause`, kept as the history. Blocking (:func:`dunning_block_preview`,
:func:`dunning_block`): after the letzte Mahnung's deadline finance blocks the partner's active
subscription keys (LIC-12's block); :func:`dunning_blocks_release` — called by
``payment_record`` — unblocks exactly those keys when every invoice that caused the block is paid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing import rules, selectors
from billing.constants import DUNNING_KIND
from billing.exceptions import BillingError, BillingInputError, DunningRefused
from billing.models import BaseRate, DunningBlock, DunningNotice, DunningPause, Invoice, Subscription
from vendorportal import clock
from vendorportal.documents import document_bytes, sha256_hex
from vendorportal.formats import format_date, format_decimal, postal_country
from vendorportal.i18n import for_partner
from vendorportal.money import ZERO, format_eur
from vendorportal.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

TEMPLATE = "documents/dunning_notice.html"


# --- issuing -------------------------------------------------------------------------------------


@dataclass
class DunningResult:
    issued: dict[int, int] = field(default_factory=lambda: dict.fromkeys(rules.DUNNING_LEVELS, 0))
    held: list[str] = field(default_factory=list)  # German reasons, one per invoice not dunned
    base_rate_stale: bool = False


def base_rates() -> list[tuple[date, Decimal]]:
    return list(BaseRate.objects.order_by("valid_from").values_list("valid_from", "rate_percent"))


def base_rate_stale(today: date) -> bool:
    """Is the newest base rate older than the current half-year (finance must enter the new one)?"""
    newest = BaseRate.objects.order_by("-valid_from").values_list("valid_from", flat=True).first()
    return rules.base_rate_stale(newest, today)


def _paused():
    return Exists(DunningPause.objects.filter(resumed_at__isnull=True, invoice=OuterRef("pk"))) | Exists(
        DunningPause.objects.filter(resumed_at__isnull=True, partner=OuterRef("partner"))
    )


def dunning_issue_due(*, today: date | None = None) -> DunningResult:
    """Issue every level due on ``today`` (issue 18); safe to run again and from two workers."""
    today = today or clock.today()
    result = DunningResult(base_rate_stale=base_rate_stale(today))
    if result.base_rate_stale:
        logger.warning(
            "Dunning: the newest base rate is older than the half-year of %s; please enter the new one", today
        )
    candidates = list(
        Invoice.objects.filter(kind=Invoice.INVOICE, state=Invoice.OVERDUE, due_date__isnull=False)
        .exclude(_paused())
        .exclude(dunning_notices__level=rules.DUNNING_FINAL)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    rates = None
    for pk in candidates:
        try:
            with transaction.atomic():
                invoice = Invoice.objects.select_for_update(of=("self",)).select_related("partner").get(pk=pk)
                level = _next_level(invoice, today)
                if level is None:
                    continue
                if level == rules.DUNNING_FINAL and rates is None:
                    rates = base_rates()
                _issue(invoice=invoice, level=level, today=today, rates=rates)
        except BillingInputError as exc:
            # No base rate for a day of the period: the letzte Mahnung waits for finance to enter it.
            result.held.append(f"{pk}: {exc.message}")
            logger.warning("Dunning held for invoice %s: %s", pk, exc.message)
            continue
        except IntegrityError:
            continue  # issued by a concurrent run first (dunningnotice_level_once)
        result.issued[level] += 1
    return result


def _next_level(invoice: Invoice, today: date) -> int | None:
    """Re-checked under the invoice's lock: still overdue, not paused, the next level due today."""
    if invoice.state != Invoice.OVERDUE or dunning_paused(invoice):
        return None
    last = invoice.dunning_notices.order_by("-level").values_list("level", "issued_on").first()
    last_level, last_issued_on = last if last else (0, None)
    return rules.dunning_next_level(
        due_date=invoice.due_date, last_level=last_level, last_issued_on=last_issued_on, today=today
    )


def dunning_paused(invoice: Invoice) -> DunningPause | None:
    """The open pause that holds this invoice's dunning (its own or its partner's), if any."""
    return (
        DunningPause.objects.filter(resumed_at__isnull=True)
        .filter(Q(invoice=invoice) | Q(partner_id=invoice.partner_id))
        .order_by("-paused_at")
        .first()
    )


def _issue(*, invoice: Invoice, level: int, today: date, rates) -> DunningNotice:
    open_amount = selectors.invoice_amount_due(invoice)
    fee = rules.dunning_fee(level)
    interest = None
    if level == rules.DUNNING_FINAL:
        interest = rules.default_interest(
            principal=open_amount, due_date=invoice.due_date, through=today, base_rates=rates
        )
    notice = DunningNotice(
        invoice=invoice,
        partner_id=invoice.partner_id,
        level=level,
        issued_on=today,
        deadline=rules.dunning_deadline(level, today),
        open_amount=open_amount,
        fee=fee,
        interest=interest.amount if interest else ZERO,
        interest_spans=[
            [s.start.isoformat(), s.end.isoformat(), s.days, str(s.base_rate), str(s.rate)]
            for s in (interest.spans if interest else ())
        ],
        email=invoice.email,
        created_at=clock.now(),
    )
    notice.full_clean(exclude=["pdf", "pdf_sha256"], validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        notice.save()
    subject, body = _mail(notice)
    outbox_enqueue(
        kind=DUNNING_KIND,
        dedup_key=f"{DUNNING_KIND}:{invoice.pk}:{level}",
        recipients=[invoice.email],
        subject=subject,
        body=body,
        document=notice,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    if level == rules.DUNNING_REMINDER:
        # The old single reminder's stamp, kept meaningful: when the Zahlungserinnerung was written.
        Invoice.objects.filter(pk=invoice.pk).update(reminder_sent_at=notice.created_at)
    if level == rules.DUNNING_FINAL:
        dunning_charge(notice=notice)
    transaction.on_commit(partial(_pdf_after_commit, notice.pk), robust=True)
    return notice


def _charge_text(notice: DunningNotice, text: str, facts: dict) -> str:
    """A charge's text in the partner's language: it becomes a line of the partner's "Rechnung
    über Nebenforderungen" (issue 21, docs/i18n.md), whoever runs the dunning job."""
    with for_partner(notice.invoice.partner):  # dates formatted in that language too
        return _(text) % {key: format_date(v) if isinstance(v, date) else v for key, v in facts.items()}


def dunning_charge(*, notice: DunningNotice) -> list:
    """Hand the letzte Mahnung's fee and interest to the partner's next invoice (issue 18): two
    charges (:func:`billing.services.charges.charge_add`, kinds ``dunning_fee`` and
    ``default_interest``), billed by the next monthly run on the separate non-taxable "Rechnung
    über Nebenforderungen". Idempotent by the keys ``dunning-fee:<notice>`` and
    ``default-interest:<notice>``; an amount of 0,00 € (no interest: paid down to nothing) adds
    no charge. The one place that does it."""
    from billing.models import Charge
    from billing.services.charges import charge_add

    charges = []
    if notice.fee > 0:
        charges.append(
            charge_add(
                partner=notice.partner,
                kind=Charge.DUNNING_FEE,
                amount=notice.fee,
                description=_charge_text(
                    notice,
                    gettext_noop("Mahnpauschale (§ 288 Abs. 5 BGB) zu %(number)s, letzte Mahnung vom %(date)s"),
                    {"number": notice.invoice.number, "date": notice.issued_on},
                ),
                source_invoice=notice.invoice,
                dedup_key=f"dunning-fee:{notice.pk}",
            )
        )
    if notice.interest > 0:
        spans = notice.interest_spans
        charges.append(
            charge_add(
                partner=notice.partner,
                kind=Charge.DEFAULT_INTEREST,
                amount=notice.interest,
                description=_charge_text(
                    notice,
                    gettext_noop("Verzugszinsen (§ 288 Abs. 2 BGB) zu %(number)s vom %(start)s bis %(end)s"),
                    {
                        "number": notice.invoice.number,
                        "start": date.fromisoformat(spans[0][0]),
                        "end": date.fromisoformat(spans[-1][1]),
                    },
                ),
                source_invoice=notice.invoice,
                dedup_key=f"default-interest:{notice.pk}",
            )
        )
    notice.charged_at = clock.now()
    DunningNotice.objects.filter(pk=notice.pk).update(charged_at=notice.charged_at)
    return charges


# --- the letter ----------------------------------------------------------------------------------


def _address(invoice: Invoice) -> list[str]:
    lines = [
        invoice.buyer_name,
        invoice.buyer_street,
        f"{invoice.buyer_postal_code} {invoice.buyer_city}".strip(),
    ]
    if invoice.buyer_country and invoice.buyer_country != settings.VENDOR.get("country", "DE"):
        lines.append(postal_country(invoice.buyer_country))
    return [line for line in lines if line]


def _span_text(span) -> str:
    start, end, days, base, rate = span
    return _("%(start)s–%(end)s: %(days)s Tage zu %(rate)s %% (Basiszinssatz %(base)s %% + 9 Prozentpunkte)") % {
        "start": format_date(date.fromisoformat(start)),
        "end": format_date(date.fromisoformat(end)),
        "days": days,
        "rate": format_decimal(str(rate), strip_zeros=False),
        "base": format_decimal(str(base), strip_zeros=False),
    }


def _texts(notice: DunningNotice) -> tuple[list[str], str, list[str]]:
    """The letter's paragraphs before the amounts, the deadline sentence, the paragraphs after."""
    invoice = notice.invoice
    facts = {
        "number": invoice.number,
        "date": format_date(invoice.issue_date),
        "due_date": format_date(invoice.due_date),
        "deadline": format_date(notice.deadline),
        "open": format_eur(notice.open_amount),
        "total": format_eur(notice.open_amount + notice.claim),
    }
    if notice.level == rules.DUNNING_REMINDER:
        before = [
            _(
                "sicher ist es im Alltag untergegangen: Unsere Rechnung %(number)s vom %(date)s war am %(due_date)s "
                "fällig, und bei uns ist noch kein vollständiger Zahlungseingang verbucht."
            )
            % facts
        ]
        deadline = _("Bitte überweisen Sie den offenen Betrag von %(open)s bis zum %(deadline)s.") % facts
        after = [
            _(
                "Sollte sich Ihre Zahlung mit diesem Schreiben überschnitten haben, betrachten Sie es bitte als "
                "gegenstandslos."
            )
        ]
    elif notice.level == rules.DUNNING_FIRST:
        before = [
            _(
                "trotz unserer Zahlungserinnerung ist die Rechnung %(number)s vom %(date)s, fällig am %(due_date)s, "
                "noch nicht vollständig bezahlt."
            )
            % facts
        ]
        deadline = _("Bitte überweisen Sie den offenen Betrag von %(open)s spätestens bis zum %(deadline)s.") % facts
        after = [
            _(
                "Sie befinden sich seit dem Tag nach der Fälligkeit in Verzug. Geht die Zahlung nicht fristgerecht "
                "ein, erhalten Sie eine letzte Mahnung mit der Verzugspauschale von 40,00 € (§ 288 Abs. 5 BGB) und "
                "Verzugszinsen von 9 Prozentpunkten über dem Basiszinssatz (§ 288 Abs. 2 BGB)."
            )
        ]
    else:
        before = [
            _(
                "die Rechnung %(number)s vom %(date)s, fällig am %(due_date)s, ist trotz Zahlungserinnerung und "
                "Mahnung weiterhin nicht vollständig bezahlt. Dies ist unsere letzte Mahnung."
            )
            % facts,
            _(
                "Für den Verzug berechnen wir die Pauschale nach § 288 Abs. 5 BGB und Verzugszinsen von 9 "
                "Prozentpunkten über dem jeweils gültigen Basiszinssatz (§ 288 Abs. 2 BGB) bis heute. Pauschale und "
                "Zinsen stellen wir mit Ihrer nächsten Rechnung gesondert in Rechnung; sie sind nicht Teil des "
                "offenen Rechnungsbetrags."
            ),
        ]
        deadline = (
            _("Bitte überweisen Sie den offenen Rechnungsbetrag von %(open)s bis spätestens %(deadline)s.") % facts
        )
        after = [
            _(
                "Geht die Zahlung nicht fristgerecht ein, behalten wir uns vor, die Lizenzschlüssel Ihrer Abos zu "
                "sperren; sie werden nach vollständiger Zahlung wieder freigegeben. Weitere rechtliche "
                "Schritte behalten wir uns vor."
            )
        ]
    return before, deadline, after


def dunning_notice_context(notice: DunningNotice) -> dict:
    invoice = notice.invoice
    before, deadline, after = _texts(notice)
    spans = notice.interest_spans
    reduced = invoice.gross_total - notice.open_amount
    return {
        "notice": {
            "title": notice.title,
            "address": _address(invoice),
            "date": format_date(notice.issued_on),
            "invoice_number": invoice.number,
            "invoice_date": format_date(invoice.issue_date),
            "due_date": format_date(invoice.due_date),
            "paragraphs": before,
            "deadline_text": deadline,
            "after": after,
            "gross": format_eur(invoice.gross_total),
            "reduced": format_eur(reduced) if reduced > 0 else "",
            "open_amount": format_eur(notice.open_amount),
            "has_claim": notice.level == rules.DUNNING_FINAL,
            "fee": format_eur(notice.fee),
            "interest": format_eur(notice.interest),
            "interest_start": format_date(date.fromisoformat(spans[0][0])) if spans else "",
            "interest_end": format_date(date.fromisoformat(spans[-1][1])) if spans else "",
            "interest_days": sum(span[2] for span in spans),
            "spans": [_span_text(span) for span in spans],
            "total": format_eur(notice.open_amount + notice.claim),
        }
    }


def _mail(notice: DunningNotice) -> tuple[str, str]:
    invoice = notice.invoice
    with for_partner(invoice.partner):  # the partner's language (issue 21, docs/i18n.md)
        subject = _("%(title)s: Rechnung %(number)s") % {"title": notice.title, "number": invoice.number}
        before, deadline, after = _texts(notice)
        claim = []
        if notice.level == rules.DUNNING_FINAL:
            claim = [
                _("Mahnpauschale: %(fee)s; Verzugszinsen bis %(date)s: %(interest)s (mit der nächsten Rechnung).")
                % {
                    "fee": format_eur(notice.fee),
                    "date": format_date(notice.issued_on),
                    "interest": format_eur(notice.interest),
                },
                "",
            ]
        body = "\n".join(
            [
                _("Guten Tag,"),
                "",
                *[p for text in before for p in (text, "")],
                *claim,
                deadline,
                "",
                *[p for text in after for p in (text, "")],
                _("Das Schreiben und die Rechnung liegen als PDF bei."),
                "",
                _("Mit freundlichen Grüßen"),
                settings.VENDOR["name"],
            ]
        )
    return subject, body


def _render(notice: DunningNotice) -> bytes:
    from vendorportal.pdf import render_pdf

    with for_partner(notice.invoice.partner):
        return render_pdf(TEMPLATE, dunning_notice_context(notice))


def _store_pdf(notice: DunningNotice, content: bytes) -> None:
    notice.pdf.save(notice.filename, ContentFile(content), save=False)
    notice.pdf_sha256 = sha256_hex(content)
    DunningNotice.objects.filter(pk=notice.pk, pdf="").update(pdf=notice.pdf.name, pdf_sha256=notice.pdf_sha256)


def dunning_pdf_ensure(notice: DunningNotice) -> DunningNotice:
    """The notice with its PDF stored: rendered and stored once, never replaced (as
    :func:`billing.services.invoices.invoice_pdf_ensure`: row lock on PostgreSQL; on SQLite
    rendered outside the write lock and stored only if still none)."""
    if notice.pdf:
        return notice
    if connection.features.has_select_for_update:
        with transaction.atomic():
            locked = DunningNotice.objects.select_for_update(of=("self",)).select_related("invoice").get(pk=notice.pk)
            if not locked.pdf:
                _store_pdf(locked, _render(locked))
            return locked
    current = DunningNotice.objects.select_related("invoice").get(pk=notice.pk)
    if current.pdf:
        return current
    content = _render(current)
    with transaction.atomic():
        fresh = DunningNotice.objects.select_related("invoice").get(pk=notice.pk)
        if not fresh.pdf:
            _store_pdf(fresh, content)
        return fresh


def _pdf_after_commit(notice_pk: int) -> None:
    try:
        dunning_pdf_ensure(DunningNotice.objects.get(pk=notice_pk))
    except Exception:
        logger.exception("Rendering the PDF of dunning notice %s failed; the e-mail's send renders it", notice_pk)


def dunning_attachments(message) -> list[tuple[str, bytes, str]]:
    """Outbox hook: the letter (stored PDF, byte-identical on every send) and the invoice again."""
    from billing.services.invoices import invoice_pdf_bytes

    notice = DunningNotice.objects.select_related("invoice").filter(pk=message.document_id).first()
    if notice is None:
        raise BillingError(_("Zu dieser E-Mail gibt es keine Mahnung."))
    notice = dunning_pdf_ensure(notice)
    return [
        (notice.filename, document_bytes(notice), "application/pdf"),
        (f"{notice.invoice.number}.pdf", invoice_pdf_bytes(notice.invoice), "application/pdf"),
    ]


# --- pause and resume ----------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DunningRefused(_("Bitte einen Grund angeben."), code="reason_required")
    return reason[:300]


@transaction.atomic
def dunning_pause(*, reason: str, partner=None, invoice: Invoice | None = None, by=None) -> DunningPause:
    """Pause dunning for a partner or for one invoice (issue 18): no further level is issued
    while the pause is open. Pausing what is paused already returns that pause."""
    if (partner is None) == (invoice is None):
        raise DunningRefused(_("Pausiert wird ein Partner oder eine Rechnung."), code="target")
    reason = _reason(reason)
    if invoice is not None and invoice.kind != Invoice.INVOICE:
        raise DunningRefused(_("Gemahnt werden nur Rechnungen, keine Rechnungskorrekturen."), code="credit_note")
    target = {"invoice": invoice} if invoice is not None else {"partner": partner}
    existing = DunningPause.objects.filter(resumed_at__isnull=True, **target).first()
    if existing is not None:
        return existing
    pause = DunningPause(
        reason=reason, paused_at=clock.now(), paused_by=by if getattr(by, "pk", None) else None, **target
    )
    pause.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            pause.save()
    except IntegrityError:  # paused by a concurrent request first
        return DunningPause.objects.get(resumed_at__isnull=True, **target)
    return pause


@transaction.atomic
def dunning_resume(*, pause: DunningPause, reason: str, by=None) -> DunningPause:
    """Resume dunning: the pause row keeps who paused and resumed, when and why. The next level
    is issued by the daily job when due (counted from the last level actually issued)."""
    reason = _reason(reason)
    pause = DunningPause.objects.select_for_update().get(pk=pause.pk)
    if pause.resumed_at is not None:
        raise DunningRefused(_("Diese Pause ist bereits beendet."), code="resumed")
    pause.resumed_at = clock.now()
    pause.resumed_by = by if getattr(by, "pk", None) else None
    pause.resume_reason = reason
    pause.save(update_fields=["resumed_at", "resumed_by", "resume_reason"])
    return pause


# --- blocking the subscription keys after the letzte Mahnung -----------------------------------


@dataclass(frozen=True)
class BlockPreview:
    partner: object
    invoices: list  # overdue invoices whose letzte Mahnung's deadline has passed
    licenses: list  # active subscription keys that would be blocked
    refusal: str  # German, "" when finance may block

    @property
    def allowed(self) -> bool:
        return not self.refusal


def dunning_block_preview(*, partner, today: date | None = None) -> BlockPreview:
    """Which keys and installations a block of ``partner`` would hit, and which invoices cause
    it: every overdue invoice whose letzte Mahnung's deadline has passed (issue 18)."""
    today = today or clock.today()
    invoices = list(selectors.invoices_past_final_deadline(partner, today))
    licenses = list(selectors.partner_active_subscription_keys(partner))
    refusal = ""
    if DunningBlock.objects.filter(partner=partner, released_at__isnull=True).exists():
        refusal = _("Die Abo-Schlüssel dieses Partners sind bereits wegen Zahlungsverzugs gesperrt.")
    elif not invoices:
        refusal = _(
            "Gesperrt werden kann erst nach Ablauf der Frist einer letzten Mahnung; bei diesem Partner ist keine "
            "solche Rechnung offen."
        )
    elif not licenses:
        refusal = _("Dieser Partner hat keine aktiven Abo-Schlüssel.")
    return BlockPreview(partner=partner, invoices=invoices, licenses=licenses, refusal=refusal)


@transaction.atomic
def dunning_block(*, partner, reason: str, by=None, today: date | None = None) -> DunningBlock:
    """Block the partner's active subscription keys (LIC-12's block, through licensing's
    ``subscription_keys_block``) after a letzte Mahnung's deadline; records the keys and the
    invoices that caused it, so paying them unblocks exactly these keys."""
    from licensing.services.licenses import subscription_keys_block

    reason = _reason(reason)
    partner = type(partner).objects.select_for_update().get(pk=partner.pk)
    preview = dunning_block_preview(partner=partner, today=today)
    if not preview.allowed:
        raise DunningRefused(preview.refusal, code="not_allowed")
    block = DunningBlock(
        partner=partner, reason=reason, blocked_at=clock.now(), blocked_by=by if getattr(by, "pk", None) else None
    )
    block.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            block.save()
    except IntegrityError:
        raise DunningRefused(preview.refusal or _("Bereits gesperrt."), code="blocked") from None
    numbers = ", ".join(i.number for i in preview.invoices)
    key_reason = _("Zahlungsverzug (%(numbers)s): %(reason)s") % {"numbers": numbers, "reason": reason}
    for reference in sorted({lic.subscription_reference for lic in preview.licenses}):
        subscription_keys_block(subscription_reference=reference, reason=key_reason[:300], by=by)
    block.invoices.set(preview.invoices)
    block.licenses.set(preview.licenses)
    return block


def dunning_blocks_release(*, invoice: Invoice, by=None, by_correction: bool = False) -> list[DunningBlock]:
    """Called in their transaction by ``payment_record`` and by a correction
    (``credit_note_issue``): when the debt behind an active block of the partner that
    ``invoice`` caused is settled (:func:`billing.rules.dunning_debt_settled`: nothing open on any
    of its invoices — paid, taken back by corrections, or both), unblock the keys that block
    blocked — except keys of a subscription that has ended meanwhile (those stay blocked, LIC-12)
    and keys someone changed since — and release the block."""
    from licensing.models import License
    from licensing.services.licenses import license_unblock

    if invoice.state not in (Invoice.PAID, Invoice.CANCELLED):
        return []  # something is still open on it (its state follows the open amount)
    released = []
    blocks = DunningBlock.objects.select_for_update().filter(
        partner_id=invoice.partner_id, released_at__isnull=True, invoices=invoice
    )
    for block in blocks:
        behind = block.invoices.annotate(credited_sum=selectors.credited_gross_subquery())
        open_amounts = [selectors.invoice_amount_due(i, i.credited_sum or ZERO) for i in behind]
        if not rules.dunning_debt_settled(open_amounts):
            continue
        ended = set(
            Subscription.objects.filter(partner_id=block.partner_id, keys_blocked_at__isnull=False).values_list(
                "reference", flat=True
            )
        )
        numbers = ", ".join(block.invoices.order_by("number").values_list("number", flat=True))
        if by_correction:
            reason = _(
                "Forderung durch Rechnungskorrektur ausgeglichen (%(numbers)s): Sperre wegen Zahlungsverzugs aufgehoben."
            ) % {"numbers": numbers}
        else:
            reason = _("Zahlung eingegangen (%(numbers)s): Sperre wegen Zahlungsverzugs aufgehoben.") % {
                "numbers": numbers
            }
        for lic in block.licenses.filter(state=License.BLOCKED).exclude(subscription_reference__in=ended):
            license_unblock(license=lic, reason=reason[:300], by=by)
        block.released_at = clock.now()
        block.release_reason = reason[:300]
        block.save(update_fields=["released_at", "release_reason"])
        released.append(block)
    return released
