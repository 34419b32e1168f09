"""Staff groups named as the project names them: sales, finance, support."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("licensing", "0005_auerswald_system_proxy")]

    # Roles are kept by a post_migrate handler now (vendorportal.roles); a migration must not
    # call today's code. Kept as a no-op so the migration graph stays the same.
    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
