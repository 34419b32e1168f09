"""The SEPA core direct-debit file (pain.008) over plain values (ORD-8).

No ORM, no settings, no clock: the caller passes the creditor (the vendor, from the
``SEPA_CREDITOR_*`` settings), the collections and the creation time, so the same input
always gives the same bytes. Built with ``sepaxml`` and validated against the pain.008
XSD it bundles (``export(validate=True)``): a file that does not validate is never
returned, :class:`billing.exceptions.SepaFileInvalid` says why.

Schema version: pain.008.001.08 (ISO 20022 version 2019), which the German banks'
DFÜ-Abkommen (Anlage 3) requires for new files since November 2025; pain.008.001.02 (the
2009 version) is still available through ``schema=`` for a bank that wants it.

File layout, as the SEPA rulebook requires:

- one group header (``GrpHdr``): message id, creation time, number of transactions and
  their sum over the whole file, initiating party = the creditor;
- one payment-information block (``PmtInf``) per collection date and sequence type — each
  debit is collected on exactly the day its invoice announced (ORD-8 / SEPA decision), and
  first collections of a mandate (``FRST``) and recurring ones (``RCUR``) are never mixed in
  one block — each with its own count and control sum, the collection date, the creditor's
  account and creditor identifier; the blocks' ids are ``<message id>-<FRST|RCUR>-<YYYYMMDD>``
  (sepaxml groups its batches by sequence type and collection date);
- one transaction (``DrctDbtTxInf``) per collection: end-to-end id (the invoice number),
  amount (the invoice's gross), mandate reference and signature date, the debtor's
  name, IBAN and BIC (``NOTPROVIDED`` when there is none), the remittance text.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SepaxmlValidationError

from billing.exceptions import SepaFileInvalid

PAIN008 = "pain.008.001.08"
PAIN008_V2 = "pain.008.001.02"
SCHEMAS = (PAIN008, PAIN008_V2)

FRST = "FRST"  # first collection under a mandate
RCUR = "RCUR"  # every later one
SEQUENCE_TYPES = (FRST, RCUR)

MAX_ID_LENGTH = 35  # Max35Text: message id, end-to-end id, mandate reference
BLOCK_SUFFIX_LENGTH = len("-FRST-20261221")  # what a block id adds to the message id
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Creditor:
    """The vendor collecting: name, account and SEPA creditor identifier (Gläubiger-ID)."""

    name: str
    iban: str
    bic: str
    creditor_id: str  # e.g. "DE98ZZZ09999999999"


@dataclass(frozen=True)
class Collection:
    """One direct debit: an invoice's gross collected under the partner's mandate."""

    end_to_end_id: str  # the invoice number, e.g. "RE-2026-000123"
    amount: Decimal  # the invoice's gross, two places, > 0
    mandate_reference: str
    mandate_signed_on: dt.date
    sequence_type: str  # FRST or RCUR
    collection_date: dt.date  # the day the invoice announced (pre-notification)
    debtor_name: str
    debtor_iban: str
    debtor_bic: str = ""  # optional within the EEA
    remittance: str = ""  # Verwendungszweck, at most 140 characters (longer is cut)


@dataclass(frozen=True)
class DueCollection:
    """What the caller of :func:`billing.services.sepa_batch_create` passes per invoice: the
    service adds the mandate's data, the debtor and the sequence type."""

    end_to_end_id: str  # the invoice number
    amount: Decimal  # the invoice's gross
    mandate_reference: str  # the mandate the invoice is collected under
    collection_date: dt.date  # the announced day (the invoice's due date): collected on exactly that day
    remittance: str = ""  # default: "Rechnung <number>"


def _cents(amount: Decimal, end_to_end_id: str) -> int:
    if not isinstance(amount, Decimal) or amount <= 0 or amount != amount.quantize(CENT):
        raise SepaFileInvalid(
            _("Der Betrag %(amount)s für %(id)s ist kein positiver Euro-Betrag mit höchstens zwei Nachkommastellen.")
            % {"amount": amount, "id": end_to_end_id},
            code="sepa_amount_invalid",
        )
    return int(amount * 100)


