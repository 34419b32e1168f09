"""Staff groups named as the project names them: sales, finance, support."""
from django.db import migrations

from vendorportal.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [("licensing", "0005_auerswald_system_proxy")]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
