"""Every partner's SEPA mandate (the old ``sepa_*`` fields of the partner) becomes a
``SepaMandate`` row, before the parties migration removes those fields (``run_before``).

- A complete mandate (IBAN, mandate reference, signature date) is copied with its BIC,
  compacted as the model stores it, active, sequence type FRST: no collection has been
  submitted through the portal yet, so the first one is its first (ORD-8). It gets a
  creation entry in the mandate's history.
- Incomplete mandate data (some of the three but not all) or one reference held by two
  partners cannot become a valid mandate. Rather than drop bank data silently the
  migration stops and names the partners: complete or clear them in the partner admin
  (the old code's form refuses incomplete data, so such rows come only from scripts),
  then migrate again.

Reversing copies each partner's active mandate back into the re-added fields and keeps
the rows (billing's 0003 drops the table when reversed further); migrating forward again
skips mandates whose reference is already there.
"""

import re

from django.db import migrations
from django.utils import timezone


def _compact(value):
    return re.sub(r"\s", "", value or "").upper()


def copy_mandates(apps, schema_editor):
    Partner = apps.get_model("parties", "Partner")
    SepaMandate = apps.get_model("billing", "SepaMandate")
    HistoricalSepaMandate = apps.get_model("billing", "HistoricalSepaMandate")
    partners = list(
        Partner.objects.order_by("pk").values(
            "pk", "company", "sepa_iban", "sepa_bic", "sepa_mandate_reference", "sepa_mandate_signed_on"
        )
    )
    incomplete, by_reference = [], {}
    for p in partners:
        parts = [p["sepa_iban"].strip(), p["sepa_mandate_reference"].strip(), p["sepa_mandate_signed_on"]]
        if any(parts) and not all(parts):
            incomplete.append(f"{p['company']} (id {p['pk']})")
        elif all(parts):
            by_reference.setdefault(p["sepa_mandate_reference"].strip(), []).append(f"{p['company']} (id {p['pk']})")
    duplicates = {ref: names for ref, names in by_reference.items() if len(names) > 1}
    if incomplete or duplicates:
        problems = []
        if incomplete:
            problems.append(
                "incomplete SEPA mandate (IBAN, reference and signature date needed): " + ", ".join(incomplete)
            )
        for ref, names in sorted(duplicates.items()):
            problems.append(f"mandate reference {ref!r} held by " + ", ".join(names))
        raise RuntimeError(
            "SEPA mandates cannot be moved to billing; fix these partners first, then migrate again: "
            + "; ".join(problems)
        )
    now = timezone.now()  # a migration runs outside the portal's clock
    for p in partners:
        if not p["sepa_mandate_reference"].strip():
            continue
        if SepaMandate.objects.filter(reference=p["sepa_mandate_reference"].strip()).exists():
            continue
        mandate = SepaMandate.objects.create(
            partner_id=p["pk"],
            iban=_compact(p["sepa_iban"]),
            bic=_compact(p["sepa_bic"]),
            reference=p["sepa_mandate_reference"].strip(),
            signed_on=p["sepa_mandate_signed_on"],
            sequence_type="FRST",
        )
        HistoricalSepaMandate.objects.create(
            id=mandate.pk,
            partner_id=mandate.partner_id,
            iban=mandate.iban,
            bic=mandate.bic,
            reference=mandate.reference,
            signed_on=mandate.signed_on,
            sequence_type=mandate.sequence_type,
            revoked_on=None,
            created_at=mandate.created_at,
            history_date=now,
            history_type="+",
            history_change_reason="aus den Partnerdaten übernommen",
        )


def copy_mandates_back(apps, schema_editor):
    Partner = apps.get_model("parties", "Partner")
    SepaMandate = apps.get_model("billing", "SepaMandate")
    for mandate in SepaMandate.objects.filter(revoked_on__isnull=True):
        Partner.objects.filter(pk=mandate.partner_id).update(
            sepa_iban=mandate.iban,
            sepa_bic=mandate.bic,
            sepa_mandate_reference=mandate.reference,
            sepa_mandate_signed_on=mandate.signed_on,
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_sepa_mandates_and_batches"), ("parties", "0001_initial")]
    run_before = [("parties", "0003_partner_sepa_fields_moved_to_billing")]

    operations = [migrations.RunPython(copy_mandates, copy_mandates_back)]
