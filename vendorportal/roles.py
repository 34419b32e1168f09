"""Staff groups and their permissions — one table, kept in force after every ``migrate``.

A ``post_migrate`` handler (connected in ``VendorPortalConfig.ready``) calls
:func:`apply_roles`: it creates the groups and sets exactly the permissions listed
here, so a fresh database and an old one end equal, and a change to this table takes
effect with the next ``migrate``. (The first role migrations called this code from
inside migrations; they are no-ops now, since a migration must not depend on today's
code.) ``view``/``add``/``change``/``delete`` are Django's model permissions.

Staff accounts, groups and permissions (``auth.*``) are for superusers only (issue 8):
no group gets a right on them, and the user and group admins refuse everyone else
whatever rights a database may hold. Sales manages partner logins through the
partner-user form, which never shows staff flags, groups or permissions.
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
        "parties.partnerlevel": VIEW,
        "parties.partner": EDIT,
        "parties.partneruser": ALL,
        "parties.customer": EDIT,
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
        "vendorportal.outboxmessage": ("view", "resend"),
        "billing.order": EDIT,
        "billing.orderline": VIEW,
        "billing.invoice": VIEW,
        "billing.invoiceline": VIEW,
        "billing.payment": VIEW,
        "billing.sepamandate": VIEW,
        # Support (issue 11): sales sells service contracts, sees tickets but no attachments.
        "support.customersupportfacts": EDIT,
        "support.ticket": VIEW,
        # Subscriptions and service plans (SUB-1…SUB-8): sales manages them through the services.
        "billing.subscription": ("view", "change"),
        "billing.subscriptionpricechange": VIEW,
        "billing.serviceplan": EDIT,
        "billing.billedperiod": VIEW,
        "api.apitoken": ("view", "change"),  # partners' API tokens: see and revoke (issue 19)
        "webhooks.webhookendpoint": ("view", "change"),  # partners' webhooks: see and pause (issue 19)
        "webhooks.webhookdelivery": VIEW,
        "billing.confirmation": VIEW,  # written confirmations (issue 16)
        "billing.dunningnotice": VIEW,  # dunning (issue 18): sales sees where a partner stands
        "billing.dunningpause": VIEW,
        "billing.dunningblock": VIEW,
        "billing.charge": VIEW,  # Nebenforderungen a partner asks about (issue 18)
    },
    FINANCE: {
        "parties.partnerlevel": ALL,
        "parties.partner": EDIT,
        "parties.partneruser": VIEW,
        "parties.customer": VIEW,
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
        "billing.order": VIEW,
        "billing.orderline": VIEW,
        "billing.vatrate": ALL,
        # Invoices are issued, never edited or deleted (INV-1): finance credits, records payments, resends.
        "billing.invoice": ("view", "credit", "pay", "resend"),
        "billing.invoiceline": VIEW,
        "billing.payment": VIEW,
        "billing.sepamandate": ALL,
        "billing.sepabatch": ("view", "add"),
        "billing.sepabatchitem": VIEW,
        # Support (issue 11): the service price list's hourly rates, billable time.
        "support.hourlyrate": ALL,
        "support.timeentry": VIEW,
        "support.ticket": VIEW,
        "billing.subscription": VIEW,
        "billing.subscriptionpricechange": VIEW,
        "billing.serviceplan": VIEW,
        "billing.billedperiod": VIEW,
        "billing.financereport": ("view", "datev"),  # DATEV export for the tax adviser (issue 18)
        "billing.bankstatement": ("view", "add"),  # camt.053 import (issue 18)
        "billing.bankentry": VIEW,
        "billing.charge": ("view", "add"),  # Nebenforderungen: read, add by hand with a reason (issue 18)
        "billing.confirmation": VIEW,
        # Dunning (issue 18): finance pauses and resumes, blocks keys after the letzte Mahnung and
        # keeps the base rate (no delete: a rate stays as it was entered, corrections are changes).
        "billing.dunningnotice": ("view", "pause", "block"),
        "billing.dunningpause": VIEW,
        "billing.dunningblock": VIEW,
        "billing.baserate": EDIT,
        "billing.invoicingrun": VIEW,  # the monthly runs, read-only (issue 17)
    },
    SUPPORT: {
        "parties.partner": VIEW,
        "parties.partneruser": VIEW,
        "parties.customer": EDIT,
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
        "billing.order": VIEW,
        "billing.orderline": VIEW,
        "billing.invoice": VIEW,
        "billing.invoiceline": VIEW,
        "billing.payment": VIEW,
        # The support desk (issue 11).
        "support.ticket": ("view", "change"),
        "support.ticketmessage": VIEW,
        # Helping a partner's developers (issue 19): their webhooks' delivery log, a resend.
        "webhooks.webhookendpoint": VIEW,
        "webhooks.webhookdelivery": ("view", "resend"),
        "support.attachment": VIEW,
        "support.timeentry": ("view", "add"),
        "support.hourlyrate": VIEW,
        "support.article": ALL,
        "support.tag": ALL,
        "support.customersupportfacts": EDIT,
        "support.inboundmail": VIEW,
        "billing.subscription": VIEW,
        "billing.subscriptionpricechange": VIEW,
        "billing.serviceplan": VIEW,
        "billing.billedperiod": VIEW,
        "billing.dunningnotice": VIEW,  # dunning (issue 18): why a partner's keys are blocked
        "billing.dunningblock": VIEW,
    },
}


def apply_roles(apps=None, verbosity: int = 0) -> None:
    """Create the groups and set exactly the permissions of :data:`ROLES` (idempotent)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    # post_migrate runs app by app; make sure every app's permissions exist before we grant them.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for old, new in LEGACY_NAMES.items():
        if not Group.objects.filter(name=new).exists():
            Group.objects.filter(name=old).update(name=new)
    for group_name, grants in ROLES.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        wanted = []
        for model_key, actions in grants.items():
            app_label, model = model_key.split(".")
            for action in actions:
                perm = Permission.objects.filter(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                ).first()
                if perm is None:
                    raise RuntimeError(f"Permission {action}_{model} of {app_label} does not exist")
                wanted.append(perm)
        group.permissions.set(wanted)


def roles_after_migrate(sender, app_config=None, using="default", apps=None, verbosity=0, plan=None, **kwargs) -> None:
    """``post_migrate`` receiver: keep the staff groups as :data:`ROLES` says.

    Only when the migration plan has run to the end for every app that holds a
    role's model (a ``migrate`` to an older migration leaves the groups alone).
    """
    from django.apps import apps as global_apps
    from django.db import DEFAULT_DB_ALIAS

    if using != DEFAULT_DB_ALIAS:
        return
    state_apps = apps or global_apps
    for grants in ROLES.values():
        for key in grants:
            try:
                state_apps.get_model(*key.split("."))
            except LookupError:
                return
    apply_roles(global_apps, verbosity)
