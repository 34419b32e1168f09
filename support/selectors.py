"""Reads of the support desk (STYLE 3): the one queue order, partner-scoped tickets,
entitlements, version hints and the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext as _

from billing.models import OrderLine, ServicePlan
from billing.selectors import service_plan_on
from licensing import rules as licensing_rules
from licensing.constants import AUERSWALD
from licensing.selectors.licenses import newest_module_version_for_pbx
from licensing.selectors.systems import auerswald_systems, system_facts
from support import rules
from support.models import Article, Attachment, CustomerSupportFacts, Ticket
from vendorportal.formats import format_date

INCOMPATIBILITY_ARTICLE_SLUG = "faq-nosuchmethoderror-nach-starface-update"


def _plan_in_force_q(on: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}starts_on__lte": on}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": on})
    )


def ticket_queue(*, today: date, queryset: QuerySet | None = None) -> QuerySet:
    """Tickets in the order support works them (SUP-1, SUP-2; ``rules.queue_key``):

    1. open Enterprise tickets whose SLA warning is out or which are breached,
    2. customers with a service & maintenance contract in force or a Premium/Enterprise
       plan on the ticket's server key (``service_group``),
    3. within a group by urgency, 4. then by arrival.

    The staff queue and the admin's default ordering both use this selector.
    """
    qs = queryset if queryset is not None else Ticket.objects.all()
    contract = CustomerSupportFacts.objects.filter(customer=OuterRef("customer"), service_contract_until__gte=today)
    plan = ServicePlan.objects.filter(_plan_in_force_q(today), installation=OuterRef("installation"))
    return (
        qs.select_related("partner", "customer", "installation", "product")
        .annotate(
            service_group=Exists(contract) | Exists(plan),
            sla_attention=Case(
                When(
                    Q(status__in=rules.OPEN_STATES, sla_due_at__isnull=False, first_response_at__isnull=True)
                    & (Q(sla_warned_at__isnull=False) | Q(sla_breached_at__isnull=False)),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            ),
            urgency_rank=Case(
                *[When(urgency=u, then=Value(rank)) for u, rank in rules.URGENCY_RANK.items()],
                output_field=IntegerField(),
            ),
        )
        .order_by("-sla_attention", "-service_group", "urgency_rank", "received_at", "pk")
    )


def open_ticket_queue(*, today: date) -> QuerySet:
    return ticket_queue(today=today, queryset=Ticket.objects.filter(status__in=rules.OPEN_STATES))


# --- partner-scoped (portal) -------------------------------------------------------------


def tickets_for_partner(partner) -> QuerySet:
    return (
        Ticket.objects.filter(partner=partner)
        .select_related("customer", "installation", "product")
        .order_by("-received_at", "-pk")
    )


def partner_ticket(*, partner, pk: int) -> Ticket:
    """The partner's ticket; raises ``Ticket.DoesNotExist`` for another partner's id."""
    return tickets_for_partner(partner).get(pk=pk)


def partner_attachment(*, partner, ticket_pk: int, pk: int) -> Attachment:
    """An attachment of the partner's ticket; ``Attachment.DoesNotExist`` otherwise."""
    return Attachment.objects.select_related("ticket").get(pk=pk, ticket_id=ticket_pk, ticket__partner=partner)


def public_messages(ticket: Ticket):
    return ticket.messages.filter(internal=False).select_related("author").prefetch_related("attachments")


def tickets_waiting_for_partner(partner) -> QuerySet:
    return tickets_for_partner(partner).filter(status=rules.WAITING)


# --- entitlements, versions --------------------------------------------------------------


def customer_facts(customer) -> CustomerSupportFacts | None:
    if customer is None:
        return None
    return CustomerSupportFacts.objects.filter(customer=customer).first()


def dpa_on_file(customer, on: date) -> bool:
    facts = customer_facts(customer)
    return bool(facts and facts.dpa_on_file_since and facts.dpa_on_file_since <= on)


def basic_booked(installation) -> bool:
    """Installation support Basic (SP-BASIC) bought with a confirmed order for the server key."""
    if installation is None:
        return False
    return OrderLine.objects.filter(
        installation=installation, product__article="SP-BASIC", order__state__in=["confirmed", "fulfilled"]
    ).exists()


def plan_of(ticket: Ticket, on: date) -> str:
    return service_plan_on(ticket.installation, on) if ticket.installation_id else rules.FREE


def ticket_entitlements(ticket: Ticket, on: date) -> rules.Entitlements:
    facts = customer_facts(ticket.customer)
    contract_until = facts.service_contract_until if facts else None
    return rules.entitlements(
        plan=plan_of(ticket, on),
        service_contract=contract_until is not None and contract_until >= on,
        dpa=bool(facts and facts.dpa_on_file_since and facts.dpa_on_file_since <= on),
        basic_booked=basic_booked(ticket.installation),
    )


@dataclass(frozen=True)
class VersionNotice:
    newest: str
    message: str


def version_notice(ticket: Ticket) -> VersionNotice | None:
    """SUP-7: the stated module version is not the newest released for the stated PBX
    version (licensing's compatibility selector) → say which version to install."""
    if not (ticket.product_id and ticket.pbx_version and ticket.module_version):
        return None
    newest = newest_module_version_for_pbx(ticket.product, ticket.pbx_version)
    if newest is None or newest.version == ticket.module_version:
        return None
    return VersionNotice(
        newest=newest.version,
        message=_(
            "Modulversion %(stated)s ist nicht die neueste für STARFACE %(pbx)s freigegebene Version: "
            "bitte Version %(newest)s installieren."
        )
        % {"stated": ticket.module_version, "pbx": ticket.pbx_version, "newest": newest.version},
    )


