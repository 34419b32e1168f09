"""Partner-scoped reads for licensing's portal pages (STYLE 3).

Every object a portal URL names is fetched here with the partner in the filter, so
another partner's id is simply not found (the view answers 404). List reads carry their
``select_related``/``prefetch_related`` so a page runs the same few queries for 3 rows
or 500.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q

from licensing import rules
from licensing.models import DeliveryNote, Installation, License
from licensing.selectors.systems import auerswald_systems
from vendorportal.parties.models import Customer, Partner

# Demo keys that run out within this many days are on the dashboard (and those that ran
# out in the last week, so a partner who was away still sees them).
KEYS_EXPIRING_DAYS = 30
KEYS_EXPIRED_SHOWN_DAYS = 7


def partner_customers(partner: Partner):
    """The partner's customers with the number of their installations."""
    return (
        Customer.objects.filter(partner=partner)
        .annotate(installation_count=Count("installations"))
        .order_by("company", "pk")
    )


def partner_customer(*, partner: Partner, pk: int) -> Customer:
    """One customer of ``partner`` (``Customer.DoesNotExist`` otherwise)."""
    return Customer.objects.get(partner=partner, pk=pk)


def partner_installations(partner: Partner, *, customer: Customer | None = None):
    qs = (
        Installation.objects.for_partner(partner)
        .select_related("customer", "secondary_of")
        .order_by("customer__company", "identifier")
    )
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs


def partner_installation(*, partner: Partner, pk: int) -> Installation:
    """One installation of ``partner``'s customers (``Installation.DoesNotExist`` otherwise)."""
    return Installation.objects.for_partner(partner).select_related("customer", "secondary_of").get(pk=pk)


def partner_licenses(partner: Partner):
    """The module licence keys of the partner's installations, newest first, each with its
    delivery notes (only those whose PDF is stored: the ones a partner can download)."""
    notes = DeliveryNote.objects.exclude(pdf="").order_by("-created_at")
    return (
        License.objects.filter(installation__customer__partner=partner)
        .select_related("product", "module_version", "installation__customer")
        .prefetch_related(Prefetch("delivery_notes", queryset=notes, to_attr="stored_notes"))
        .order_by("-issued_at", "-pk")
    )


def partner_delivery_note(*, partner: Partner, pk: int) -> DeliveryNote:
    """A delivery note of ``partner`` with its stored PDF (``DeliveryNote.DoesNotExist``
    for another partner's note and for one whose PDF is not rendered yet)."""
    return DeliveryNote.objects.exclude(pdf="").get(installation__customer__partner=partner, pk=pk)


def expiring_keys(*, partner: Partner, today: date):
    """Active time-limited keys (demo, LIC-6, and their goodwill replacements) of the
    partner that run out within 30 days or ran out in the last week, soonest first."""
    return (
        License.objects.filter(
            installation__customer__partner=partner,
            state=License.ACTIVE,
            valid_until__isnull=False,
            valid_until__gte=today - timedelta(days=KEYS_EXPIRED_SHOWN_DAYS),
            valid_until__lte=today + timedelta(days=KEYS_EXPIRING_DAYS),
        )
        .select_related("product", "installation__customer")
        .order_by("valid_until", "pk")
    )


# The Softwarepflege states that need the partner's attention (SWP-8).
SWP_ATTENTION_STATES = (rules.SWP_EXPIRING, rules.SWP_LAPSED, rules.SWP_LAPSED_SURCHARGE)


def swp_attention(*, partner: Partner, today: date):
    """Active Auerswald systems whose Softwarepflege runs out within 60 days or lapsed and
    can still be renewed online (SWP-8), soonest coverage end first."""
    windows = rules.maintenance_state_windows(today)
    q = Q()
    for state in SWP_ATTENTION_STATES:
        low, high = windows[state]
        q |= Q(coverage_end__gte=low, coverage_end__lte=high)
    return (
        auerswald_systems(today=today, partner=partner).active(today).filter(q).order_by("coverage_end", "identifier")
    )
