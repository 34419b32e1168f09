"""Extend the staff groups to licences, delivery notes and Auerswald systems."""
from django.db import migrations

from vendorportal.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0003_licenses_systems"),
        ("vendorportal", "0002_documentsequence"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
