"""Staff groups and their permissions — one table, applied by migrations.

Each later migration that adds models calls :func:`apply_roles` again so the
groups keep up. ``view``/``add``/``change``/``delete`` are Django's model permissions.
"""
from __future__ import annotations

SALES = "Vertrieb"
FINANCE = "Buchhaltung"
SUPPORT = "Support"

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
        "auth.user": EDIT,
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
        "vendorportal.jobrun": VIEW,
    },
    SUPPORT: {
        "licensing.partner": VIEW,
        "licensing.partneruser": VIEW,
        "licensing.customer": EDIT,
        "licensing.installation": EDIT,
        "licensing.product": VIEW,
        "licensing.moduleversion": EDIT,
        "licensing.pbxversion": EDIT,
        "vendorportal.jobrun": VIEW,
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
    for group_name, grants in ROLES.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        perms = []
        for model_key, actions in grants.items():
            app_label, model = model_key.split(".")
            for action in actions:
                perm = Permission.objects.filter(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                ).first()
                if perm is None:
                    raise RuntimeError(f"Permission {action}_{model} of {app_label} does not exist")
                perms.append(perm)
        group.permissions.set(perms)
