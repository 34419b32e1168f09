"""Staff groups sales (Vertrieb), finance (Buchhaltung), support with their permissions."""
from django.db import migrations

from vendorportal.roles import apply_roles


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0001_initial"),
        ("vendorportal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