def swp_state_sentence(coverage_end: date | None, today: date) -> str:
    """The Softwarepflege state of an Auerswald system in one sentence (SWP-8), for the
    ticket form, the ticket and support's view of it."""
    if coverage_end is None:
        return _(
            "Für dieses System ist keine Softwarepflege erfasst: ohne Softwarepflege keine Updates und "
            "Bugfixes, keine PBX Call Assist App für Microsoft Teams und keine aktuellen mobilen Apps."
        )
    state = licensing_rules.maintenance_state(coverage_end, today)
    end = format_date(coverage_end)
    if state == licensing_rules.SWP_ACTIVE:
        return _("Softwarepflege aktiv bis %(end)s.") % {"end": end}
    if state == licensing_rules.SWP_EXPIRING:
        return _("Softwarepflege läuft am %(end)s ab.") % {"end": end}
    return _(
        "Softwarepflege endete am %(end)s — %(state)s. Ohne Softwarepflege keine Updates und Bugfixes, "
        "keine PBX Call Assist App für Microsoft Teams und keine aktuellen mobilen Apps."
    ) % {"end": end, "state": licensing_rules.SWP_STATE_LABELS[state]}


def partner_system_swp(partner, today: date) -> dict[int, str]:
    """Softwarepflege sentence of each Auerswald system of a partner, by installation id
    (one query), for the new-ticket form."""
    rows = auerswald_systems(today=today, partner=partner).values_list("pk", "coverage_end")
    return {pk: swp_state_sentence(end, today) for pk, end in rows}


def is_comtrexx(installation) -> bool:
    """Without an installation the model is unknown and counts as a COMtrexx (edition
    codes of licensing's ``EDITIONS``: ``comtrexx_next``, ``comtrexx_vm``, …)."""
    return installation is None or installation.edition.startswith("comtrexx")


def system_notices(ticket: Ticket, today: date) -> list[str]:
    """What an Auerswald ticket tells partner and staff about its system: the firmware a
    PBX Call Assist 5 needs (seed 003) and the Softwarepflege state (SWP-8)."""
    if ticket.vendor != AUERSWALD:
        return []
    notices = []
    if rules.call_assist_firmware_too_old(
        firmware_version=ticket.firmware_version,
        call_assist_version=ticket.call_assist_version,
        is_comtrexx=is_comtrexx(ticket.installation),
    ):
        notices.append(
            _(
                "PBX Call Assist 5 braucht auf einer COMtrexx die Firmware 2.0.3 oder neuer; "
                "installiert ist %(fw)s: bitte zuerst die Firmware des Systems aktualisieren."
            )
            % {"fw": ticket.firmware_version}
        )
    if ticket.installation_id:
        notices.append(swp_state_sentence(system_facts(ticket.installation).coverage_end, today))
    return notices


def mentions_incompatibility(ticket: Ticket) -> bool:
    texts = [ticket.subject, *ticket.messages.values_list("body", flat=True)]
    return any(rules.mentions_incompatibility(text) for text in texts)


def incompatibility_article() -> Article | None:
    return Article.objects.filter(slug=INCOMPATIBILITY_ARTICLE_SLUG, published=True).first()


# --- knowledge base (SUP-8) --------------------------------------------------------------


def partner_has_contract(partner, on: date) -> bool:
    """Internal articles are for customers with a contract: the partner sees them when one of
    its customers has a service contract in force or a Premium/Enterprise plan on a server key."""
    contract = CustomerSupportFacts.objects.filter(customer__partner=partner, service_contract_until__gte=on)
    plan = ServicePlan.objects.filter(_plan_in_force_q(on), installation__customer__partner=partner)
    return contract.exists() or plan.exists()


# Knowledge-base search: how much a match of a word counts, by where it is found.
KB_PHRASE_WEIGHT, KB_TITLE_WEIGHT, KB_TAG_WEIGHT, KB_BODY_WEIGHT = 20, 10, 5, 1


def articles_for_partner(*, partner, on: date, query: str = "", tag: str = "") -> QuerySet:
    qs = Article.objects.filter(published=True).prefetch_related("tags")
    if not partner_has_contract(partner, on):
        qs = qs.filter(visibility=Article.PUBLIC)
    if tag:
        qs = qs.filter(Exists(Article.tags.through.objects.filter(article=OuterRef("pk"), tag__name=tag)))
    if not query:
        return qs.order_by("title")
    # Every word must occur (title, tag or text); the best matches come first: the whole
    # query in the title, then each word in the title, in a tag, in the text (weights
    # below), ties by title. Plain LIKE lookups, the same on SQLite and PostgreSQL.
    score = Value(0)
    words = query.split()[:8]
    for word in words:
        in_tag = Exists(Article.tags.through.objects.filter(article=OuterRef("pk"), tag__name__icontains=word))
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word) | in_tag)
        score = (
            score
            + Case(When(title__icontains=word, then=Value(KB_TITLE_WEIGHT)), default=Value(0))
            + Case(When(in_tag, then=Value(KB_TAG_WEIGHT)), default=Value(0))
            + Case(When(body__icontains=word, then=Value(KB_BODY_WEIGHT)), default=Value(0))
        )
    if len(words) > 1:
        score = score + Case(When(title__icontains=" ".join(words), then=Value(KB_PHRASE_WEIGHT)), default=Value(0))
    return qs.annotate(relevance=ExpressionWrapper(score, output_field=IntegerField())).order_by("-relevance", "title")


def article_for_partner(*, partner, on: date, slug: str) -> Article:
    return articles_for_partner(partner=partner, on=on).get(slug=slug)
