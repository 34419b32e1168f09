"""Business rules of orders, prices and invoices (GEN-2, GEN-3, CAT-4, ORD-3…ORD-9, INV-1).

Pure functions over ``date``, ``Decimal`` and plain values (STYLE 2): no ORM, no
``now()``, no I/O. In rule-ID order; each docstring names its RULES.md ID. Percentages
are percent values (``Decimal("10")`` = 10 %), amounts are net EUR ``Decimal``\\ s.
Refusals raise the errors of :mod:`billing.exceptions` or return a German message.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import holidays
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from billing.exceptions import BillingInputError, TierUpgradeRefused
from licensing.rules import tier_rank
from vendorportal.formats import format_date
from vendorportal.money import ZERO, D, round_cents
from vendorportal.periods import add_months, first_of_next_month, month_end, month_period_end, months_passed_within

HUNDRED = Decimal(100)

# --- GEN-2: VAT --------------------------------------------------------------------------

# EU member states by ISO 3166 code (Greece's VAT IDs start with "EL", its ISO code is "GR").
EU_COUNTRIES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
VAT_ID_PREFIX = {"GR": "EL"}

# The three treatments and their EN 16931 VAT category codes (UNTDID 5305), which the
# e-invoice (INV-4) carries per line and per rate:
#   S  standard rate — German buyers, and EU buyers without a valid VAT ID;
#   AE reverse charge — EU business buyers with a valid VAT ID outside Germany;
#   O  not subject to VAT — buyers outside the EU. Decision: "O", not "G": "G" is the
#      export of *goods*, while licences and subscriptions are services whose place of
#      supply is the buyer's country (§ 3a (2) UStG), so they are not taxable here at
#      all. EN 16931 BR-O-02 then wants no seller/buyer VAT ID in the XML: the invoice
#      names the seller by its tax number (BT-32) there.
DOMESTIC = "domestic"
REVERSE_CHARGE = "reverse_charge"
NOT_TAXABLE = "not_taxable"
VAT_CODE_STANDARD = "S"
VAT_CODE_REVERSE_CHARGE = "AE"
VAT_CODE_NOT_SUBJECT = "O"
VAT_CODES = (VAT_CODE_STANDARD, VAT_CODE_REVERSE_CHARGE, VAT_CODE_NOT_SUBJECT)


@dataclass(frozen=True)
class VatTreatment:
    """How an invoice to a buyer is taxed (GEN-2): the category, its EN 16931 code and
    the legal note the invoice must print (empty for domestic invoices). The rate of
    the category comes from the VAT rate data valid on the invoice date."""

    category: str  # DOMESTIC | REVERSE_CHARGE | NOT_TAXABLE
    code: str  # EN 16931 VAT category code: S | AE | O
    note: str  # German legal note for the invoice


def valid_vat_id_for(country: str, vat_id: str) -> bool:
    """Whether ``vat_id`` is a well-formed VAT ID with a correct check digit issued by
    EU member state ``country`` (GEN-2). Offline: a VIES lookup is not part of a rule."""
    number = (vat_id or "").replace(" ", "").replace(".", "").replace("-", "").upper()
    expected_prefix = VAT_ID_PREFIX.get(country, country)
    if not number.startswith(expected_prefix):
        return False
    try:
        eu_vat.validate(number)
    except StdnumError:
        return False
    return True


def vat_treatment(buyer_country: str, buyer_vat_id: str, seller_country: str = "DE") -> VatTreatment:
    """The VAT treatment of a sale from ``seller_country`` to a buyer (GEN-2).

    Same country as the seller → domestic VAT (19 % in Germany); another EU country
    with a valid VAT ID of that country → reverse charge (0 %, the invoice says so);
    another EU country without one → domestic VAT as for a consumer; outside the EU →
    not taxable in Germany (0 %). DE, "" → S; AT, ATU13585627 → AE; AT, "" → S;
    CH, CHE-116.281.710 → O.
    """
    buyer = (buyer_country or "").strip().upper()
    seller = (seller_country or "").strip().upper()
    if len(buyer) != 2 or len(seller) != 2:
        raise BillingInputError(_("Bitte das Land des Käufers als zweistelligen ISO-Code angeben, z. B. DE oder AT."))
    if buyer == seller or (buyer in EU_COUNTRIES and not valid_vat_id_for(buyer, buyer_vat_id)):
        return VatTreatment(DOMESTIC, VAT_CODE_STANDARD, "")
    if buyer in EU_COUNTRIES:
        return VatTreatment(
            REVERSE_CHARGE,
            VAT_CODE_REVERSE_CHARGE,
            _(
                "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge): Die Umsatzsteuer schuldet "
                "der Leistungsempfänger (§ 13b UStG, Art. 196 MwStSystRL)."
            ),
        )
    return VatTreatment(
        NOT_TAXABLE,
        VAT_CODE_NOT_SUBJECT,
        _("Nicht im Inland steuerbare Leistung (Leistungsort beim Empfänger, § 3a Abs. 2 UStG)."),
    )


def net_by_rate(lines: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """Net totals per VAT rate (GEN-2): the sum of the line totals, each first rounded half
    up to cents, of that rate. Highest rate first. [(10.005, 19), (5, 19)] → {19: 15.01}."""
    totals: dict[Decimal, Decimal] = {}
    for net, rate in lines:
        rate = D(rate)
        totals[rate] = totals.get(rate, ZERO) + round_cents(net)
    return dict(sorted(totals.items(), key=lambda item: item[0], reverse=True))


def vat_amounts(lines: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """VAT per rate (GEN-2): rate × the sum of that rate's rounded net line totals, rounded
    half up to cents once per rate — never per line.

    Three lines of 0,05 € at 19 %: 0,15 € × 19 % = 0,0285 → 0,03 € (per line it would be 3 × 0,01 €).
    """
    return {rate: round_cents(net * rate / HUNDRED) for rate, net in net_by_rate(lines).items()}


# --- GEN-3: combined discounts -----------------------------------------------------------


def _percent(value) -> Decimal:
    percent = D(value)
    if not ZERO <= percent <= HUNDRED:
        raise BillingInputError(_("Ein Rabatt liegt zwischen 0 und 100 %%, nicht bei %(value)s %%.") % {"value": value})
    return percent


def combine_discounts(*percents) -> Decimal:
    """The factor left after several percentage discounts: they multiply (GEN-3).

    90 % and 50 % → 0,1 × 0,5 = 0,05 (a combined 95 %); 10 % and 10 % → 0,81; none → 1.
    """
    factor = Decimal(1)
    for percent in percents:
        factor *= (HUNDRED - _percent(percent)) / HUNDRED
    return factor


def combined_percent(*percents) -> Decimal:
    """The single discount percentage equal to several combined ones (GEN-3): 10, 10 → 19."""
    return (Decimal(1) - combine_discounts(*percents)) * HUNDRED


def apply_discounts(price, *percents) -> Decimal:
    """``price`` after all ``percents`` (GEN-3), exact: the caller rounds once per line (GEN-2).

    1299 with 90 % and 50 % → 64,95. A price is never negative, nor is the result.
    """
    price = D(price)
    if price < 0:
        raise BillingInputError(_("Ein Preis ist nie negativ."))
    return price * combine_discounts(*percents)


# --- CAT-4: Teams Presence Sync ------------------------------------------------------------

USERS_PER_BLOCK = 5


def started_user_blocks(users: int) -> int:
    """Teams Presence Sync is priced per *started* block of 5 users (CAT-4): 12 → 3, 5 → 1, 6 → 2."""
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise BillingInputError(_("Bitte die Anzahl der Benutzer angeben (mindestens 1)."))
    return math.ceil(users / USERS_PER_BLOCK)


# --- ORD-2: where the keys go ----------------------------------------------------------------


def delivery_recipient(*, installation_email: str, customer_email: str, order_email: str) -> str:
    """The delivery e-mail of one installation's keys (ORD-2): the installation's own
    delivery e-mail, else its customer's, else the order's (which defaults to the
    partner's). So a partner ordering for many customers has each end customer's keys
    delivered straight to that customer. ("", "it@kunde.test", "technik@partner.test") →
    "it@kunde.test"."""
    for email in (installation_email, customer_email, order_email):
        if email and email.strip():
            return email.strip()
    return ""


# --- ORD-3: bundle discount ------------------------------------------------------------------

BUNDLE_DISCOUNT_PERCENT = Decimal("10")
PURCHASE = "purchase"
SUBSCRIPTION = "subscription"


def complete_bundles(bundles: Mapping[str, Iterable[str]], purchased: Iterable[str]) -> list[str]:
    """Names of the bundles all of whose modules are bought in this order (ORD-3), sorted.

    ``purchased`` are the articles bought (new purchases, not upgrades) in the order for
    one installation (decision ORD-1/ORD-4: bundles count per installation). A bundle
    without modules is never complete.
    """
    bought = set(purchased)
    return sorted(name for name, articles in bundles.items() if (members := set(articles)) and members <= bought)


def bundle_discount_percent(
    article: str, kind: str, bundles: Mapping[str, Iterable[str]], purchased: Iterable[str], is_upgrade: bool = False
) -> Decimal:
    """10 % off a module's price when every module of a bundle it belongs to is bought in
    the same order (ORD-3). Purchase only: never for subscriptions (they can be ended
    module by module), nor for upgrades (they buy no module). Not stacked when the
    module belongs to two complete bundles."""
    if kind != PURCHASE or is_upgrade:
        return ZERO
    for name in complete_bundles(bundles, purchased):
        if article in set(bundles[name]):
            return BUNDLE_DISCOUNT_PERCENT
    return ZERO


# --- ORD-4: volume discount ------------------------------------------------------------------

VOLUME_MIN_LICENSES = 10
VOLUME_DISCOUNT_PERCENT = Decimal("10")


def volume_discount_percent(kind: str, licenses_of_module: int, as_package: bool = False) -> Decimal:
    """10 % when at least 10 licences of the same module are bought in one order (ORD-4).

    Decision ORD-1/ORD-4: ``licenses_of_module`` counts that module over every installation
    of the order (a licence is bound to one server key: ten licences are ten installations).

    Subscriptions only when booked as a package (common term and start, cancelled only
    as a whole). 9 → 0, 10 → 10; subscription of 12 not as a package → 0.
    """
    if licenses_of_module < VOLUME_MIN_LICENSES:
        return ZERO
    if kind == SUBSCRIPTION and not as_package:
        return ZERO
    return VOLUME_DISCOUNT_PERCENT


# --- ORD-5: partner conditions -----------------------------------------------------------------


def partner_discount_percent(
    *, grants_conditions: bool, level_percent, status_confirmed_on: date | None, order_date: date
) -> Decimal:
    """The partner purchase condition that applies to an order (ORD-5): the level's discount
    when the level grants partner conditions ("Certified" and up) AND the partner status
    was confirmed on or before the order date; otherwise end-customer prices (0 %)."""
    if not grants_conditions or status_confirmed_on is None or status_confirmed_on > order_date:
        return ZERO
    return _percent(level_percent)


# --- ORD-6: tier upgrade ------------------------------------------------------------------------


def tier_upgrade_price(*, from_tier: str, to_tier: str, from_price, to_price) -> Decimal:
    """A tier upgrade costs the difference of the two tiers' purchase prices (ORD-6);
    never negative. Refused (:class:`TierUpgradeRefused`) unless ``to_tier`` is higher.

    Call Recording 21-40 (1.200,00 €) → 41-80 (2.400,00 €): 1.200,00 €.
    """
    if tier_rank(to_tier) <= tier_rank(from_tier):
        raise TierUpgradeRefused(
            _(
                "Ein Staffel-Upgrade führt nur in eine höhere Benutzerstaffel: Die Lizenz gilt bereits für "
                "%(from)s Benutzer, gewünscht ist %(to)s."
            )
            % {"from": from_tier, "to": to_tier},
            code="tier_not_higher",
        )
    return max(ZERO, round_cents(D(to_price) - D(from_price)))


# --- ORD-7: paid upgrade ---------------------------------------------------------------------

PLAN_FREE = "free"
PLAN_BASIC = "basic"
PLAN_PREMIUM = "premium"
PLAN_ENTERPRISE = "enterprise"
PLAN_DISCOUNT_PERCENT = {
    PLAN_FREE: Decimal("0"),
    PLAN_BASIC: Decimal("0"),
    PLAN_PREMIUM: Decimal("50"),
    PLAN_ENTERPRISE: Decimal("90"),
}
# (months, discount): "less than n months since the purchase" → discount; later: 10 %.
UPGRADE_TIME_DISCOUNTS = ((3, Decimal("100")), (6, Decimal("50")), (12, Decimal("25")))
UPGRADE_TIME_DISCOUNT_LATER = Decimal("10")


def upgrade_plan_discount_percent(plan: str) -> Decimal:
    """Service plan discount on a paid upgrade (ORD-7): Premium 50 %, Enterprise 90 %, else 0."""
    key = (plan or "").strip().lower()
    if key not in PLAN_DISCOUNT_PERCENT:
        raise BillingInputError(
            _("Unbekannter Service-Plan „%(plan)s“; möglich sind free, basic, premium und enterprise.") % {"plan": plan}
        )
    return PLAN_DISCOUNT_PERCENT[key]


def upgrade_time_discount_percent(purchased_on: date, upgraded_on: date) -> Decimal:
    """Time discount on a paid upgrade by the months since the previous version was bought
    (ORD-7, GEN-1): < 3 months 100 %, < 6 months 50 %, < 12 months 25 %, later 10 %.

    "Less than n months since S" on day T means T ≤ month_period_end(S, n): bought
    2026-01-15 → 100 % through 2026-04-14, 50 % through 2026-07-14, 25 % through
    2027-01-14, 10 % from 2027-01-15 on.
    """
    if upgraded_on < purchased_on:
        raise BillingInputError(_("Ein Upgrade kann nicht vor dem Kauf der Vorversion liegen."))
    for months, percent in UPGRADE_TIME_DISCOUNTS:
        if months_passed_within(purchased_on, months, upgraded_on):
            return percent
    return UPGRADE_TIME_DISCOUNT_LATER


def upgrade_price(list_price: Decimal, purchased_on: date, upgraded_on: date, plan: str) -> Decimal:
    """Price of a paid upgrade (ORD-7) = new purchase price × (1 − plan discount) ×
    (1 − time discount), rounded half up to cents (GEN-2, GEN-3).

    Seed example: 1.299,00 €, Enterprise, bought almost 6 months ago → 1299 × 0,1 × 0,5 = 64,95 €.
    Subscriptions upgrade free of charge; this price is for purchased licences.
    """
    return round_cents(
        apply_discounts(
            list_price, upgrade_plan_discount_percent(plan), upgrade_time_discount_percent(purchased_on, upgraded_on)
        )
    )


# --- ORD-8: payment terms ---------------------------------------------------------------------

PAYMENT_DAYS = 14
DIRECT_DEBIT_LIMIT = Decimal("50.00")
TRANSFER = "transfer"
DIRECT_DEBIT = "direct_debit"
PREPAYMENT = "prepayment"
#: SEPA core pre-notification: the debtor learns the day of the debit at least 14 calendar
#: days before it (SEPA rulebook default; the invoice is the pre-notification).
PRENOTIFICATION_DAYS = 14


@dataclass(frozen=True)
class PaymentTerms:
    """How and by when an invoice is paid (ORD-8), with the sentence the invoice prints.
    For a direct debit ``due_date`` is the announced collection day (pre-notification)."""

    means: str  # TRANSFER | DIRECT_DEBIT | PREPAYMENT
    due_date: date
    text: str


@lru_cache(maxsize=32)
def _target_closing_days(year: int):
    return holidays.financial_holidays("ECB", years=year)


def is_sepa_business_day(day: date) -> bool:
    """A TARGET2 business day (SEPA settles only on these): Mon–Fri except 1 Jan, Good
    Friday, Easter Monday, 1 May, 25 and 26 Dec."""
    return day.weekday() < 5 and day not in _target_closing_days(day.year)


def sepa_business_day_on_or_after(day: date) -> date:
    """The collection day for "not before ``day``" (ORD-8 / SEPA): ``day`` itself if it is a
    TARGET2 business day, else the next one. 05.12.2026 (Sat) → 07.12.2026; 25.12.2026 (Fri) →
    28.12.2026; 01.01.2027 (Fri) → 04.01.2027."""
    while not is_sepa_business_day(day):
        day += timedelta(days=1)
    return day


def sepa_business_days_before(day: date, count: int) -> date:
    """The business day ``count`` TARGET2 business days before ``day``: the last day a file
    collecting on ``day`` may reach the bank (SEPA core: D-1). 04.01.2027, 1 → 31.12.2026."""
    while count > 0:
        day -= timedelta(days=1)
        if is_sepa_business_day(day):
            count -= 1
    return day


def direct_debit_collection_day(announced_on: date) -> date:
    """The day a direct debit announced on ``announced_on`` is collected (ORD-8 / SEPA
    decision): ``PRENOTIFICATION_DAYS`` later, moved to the next TARGET2 business day, so the
    file can ask for exactly that day. Invoice 21.11.2026 → 05.12.2026 is a Saturday → 07.12.2026."""
    return sepa_business_day_on_or_after(announced_on + timedelta(days=PRENOTIFICATION_DAYS))


def direct_debit_needs_new_date(announced: date, today: date, lead_days: int) -> bool:
    """ORD-8 / SEPA decision: a debit is collected on exactly the announced day, and SEPA core
    wants the file at the bank ``lead_days`` business days before it. A debit whose day has
    passed, or whose file could not reach the bank in time any more (``today`` after the last
    submission day), must be announced again with a new day. Announced 21.12.2026 (Mon),
    lead 1: the file must reach the bank on 18.12. (Fri) — in time then, not on 19.12. or later."""
    return today > sepa_business_days_before(announced, lead_days)


def period_months(start: date, end: date) -> int:
    """The months a billed period spans for ORD-8's monthly amount, counted from its start by
    GEN-1 and rounded up to started months: 01.01.–31.03. → 3; 01.12.2026–30.11.2027 → 12;
    a first partial month (SUB-2, 21.11.–30.11.) → 1."""
    if end < start:
        raise BillingInputError(_("Ein Zeitraum kann nicht vor seinem Beginn enden."))
    months = 1
    while month_period_end(start, months) < end:
        months += 1
    return months


def invoice_monthly_amount(recurring: Iterable[tuple[Decimal, date, date]]) -> Decimal:
    """ORD-8 (decision in RULES.md): the "monthly amount" of an invoice is the sum, over its
    subscription and plan lines ``(net, period start, period end)``, of each line's net divided
    by the months of its period (:func:`period_months`), rounded half up to cents at the end.
    A quarter of 60,00 € counts 20,00 €; a plan year of 828,00 € counts 69,00 €."""
    total = sum((D(net) / period_months(start, end) for net, start, end in recurring), ZERO)
    return round_cents(total)


def payment_terms(
    *,
    monthly_amount: Decimal | None,
    has_purchases: bool,
    has_mandate: bool,
    mandate_above_limit: bool,
    prepayment_required: bool,
    invoice_date: date,
    mandate_suspended: bool = False,
) -> PaymentTerms:
    """Payment terms of an invoice (ORD-8), the one rule every invoice writer reads.

    Decision (RULES.md, "ORD-8"): the "monthly amount" of an invoice is the sum, over its
    subscription and plan lines, of each line's net divided by the months of its period
    (:func:`invoice_monthly_amount`; ``None`` when it has no such line); purchases and
    support time do not count towards it but are collected with the invoice. ≤ 50,00 € with
    an active mandate → direct debit on :func:`direct_debit_collection_day`; above → transfer,
    due in 14 days, unless the partner's mandate allows debits above 50 €
    (``mandate_above_limit``; seed 000: invoice payment above 50 € is possible, not required).

    An invoice without subscription or plan lines is a purchase invoice: transfer, due in 14
    days. Staff may require prepayment of a partner's purchases: an invoice with purchase
    lines is then prepayment, whatever else it holds (the goods wait for the money).

    A mandate suspended after a returned debit (``mandate_suspended``, issue 18) collects
    nothing: transfer, due in 14 days, until the partner gives a new mandate.

    Examples (invoice 21.11.2026, mandate): monthly 50,00 → debit on 07.12.2026 (05.12. is a
    Saturday); 50,01 → transfer due 05.12.2026; 60,00 with "auch über 50 €" → debit; a
    1.299,00 € purchase plus a 10 €/month subscription → debit of the whole invoice.
    """
    due = invoice_date + timedelta(days=PAYMENT_DAYS)
    if has_purchases and prepayment_required:
        return PaymentTerms(
            PREPAYMENT,
            due,
            _("Vorkasse: Die Lieferung erfolgt nach Zahlungseingang, spätestens zahlbar bis %(date)s.")
            % {"date": format_date(due)},
        )
    if monthly_amount is not None and has_mandate and not mandate_suspended:
        if D(monthly_amount) < 0:
            raise BillingInputError(_("Ein monatlicher Betrag kann nicht negativ sein."))
        if D(monthly_amount) <= DIRECT_DEBIT_LIMIT or mandate_above_limit:
            day = direct_debit_collection_day(invoice_date)
            return PaymentTerms(DIRECT_DEBIT, day, direct_debit_text(day))
    return transfer_terms(due)


def direct_debit_text(collection_day: date) -> str:
    """The pre-notification sentence of a direct-debit invoice (ORD-8)."""
    return _("Der Betrag wird am %(date)s per SEPA-Basislastschrift eingezogen.") % {
        "date": format_date(collection_day)
    }


def transfer_terms(due: date) -> PaymentTerms:
    """Payment by bank transfer, due on ``due`` (ORD-8)."""
    return PaymentTerms(
        TRANSFER, due, _("Zahlbar ohne Abzug bis %(date)s per Überweisung.") % {"date": format_date(due)}
    )


# --- ORD-9: no withdrawal; cancel only until the key exists --------------------------------------

ORDER_DRAFT = "draft"
ORDER_CONFIRMED = "confirmed"
ORDER_FULFILLED = "fulfilled"
ORDER_CANCELLED = "cancelled"


def cancel_refusal(*, state: str, keys_generated: bool) -> str | None:
    """Why an order cannot be cancelled, or None when it can (ORD-9, LIC-8).

    Business customers have no right of withdrawal; an order can be cancelled only
    until its key is generated: a draft or a confirmed order without keys can.
    """
    if state == ORDER_CANCELLED:
        return _("Die Bestellung ist bereits storniert.")
    if keys_generated or state == ORDER_FULFILLED:
        return _(
            "Die Lizenzschlüssel dieser Bestellung sind bereits erzeugt; eine Stornierung ist nicht mehr möglich "
            "(kein Widerrufsrecht für Geschäftskunden). Bitte den Vertrieb wegen einer Rechnungskorrektur ansprechen."
        )
    return None


# --- INV-1: document numbers ---------------------------------------------------------------------

INVOICE_PREFIX = "RE"  # Rechnung
# Rechnungskorrektur / Stornorechnung. The prefix of the number range stays "GS": numbers
# already issued never change (INV-1), and the title, not the prefix, names the document.
CREDIT_NOTE_PREFIX = "GS"
NUMBER_DIGITS = 6


CORRECTION = "correction"  # Rechnungskorrektur: takes back part of an invoice
CANCELLATION = "cancellation"  # Stornorechnung: takes back the whole invoice


def correction_kind(*, correction_gross: Decimal, invoice_gross: Decimal) -> str:
    """What a correction of an own invoice is called (INV-1 decision): a "Stornorechnung"
    when it alone takes back the whole invoice (its gross is the invoice's gross), else a
    "Rechnungskorrektur" — never a "Gutschrift", which § 14 Abs. 2 UStG reserves for
    self-billing. 1.705,57 € of 1.705,57 € → Stornorechnung; 159,76 € of 1.705,57 € → Rechnungskorrektur;
    the last of several corrections that together cancel the invoice → Rechnungskorrektur."""
    return CANCELLATION if correction_gross == invoice_gross else CORRECTION


def document_number(prefix: str, year: int, sequence: int) -> str:
    """An invoice or correction number (INV-1): one sequence per prefix and year.

    ("RE", 2026, 123) → "RE-2026-000123"; ("GS", 2026, 7) → "GS-2026-000007".
    """
    if not prefix.isalpha() or not prefix.isupper():
        raise BillingInputError(_("Ein Nummernkreis-Präfix besteht aus Großbuchstaben, z. B. RE oder GS."))
    if not 1000 <= year <= 9999:
        raise BillingInputError(_("Das Jahr einer Belegnummer hat vier Stellen."))
    if not 1 <= sequence < 10**NUMBER_DIGITS:
        raise BillingInputError(_("Die laufende Nummer liegt zwischen 1 und 999999."))
    return f"{prefix}-{year:04d}-{sequence:0{NUMBER_DIGITS}d}"


# --- SUB-1…SUB-5, SUB-8: subscription terms and billing periods ----------------------------------

#: Billing intervals in months (SUB-3). ``BILL_WHOLE_TERM`` bills the whole remaining minimum
#: term in advance; after the minimum term such a subscription is billed month by month (SUB-4).
BILL_MONTHLY = 1
BILL_QUARTERLY = 3
BILL_HALF_YEARLY = 6
BILL_YEARLY = 12
BILL_WHOLE_TERM = 0
BILLING_INTERVALS = (BILL_MONTHLY, BILL_QUARTERLY, BILL_HALF_YEARLY, BILL_YEARLY, BILL_WHOLE_TERM)
MINIMUM_TERMS = (1, 12, 24, 36)
NOTICE_DAYS = 14  # SUB-5, SUB-6
SERVICE_PLAN_NOTICE_MONTHS = 3  # SUB-8
SERVICE_PLAN_RETROACTIVE_BEFORE = date(2022, 1, 1)  # SUB-8


@dataclass(frozen=True)
class Period:
    """A billing period, both ends inclusive (GEN-1)."""

    start: date
    end: date


def term_start(signed_on: date) -> date:
    """SUB-1: the minimum term starts on the 1st of the month after signing; signed on the
    1st, it starts that day. 2026-11-21 → 2026-12-01; 2026-12-01 → 2026-12-01."""
    return signed_on if signed_on.day == 1 else first_of_next_month(signed_on)


def first_month_charge(monthly_price: Decimal, signed_on: date) -> Decimal:
    """SUB-2: signing day to month end, day-exact: the month's price less the share of the
    days before the signing day, rounded half up to cents. 44,75 € signed 2026-11-21:
    20 of 30 days elapsed → 10/30 × 44,75 = 14,9166… → 14,92 €. Signed on the 1st → 0,00 €
    (the term starts that day and the month is a regular period)."""
    price = D(monthly_price)
    if price < 0:
        raise BillingInputError(_("Ein Monatspreis kann nicht negativ sein."))
    if signed_on.day == 1:
        return ZERO
    days_in_month = calendar.monthrange(signed_on.year, signed_on.month)[1]
    remaining = days_in_month - (signed_on.day - 1)
    return round_cents(price * remaining / days_in_month)


def minimum_term_end(term_start: date, minimum_months: int) -> date:
    """Last day of the minimum term (GEN-1): 2026-12-01 + 24 months → 2028-11-30."""
    if minimum_months not in MINIMUM_TERMS:
        raise BillingInputError(_("Mindestlaufzeiten sind 1, 12, 24 oder 36 Monate."))
    return month_period_end(term_start, minimum_months)


def _interval_months(billing_months: int, minimum_months: int, period_start: date, term_start: date) -> int:
    if billing_months not in BILLING_INTERVALS:
        raise BillingInputError(_("Abrechnungsintervalle sind 1, 3, 6 oder 12 Monate oder die ganze Mindestlaufzeit."))
    if billing_months == BILL_WHOLE_TERM:
        return minimum_months if period_start == term_start else BILL_MONTHLY
    return billing_months


def billing_periods(term_start: date, minimum_months: int, billing_months: int, until: date):
    """SUB-3/SUB-4: the billing periods of a subscription, aligned to the term start, from the
    first one up to the one that contains ``until`` (a generator of :class:`Period`).

    Monthly from 2026-12-01: 2026-12-01…2026-12-31, 2027-01-01…2027-01-31, …; quarterly:
    2026-12-01…2027-02-28, 2027-03-01…2027-05-31, …; whole term (24 months): 2026-12-01…
    2028-11-30, then month by month. After the minimum term the interval stays (SUB-4).
    """
    start = term_start
    while start <= until:
        end = month_period_end(start, _interval_months(billing_months, minimum_months, start, term_start))
        yield Period(start, end)
        start = end + timedelta(days=1)


def billing_period_on(term_start: date, minimum_months: int, billing_months: int, day: date) -> Period | None:
    """The billing period that contains ``day``; None before the term starts."""
    periods = list(billing_periods(term_start, minimum_months, billing_months, day))
    return periods[-1] if periods else None


def first_unbilled_period_start(
    term_start: date,
    minimum_months: int,
    billing_months: int,
    *,
    today: date,
    billed_starts,
    ends_on: date | None = None,
) -> date | None:
    """SUB-7 (decision): the start of the billing period a tier change applies from — the
    first period that begins after the one running ``today`` (ORD-6: "from the next billing
    period"; before the term starts, the first period) and is not billed yet. Periods billed
    in advance keep their price, so the new price is never dated into an invoiced period.
    ``billed_starts`` are the starts of the periods already billed; None when the
    subscription ends before such a period.

    Quarterly from 2027-01-01, 01.01.–31.03.2027 billed: on 2026-12-20 → 2027-04-01 (the
    quarter that begins 01.01. is invoiced already); on 2027-02-10 → 2027-04-01. Monthly from
    2026-12-01, nothing billed, on 2026-12-05 → 2027-01-01.
    """
    billed = set(billed_starts)
    horizon = max([today, *billed]) + timedelta(days=800)  # two periods of at most 36 months
    for period in billing_periods(term_start, minimum_months, billing_months, horizon):
        if period.start <= today:
            continue  # the running period (or an earlier one) keeps its price
        if ends_on is not None and period.start > ends_on:
            return None
        if period.start not in billed:
            return period.start
    return None  # pragma: no cover  (a period of ≤ 36 months always starts before the horizon)


def earliest_end(term_start: date, minimum_months: int, billing_months: int, notice_on: date) -> date:
    """SUB-5: the last day of a subscription for a notice received on ``notice_on``: the first
    billing-period end E with E ≥ end of the minimum term and ``notice_on`` ≤ E − 14 days.

    Term 2026-12-01…2028-11-30 (24 months), monthly: notice 2028-11-10 → 2028-11-30;
    2028-11-20 → 2028-12-31; 2027-03-01 → 2028-11-30.
    """
    minimum_end = minimum_term_end(term_start, minimum_months)
    horizon = max(minimum_end, notice_on + timedelta(days=NOTICE_DAYS))
    for period in billing_periods(term_start, minimum_months, billing_months, horizon + timedelta(days=400)):
        if period.end >= minimum_end and notice_on <= period.end - timedelta(days=NOTICE_DAYS):
            return period.end
    raise AssertionError("unreachable: billing periods are at most 36 months long")  # pragma: no cover


def special_termination_end(notice_on: date) -> date:
    """SUB-6: under the special termination right a subscription ends at the end of a
    calendar month with 14 days' notice: notice 2027-03-10 → 2027-03-31; 2027-03-20 →
    2027-04-30 (2027-03-31 − 14 days = 2027-03-17 < 20th)."""
    end = month_end(notice_on)
    if notice_on > end - timedelta(days=NOTICE_DAYS):
        end = month_end(end + timedelta(days=1))
    return end


def service_plan_year(starts_on: date, day: date) -> Period:
    """SUB-8: the plan year that contains ``day`` (plan years are aligned to the plan's start,
    billed yearly in advance): start 2026-12-01, day 2027-12-15 → 2027-12-01…2028-11-30."""
    if day < starts_on:
        raise BillingInputError(_("Der Service-Plan hat an diesem Tag noch nicht begonnen."))
    period = Period(starts_on, month_period_end(starts_on, 12))
    while period.end < day:
        start = period.end + timedelta(days=1)
        period = Period(start, month_period_end(start, 12))
    return period


def service_plan_earliest_end(starts_on: date, notice_on: date) -> date:
    """SUB-8: notice of 3 months to the end of a plan year. Plan from 2026-12-01: notice on
    2027-08-31 → ends 2027-11-30; on 2027-09-01 → 2028-11-30."""
    year = service_plan_year(starts_on, max(notice_on, starts_on))
    while notice_on > add_months(year.end + timedelta(days=1), -SERVICE_PLAN_NOTICE_MONTHS) - timedelta(days=1):
        start = year.end + timedelta(days=1)
        year = Period(start, month_period_end(start, 12))
    return year.end


# --- SUB-6: special termination right -------------------------------------------------------

SPECIAL_TERMINATION_AFTER_MONTHS = 3  # SUB-6


def pbx_version_key(number: str) -> tuple[int, ...]:
    """A PBX version number as a comparable tuple: "9.0.0.4" → (9, 0, 0, 4); "9.1" → (9, 1).

    PBX versions have up to four parts (licensing's module-version parser takes three);
    trailing zeros do not matter: "9.0" and "9.0.0" compare equal.
    """
    try:
        parts = [int(piece) for piece in (number or "").strip().split(".")]
    except ValueError:
        raise BillingInputError(
            _("„%(number)s“ ist keine Versionsnummer (Zahlen mit Punkten, z. B. 9.0.0.4).") % {"number": number}
        ) from None
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def new_highest_pbx_versions(versions: Iterable[tuple[str, date]]) -> list[tuple[str, date]]:
    """SUB-6: the releases that were a *new* PBX version — a number higher than every version
    released before it — in release order. A later patch of an older major line is not:
    8.2.0.5 (2025-06-24), 9.0.0.4 (2026-10-06), 8.2.0.6 (2026-11-02) → 8.2.0.5, 9.0.0.4."""
    highest: tuple[int, ...] | None = None
    new = []
    for number, released_on in sorted(versions, key=lambda v: (v[1], pbx_version_key(v[0]))):
        key = pbx_version_key(number)
        if highest is None or key > highest:
            new.append((number, released_on))
            highest = key
    return new


@dataclass(frozen=True)
class SpecialTerminationGround:
    """Why a subscription may be ended early (SUB-6): the new PBX version, its release and
    the day from which the missing compatible module version gives the right."""

    pbx_version: str
    released_on: date
    right_from: date


def special_termination_ground(
    *,
    new_versions: Iterable[tuple[str, date]],
    compatible_since: Mapping[str, date | None],
    signed_on: date,
    minimum_end: date,
    on: date,
) -> SpecialTerminationGround | None:
    """SUB-6: does a subscription have the special termination right on day ``on``?

    ``new_versions``: :func:`new_highest_pbx_versions`; ``compatible_since``: per PBX version
    the release of the first module version tested with it (None: none yet). The right
    exists on ``on`` when ``on`` lies in the minimum term (signing … minimum-term end) and
    for a new PBX version released on R, three months have passed (``on`` ≥ R + 3 months)
    and no compatible module version was published by ``on``. It lapses once one is.

    **Decision:** the day the right arises (R + 3 months) must itself fall on or after the
    signing day — a customer who signed when the three months had already passed without a
    compatible version knew it, and gets no right from that version.

    9.0.0.4 released 2026-10-06, signed 2026-11-21, 24 months: the right exists from
    2027-01-06 until a compatible module version is published.
    """
    if not signed_on <= on <= minimum_end:
        return None
    for number, released_on in new_versions:
        right_from = add_months(released_on, SPECIAL_TERMINATION_AFTER_MONTHS)
        if right_from < signed_on or right_from > on:
            continue
        compatible = compatible_since.get(number)
        if compatible is None or compatible > on:
            return SpecialTerminationGround(number, released_on, right_from)
    return None


def months_in_period(start: date, end: date) -> int:
    """How many months a billing period of whole months spans (SUB-3, GEN-1):
    2026-12-01…2027-02-28 → 3; 2026-12-01…2026-12-31 → 1. Refuses a period that is not whole months."""
    for months in range(1, 37):
        if month_period_end(start, months) == end:
            return months
    raise BillingInputError(
        _("%(start)s–%(end)s ist kein Zeitraum aus ganzen Monaten.")
        % {"start": format_date(start), "end": format_date(end)}
    )


# --- Bank statements (issue 18): which open invoices a credit pays ---------------------------

INVOICE_NUMBER_IN_TEXT = re.compile(rf"\b{INVOICE_PREFIX}[\s-]?(\d{{4}})[\s-]?(\d{{{NUMBER_DIGITS}}})\b", re.IGNORECASE)


def invoice_numbers_in(text: str) -> list[str]:
    """The invoice numbers a remittance text names, in their order, each once: banks and
    payers write them as "RE-2026-000001", "RE 2026 000001" or "re2026000001"."""
    seen: list[str] = []
    for year, sequence in INVOICE_NUMBER_IN_TEXT.findall(text or ""):
        number = f"{INVOICE_PREFIX}-{year}-{sequence}"
        if number not in seen:
            seen.append(number)
    return seen


@dataclass(frozen=True)
class Allocation:
    """How a credit is split over the invoices it names: ``paid`` per invoice number, the
    ``rest`` no named invoice could take (an overpayment), and the numbers only partly paid."""

    paid: dict[str, Decimal]
    rest: Decimal
    partial: tuple[str, ...]


def allocate_credit(amount: Decimal, due_by_number: list[tuple[str, Decimal]]) -> Allocation:
    """**Decision (issue 18):** a credit pays the open invoices its text names, in the order
    named, each up to what is still due; what is left is an overpayment for finance to look at;
    an invoice that gets less than its due is partly paid (and stays open).

    120,00 € naming RE-1 (due 100,00) and RE-2 (due 50,00) → RE-1 100,00, RE-2 20,00 (partial);
    160,00 € naming the same → both paid, 10,00 € rest.
    """
    if amount < 0:
        raise BillingInputError(_("Ein Zahlungseingang ist nicht negativ."))
    left = amount
    paid: dict[str, Decimal] = {}
    partial: list[str] = []
    for number, due in due_by_number:
        if left <= 0 or due <= 0:
            continue
        take = min(left, due)
        paid[number] = take
        left -= take
        if take < due:
            partial.append(number)
    return Allocation(paid, left, tuple(partial))


# --- Dunning (issue 18): levels, deadlines, the B2B flat fee and default interest -----------------
#
# **Decision (issue 18, dunning):** three levels replace the one friendly reminder —
# Zahlungserinnerung 7 days after the due date, 1. Mahnung 14 days after the Zahlungserinnerung
# was issued, letzte Mahnung 14 days after the 1. Mahnung was issued. Each next level counts from
# the day the previous one was *issued* (a paused or late one pushes the next one back), never
# from the nominal day. Each letter names its own deadline: 10 days after its issue for the first
# two (before the next level is due), 14 days for the letzte Mahnung. Only the letzte Mahnung
# claims money: the flat fee of 40,00 € (§ 288 Abs. 5 BGB, the buyer is a business) and default
# interest of 9 percentage points above the base rate (§ 288 Abs. 2 BGB) up to its issue day;
# interest accruing after it is not claimed automatically.

DUNNING_REMINDER = 1  # Zahlungserinnerung
DUNNING_FIRST = 2  # 1. Mahnung
DUNNING_FINAL = 3  # letzte Mahnung
DUNNING_LEVELS = (DUNNING_REMINDER, DUNNING_FIRST, DUNNING_FINAL)
DUNNING_REMINDER_AFTER_DUE_DAYS = 7
DUNNING_NEXT_LEVEL_DAYS = 14
DUNNING_DEADLINE_DAYS = {DUNNING_REMINDER: 10, DUNNING_FIRST: 10, DUNNING_FINAL: 14}
DUNNING_FLAT_FEE = Decimal("40.00")  # § 288 Abs. 5 BGB
DEFAULT_INTEREST_POINTS = Decimal("9")  # § 288 Abs. 2 BGB: 9 percentage points above the base rate
INTEREST_DAYS_PER_YEAR = 365


def dunning_level_title(level: int) -> str:
    """The German name of a level, as letters, portal and admin show it."""
    return {
        DUNNING_REMINDER: _("Zahlungserinnerung"),
        DUNNING_FIRST: _("1. Mahnung"),
        DUNNING_FINAL: _("letzte Mahnung"),
    }[level]


def dunning_next_level(*, due_date: date, last_level: int, last_issued_on: date | None, today: date) -> int | None:
    """The level an overdue invoice is to get on ``today``, or ``None`` (issue 18, dunning).

    ``last_level`` 0 = none issued yet. Due 10.06.2025: the Zahlungserinnerung on 17.06.2025
    (due + 7), not on 16.06.; after it was issued on 17.06., the 1. Mahnung on 01.07.2025; after that,
    the letzte Mahnung on 15.07.2025; after the letzte Mahnung nothing more. A job that did not
    run on the day issues the level on the next run, and the next level counts from that day.
    Only one level per call: a level skipped by a long pause is never jumped over.
    """
    if last_level not in (0, *DUNNING_LEVELS):
        raise BillingInputError(_("Unbekannte Mahnstufe %(level)s.") % {"level": last_level})
    if last_level == DUNNING_FINAL:
        return None
    if last_level == 0:
        return DUNNING_REMINDER if today >= due_date + timedelta(days=DUNNING_REMINDER_AFTER_DUE_DAYS) else None
    if last_issued_on is None:
        raise BillingInputError(_("Zur letzten Mahnstufe fehlt das Datum."))
    return last_level + 1 if today >= last_issued_on + timedelta(days=DUNNING_NEXT_LEVEL_DAYS) else None


def dunning_deadline(level: int, issued_on: date) -> date:
    """The deadline a level's letter names: Zahlungserinnerung and 1. Mahnung 10 days after
    their issue (17.06.2025 → 27.06.2025), the letzte Mahnung 14 days (15.07.2025 → 29.07.2025)."""
    return issued_on + timedelta(days=DUNNING_DEADLINE_DAYS[level])


def dunning_fee(level: int) -> Decimal:
    """The flat fee a level claims: 40,00 € with the letzte Mahnung (§ 288 Abs. 5 BGB), else 0,00 €."""
    return DUNNING_FLAT_FEE if level == DUNNING_FINAL else ZERO


# The base rate (Basiszinssatz, § 247 BGB) changes on 1 January and 1 July; the Bundesbank
# publishes it for each half-year. A rate is valid from its day until the day before the next
# known one — the newest known rate at most until the end of its half-year: a day beyond that
# has no known rate (finance enters the new one; until then no interest is computed for it).


def half_year_start(day: date) -> date:
    """1 January or 1 July of ``day``'s half-year: 15.05.2025 → 01.01.2025, 06.12.2026 → 01.07.2026."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_end(day: date) -> date:
    """30 June or 31 December of ``day``'s half-year (inclusive end)."""
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def base_rate_stale(newest_valid_from: date | None, today: date) -> bool:
    """Is the newest entered base rate older than the current half-year (finance must enter the
    new one)? Newest 01.07.2025: on 31.12.2025 no, on 01.01.2026 yes; none entered: yes."""
    return newest_valid_from is None or newest_valid_from < half_year_start(today)


@dataclass(frozen=True)
class InterestSpan:
    """Days of one base rate inside an interest period (both ends inclusive)."""

    start: date
    end: date
    days: int
    base_rate: Decimal  # percent, may be negative (e.g. −0,88 % in 2016–2022)
    rate: Decimal  # base rate + 9 points
    amount: Decimal  # unrounded share of the interest


@dataclass(frozen=True)
class DefaultInterest:
    principal: Decimal
    start: date  # the day after the due date
    end: date  # the notice day, inclusive
    spans: tuple[InterestSpan, ...]
    amount: Decimal  # rounded half up to cents, once, on the sum of the spans

    @property
    def days(self) -> int:
        return sum(span.days for span in self.spans)


def default_interest(
    *, principal: Decimal, due_date: date, through: date, base_rates: Iterable[tuple[date, Decimal]]
) -> DefaultInterest:
    """Default interest by day (§ 288 Abs. 2 BGB, issue 18): ``principal`` × (base rate + 9) % ×
    days / 365, each day at the base rate valid on it.

    **Convention:** interest runs from the day after the due date (the debtor is in default
    without a reminder when the due date is fixed by the calendar, § 286 Abs. 2 Nr. 1 BGB)
    through the notice day, both inclusive; the year has 365 days (also in leap years); a period
    that spans 1 January or 1 July is split at the rate change; the spans' unrounded shares are
    added and the sum is rounded half up to cents once (GEN-2). ``principal`` is what is open on
    the notice day (a partial payment before it lowers the interest for the whole period — in
    the debtor's favour, and one figure the letter can show).

    Worked example: 4.730,49 € due 10.06.2025, letzte Mahnung on 15.07.2025 →
    11.06.–30.06.2025, 20 days at 2,27 + 9 = 11,27 %: 4.730,49 × 11,27 % × 20 / 365 = 29,212396…;
    01.07.–15.07.2025, 15 days at 1,27 + 9 = 10,27 %: 4.730,49 × 10,27 % × 15 / 365 = 19,965260…;
    sum 49,177656… → 49,18 €. Nothing is due for ``through`` ≤ ``due_date`` (0,00 €).

    ``base_rates``: ``(valid_from, percent)`` pairs in any order. Raises
    :class:`BillingInputError` when a day of the period has no known rate (before the first,
    or after the end of the newest one's half-year).
    """
    principal = D(principal)
    start = due_date + timedelta(days=1)
    if through < start or principal <= 0:
        return DefaultInterest(principal, start, through, (), ZERO)
    rates = sorted((valid_from, D(rate)) for valid_from, rate in base_rates)
    if not rates or rates[0][0] > start:
        raise BillingInputError(_("Für den %(date)s ist kein Basiszinssatz erfasst.") % {"date": format_date(start)})
    spans: list[InterestSpan] = []
    for index, (valid_from, base) in enumerate(rates):
        valid_to = rates[index + 1][0] - timedelta(days=1) if index + 1 < len(rates) else half_year_end(valid_from)
        span_start, span_end = max(start, valid_from), min(through, valid_to)
        if span_start > span_end:
            continue
        days = (span_end - span_start).days + 1
        rate = base + DEFAULT_INTEREST_POINTS
        share = principal * rate / HUNDRED * days / INTEREST_DAYS_PER_YEAR
        spans.append(InterestSpan(span_start, span_end, days, base, rate, share))
    covered_to = spans[-1].end if spans else start - timedelta(days=1)
    if covered_to < through:
        raise BillingInputError(
            _(
                "Für den %(date)s ist kein Basiszinssatz erfasst; bitte den Basiszinssatz des Halbjahres "
                "nachtragen (Deutsche Bundesbank)."
            )
            % {"date": format_date(covered_to + timedelta(days=1))}
        )
    return DefaultInterest(principal, start, through, tuple(spans), round_cents(sum((s.amount for s in spans), ZERO)))


# --- Charges and returned direct debits (issue 18; ORD-8 / SEPA) ------------------------------

#: Charges (Nebenforderungen: return fees, dunning fees, default interest) are damages, not the
#: consideration for a supply: not subject to VAT (EN 16931 category O, no rate).
CHARGES_VAT_NOTE = gettext_noop(
    "Nicht steuerbarer Schadensersatz (kein Leistungsaustausch, Abschn. 1.3 Abs. 1 UStAE): ohne Umsatzsteuer."
)
#: Days a partner has to transfer an invoice whose direct debit came back (decision, issue 18).
RETURN_PAYMENT_DAYS = 7


def charges_payment_terms(invoice_date: date) -> PaymentTerms:
    """Payment terms of a "Rechnung über Nebenforderungen" (ORD-8, issue 18): always transfer,
    due in 14 days. Never a direct debit, whatever mandate the partner has: a damages claim is
    not the subscription the mandate was given for, and debiting it would need a separate
    announcement (pre-notification) of its own. 01.12.2026 → due 15.12.2026."""
    terms = transfer_terms(invoice_date + timedelta(days=PAYMENT_DAYS))
    return PaymentTerms(
        terms.means,
        terms.due_date,
        _("Zahlbar ohne Abzug bis %(date)s per Überweisung; Nebenforderungen ziehen wir nicht per Lastschrift ein.")
        % {"date": format_date(terms.due_date)},
    )


def returned_debit_terms(processed_on: date) -> PaymentTerms:
    """How an invoice whose direct debit came back is paid now (ORD-8 / SEPA, issue 18): by
    transfer, due :data:`RETURN_PAYMENT_DAYS` days after the return was processed — never
    debited again on its own (the bank just refused it, and a new debit needs a new
    pre-notification). 02.12.2026 → due 09.12.2026."""
    due = processed_on + timedelta(days=RETURN_PAYMENT_DAYS)
    return PaymentTerms(
        TRANSFER,
        due,
        _("Die Lastschrift wurde zurückgegeben; zahlbar ohne Abzug bis %(date)s per Überweisung.")
        % {"date": format_date(due)},
    )


@dataclass(frozen=True)
class ReturnReason:
    """A SEPA R-transaction reason code (ISO 20022 ExternalReturnReason1Code) as the partner
    reads it, and whether it marks (suspends) the mandate (ORD-8 / SEPA)."""

    code: str
    text: str  # German, for the partner's e-mail and the admin
    suspends_mandate: bool
    partner_pays_fee: bool  # the bank's return fee is the partner's damage to pay (a charge)


# code → (German text, suspends the mandate). A code suspends the mandate when the debit would
# fail again the same way or the debtor has objected to it: the account or mandate is unusable
# (AC01, AC04, AC06, AC13, AG01, DNOR, MD01, MD02, MD07, RC01, RR01, RR02, SL01), or the debtor
# refused or reclaimed the debit (MS02, MD06 — debiting again against an objection only causes
# another return and another fee). It does not when the next debit may well succeed: no funds
# (AM04), a duplicate (AM05), reasons on the banks' or the creditor's side (AG02, BE05, CNOR,
# FF01, MS03, RR03, RR04, TM01, FOCR) or a code we do not know.
#
# The bank's return fee becomes a charge (damages) only when the return is the partner's doing
# or in its sphere; not for the codes that are ours or the banks' (AG02, AM05, BE05, CNOR,
# FF01, FOCR, RR03, TM01).
_NOT_THE_PARTNERS = frozenset({"AG02", "AM05", "BE05", "CNOR", "FF01", "FOCR", "RR03", "TM01"})
_RETURN_REASONS: dict[str, tuple[str, bool]] = {
    "AC01": (gettext_noop("Die IBAN ist falsch oder existiert nicht."), True),
    "AC04": (gettext_noop("Das Konto ist aufgelöst."), True),
    "AC06": (gettext_noop("Das Konto ist gesperrt."), True),
    "AC13": (gettext_noop("Das Konto lässt keine Firmenlastschriften zu (Verbraucherkonto)."), True),
    "AG01": (gettext_noop("Auf diesem Konto sind Lastschriften nicht zugelassen."), True),
    "AG02": (gettext_noop("Die Bank hat einen Formfehler der Lastschrift gemeldet."), False),
    "AM04": (gettext_noop("Das Konto war nicht ausreichend gedeckt."), False),
    "AM05": (gettext_noop("Die Lastschrift wurde doppelt eingereicht."), False),
    "BE05": (
        gettext_noop("Die Bank kennt uns als Zahlungsempfänger nicht (technischer Fehler auf unserer Seite)."),
        False,
    ),
    "CNOR": (gettext_noop("Unsere Bank ist für SEPA-Lastschriften nicht erreichbar."), False),
    "DNOR": (gettext_noop("Ihre Bank nimmt keine SEPA-Lastschriften an."), True),
    "FF01": (gettext_noop("Die Lastschriftdatei war fehlerhaft (technischer Fehler auf unserer Seite)."), False),
    "FOCR": (gettext_noop("Die Lastschrift wurde auf unsere Bitte zurückgerufen."), False),
    "MD01": (gettext_noop("Für diese Lastschrift liegt Ihrer Bank kein gültiges Mandat vor."), True),
    "MD02": (gettext_noop("Im Mandat fehlen Angaben (z. B. Name oder Anschrift des Kontoinhabers)."), True),
    "MD06": (gettext_noop("Sie haben der Lastschrift widersprochen und den Betrag zurückgefordert."), True),
    "MD07": (gettext_noop("Der Kontoinhaber ist verstorben."), True),
    "MS02": (gettext_noop("Sie haben die Lastschrift abgelehnt (ohne Angabe von Gründen)."), True),
    "MS03": (gettext_noop("Ihre Bank hat die Lastschrift ohne Angabe von Gründen zurückgegeben."), False),
    "RC01": (gettext_noop("Der BIC ist falsch."), True),
    "RR01": (gettext_noop("Konto oder Kennung des Zahlers fehlen (aufsichtsrechtlicher Grund)."), True),
    "RR02": (gettext_noop("Name oder Anschrift des Zahlers fehlen (aufsichtsrechtlicher Grund)."), True),
    "RR03": (gettext_noop("Name oder Anschrift des Zahlungsempfängers fehlen (aufsichtsrechtlicher Grund)."), False),
    "RR04": (gettext_noop("Die Bank hat die Lastschrift aus aufsichtsrechtlichen Gründen zurückgegeben."), False),
    "SL01": (gettext_noop("Ihre Bank hat Lastschriften von uns gesperrt (Lastschriftsperre oder Positivliste)."), True),
    "TM01": (gettext_noop("Die Lastschrift kam nach Annahmeschluss bei der Bank an."), False),
}


def return_reason(code: str) -> ReturnReason:
    """The German text of a SEPA return reason code, whether the mandate is suspended and
    whether the partner pays the bank's fee (ORD-8 / SEPA, issue 18). "MD06" → "Sie haben der
    Lastschrift widersprochen …", suspends, fee; "AM04" → "… nicht ausreichend gedeckt.", does
    not suspend, fee; "FF01" → our file was wrong: no fee; an unknown code → a generic text,
    does not suspend, fee."""
    code = (code or "").strip().upper()
    known = _RETURN_REASONS.get(code)
    if known is None:
        return ReturnReason(
            code,
            _("Die Bank hat die Lastschrift zurückgegeben (Grund %(code)s).") % {"code": code or "?"},
            False,
            True,
        )
    return ReturnReason(code, _(known[0]), known[1], code not in _NOT_THE_PARTNERS)
