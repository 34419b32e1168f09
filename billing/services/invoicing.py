"""The monthly invoicing run (INV-3, SUB-3, SUB-4, SUB-7, SUB-8, ORD-8): every billing period
billed exactly once, whatever happens to the job that bills it.

What a run of month M bills, in advance: every billing period of every subscription that
starts in M — or earlier and is still unbilled (a catch-up never loses a period) — unless the
subscription ended before the period starts; every plan year of a service plan from its
``billed_from`` on, likewise; plus the lines of the registered :mod:`billing.invoicing_sources`
(support time of the previous month). One invoice per partner per run, one line per period
(product, tier, reference, customer and installation; the period in its own columns; months ×
monthly price, a plan year 1 × yearly price), written by the one invoice writer
(:func:`billing.services.invoices.invoice_write`) with VAT and payment terms as on every invoice
(GEN-2; ORD-8 decided there, from the monthly amount of the subscription and plan lines). The
issue date is the day the run bills the partner. Right after it, in the same transaction, the
partner's waiting charges (Nebenforderungen added before the run's month, issue 18) go on one
separate "Rechnung über Nebenforderungen" (category O only: :mod:`billing.services.charges`).

Design, in the order a run goes:

1. *Find* — :func:`due_partner_ids` reads, for all partners at once, which subscriptions and
   plans have fewer billed periods than the rules (``billing_periods``, plan years) say are
   due through the end of M, plus the partners the sources name. A few queries, no writes.
2. *Split* — the Celery job (:func:`invoicing_dispatch`, beat on the 1st at 03:00 Berlin time)
   queues one ``billing.tasks.invoicing_partner`` task per partner, so any number of workers
   share the run. ``run_invoicing`` (:func:`invoicing_run`) does the same in-process.
3. *Bill one partner* — :func:`invoicing_bill_partner`, one transaction: lock the partner row
   (``select_for_update``, which holds on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises
   all writers), read again what is billed, build the lines, take the invoice number
   (``next_document_number``, gap-free: the sequence row is incremented in this transaction),
   write invoice, lines (``bulk_create``) and one :class:`~billing.models.BilledPeriod` per
   period (``bulk_create``; unique per subscription/plan and period start, one-to-one with its
   line), let the sources record their lines, write the e-mail to the outbox. Committed
   together or not at all: a killed worker leaves no invoice, no line, no period and no number
   behind — the partner is simply still due. The PDF is rendered *after* commit, in the same
   process (:func:`billing.services.invoice_pdf_ensure`): rendered inside, it held the write
   lock (SQLite) or the invoice-number row (PostgreSQL) for ~0.2 s per partner while a second
   worker only waited. A worker killed between commit and render leaves the e-mail's outbox
   row, whose send renders and stores the PDF first.
4. *Recover* — every run is recorded as an :class:`~billing.models.InvoicingRun` of its month,
   finished once a check finds nobody left due for that month. The hourly catch-up tick
   (``billing.tasks.invoicing_catch_up``, :func:`invoicing_catch_up`) checks every unfinished
   run, of any month (a past month's run whose worker was killed, a run started ahead for next
   month), oldest first, and the current month; it queues the partners still due and marks
   runs with nobody left finished. On Redis a killed worker's partner task also comes back by
   itself: the task is acknowledged late and rejected (requeued) when its worker is lost, and
   the broker's visibility timeout (``CELERY_VISIBILITY_TIMEOUT``, 10 minutes) hands an
   unacknowledged message to another worker.
   Correctness never depends on the broker redelivering a message (the embedded broker
   deletes a message once a worker takes it); a partner queued twice (two runs at once, a
   tick while the run still works through its queue) is billed once: the second task finds
   nothing due under the lock. Should a period be written concurrently by something that
   does not lock the partner (an order confirmed the same instant that bills its first
   period), the unique constraint rolls the partner's invoice back (number included) and the
   partner is tried again at once, then billing what is left.

Queries per partner do not grow with its subscriptions: subscriptions, billed periods and plans
are read with one query each (price changes only for a partner with a tier change, plans only
for a partner that has one), the active SEPA mandate's id comes with the partner's lock, lines
and periods are written with one ``bulk_create`` each; a run asks each invoicing source once
which partners it has lines for and skips the others. A partner with subscriptions only costs
8 queries: lock, subscriptions, billed periods, the number (one ``UPDATE … RETURNING``),
invoice, lines, periods, e-mail (issue 17: no savepoint, its key names the new invoice). The
three reads are compiled by the ORM once per process (:mod:`vendorportal.prepared`): compiling
them cost more CPU than SQLite needed to answer them. See ``bench/bench_invoicing.py``: the run
costs at most 3× the bare write floor.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import invoicing_sources, rules, selectors
from billing.constants import PLAN_ARTICLE
from billing.exceptions import BillingInputError
from billing.models import (
    BilledPeriod,
    Charge,
    Invoice,
    InvoicingRun,
    SepaMandate,
    ServicePlan,
    Subscription,
    SubscriptionPriceChange,
)
from licensing.models import Installation
from vendorportal import clock
from vendorportal.i18n import for_partner
from vendorportal.money import ZERO, format_eur, round_cents
from vendorportal.parties.models import Partner
from vendorportal.periods import month_end, month_period_end
from vendorportal.prepared import PreparedRead
from vendorportal.webhooks.events import has_webhooks_exists

from .charges import charges_bill, charges_waiting
from .invoices import LineDraft, invoice_vat, invoice_write

logger = logging.getLogger(__name__)

JOB_NAME = "invoicing"  # JobRun name of the monthly run and of run_invoicing
CATCH_UP_JOB_NAME = "invoicing-catch-up"
RETRIES = 3  # attempts per partner when a concurrent writer took one of its periods first
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> date:
    """``"2026-12"`` → 2026-12-01; raises :class:`BillingInputError` (German) for anything else."""
    match = _MONTH_RE.fullmatch((text or "").strip())
    if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 2000:
        return date(int(match.group(1)), int(match.group(2)), 1)
    raise BillingInputError(
        _("„%(value)s“ ist kein Monat: bitte als JJJJ-MM angeben, z. B. 2026-12.") % {"value": text},
        code="invalid_month",
    )


def month_label(month: date) -> str:
    return f"{month:%m/%Y}"


# --- which periods are due (pure over the rows read) ---------------------------------------------


@lru_cache(maxsize=4096)
def _subscription_periods(term_start: date, minimum_months: int, billing_months: int, through: date):
    """The billing periods (SUB-3/SUB-4) starting on or before ``through``; cached because
    thousands of subscriptions share a term start and interval."""
    return tuple(rules.billing_periods(term_start, minimum_months, billing_months, through))


@lru_cache(maxsize=4096)
def _plan_years(starts_on: date, through: date):
    """The plan years (SUB-8) starting on or before ``through``."""
    years = []
    start = starts_on
    while start <= through:
        years.append(rules.Period(start, month_period_end(start, 12)))
        start = years[-1].end + timedelta(days=1)
    return tuple(years)


def _due_subscription_periods(sub, through: date, billed: set[date]) -> list[rules.Period]:
    """Unbilled periods starting by ``through`` and not after the subscription's end; a period
    cut short by an end inside it (SUB-6 ends at a calendar month end) ends with it."""
    due = []
    for period in _subscription_periods(sub.term_start, sub.minimum_months, sub.billing_months, through):
        if sub.ends_on is not None and period.start > sub.ends_on:
            break
        if period.start not in billed:
            end = min(period.end, sub.ends_on) if sub.ends_on is not None else period.end
            due.append(rules.Period(period.start, end))
    return due


def _due_plan_years(plan, through: date, billed: set[date]) -> list[rules.Period]:
    """Unbilled plan years starting between ``billed_from`` and ``through``, not after the plan's
    end (years before ``billed_from`` were provided without charge, SUB-8 retroactive booking)."""
    return [
        year
        for year in _plan_years(plan.starts_on, through)
        if year.start >= plan.billed_from
        and (plan.ends_on is None or year.start <= plan.ends_on)
        and year.start not in billed
    ]


@lru_cache(maxsize=4096)
def _months(period: rules.Period) -> int:
    """Whole months in a period aligned to its start (GEN-1): 01.12.–28.02. → 3."""
    months = 1
    while month_period_end(period.start, months + 1) <= period.end:
        months += 1
    return months


def source_partners(*, month: date) -> dict[str, set[int]]:
    """Which partners each registered source has lines for in ``month`` (one call each)."""
    return {source.name: set(source.call("partners", month)) for source in invoicing_sources.sources()}


def due_partner_ids(*, month: date, named: dict[str, set[int]] | None = None) -> list[int]:
    """Partners with something to bill through the end of ``month``: a subscription or plan
    with fewer billed periods than are due, or a line of a registered source (``named``, as
    :func:`source_partners` read it, or asked now). Reads all partners at once (four queries
    plus the sources'), writes nothing."""
    through = month_end(month)
    due: set[int] = set()
    billed_subs = dict(
        BilledPeriod.objects.filter(
            subscription__isnull=False,
            period_start__gte=F("subscription__term_start"),  # the first partial month is no period of the rules
            period_start__lte=through,
        )
        .values("subscription_id")
        .annotate(n=Count("id"))
        .values_list("subscription_id", "n")
    )
    for sub_id, partner_id, term_start, minimum, interval, ends_on in Subscription.objects.filter(
        term_start__lte=through
    ).values_list("id", "partner_id", "term_start", "minimum_months", "billing_months", "ends_on"):
        if partner_id in due:
            continue
        limit = min(through, ends_on) if ends_on is not None else through
        if limit >= term_start and billed_subs.get(sub_id, 0) < len(
            _subscription_periods(term_start, minimum, interval, limit)
        ):
            due.add(partner_id)
    billed_plans = dict(
        BilledPeriod.objects.filter(
            service_plan__isnull=False,
            period_start__gte=F("service_plan__billed_from"),
            period_start__lte=through,
        )
        .values("service_plan_id")
        .annotate(n=Count("id"))
        .values_list("service_plan_id", "n")
    )
    for plan_id, partner_id, starts_on, billed_from, ends_on in ServicePlan.objects.filter(
        billed_from__lte=through
    ).values_list("id", "partner_id", "starts_on", "billed_from", "ends_on"):
        if partner_id in due:
            continue
        limit = min(through, ends_on) if ends_on is not None else through
        years = [y for y in _plan_years(starts_on, limit) if y.start >= billed_from]
        if billed_plans.get(plan_id, 0) < len(years):
            due.add(partner_id)
    for partner_ids in (named if named is not None else source_partners(month=month)).values():
        due.update(partner_ids)
    # Charges (Nebenforderungen) added before the month: billed on their own invoice (issue 18).
    due.update(charges_waiting(month=month).order_by().values_list("partner_id", flat=True).distinct())
    return sorted(due)


# --- billing one partner ------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerBill:
    """What one partner's transaction billed."""

    invoice: Invoice | None  # None when the partner had only charges to bill
    periods: int  # subscription periods and plan years
    source_lines: int
    charges_invoice: Invoice | None = None  # the "Rechnung über Nebenforderungen" (issue 18)


@lru_cache(maxsize=1)
def _identifier_kind_labels() -> dict:
    return dict(Installation._meta.get_field("identifier_kind").flatchoices)  # lazy: translated when shown


def _identifier_kind_label(kind: str) -> str:
    """The installation's kind of identifier as staff and partners read it ("Serverlizenzschlüssel")."""
    return str(_identifier_kind_labels().get(kind, kind)) or _("Kennung")


def _installation_text(company: str, name: str, identifier_kind: str, identifier: str) -> str:
    """Customer and installation of a line (readable lines): "Bäckerei Brezel, Filiale Nord,
    Serverlizenzschlüssel BRZL1-…" — the installation's name only where it has one."""
    parts = [company]
    if name and name != company:
        parts.append(name)
    parts.append(
        _("%(kind)s %(identifier)s") % {"kind": _identifier_kind_label(identifier_kind), "identifier": identifier}
    )
    return ", ".join(parts)


def _subscription_description(sub: Subscription) -> str:
    """Product, tier, licences, reference, customer and installation; the period stands in
    the line's period column only. ``sub`` as :data:`_partner_subscriptions` reads it (the
    product's and installation's columns as attributes)."""
    product = sub.product_name
    if sub.tier:
        product += " " + _("(Staffel %(tier)s Benutzer)") % {"tier": sub.tier}
    if sub.quantity > 1:
        product += ", " + _("%(count)s Lizenzen") % {"count": sub.quantity}
    text = _("%(product)s, Abo %(reference)s – %(installation)s") % {
        "product": product,
        "reference": sub.reference,
        "installation": _installation_text(
            sub.customer_company, sub.installation_name, sub.installation_identifier_kind, sub.installation_identifier
        ),
    }
    return text[:300]


def _plan_description(plan: ServicePlan) -> str:
    installation = plan.installation
    text = _("Service-Plan %(plan)s, %(reference)s – %(installation)s") % {
        "plan": plan.get_plan_display(),
        "reference": plan.reference,
        "installation": _installation_text(
            installation.customer.company, installation.name, installation.identifier_kind, installation.identifier
        ),
    }
    return text[:300]


@dataclass
class _Sourced:
    """A line an invoicing source proposed, with the source told what was billed."""

    draft: LineDraft
    proposal: invoicing_sources.LineProposal
    source: invoicing_sources.InvoicingSource


def _prefetch_price_changes(subscriptions: list[Subscription]) -> None:
    """``price_changes`` of the subscriptions with a tier change (SUB-7; rare) as prefetched,
    with one query only when there is one; for the others (``has_price_changes`` false)
    :func:`selectors.subscription_monthly_price_on` looks at none."""
    changed = [s for s in subscriptions if s.has_price_changes]
    if changed:
        prefetch_related_objects(
            changed, Prefetch("price_changes", queryset=SubscriptionPriceChange.objects.order_by())
        )


# The run's three reads of every partner, compiled once per process (vendorportal.prepared):
# the same SQL for each of thousands of partners, only the id changes. The subscriptions come
# with the columns a line needs only (a model instance costs per column) and their product's
# and installation's columns as attributes, not as related objects.
_partner_subscriptions = PreparedRead(
    lambda partner_id: (
        Subscription.objects.filter(partner_id=partner_id)
        .only(
            "reference",
            "tier",
            "quantity",
            "minimum_months",
            "billing_months",
            "monthly_price",
            "term_start",
            "ends_on",
        )
        .annotate(
            product_article=F("product__article"),
            product_name=F("product__name"),
            installation_identifier=F("installation__identifier"),
            installation_identifier_kind=F("installation__identifier_kind"),
            installation_name=F("installation__name"),
            customer_company=F("installation__customer__company"),
            has_price_changes=Exists(SubscriptionPriceChange.objects.filter(subscription=OuterRef("pk"))),
        )
        .order_by()
    )
)
_partner_billed_periods = PreparedRead(
    lambda partner_id: (
        BilledPeriod.objects.filter(subscription__partner_id=partner_id).only("subscription", "period_start").order_by()
    )
)


def _period_drafts(partner: Partner, through: date) -> list[LineDraft]:
    # Sorted here, not by the database: ORDER BY over joins costs more to compile than to sort.
    # Subscriptions starting after ``through`` have no period due (filtered here, so the
    # prepared read has no second parameter).
    subscriptions = sorted(
        (s for s in _partner_subscriptions(partner.pk) if s.term_start <= through),
        key=lambda s: (s.installation_identifier, s.product_article, s.reference),
    )
    _prefetch_price_changes(subscriptions)
    billed: dict[int, set[date]] = defaultdict(set)
    for period in _partner_billed_periods(partner.pk):
        billed[period.subscription_id].add(period.period_start)
    drafts = []
    for sub in subscriptions:
        description = None
        for period in _due_subscription_periods(sub, through, billed[sub.pk]):
            monthly = selectors.subscription_monthly_price_on(sub, period.start) * sub.quantity
            description = description or _subscription_description(sub)
            drafts.append(
                LineDraft(
                    article=sub.product_article,
                    description=description,
                    quantity=Decimal(_months(period)),
                    unit="MON",
                    unit_price=round_cents(monthly),
                    period_start=period.start,
                    period_end=period.end,
                    subscription=sub,
                )
            )
    # ``has_plans`` came with the partner's lock: most partners have none, and then nothing is read.
    plans = (
        sorted(
            ServicePlan.objects.filter(partner=partner, billed_from__lte=through)
            .select_related("installation", "installation__customer")
            .order_by(),
            key=lambda p: p.installation.identifier,
        )
        if getattr(partner, "has_plans", True)
        else []
    )
    if plans:
        billed_years: dict[int, set[date]] = defaultdict(set)
        for plan_id, start in (
            BilledPeriod.objects.filter(service_plan__partner=partner)
            .order_by()
            .values_list("service_plan_id", "period_start")
        ):
            billed_years[plan_id].add(start)
        for plan in plans:
            for year in _due_plan_years(plan, through, billed_years[plan.pk]):
                drafts.append(
                    LineDraft(
                        article=PLAN_ARTICLE.get(plan.plan, plan.plan.upper()),
                        description=_plan_description(plan),
                        quantity=Decimal(1),
                        unit="ANN",
                        unit_price=plan.yearly_price,
                        period_start=year.start,
                        period_end=year.end,
                        service_plan=plan,
                    )
                )
    return drafts


def _source_drafts(partner: Partner, month: date, named: dict[str, set[int]] | None) -> list[_Sourced]:
    sourced = []
    for source in invoicing_sources.sources():
        if named is not None and source.name in named and partner.pk not in named[source.name]:
            # The run asked each source once which partners it has lines for; one named later
            # is billed by the next run or the catch-up tick (its lines stay unbilled till then).
            continue
        for proposal in source.call("proposals", partner, month):
            if proposal.quantity <= 0 or proposal.unit_price < 0:
                raise BillingInputError(
                    _("Die Quelle „%(source)s“ schlägt eine Position ohne Menge oder mit negativem Preis vor.")
                    % {"source": source.name},
                    code="invalid_proposal",
                )
            draft = LineDraft(
                article=proposal.article,
                description=proposal.description[:300],
                quantity=proposal.quantity,
                unit=proposal.unit,
                unit_price=round_cents(proposal.unit_price),
                period_start=proposal.period_start or None,
                period_end=(proposal.period_end or proposal.period_start) if proposal.period_start else None,
            )
            sourced.append(_Sourced(draft=draft, proposal=proposal, source=source))
    return sourced


_locked_partner_row = PreparedRead(
    lambda partner_id: (
        Partner.objects.select_for_update(of=("self",))
        .annotate(
            active_mandate_id=Subquery(
                SepaMandate.objects.filter(partner=OuterRef("pk"), revoked_on__isnull=True, signed_on__isnull=False)
                .order_by("pk")
                .values("pk")[:1]
            ),
            # Any plan, whatever its start: a plan not billed yet by the month is filtered later.
            has_plans=Exists(ServicePlan.objects.filter(partner=OuterRef("pk"))),
            has_webhooks=has_webhooks_exists(),  # invoice.issued costs no query for a partner without
            # Any unbilled charge: charges_bill keeps those the run of the month bills (issue 18).
            has_charges=Exists(Charge.objects.filter(partner=OuterRef("pk"), billed_on__isnull=True)),
        )
        .filter(pk=partner_id)
        .order_by()
    )
)


def _locked_partner(partner_id: int) -> Partner | None:
    """The partner row, locked (``FOR UPDATE``, PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` holds
    the database), with the id of its active SEPA mandate (ORD-8) and whether it has service
    plans in the same query — most partners have neither, and then nothing more is read for
    them."""
    return next(iter(_locked_partner_row(partner_id)), None)


@transaction.atomic
def _bill_partner(
    *, partner_id: int, month: date, render_pdf: bool, rates: dict | None, named: dict[str, set[int]] | None = None
) -> PartnerBill | None:
    # The lock first: a second task for this partner waits here and then sees our periods.
    partner = _locked_partner(partner_id)
    if partner is None:
        return None
    # Line texts and payment terms in the partner's language (issue 21, docs/i18n.md).
    with for_partner(partner):
        period_drafts = _period_drafts(partner, month_end(month))
        sourced = _source_drafts(partner, month, named)
        issue_date = clock.today()
        invoice = None
        if period_drafts or sourced:
            invoice = _bill_regular(partner, issue_date, period_drafts, sourced, month, render_pdf, rates)
        # Issue 18: the partner's charges on their own invoice (category O only, BR-O-11), right
        # after the regular one, in the same transaction.
        charges_invoice = (
            charges_bill(partner=partner, month=month, issue_date=issue_date, render_pdf=render_pdf)
            if partner.has_charges
            else None
        )
    if invoice is None and charges_invoice is None:
        return None
    return PartnerBill(
        invoice=invoice, periods=len(period_drafts), source_lines=len(sourced), charges_invoice=charges_invoice
    )


def _bill_regular(partner, issue_date, period_drafts, sourced, month, render_pdf, rates) -> Invoice:
    """The partner's regular invoice of the run: subscription periods, plan years, source lines."""
    treatment, percent = invoice_vat(partner, issue_date, rates=rates)
    mandate = SepaMandate.objects.get(pk=partner.active_mandate_id) if partner.active_mandate_id else None
    invoice, lines = invoice_write(
        partner=partner,
        issue_date=issue_date,
        email=partner.invoice_email,
        drafts=period_drafts + [s.draft for s in sourced],
        vat_category=treatment.code,
        vat_note=treatment.note,
        vat_percent=percent,
        mandate=mandate,
        # Built here from the partner row and the drafts: the model's full_clean would only
        # add two queries (partner exists, number unique) the database checks on insert anyway.
        validate=False,
        render_pdf=render_pdf,
    )
    by_source: dict[str, list] = defaultdict(list)
    for entry, line in zip(sourced, lines[len(period_drafts) :], strict=True):
        by_source[entry.source.name].append((entry.source, entry.proposal, line))
    for entries in by_source.values():
        entries[0][0].call("billed", partner, month, [(proposal, line) for _, proposal, line in entries])
    return invoice


def invoicing_bill_partner(
    *,
    partner_id: int,
    month: date,
    render_pdf: bool = True,
    rates: dict | None = None,
    named: dict[str, set[int]] | None = None,
) -> PartnerBill | None:
    """Bill everything of one partner that is due through the end of ``month`` and not billed
    yet, as one invoice in one transaction (see the module docstring); ``None`` when nothing
    is due. Safe to call any number of times, from any number of workers at once.

    ``render_pdf``: render the invoice PDF in this process right after commit (else the outbox
    worker renders it before sending the e-mail). ``rates`` caches VAT rates over a run;
    ``named`` (source name → partner ids, from :func:`source_partners`) lets a run skip asking
    a source for the partners it did not name."""
    for attempt in range(1, RETRIES + 1):
        try:
            return _bill_partner(partner_id=partner_id, month=month, render_pdf=render_pdf, rates=rates, named=named)
        except IntegrityError:
            # A period (or a source's line) was billed by a concurrent writer that does not
            # take the partner lock; everything of ours was rolled back. Read again.
            if attempt == RETRIES:
                raise
            logger.warning("Invoicing partner %s: a period was billed concurrently, trying again", partner_id)
    return None  # pragma: no cover


# --- the run -------------------------------------------------------------------------------------


@dataclass
class InvoicingResult:
    month: date
    invoices: list[Invoice] = field(default_factory=list)
    periods: int = 0
    source_lines: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (partner id, error)

    def add(self, bill: PartnerBill | None) -> None:
        if bill is not None:
            self.invoices.extend(i for i in (bill.invoice, bill.charges_invoice) if i is not None)
            self.periods += bill.periods
            self.source_lines += bill.source_lines

    @property
    def net(self) -> Decimal:
        return sum((i.net_total for i in self.invoices), ZERO)

    @property
    def gross(self) -> Decimal:
        return sum((i.gross_total for i in self.invoices), ZERO)

    def summary(self) -> str:
        month = month_label(self.month)
        if not self.invoices:
            lines = [_("Abrechnung %(month)s: nichts mehr abzurechnen.") % {"month": month}]
        else:
            counts = ", ".join(
                [
                    ngettext("%(n)s Rechnung", "%(n)s Rechnungen", len(self.invoices)) % {"n": len(self.invoices)},
                    ngettext("%(n)s Abrechnungszeitraum", "%(n)s Abrechnungszeiträume", self.periods)
                    % {"n": self.periods},
                    ngettext("%(n)s weitere Position", "%(n)s weitere Positionen", self.source_lines)
                    % {"n": self.source_lines},
                ]
            )
            lines = [
                _("Abrechnung %(month)s: %(counts)s, netto %(net)s, brutto %(gross)s.")
                % {"month": month, "counts": counts, "net": format_eur(self.net), "gross": format_eur(self.gross)}
            ]
        if self.failed:
            lines.append(
                _("%(count)s Partner nicht abgerechnet (der nächste Lauf versucht es erneut):")
                % {"count": len(self.failed)}
            )
            lines += [f"- Partner {pid}: {error}" for pid, error in self.failed[:20]]
        return "\n".join(lines)


def invoicing_run_started(*, month: date) -> InvoicingRun:
    """Record that a run of ``month`` starts (again): unfinished until a check finds nobody due."""
    run, created = InvoicingRun.objects.get_or_create(month=month, defaults={"started_at": clock.now()})
    if not created and run.finished_at is not None:
        InvoicingRun.objects.filter(pk=run.pk).update(finished_at=None)
        run.finished_at = None
    return run


def _run_finished(month: date) -> None:
    InvoicingRun.objects.filter(month=month, finished_at__isnull=True).update(finished_at=clock.now())


def invoicing_run(*, month: date, render_pdf: bool = True) -> InvoicingResult:
    """The whole run in this process, partner by partner (``run_invoicing``, the benchmark):
    the same per-partner transactions the workers run. A partner that fails is reported and
    left for the next run (the run stays unfinished for the catch-up); the others are billed."""
    invoicing_run_started(month=month)
    result = InvoicingResult(month=month)
    rates: dict = {}
    named = source_partners(month=month)
    for partner_id in due_partner_ids(month=month, named=named):
        try:
            result.add(
                invoicing_bill_partner(
                    partner_id=partner_id, month=month, render_pdf=render_pdf, rates=rates, named=named
                )
            )
        except Exception as exc:  # one partner's data must not stop the others' invoices
            logger.exception("Invoicing partner %s for %s failed", partner_id, month_label(month))
            result.failed.append((partner_id, f"{type(exc).__name__}: {exc}"[:500]))
    if not result.failed:
        _run_finished(month)
    return result


def _queue_partner(partner_id: int, month: date) -> None:
    # Imported here: the tasks module imports this one.
    from billing.tasks import invoicing_partner

    invoicing_partner.delay(partner_id, month.isoformat())


def invoicing_dispatch(*, month: date) -> int:
    """The Celery run: one task per partner with something due (they re-check under the lock);
    returns how many were queued. Recorded as the month's run, finished at once when nobody is
    due, else by a later catch-up that finds nobody left."""
    invoicing_run_started(month=month)
    return _dispatch_due(month)


def _dispatch_due(month: date) -> int:
    partner_ids = due_partner_ids(month=month)
    if not partner_ids:
        _run_finished(month)
    for partner_id in partner_ids:
        _queue_partner(partner_id, month)
    return len(partner_ids)


def invoicing_catch_up(*, today: date) -> dict[date, int]:
    """The hourly catch-up (INV-3): every unfinished run, of any month, oldest first, then the
    current month — the partners still due queued again, runs with nobody left finished.
    Returns ``{month: partners queued}``; all zero when everything is billed."""
    months = sorted(set(InvoicingRun.objects.filter(finished_at__isnull=True).values_list("month", flat=True)))
    current = today.replace(day=1)
    if current not in months:
        months.append(current)
    return {month: _dispatch_due(month) for month in months}