class _DirectDebit(SepaDD):
    """sepaxml's builder with the message id, creation time and block ids given by the
    caller instead of random values and the wall clock (reproducible files)."""

    def __init__(self, config, *, schema: str, message_id: str, created_at: dt.datetime):
        self._given_message_id = message_id
        self._given_created_at = created_at
        super().__init__(config, schema=schema, clean=True)

    def _create_header(self):
        super()._create_header()
        self.msg_id = self._given_message_id
        header = self._xml.find("CstmrDrctDbtInitn").find("GrpHdr")
        header.find("MsgId").text = self._given_message_id
        header.find("CreDtTm").text = self._given_created_at.strftime("%Y-%m-%dT%H:%M:%S")

    def _finalize_batch(self):
        super()._finalize_batch()
        for block in self._xml.find("CstmrDrctDbtInitn").iter("PmtInf"):
            sequence_type = block.find("PmtTpInf").find("SeqTp").text
            day = block.find("ReqdColltnDt").text.replace("-", "")
            block.find("PmtInfId").text = f"{self._given_message_id}-{sequence_type}-{day}"


def build_pain008(
    *,
    creditor: Creditor,
    collections: Sequence[Collection],
    message_id: str,
    created_at: dt.datetime,
    schema: str = PAIN008,
) -> bytes:
    """The schema-validated pain.008 file (UTF-8 bytes) for ``collections``.

    Each collection is asked for on its own ``collection_date``: one payment block per
    collection date and sequence type. Raises :class:`SepaFileInvalid` (nothing is returned)
    for no collections, an amount
    that is not a positive cent amount, an unknown sequence type, an end-to-end id used
    twice, or anything the XSD refuses (a too long id, a malformed IBAN or BIC, …).
    """
    if schema not in SCHEMAS:
        raise ValueError(f"unknown schema {schema!r}")
    if not collections:
        raise SepaFileInvalid(_("Eine Lastschriftdatei braucht mindestens eine Lastschrift."), code="sepa_empty")
    if not message_id or len(message_id) > MAX_ID_LENGTH - BLOCK_SUFFIX_LENGTH:
        raise SepaFileInvalid(
            _("Die Nachrichten-ID muss 1 bis %(max)s Zeichen lang sein.")
            % {"max": MAX_ID_LENGTH - BLOCK_SUFFIX_LENGTH},
            code="sepa_message_id",
        )
    seen: set[str] = set()
    for item in collections:
        if item.sequence_type not in SEQUENCE_TYPES:
            raise SepaFileInvalid(
                _("Unbekannter Sequenztyp „%(type)s“ (erlaubt: FRST, RCUR).") % {"type": item.sequence_type},
                code="sepa_sequence_type",
            )
        if item.end_to_end_id in seen:
            raise SepaFileInvalid(
                _("%(id)s steht zweimal in der Lastschriftdatei.") % {"id": item.end_to_end_id},
                code="sepa_duplicate",
            )
        seen.add(item.end_to_end_id)

    config = {
        "name": creditor.name,
        "IBAN": creditor.iban,
        "batch": True,
        "creditor_id": creditor.creditor_id,
        "currency": "EUR",
        "instrument": "CORE",
    }
    if creditor.bic:
        config["BIC"] = creditor.bic
    try:
        builder = _DirectDebit(config, schema=schema, message_id=message_id, created_at=created_at)
        # By day, FRST before RCUR (sepaxml opens a block per sequence type and day in the
        # order met), by end-to-end id within a block: the same collections give the same file.
        ordered = sorted(
            collections,
            key=lambda c: (c.collection_date, SEQUENCE_TYPES.index(c.sequence_type), c.end_to_end_id),
        )
        for item in ordered:
            payment = {
                "name": item.debtor_name,
                "IBAN": item.debtor_iban,
                "amount": _cents(item.amount, item.end_to_end_id),
                "type": item.sequence_type,
                "collection_date": item.collection_date,
                "mandate_id": item.mandate_reference,
                "mandate_date": item.mandate_signed_on,
                "description": item.remittance or item.end_to_end_id,
                "endtoend_id": item.end_to_end_id,
            }
            if item.debtor_bic:
                payment["BIC"] = item.debtor_bic
            builder.add_payment(payment)
        return builder.export(validate=True)
    except SepaFileInvalid:
        raise
    except SepaxmlValidationError as exc:
        detail = getattr(exc.__cause__, "reason", None) or str(exc.__cause__ or exc)
        raise SepaFileInvalid(
            _("Die Lastschriftdatei entspricht nicht dem Schema %(schema)s: %(detail)s")
            % {"schema": schema, "detail": detail},
            code="sepa_schema",
        ) from exc
    except Exception as exc:  # sepaxml reports missing or wrongly typed input as a bare Exception
        raise SepaFileInvalid(
            _("Die Lastschriftdatei konnte nicht erstellt werden: %(detail)s") % {"detail": exc},
            code="sepa_input",
        ) from exc


def parse_pain008(xml: bytes) -> ET.Element:
    """The file's root element with namespaces stripped — for reading a stored file back."""
    root = ET.fromstring(xml)
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root
