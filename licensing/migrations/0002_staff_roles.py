"""Staff groups sales (Vertrieb), finance (Buchhaltung), support with their permissions."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0001_initial"),
        ("vendorportal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Roles are kept by a post_migrate handler now (vendorportal.roles); a migration must not
    # call today's code. Kept as a no-op so the migration graph stays the same.
    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
