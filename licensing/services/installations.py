"""Installations a partner enters and changes itself in the portal (STYLE 3: writes here).

The model's ``clean`` holds the rules (identifier per vendor and edition, LIC-1/SYS-1;
redundancy pair, LIC-9; plausible user counts); these services validate with it, save
with the login that made the change as ``history_user`` (staff see it in the admin's
history) and let the database's unique constraint decide between two saves of one
identifier at once.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from licensing.models import Installation
from vendorportal.parties.models import Customer

# What a partner may set. NFR flags, decommissioning and moves stay with staff (LIC-7, LIC-10).
PORTAL_FIELDS = (
    "name",
    "vendor",
    "edition",
    "identifier",
    "pbx_users",
    "user_light_licenses",
    "pbx_version",
    "delivery_email",
)
# Fixed once a key is bound to the installation: a key belongs to its identifier (LIC-1, LIC-11).
BOUND_FIELDS = ("vendor", "edition", "identifier")


def installation_has_keys(installation: Installation) -> bool:
    return installation.license_bindings.exists() or installation.system_licenses.exists()


def _not_naming_other_partners(exc: ValidationError, installation: Installation) -> ValidationError:
    """The model's duplicate message names the customer that holds the identifier — right for
    staff, a leak for a partner when that customer is another partner's. Said neutrally then."""
    if "identifier" not in getattr(exc, "error_dict", {}):
        return exc
    foreign = (
        Installation.objects.filter(identifier_kind=installation.identifier_kind, identifier=installation.identifier)
        .exclude(pk=installation.pk)
        .exclude(customer__partner_id=installation.customer.partner_id)
        .exists()
    )
    if not foreign:
        return exc
    errors = {field: list(messages) for field, messages in exc.message_dict.items()}
    errors["identifier"] = [
        _(
            "%(id)s ist bereits bei einem anderen Partner erfasst. Wenn die Anlage zu Ihrem Kunden gewechselt ist, "
            "wenden Sie sich bitte an den Support."
        )
        % {"id": installation.identifier}
    ]
    return ValidationError(errors)


def _save(installation: Installation, *, by) -> Installation:
    try:
        installation.full_clean()
    except ValidationError as exc:
        raise _not_naming_other_partners(exc, installation) from None
    installation._history_user = by
    try:
        with transaction.atomic():
            installation.save()
    except IntegrityError:
        # Two partners entering one server key at the same moment: clean() saw neither.
        raise ValidationError(
            {"identifier": [_("%(id)s ist bereits als Installation erfasst.") % {"id": installation.identifier}]}
        ) from None
    return installation


@transaction.atomic
def installation_create(
    *,
    customer: Customer,
    vendor: str,
    edition: str,
    identifier: str,
    name: str = "",
    pbx_users: int = 0,
    user_light_licenses: int = 0,
    pbx_version: str = "",
    delivery_email: str = "",
    secondary_of: Installation | None = None,
    by,
) -> Installation:
    """A new installation of ``customer``; raises ``ValidationError`` by field. With a
    ``delivery_email`` the keys of this PBX go straight there (ORD-2)."""
    installation = Installation(
        customer=customer,
        vendor=vendor,
        edition=edition,
        identifier=identifier,
        name=name.strip(),
        pbx_users=pbx_users,
        user_light_licenses=user_light_licenses,
        pbx_version=pbx_version.strip(),
        delivery_email=delivery_email.strip(),
        secondary_of=secondary_of,
    )
    return _save(installation, by=by)


@transaction.atomic
def installation_update(
    *, installation: Installation, secondary_of: Installation | None = None, by, **fields
) -> Installation:
    """Change what the partner may change; ``vendor``, ``edition`` and ``identifier`` are
    refused once a key is bound (LIC-11: a key never moves to another identifier)."""
    locked = Installation.objects.select_for_update().get(pk=installation.pk)
    unknown = set(fields) - set(PORTAL_FIELDS)
    if unknown:
        raise TypeError(f"installation_update: not a portal field: {sorted(unknown)}")
    if installation_has_keys(locked):
        changed = [f for f in BOUND_FIELDS if f in fields and str(fields[f]).strip() != str(getattr(locked, f))]
        if changed:
            raise ValidationError(
                {
                    f: [
                        _(
                            "Für diese Installation gibt es schon Lizenzschlüssel; Hersteller, Edition und Kennung "
                            "bleiben deshalb fest. Für einen Umzug auf eine neue Anlage wenden Sie sich an den Support."
                        )
                    ]
                    for f in changed
                }
            )
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.secondary_of = secondary_of
    return _save(locked, by=by)
