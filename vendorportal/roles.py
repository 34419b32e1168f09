"""Staff groups and their permissions — one table, applied by migrations.

Migrations call :func:`apply_roles` with the models as they are at that point;
models that do not exist yet are skipped, and the migration that adds them calls
it again, so the groups keep up. ``view``/``add``/``change``/``delete`` are Django's model permissions.
"""
from __future__ import annotations

SALES = "sales"  # Vertrieb
FINANCE = "finance"  # Buchhaltung
SUPPORT = "support"
# Names used by the first migrations; apply_roles renames them.
LEGACY_NAMES = {"Vertrieb": SALES, "Buchhaltung": FINANCE, "Support": SUPPORT}

# Besides Django's four, a model may define its own (Meta.permissions), e.g. "resend".
ALL = ("view", "add", "change", "delete")
EDIT = ("view", "add", "change")
VIEW = ("view",)

# group → {"app_label.model": actions}
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    SALES: {
        "licensing.partnerlevel": VIEW,
        "licensing.partner": EDIT,
        "licensing.partneruser": ALL,
        "licensing.customer": EDIT,
        "licensing.installation": EDIT,
        "licensing.product": EDIT,
        "licensing.bundle": ALL,
        "licensing.pricelist": EDIT,
        "licensing.price": EDIT,
        "licensing.moduleversion": EDIT,
        "licensing.pbxversion": EDIT,
        "licensing.license": EDIT,
        "licensing.deliverynote": VIEW,
        "licensing.nfrlock": VIEW,
        "licensing.insightownuse": EDIT,
        "licensing.auerswaldsystem": EDIT,
        "licensing.systemlicense": EDIT,
        "licensing.tryout": EDIT,
        "licensing.reinitialisation": EDIT,
        "licensing.maintenancecoverage": EDIT,
        "licensing.maintenancenotice": VIEW,
        "auth.user": EDIT,
        "vendorportal.outboxmessage": ("view", "resend"),
    },
    FINANCE: {
        "licensing.partnerlevel": ALL,
        "licensing.partner": EDIT,
        "licensing.partneruser": VIEW,
        "licensing.customer": VIEW,
        "licensing.installation": VIEW,
        "licensing.product": VIEW,
        "licensing.bundle": VIEW,
        "licensing.pricelist": VIEW,
        "licensing.price": VIEW,
        "licensing.license": VIEW,
        "licensing.deliverynote": VIEW,
        "licensing.insightownuse": EDIT,
        "licensing.auerswaldsystem": VIEW,
        "licensing.maintenancecoverage": VIEW,
        "licensing.maintenancenotice": VIEW,
        "vendorportal.jobrun": VIEW,
        "vendorportal.documentsequence": VIEW,
        "vendorportal.outboxmessage": VIEW,
    },
    SUPPORT: {
        "licensing.partner": VIEW,
        "licensing.partneruser": VIEW,
        "licensing.customer": EDIT,
        "licensing.installation": EDIT,
        "licensing.product": VIEW,
        "licensing.moduleversion": EDIT,
        "licensing.pbxversion": EDIT,
        "licensing.license": VIEW,
        "licensing.deliverynote": VIEW,
        "licensing.nfrlock": VIEW,
        "licensing.auerswaldsystem": EDIT,
        "licensing.systemlicense": VIEW,
        "licensing.tryout": EDIT,
        "licensing.reinitialisation": EDIT,
        "licensing.maintenancecoverage": VIEW,
        "licensing.maintenancenotice": VIEW,
        "vendorportal.jobrun": VIEW,
        "vendorportal.outboxmessage": ("view", "resend"),
    },
}


def apply_roles(apps, schema_editor=None) -> None:
    """Create the groups and set exactly the permissions of :data:`ROLES` (idempotent)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for old, new in LEGACY_NAMES.items():
        if not Group.objects.filter(name=new).exists():
            Group.objects.filter(name=old).update(name=new)
    for group_name, grants in ROLES.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        perms = []
        for model_key, actions in grants.items():
            app_label, model = model_key.split(".")
            try:
                apps.get_model(app_label, model)
            except LookupError:
                continue  # created by a later migration, which applies the roles again
            for action in actions:
                perm = Permission.objects.filter(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                ).first()
                if perm is None:
                    raise RuntimeError(f"Permission {action}_{model} of {app_label} does not exist")
                perms.append(perm)
        group.permissions.set(perms)
