"""Extend the staff groups to licences, delivery notes and Auerswald systems."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0003_licenses_systems"),
        ("vendorportal", "0002_documentsequence"),
    ]

    # Roles are kept by a post_migrate handler now (vendorportal.roles); a migration must not
    # call today's code. Kept as a no-op so the migration graph stays the same.
    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
