"""The price list PDF (CAT-1, CAT-7): every price in force on a day, as matrices on two pages.

A partner reads a price list by asking "what does module X cost for my tier, bought or
rented for N months?" — so page 1 is one matrix: a row per module and user tier (CAT-2), a
column for the purchase price and one per subscription term (CAT-3, CAT-4), the vendor's own
layout (seed 001). Page 2 holds what has no tier and no term: the service plans (CAT-6), the
PBX Call Assist 5 licence packs and Softwarepflege articles (CAT-8) and the COMtrexx licences,
each in its own table.

The prices are :func:`licensing.selectors.catalog.article_rows` — the same prices in force
that an order is priced with (:func:`~licensing.selectors.catalog.price_for` reads the same
``prices_valid_on``); nothing is computed here but the layout. The conditions that go with
a price are footnotes: a marker in the cell or heading, the note at the foot of the same page
(``float: footnote`` in ``documents/price_list.html``). Their numbers come from the rules'
constants, their wording is the partner's (no rule IDs, STYLE: partner texts).

Everything is formatted here, in the reader's language (STYLE 7): the template only lays out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from licensing import rules
from licensing.models import Price, Product
from licensing.selectors.catalog import ArticleRow
from vendorportal.formats import format_date
from vendorportal.money import format_eur

SAMPLE_MARK = "*"

# Page 1: what is sold per installation as a module or a subscription product, in this order.
_MATRIX_KINDS = (Product.MODULE, Product.SAAS)
_MATRIX_ORDER = {Product.TIERED: 0, Product.FLAT: 1, Product.PER_STARTED_5_USERS: 2, Product.PER_USER: 3}


@dataclass
class Cell:
    text: str = ""
    mark: str = ""  # footnote marker printed after the text ("1", "*")
    rowspan: int = 1
    colspan: int = 1
    css: str = ""


@dataclass
class Table:
    title: str
    columns: list[Cell]
    rows: list[list[Cell]] = field(default_factory=list)
    groups: list[Cell] = field(default_factory=list)  # an optional heading row above the columns
    css: str = ""


@dataclass
class Page:
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[Cell] = field(default_factory=list)  # mark and text, printed at the foot of this page


class _Notes:
    """Footnotes of one page, numbered on from the page before; each note once per page."""

    def __init__(self, page: Page, start: int):
        self.page = page
        self.next = start
        self.marks: dict[str, str] = {}

    def mark(self, key: str, text: str) -> str:
        if key not in self.marks:
            mark = SAMPLE_MARK if key == "sample" else str(self.next)
            if key != "sample":
                self.next += 1
            self.marks[key] = mark
            self.page.notes.append(Cell(text=text, mark=mark))
        return self.marks[key]

    def sample(self) -> str:
        return self.mark("sample", _("Beispielpreis: noch nicht vom Hersteller bestätigt."))


def _price_cell(row: ArticleRow | None, notes: _Notes) -> Cell:
    if row is None:
        return Cell(text="—", css="num none")
    return Cell(text=format_eur(row.price_net), mark=notes.sample() if row.sample else "", css="num")


def _term_label(months: int) -> str:
    return ngettext("%(months)s Monat", "%(months)s Monate", months) % {"months": months}


def _by_article(rows: Iterable[ArticleRow]) -> dict[str, list[ArticleRow]]:
    articles: dict[str, list[ArticleRow]] = {}
    for row in rows:
        articles.setdefault(row.article, []).append(row)
    return articles


def _module_matrix(rows: list[ArticleRow], notes: _Notes) -> Table:
    """Modules and subscription products: a row per article and user tier, a column for the
    purchase price and one per subscription term in force (CAT-2…CAT-5)."""
    articles = _by_article(rows)
    terms = sorted({r.term_months for r in rows if r.kind == Price.SUBSCRIPTION})
    tier_mark = notes.mark(
        "tier",
        _(
            "Benutzerstaffel: die in der Anlage installierten Benutzerlizenzen (PBX-Benutzerlizenzen "
            "und User-Light-Lizenzen), nicht die angelegten Benutzer. Beim Wechsel in eine höhere "
            "Staffel zahlen Sie im Kauf nur die Differenz der beiden Kaufpreise; im Abo ändert sich "
            "nur der Monatspreis, ab dem nächsten noch nicht abgerechneten Zeitraum."
        ),
    )
    purchase_mark = notes.mark(
        "purchase",
        _("Kauf: einmaliger Preis je Serverlizenz (Anlage). Rabatte und Ihre Partnerkonditionen zeigt die Bestellung."),
    )
    subscription_mark = notes.mark(
        "subscription",
        _(
            "Abo: Preis pro Monat je Serverlizenz. Die Mindestlaufzeit beginnt am Ersten des Monats "
            "nach Vertragsschluss, der angebrochene Monat davor wird taggenau berechnet. Abrechnung "
            "monatlich im Voraus, auf Wunsch vierteljährlich, halbjährlich, jährlich oder für die "
            "ganze Mindestlaufzeit. Danach läuft das Abo zum selben Preis weiter; Kündigung mit 14 "
            "Tagen Frist zum Ende eines Abrechnungszeitraums, frühestens zum Ende der "
            "Mindestlaufzeit. Updates des Moduls sind während des Abos kostenlos."
        ),
    )
    table = Table(
        title=_("STARFACE-Module und Abonnements"),  # the page's title too: printed once
        css="matrix",
        groups=[
            Cell(text="", colspan=3),  # over module, article, tier
            Cell(text=_("Kauf"), mark=purchase_mark, css="num"),
            Cell(text=_("Abo mit Mindestlaufzeit, pro Monat"), mark=subscription_mark, colspan=len(terms), css="group"),
        ],
        columns=[
            Cell(text=_("Modul")),
            Cell(text=_("Artikel")),
            Cell(text=_("Benutzerstaffel"), mark=tier_mark),
            Cell(text=_("einmalig"), css="num"),
            *(Cell(text=_term_label(months), css="num") for months in terms),
        ],
    )

    def order(item):
        first = item[1][0]
        return (_MATRIX_ORDER.get(first.pricing_model, 9), first.product_kind != Product.MODULE, first.name)

    for article, prices in sorted(articles.items(), key=order):
        first = prices[0]
        by_variant = {(r.kind, r.tier, r.term_months or 0): r for r in prices}
        if first.pricing_model == Product.TIERED:
            tiers = [t for t in rules.TIER_LABELS if any(r.tier == t for r in prices)]
        else:
            tiers = [""]
        for index, tier in enumerate(tiers):
            cells = []
            if index == 0:
                cells += [
                    Cell(text=first.name, rowspan=len(tiers), css="name"),
                    Cell(text=article, rowspan=len(tiers), css="code"),
                ]
            if tier:
                cells.append(Cell(text=tier, css="tier"))
            elif first.pricing_model == Product.PER_STARTED_5_USERS:
                block_mark = notes.mark(
                    "block",
                    _(
                        "Preis je angefangene 5 Benutzer, unabhängig von der Benutzerstaffel: "
                        "12 Benutzer sind 3 Blöcke, im Abo über 1 Monat also 3 × %(price)s."
                    )
                    % {"price": format_eur(by_variant[(Price.SUBSCRIPTION, "", 1)].price_net)}
                    if (Price.SUBSCRIPTION, "", 1) in by_variant
                    else _("Preis je angefangene 5 Benutzer, unabhängig von der Benutzerstaffel."),
                )
                cells.append(Cell(text=_("je 5 Benutzer"), mark=block_mark, css="tier"))
            else:
                cells.append(Cell(text=_("alle"), css="tier"))
            cells.append(_price_cell(by_variant.get((Price.PURCHASE, tier, 0)), notes))
            cells += [_price_cell(by_variant.get((Price.SUBSCRIPTION, tier, months)), notes) for months in terms]
            table.rows.append(cells)
    return table


def _service_plans(rows: list[ArticleRow], notes: _Notes) -> Table:
    """CAT-6: Free, Basic once, Premium and Enterprise per year (SUB-8 in the note)."""
    mark = notes.mark(
        "plans",
        _(
            "Service-Pläne Premium und Enterprise werden jährlich im Voraus abgerechnet und sind mit "
            "%(months)s Monaten Frist zum Ende eines Planjahres kündbar. Ein Plan gilt für eine "
            "Serverlizenz (je Serverlizenz einmal buchbar) und für alle Module des Herstellers, die "
            "dort ab Planbeginn gekauft werden. Basic wird einmalig berechnet."
        )
        % {"months": 3},  # SUB-8, as billing's rules bill it (licensing does not import billing)
    )
    table = Table(
        title=_("Service-Pläne"),
        css="list",
        columns=[
            Cell(text=_("Service-Plan"), mark=mark),
            Cell(text=_("Artikel"), css="code"),
            Cell(text=_("einmalig"), css="num"),
            Cell(text=_("pro Jahr"), css="num"),
        ],
    )
    for article, prices in sorted(_by_article(rows).items(), key=lambda item: min(r.price_net for r in item[1])):
        once = next((r for r in prices if r.unit == Price.ONCE), None)
        yearly = next((r for r in prices if r.unit == Price.YEAR), None)
        table.rows.append(
            [
                Cell(text=prices[0].name, css="name"),
                Cell(text=article, css="code"),
                _price_cell(once, notes),
                _price_cell(yearly, notes),
            ]
        )
    return table


def _call_assist(rows: list[ArticleRow], notes: _Notes) -> list[Table]:
    """CAT-8: the licence packs and the Softwarepflege articles, each in a table of its own
    (SWP-1, SWP-3…SWP-7 in the notes)."""
    articles = _by_article(rows)
    tables = []
    packs = [a for a in sorted(rules.PACK_SIZES, key=rules.PACK_SIZES.get) if a in articles]
    if packs:
        mark = notes.mark(
            "packs",
            _(
                "Die erste Bestellung für ein System umfasst mindestens %(min)s Benutzer, in möglichst "
                "wenigen Paketen; das 1-User-Paket ist erst ab %(single)s Benutzern im System nutzbar. "
                "Zu jedem Benutzer gehört die Softwarepflege für 12 oder 36 Monate. Jedes System wird "
                "für sich bestellt."
            )
            % {"min": rules.FIRST_ORDER_MIN_USERS, "single": rules.SINGLE_PACK_MIN_USERS},
        )
        table = Table(
            title=_("PBX Call Assist 5: Benutzerlizenzen (Kauf)"),
            css="list",
            columns=[
                Cell(text=_("Paket"), mark=mark),
                Cell(text=_("Artikel"), css="code"),
                Cell(text=_("einmalig"), css="num"),
            ],
        )
        for article in packs:
            users = rules.PACK_SIZES[article]
            label = ngettext("%(users)s-Benutzer-Paket", "%(users)s-Benutzer-Paket", users) % {"users": users}
            table.rows.append(
                [Cell(text=label, css="name"), Cell(text=article, css="code"), _price_cell(articles[article][0], notes)]
            )
        tables.append(table)
    maintenance = [(rules.SWP_12, 12), (rules.SWP_36, 36), (rules.SWP_DAY, None)]
    if any(article in articles for article, _months in maintenance):
        mark = notes.mark(
            "swp",
            _(
                "Softwarepflege gilt für alle Benutzer eines Systems und kann jederzeit um 12 oder 36 "
                "Monate verlängert werden; sie schließt lückenlos an das bisherige Ende an, auch "
                "rückwirkend. Ist sie seit mehr als %(lapse)s Monaten abgelaufen, werden die versäumten "
                "Tage je Benutzer zusätzlich zum Tagessatz berechnet; nach mehr als %(max)s Monaten ist "
                "eine Verlängerung nur über uns möglich."
            )
            % {"lapse": rules.LAPSE_FREE_MONTHS, "max": rules.LAPSE_MAX_MONTHS},
        )
        table = Table(
            title=_("PBX Call Assist 5: Softwarepflege"),
            css="list",
            columns=[
                Cell(text=_("Laufzeit"), mark=mark),
                Cell(text=_("Artikel"), css="code"),
                Cell(text=_("je Benutzer"), css="num"),
            ],
        )
        for article, months in maintenance:
            if article not in articles:
                continue
            if months:
                label = Cell(text=_term_label(months), css="name")
            else:
                day_mark = notes.mark(
                    "swp_day",
                    _(
                        "Tagessatz für Benutzer, die während einer laufenden Softwarepflege hinzukommen: "
                        "die Resttage der Laufzeit je Benutzer, abzüglich %(credit)s Tage Gutschrift je "
                        "Benutzer. Bei weniger als %(credit)s Resttagen zuerst verlängern."
                    )
                    % {"credit": rules.ADD_USERS_GOODWILL_DAYS},
                )
                label = Cell(text=_("je Tag (Erweiterung)"), mark=day_mark, css="name")
            table.rows.append([label, Cell(text=article, css="code"), _price_cell(articles[article][0], notes)])
        tables.append(table)
    return tables


def _systems(rows: list[ArticleRow], notes: _Notes) -> Table:
    """Auerswald COMtrexx licences (SYS-2 in the note)."""
    table = Table(
        title=_("Auerswald COMtrexx: Lizenzen (Kauf)"),
        css="list",
        columns=[Cell(text=_("Lizenz")), Cell(text=_("Artikel"), css="code"), Cell(text=_("einmalig"), css="num")],
    )
    for article, prices in sorted(_by_article(rows).items(), key=lambda item: item[1][0].name):
        first = prices[0]
        mark = ""
        if first.pricing_model == Product.FLAT:
            mark = notes.mark(
                "activation",
                _(
                    "Die Systemaktivierung brauchen nur COMtrexx Business und Advanced (ohne Testmodus); "
                    "andere COMtrexx-Systeme lassen sich einmal %(days)s Tage mit %(users)s "
                    "Test-Benutzerlizenzen testen."
                )
                % {"days": rules.TRYOUT_DAYS, "users": rules.TRYOUT_TEST_USERS},
            )
        table.rows.append(
            [Cell(text=first.name, mark=mark, css="name"), Cell(text=article, css="code"), _price_cell(first, notes)]
        )
    return table


def _other(rows: list[ArticleRow], notes: _Notes) -> Table:
    """Prices of an article kind this layout does not know yet: listed, never dropped."""
    table = Table(
        title=_("Weitere Artikel"),
        css="list",
        columns=[
            Cell(text=_("Bezeichnung")),
            Cell(text=_("Artikel"), css="code"),
            Cell(text=_("Variante")),
            Cell(text=_("Preis netto"), css="num"),
        ],
    )
    units = dict(Price.UNIT_CHOICES)
    for row in rows:
        variant = _("Kauf") if row.kind == Price.PURCHASE else _term_label(row.term_months or 0)
        variant = " ".join(filter(None, [variant, row.tier, str(units.get(row.unit, row.unit))]))
        table.rows.append(
            [
                Cell(text=row.name, css="name"),
                Cell(text=row.article, css="code"),
                Cell(text=variant),
                _price_cell(row, notes),
            ]
        )
    return table


def price_list_context(rows: list[ArticleRow], *, on) -> dict:
    """What ``documents/price_list.html`` shows, in the active language: the date, the two
    pages with their tables and each page's footnotes."""
    first = Page(title=_("STARFACE-Module und Abonnements"))
    notes = _Notes(first, 1)
    matrix_rows = [r for r in rows if r.product_kind in _MATRIX_KINDS]
    if matrix_rows:
        first.tables.append(_module_matrix(matrix_rows, notes))

    second = Page(title=_("Service-Pläne und Auerswald"))
    notes = _Notes(second, notes.next)
    plan_rows = [r for r in rows if r.product_kind == Product.SERVICE_PLAN]
    if plan_rows:
        second.tables.append(_service_plans(plan_rows, notes))
    call_assist_rows = [r for r in rows if r.product_kind == Product.CALL_ASSIST]
    second.tables += _call_assist(call_assist_rows, notes)
    system_rows = [r for r in rows if r.product_kind == Product.SYSTEM]
    if system_rows:
        second.tables.append(_systems(system_rows, notes))
    known = {*rules.PACK_SIZES, rules.SWP_12, rules.SWP_36, rules.SWP_DAY}
    rest = [
        r
        for r in rows
        if r.product_kind not in (*_MATRIX_KINDS, Product.SERVICE_PLAN, Product.SYSTEM, Product.CALL_ASSIST)
        or (r.product_kind == Product.CALL_ASSIST and r.article not in known)
    ]
    if rest:
        second.tables.append(_other(rest, notes))
    for page in (first, second):  # the numbered notes in order, the sample note last
        page.notes.sort(key=lambda note: (note.mark == SAMPLE_MARK, int(note.mark) if note.mark.isdigit() else 0))
    return {
        "date": format_date(on),
        "pages": [page for page in (first, second) if page.tables],
        "valid_from": format_date(max(r.valid_from for r in rows)) if rows else "",
    }
