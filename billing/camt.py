"""Reading ISO 20022 bank statements: camt.053 (Bank-to-Customer Statement), versions
.001.02 (German banks' long-standing DK format) and .001.08 (the current one). Only the
parts finance needs: per statement its id and account; per entry the booking and value date,
amount and direction, the bank's reference, and per transaction the end-to-end id, the other
party, the remittance text, a return reason (R-transaction) and the charges the bank took.

The file is untrusted input: parsed with entity resolution, DTDs and network access off and a
size limit; anything that does not fit is refused whole with a German message
(:class:`CamtRefused`), so the importer writes nothing for a broken file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree

from billing.exceptions import BillingInputError

NAMESPACES = {
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": "02",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "08",
}
MAX_BYTES = 50 * 1024 * 1024
# The statement's own account: the shape of an IBAN (ISO 13616, at most 34 characters); the
# account is stored with every entry and names the statement, so anything else is refused.
IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
MAX_AMOUNT = Decimal("1E10")  # amounts are DecimalField(max_digits=12, decimal_places=2)


class CamtRefused(BillingInputError):
    """The file is not a camt.053 statement the portal can read."""


@dataclass(frozen=True)
class Transaction:
    end_to_end_id: str
    party_name: str
    party_iban: str
    remittance: str
    return_reason: str  # e.g. MD06, AC04; "" for an ordinary transaction
    charges: Decimal
    amount: Decimal | None  # the transaction's own amount where the entry batches several


@dataclass(frozen=True)
class Entry:
    reference: str  # the bank's reference (AcctSvcrRef), else the entry reference
    amount: Decimal
    credit: bool  # CRDT: money came in; DBIT: money went out (a returned direct debit)
    reversal: bool
    booked_on: date
    value_on: date | None
    transactions: tuple[Transaction, ...]
    # Charges the bank gives for the entry as a whole (Ntry/Chrgs), e.g. the fee of a returned
    # direct debit when the statement does not give it per transaction.
    entry_charges: Decimal = Decimal("0.00")

    @property
    def remittance(self) -> str:
        return " ".join(t.remittance for t in self.transactions if t.remittance)

    @property
    def return_reason(self) -> str:
        return next((t.return_reason for t in self.transactions if t.return_reason), "")

    @property
    def charges(self) -> Decimal:
        return sum((t.charges for t in self.transactions), self.entry_charges)


@dataclass(frozen=True)
class Statement:
    version: str
    statement_id: str
    iban: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)


def _children(node, name):
    return [child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == name]


def _find(node, *path):
    for name in path:
        if node is None:
            return None
        found = _children(node, name)
        node = found[0] if found else None
    return node


def _text(node, *path) -> str:
    found = _find(node, *path)
    return (found.text or "").strip() if found is not None else ""


def _amount(node, where: str) -> Decimal:
    try:
        value = Decimal((node.text or "").strip()) if node is not None else None
        # NaN, Infinity and 1e309 are numbers to Decimal but no amount: compare only finite
        # values (NaN raises on <), and no more than the database's 12 digits (10 before the comma).
        if value is not None and (not value.is_finite() or value < 0 or value >= MAX_AMOUNT):
            value = None
        if value is not None and value != value.quantize(Decimal("0.01")):
            value = None
    except InvalidOperation:
        value = None
    if value is None:
        raise CamtRefused(_("Ungültiger Betrag in %(where)s.") % {"where": where})
    currency = node.get("Ccy", "")
    if currency != "EUR":
        raise CamtRefused(
            _("Nur Beträge in EUR werden gelesen (%(where)s: %(ccy)s).") % {"where": where, "ccy": currency}
        )
    return value


def _date(node, where: str) -> date:
    text = _text(node, "Dt") or _text(node, "DtTm")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CamtRefused(_("Ungültiges Datum in %(where)s.") % {"where": where}) from None


def _party(tx, version: str, role: str) -> tuple[str, str]:
    parties = _find(tx, "RltdPties")
    if parties is None:
        return "", ""
    party = _find(parties, role)
    if version == "08" and party is not None and _find(party, "Pty") is not None:
        party = _find(party, "Pty")
    return _text(party, "Nm"), _text(parties, f"{role}Acct", "Id", "IBAN")


def _charges(node, where: str) -> Decimal:
    """The charges (``Chrgs``) the bank took, given on a transaction or on the entry."""
    charges = Decimal("0.00")
    chrgs = _find(node, "Chrgs")
    if chrgs is not None:
        records = _children(chrgs, "Rcrd") or [chrgs]
        for record in records:
            amount = _find(record, "Amt") if _find(record, "Amt") is not None else _find(record, "TtlChrgsAndTaxAmt")
            if amount is not None:
                charges += _amount(amount, where)
    if charges >= MAX_AMOUNT:  # each record in range, their sum not
        raise CamtRefused(_("Ungültiger Betrag in %(where)s.") % {"where": where})
    return charges


def _transaction(tx, version: str, credit: bool, where: str) -> Transaction:
    role = "Dbtr" if credit else "Cdtr"
    name, iban = _party(tx, version, role)
    info = _find(tx, "RmtInf")
    remittance = " ".join((node.text or "").strip() for node in _children(info, "Ustrd")) if info is not None else ""
    charges = _charges(tx, where)
    tx_amount_node = _find(tx, "Amt") if _find(tx, "Amt") is not None else _find(tx, "AmtDtls", "TxAmt", "Amt")
    return Transaction(
        end_to_end_id=_text(tx, "Refs", "EndToEndId"),
        party_name=name,
        party_iban=iban.replace(" ", "").upper(),
        remittance=remittance.strip(),
        return_reason=_text(tx, "RtrInf", "Rsn", "Cd"),
        charges=charges,
        amount=_amount(tx_amount_node, where) if tx_amount_node is not None else None,
    )


def statement_parse(content: bytes) -> list[Statement]:
    """The statements of a camt.053 file; :class:`CamtRefused` for anything else."""
    if len(content) > MAX_BYTES:
        raise CamtRefused(_("Die Datei ist größer als 50 MB."))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except (etree.XMLSyntaxError, ValueError):
        raise CamtRefused(
            _("Die Datei ist kein lesbares XML; bitte den Kontoauszug im Format camt.053 laden.")
        ) from None
    version = NAMESPACES.get(etree.QName(root).namespace or "")
    report = _find(root, "BkToCstmrStmt")
    if version is None or report is None:
        raise CamtRefused(
            _("Das ist kein Kontoauszug im Format camt.053 (gelesen werden camt.053.001.02 und camt.053.001.08).")
        )
    statements = []
    for number, stmt in enumerate(_children(report, "Stmt"), start=1):
        statement_id = _text(stmt, "Id")
        iban = _text(stmt, "Acct", "Id", "IBAN").replace(" ", "").upper()
        if not statement_id or not iban:
            raise CamtRefused(_("Auszug %(n)s nennt keine Auszugsnummer oder kein Konto (IBAN).") % {"n": number})
        if not IBAN_SHAPE.fullmatch(iban):
            raise CamtRefused(_("Auszug %(n)s: „%(iban)s“ ist keine IBAN.") % {"n": number, "iban": iban[:40]})
        entries = []
        for index, ntry in enumerate(_children(stmt, "Ntry"), start=1):
            where = _("Auszug %(id)s, Buchung %(n)s") % {"id": statement_id, "n": index}
            status = _text(ntry, "Sts", "Cd") or _text(ntry, "Sts")
            if status and status != "BOOK":
                continue  # pending or informational entries are not booked yet
            direction = _text(ntry, "CdtDbtInd")
            if direction not in ("CRDT", "DBIT"):
                raise CamtRefused(_("%(where)s: Soll/Haben fehlt.") % {"where": where})
            reference = _text(ntry, "AcctSvcrRef") or _text(ntry, "NtryRef")
            if not reference:
                raise CamtRefused(
                    _("%(where)s hat keine Referenz der Bank; ohne sie kann ein zweiter Import nicht erkannt werden.")
                    % {"where": where}
                )
            credit = direction == "CRDT"
            transactions = tuple(
                _transaction(tx, version, credit, where)
                for details in _children(ntry, "NtryDtls")
                for tx in _children(details, "TxDtls")
            )
            entries.append(
                Entry(
                    reference=reference[:120],
                    amount=_amount(_find(ntry, "Amt"), where),
                    credit=credit,
                    reversal=_text(ntry, "RvslInd").lower() == "true",
                    booked_on=_date(_find(ntry, "BookgDt"), where),
                    value_on=_date(_find(ntry, "ValDt"), where) if _find(ntry, "ValDt") is not None else None,
                    transactions=transactions,
                    entry_charges=_charges(ntry, where),
                )
            )
        statements.append(Statement(version, statement_id[:120], iban, tuple(entries)))
    if not statements:
        raise CamtRefused(_("Die Datei enthält keinen Kontoauszug."))
    return statements
