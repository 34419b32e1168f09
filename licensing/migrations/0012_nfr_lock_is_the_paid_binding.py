"""LIC-8's NFR lock is the paid key's binding (issue 17: one write less per key).

Every lock row was written with a binding of its licence to the same identifier in the
transaction that issued the key; the migration checks that before it drops the table, so
no lock is lost (a lock without its binding stops the migration with the rows named).
"""

from django.db import migrations

PAID_KINDS = ("purchase", "subscription")


def check_every_lock_has_its_binding(apps, schema_editor):
    NfrLock = apps.get_model("licensing", "NfrLock")
    LicenseBinding = apps.get_model("licensing", "LicenseBinding")
    missing = []
    for lock in NfrLock.objects.select_related("license").iterator():
        held = LicenseBinding.objects.filter(
            license__product_id=lock.product_id,
            license__kind__in=PAID_KINDS,
            identifier_kind=lock.identifier_kind,
            identifier=lock.identifier,
        ).exists()
        if not held:
            missing.append(f"{lock.pk} ({lock.identifier}, product {lock.product_id}, licence {lock.license_id})")
    if missing:
        raise RuntimeError(
            "NFR locks without a paid binding to their identifier — resolve before migrating: " + ", ".join(missing)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0011_deliverynote_swpreport_pdf_sha256"),
    ]

    operations = [
        migrations.RunPython(check_every_lock_has_its_binding, migrations.RunPython.noop),
        migrations.DeleteModel(name="NfrLock"),
        migrations.CreateModel(
            name="NfrLock",
            fields=[],
            options={
                "verbose_name": "NFR-Sperre",
                "verbose_name_plural": "NFR-Sperren",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("licensing.licensebinding",),
        ),
    ]
