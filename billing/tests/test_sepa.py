"""The pain.008 direct-debit file (ORD-8): built from plain values, read back, schema-checked;
and the batch service that records it and never collects an invoice twice."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing import sepa, services
from billing.exceptions import SepaCollectionRefused, SepaFileInvalid
from billing.models import SepaBatch, SepaBatchItem, SepaMandate
from billing.sepa import FRST, RCUR, Collection, Creditor, DueCollection, build_pain008, parse_pain008
from vendorportal.parties.tests.factories import PartnerFactory, UserFactory

D = Decimal
CREDITOR = Creditor(
    name="Fluxpunkt Module GmbH", iban="DE02120300000000202051", bic="BYLADEM1001", creditor_id="DE98ZZZ09999999999"
)


def collection(number, amount, sequence_type, reference="MUSTER-0001", **kw):
    values = dict(
        end_to_end_id=number,
        amount=D(amount),
        mandate_reference=reference,
        mandate_signed_on=date(2025, 3, 10),
        sequence_type=sequence_type,
        collection_date=date(2026, 12, 1),
        debtor_name="Muster Kommunikation GmbH",
        debtor_iban="DE89370400440532013000",
        debtor_bic="COBADEFFXXX",
        remittance=f"Rechnung {number}",
    )
    values.update(kw)
    return Collection(**values)


def build(collections, schema=sepa.PAIN008):
    return build_pain008(
        creditor=CREDITOR,
        collections=collections,
        message_id="SEPA-2026-00001",
        created_at=datetime(2026, 11, 21, 10, 30),
        schema=schema,
    )


THREE = [
    collection("RE-2026-000101", "44.75", RCUR),
    collection(
        "RE-2026-000102",
        "10.00",
        FRST,
        reference="BEISPIEL-7",
        debtor_name="Beispiel IT-Service KG",
        debtor_iban="DE75512108001245126199",
        debtor_bic="",
    ),
    # 50,00 € net subscription + 19 % = 59,50 € gross.
    collection("RE-2026-000103", "59.50", RCUR),
]


@pytest.mark.parametrize("schema", sepa.SCHEMAS)
def test_file_read_back_has_one_block_per_sequence_type_with_hand_worked_sums(schema):
    root = parse_pain008(build(THREE, schema))
    header = root.find("CstmrDrctDbtInitn/GrpHdr")
    # 44,75 + 10,00 + 59,50 = 114,25 € in 3 collections.
    assert (header.findtext("MsgId"), header.findtext("NbOfTxs"), header.findtext("CtrlSum")) == (
        "SEPA-2026-00001",
        "3",
        "114.25",
    )
    assert header.findtext("CreDtTm") == "2026-11-21T10:30:00"
    blocks = root.findall("CstmrDrctDbtInitn/PmtInf")
    summary = [
        (
            b.findtext("PmtInfId"),
            b.findtext("PmtTpInf/SeqTp"),
            b.findtext("PmtTpInf/LclInstrm/Cd"),
            b.findtext("NbOfTxs"),
            b.findtext("CtrlSum"),
            b.findtext("ReqdColltnDt"),
            b.findtext("CdtrSchmeId/Id/PrvtId/Othr/Id"),
            b.findtext("CdtrAcct/Id/IBAN"),
        )
        for b in blocks
    ]
    assert summary == [
        (
            "SEPA-2026-00001-FRST-20261201",
            "FRST",
            "CORE",
            "1",
            "10.00",
            "2026-12-01",
            "DE98ZZZ09999999999",
            CREDITOR.iban,
        ),
        # RCUR: 44,75 + 59,50 = 104,25 €.
        (
            "SEPA-2026-00001-RCUR-20261201",
            "RCUR",
            "CORE",
            "2",
            "104.25",
            "2026-12-01",
            "DE98ZZZ09999999999",
            CREDITOR.iban,
        ),
    ]
    transactions = [
        (
            b.findtext("PmtTpInf/SeqTp"),
            tx.findtext("PmtId/EndToEndId"),
            tx.find("InstdAmt").get("Ccy"),
            tx.findtext("InstdAmt"),
            tx.findtext("DrctDbtTx/MndtRltdInf/MndtId"),
            tx.findtext("DrctDbtTx/MndtRltdInf/DtOfSgntr"),
            tx.findtext("Dbtr/Nm"),
            tx.findtext("DbtrAcct/Id/IBAN"),
            tx.findtext("RmtInf/Ustrd"),
        )
        for b in blocks
        for tx in b.findall("DrctDbtTxInf")
    ]
    assert transactions == [
        (
            "FRST",
            "RE-2026-000102",
            "EUR",
            "10.00",
            "BEISPIEL-7",
            "2025-03-10",
            "Beispiel IT-Service KG",
            "DE75512108001245126199",
            "Rechnung RE-2026-000102",
        ),
        (
            "RCUR",
            "RE-2026-000101",
            "EUR",
            "44.75",
            "MUSTER-0001",
            "2025-03-10",
            "Muster Kommunikation GmbH",
            "DE89370400440532013000",
            "Rechnung RE-2026-000101",
        ),
        (
            "RCUR",
            "RE-2026-000103",
            "EUR",
            "59.50",
            "MUSTER-0001",
            "2025-03-10",
            "Muster Kommunikation GmbH",
            "DE89370400440532013000",
            "Rechnung RE-2026-000103",
        ),
    ]
    # A debtor without BIC is "NOTPROVIDED" (allowed within the EEA).
    frst_tx = blocks[0].find("DrctDbtTxInf")
    assert frst_tx.findtext("DbtrAgt/FinInstnId/Othr/Id") == "NOTPROVIDED"


def test_same_input_same_bytes():
    assert build(THREE) == build(list(reversed(THREE)))


@pytest.mark.parametrize(
    "broken",
    [
        {"end_to_end_id": "RE-2026-000101-" + "X" * 21},  # 36 characters, the XSD allows 35
        {"debtor_iban": "de89370400440532013000"},  # the XSD's IBAN pattern wants capitals
        {"mandate_reference": "M" * 36},
        {"debtor_bic": "COBADEF"},  # 7 characters: no BIC
    ],
)
def test_schema_validation_refuses_a_broken_input(broken):
    with pytest.raises(SepaFileInvalid) as exc:
        build([collection("RE-2026-000101", "44.75", RCUR, **broken)])
    assert exc.value.code == "sepa_schema"
    assert "Schema pain.008.001.08" in exc.value.message


@pytest.mark.parametrize(
    "collections,code",
    [
        ([], "sepa_empty"),
        ([collection("RE-1", "0.00", FRST)], "sepa_amount_invalid"),
        ([collection("RE-1", "-5.00", FRST)], "sepa_amount_invalid"),
        ([collection("RE-1", "10.005", FRST)], "sepa_amount_invalid"),
        ([collection("RE-1", "10.00", "OOFF")], "sepa_sequence_type"),
        ([collection("RE-1", "10.00", FRST), collection("RE-1", "12.00", RCUR)], "sepa_duplicate"),
    ],
)
def test_impossible_input_is_refused_before_building(collections, code):
    with pytest.raises(SepaFileInvalid) as exc:
        build(collections)
    assert exc.value.code == code


# --- the batch service -------------------------------------------------------------------


@pytest.fixture
def mandates(db, clock, settings):
    clock.set(datetime(2026, 11, 21, 9, 0))
    settings.SEPA_CREDITOR_NAME = CREDITOR.name
    settings.SEPA_CREDITOR_IBAN = CREDITOR.iban
    settings.SEPA_CREDITOR_BIC = CREDITOR.bic
    settings.SEPA_CREDITOR_ID = CREDITOR.creditor_id
    muster = services.sepa_mandate_create(
        partner=PartnerFactory(company="Muster Kommunikation GmbH"),
        iban="DE89 3704 0044 0532 0130 00",
        bic="COBADEFFXXX",
        reference="MUSTER-0001",
        signed_on=date(2025, 3, 10),
    )
    beispiel = services.sepa_mandate_create(
        partner=PartnerFactory(company="Beispiel IT-Service KG"),
        iban="DE75512108001245126199",
        reference="BEISPIEL-7",
        signed_on=date(2026, 10, 2),
    )
    return muster, beispiel


def due(number, amount, reference, day=date(2026, 12, 1)):
    return DueCollection(end_to_end_id=number, amount=D(amount), mandate_reference=reference, collection_date=day)


def test_batch_stores_the_file_its_items_and_moves_first_collections_to_rcur(mandates):
    muster, beispiel = mandates
    user = UserFactory(username="fibu")
    batch = services.sepa_batch_create(
        collections=[
            due("RE-2026-000101", "44.75", "MUSTER-0001"),
            due("RE-2026-000103", "59.50", "MUSTER-0001"),
            due("RE-2026-000102", "10.00", "BEISPIEL-7"),
        ],
        by=user,
    )
    assert (batch.message_id, batch.count, batch.total, batch.created_by) == (
        "SEPA-2026-00001",
        3,
        D("114.25"),
        user,
    )
    # Both mandates were never collected: each one's first invoice is FRST, Muster's second RCUR.
    items = {i.end_to_end_id: (i.sequence_type, i.amount) for i in batch.items.all()}
    assert items == {
        "RE-2026-000101": ("FRST", D("44.75")),
        "RE-2026-000102": ("FRST", D("10.00")),
        "RE-2026-000103": ("RCUR", D("59.50")),
    }
    root = parse_pain008(batch.xml.encode())
    blocks = {
        b.findtext("PmtTpInf/SeqTp"): (b.findtext("NbOfTxs"), b.findtext("CtrlSum"))
        for b in root.findall("CstmrDrctDbtInitn/PmtInf")
    }
    # FRST: 44,75 + 10,00 = 54,75 €; RCUR: 59,50 €.
    assert blocks == {"FRST": ("2", "54.75"), "RCUR": ("1", "59.50")}
    assert root.findtext("CstmrDrctDbtInitn/GrpHdr/CtrlSum") == "114.25"
    assert root.findtext("CstmrDrctDbtInitn/PmtInf/CdtrSchmeId/Id/PrvtId/Othr/Id") == "DE98ZZZ09999999999"
    # Debtor data comes from the mandate and its partner; remittance names the invoice.
    tx = root.find("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf")
    assert (tx.findtext("Dbtr/Nm"), tx.findtext("DbtrAcct/Id/IBAN"), tx.findtext("RmtInf/Ustrd")) == (
        "Muster Kommunikation GmbH",
        "DE89370400440532013000",
        "Rechnung RE-2026-000101",
    )
    muster.refresh_from_db()
    beispiel.refresh_from_db()
    assert (muster.sequence_type, beispiel.sequence_type) == ("RCUR", "RCUR")
    assert muster.history.first().sequence_type == "RCUR"

    # The next month's collection under the same mandate is recurring.
    clock_batch = services.sepa_batch_create(
        collections=[due("RE-2026-000150", "44.75", "MUSTER-0001", date(2027, 1, 4))]
    )
    assert [i.sequence_type for i in clock_batch.items.all()] == ["RCUR"]
    assert clock_batch.message_id == "SEPA-2026-00002"


def test_the_same_invoice_is_never_in_two_batches(mandates):
    services.sepa_batch_create(collections=[due("RE-2026-000101", "44.75", "MUSTER-0001")])
    with pytest.raises(SepaCollectionRefused, match="RE-2026-000101") as exc:
        services.sepa_batch_create(
            collections=[due("RE-2026-000102", "10.00", "BEISPIEL-7"), due("RE-2026-000101", "44.75", "MUSTER-0001")],
        )
    assert exc.value.code == "sepa_already_collected"
    # Nothing of the refused batch was written: one batch, one item, Beispiel still FRST.
    assert (SepaBatch.objects.count(), SepaBatchItem.objects.count()) == (1, 1)
    assert SepaMandate.objects.get(reference="BEISPIEL-7").sequence_type == "FRST"


def test_the_database_refuses_a_second_item_with_the_same_end_to_end_id(mandates):
    muster, _beispiel = mandates
    batch = services.sepa_batch_create(collections=[due("RE-2026-000101", "44.75", "MUSTER-0001")])
    with pytest.raises(IntegrityError), transaction.atomic():
        SepaBatchItem.objects.create(
            batch=batch, end_to_end_id="RE-2026-000101", mandate=muster, sequence_type="RCUR", amount=D("44.75")
        )


def test_a_race_past_the_check_becomes_a_refusal_not_a_500(mandates, monkeypatch):
    services.sepa_batch_create(collections=[due("RE-2026-000101", "44.75", "MUSTER-0001")])
    # Simulate a second export that checked before the first committed: the check sees nothing.
    real_filter = SepaBatchItem.objects.filter

    def blind_filter(*args, **kwargs):
        if "end_to_end_id__in" in kwargs:
            return SepaBatchItem.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(SepaBatchItem.objects, "filter", blind_filter)
    with pytest.raises(SepaCollectionRefused) as exc:
        services.sepa_batch_create(collections=[due("RE-2026-000101", "44.75", "MUSTER-0001")])
    assert exc.value.code == "sepa_already_collected"
    assert SepaBatch.objects.count() == 1


def test_revoked_or_unknown_mandates_and_bad_dates_are_refused(mandates):
    muster, _ = mandates
    services.sepa_mandate_revoke(mandate=muster)
    cases = [
        ([due("RE-1", "44.75", "MUSTER-0001")], date(2026, 12, 1), "sepa_mandate_inactive"),
        ([due("RE-1", "44.75", "UNBEKANNT-1")], date(2026, 12, 1), "sepa_mandate_inactive"),
        ([due("RE-1", "10.00", "BEISPIEL-7", date(2026, 11, 21))], date(2026, 11, 21), "sepa_collection_date"),
        ([], date(2026, 12, 1), "sepa_empty"),
        (
            [due("RE-1", "10.00", "BEISPIEL-7"), due("RE-1", "10.00", "BEISPIEL-7")],
            date(2026, 12, 1),
            "sepa_duplicate_input",
        ),
    ]
    for collections, _day, code in cases:
        with pytest.raises(SepaCollectionRefused) as exc:
            services.sepa_batch_create(collections=collections)
        assert exc.value.code == code
    assert SepaBatch.objects.count() == 0


def test_a_file_the_schema_refuses_writes_no_batch(mandates):
    with pytest.raises(SepaFileInvalid):
        services.sepa_batch_create(collections=[due("RE-2026-000101-" + "X" * 21, "44.75", "MUSTER-0001")])
    assert (SepaBatch.objects.count(), SepaMandate.objects.get(reference="MUSTER-0001").sequence_type) == (0, "FRST")


@pytest.mark.django_db(transaction=True)
def test_parallel_exports_of_the_same_invoice_make_one_batch(clock, settings):
    """Three exports at once, each with its own connection: one batch, two refusals."""
    import threading

    from django.db import connection

    from vendorportal.errors import PortalError

    clock.set(datetime(2026, 11, 21, 9, 0))
    services.sepa_mandate_create(
        partner=PartnerFactory(company="Muster Kommunikation GmbH"),
        iban="DE89370400440532013000",
        reference="MUSTER-0001",
        signed_on=date(2025, 3, 10),
    )
    barrier = threading.Barrier(3)
    results = [None] * 3

    def run(i):
        try:
            barrier.wait(timeout=30)
            batch = services.sepa_batch_create(collections=[due("RE-2026-000101", "44.75", "MUSTER-0001")])
            results[i] = ("ok", batch.pk)
        except PortalError as exc:
            results[i] = (exc.code, exc.message)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            results[i] = ("crash", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(code for code, _ in results) == ["ok", "sepa_already_collected", "sepa_already_collected"], results
    assert (SepaBatch.objects.count(), SepaBatchItem.objects.count()) == (1, 1)
    assert SepaMandate.objects.get().sequence_type == "RCUR"
