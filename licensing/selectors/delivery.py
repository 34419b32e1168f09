"""What a delivery note (Lieferschein, ORD-2) shows — computed here, not in the template.

The note lists the module licence keys of one issue together with the installation
they belong to. It never shows a price (ORD-2: the invoice goes separately to the
invoice e-mail), so nothing from the price list or the order amounts is read here.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from licensing import rules
from licensing.models import DeliveryNote, License
from vendorportal.formats import format_date, postal_country

# Documents are dated in the vendor's time zone: a note created at 00:30 on
# 1 January in Germany is a note of the new year, whatever UTC says.
DOCUMENT_TIMEZONE = ZoneInfo("Europe/Berlin")

# Groups of five characters per printed key line: 8 groups (47 characters) fit the
# monospace block on A4; the verifier ignores the line breaks when a key is pasted.
KEY_GROUPS_PER_LINE = 8


def document_date(moment: datetime) -> date:
    """The calendar day of ``moment`` in the vendor's time zone."""
    return moment.astimezone(DOCUMENT_TIMEZONE).date()


def identifier_label(kind: str) -> str:
    """How the document names an installation identifier (LIC-1, SYS-1)."""
    return {
        rules.SERVER_KEY: _("Serverlizenzschlüssel"),
        rules.HARDWARE_ID: _("Hardware-ID"),
        rules.SERIAL_NUMBER: _("Seriennummer"),
    }.get(kind, _("Kennung"))


def binding_hint(kind: str, identifier: str) -> dict[str, str]:
    """The instruction box's sentences on what the key is bound to, per identifier kind.

    Whole sentences per kind, not a label dropped into one sentence: German needs the
    article to agree ("dem Serverlizenzschlüssel", "der Hardware-ID"), and a Free Edition
    shows its hardware ID in the console log, not a server key under "Support-Informationen".
    """
    if kind == rules.HARDWARE_ID:
        return {
            "title": _("Hardware-ID und Modullizenzschlüssel gehören immer zusammen."),
            "check": _(
                "Der Modullizenzschlüssel gilt nur für die Anlage mit der Hardware-ID %(identifier)s. Prüfen Sie vor "
                "der Eingabe, dass die im Console-Log der STARFACE (Admin/Server/Log-Datei) angezeigte Hardware-ID "
                "mit der auf diesem Lieferschein übereinstimmt."
            )
            % {"identifier": identifier},
            "not_this": _("nicht die Hardware-ID"),
        }
    return {
        "title": _("Serverlizenz- und Modullizenzschlüssel gehören immer zusammen."),
        "check": _(
            "Der Modullizenzschlüssel gilt nur für die Anlage mit dem Serverlizenzschlüssel %(identifier)s. Prüfen "
            "Sie vor der Eingabe, dass der in der STARFACE unter „Support-Informationen“ angezeigte "
            "Serverlizenzschlüssel mit dem auf diesem Lieferschein übereinstimmt."
        )
        % {"identifier": identifier},
        "not_this": _("nicht den Serverlizenzschlüssel"),
    }


def key_lines(key: str, groups_per_line: int = KEY_GROUPS_PER_LINE) -> list[str]:
    """The formatted key split into printable lines at group boundaries.

    Every line but the last keeps its trailing dash, so the lines read (and copy)
    as the key itself: ``"".join(lines) == key``.
    """
    groups = key.split("-")
    lines = ["-".join(groups[i : i + groups_per_line]) for i in range(0, len(groups), groups_per_line)]
    return [line + "-" for line in lines[:-1]] + lines[-1:]


def _address_lines(party) -> list[str]:
    """Postal address lines of a partner or customer; the country only when foreign."""
    lines = [party.company]
    if party.street:
        lines.append(party.street)
    city = " ".join(part for part in (party.postal_code, party.city) if part)
    if city:
        lines.append(city)
    if party.country and party.country != settings.VENDOR.get("country", "DE"):
        lines.append(postal_country(party.country))
    return lines


def _user_limit_text(lic: License) -> str:
    if lic.user_limit is None:
        return _("unbegrenzt")
    return _("max. %(n)s Benutzer") % {"n": lic.user_limit}


def _license_context(lic: License, note_installation_id: int) -> dict:
    # The note's own installation first, then further bindings (redundancy, LIC-9).
    bindings = sorted(lic.bindings.all(), key=lambda b: (b.installation_id != note_installation_id, b.identifier))
    return {
        "module": lic.product.name,
        "article": lic.product.article,
        "version": lic.module_version.version,
        "kind": lic.get_kind_display(),
        "is_demo": lic.kind == License.DEMO,
        "tier": lic.tier or "",
        "user_limit": _user_limit_text(lic),
        "valid_until": format_date(lic.valid_until, missing=""),
        "serial": lic.serial,
        "bindings": [{"label": identifier_label(b.identifier_kind), "identifier": b.identifier} for b in bindings],
        "key": lic.key,
        "key_lines": key_lines(lic.key),
    }


def delivery_note_context(note: DeliveryNote) -> dict:
    """Everything ``documents/delivery_note.html`` and the delivery e-mail show.

    The vendor's letterhead data is added by :func:`vendorportal.pdf.render_pdf`.
    """
    note = (
        DeliveryNote.objects.select_related("installation__customer__partner", "installation__secondary_of")
        .prefetch_related(
            Prefetch(
                "licenses",
                queryset=License.objects.select_related("product", "module_version")
                .prefetch_related("bindings")
                .order_by("product__name", "serial"),
            ),
            "installation__secondaries",
        )
        .get(pk=note.pk)
    )
    installation = note.installation
    customer = installation.customer
    partner = customer.partner

    redundancy = ""
    if installation.secondary_of_id:
        redundancy = _("Sekundäranlage (Redundanz) zu %(id)s") % {"id": installation.secondary_of.identifier}
    else:
        secondaries = [s.identifier for s in installation.secondaries.all()]
        if secondaries:
            redundancy = _("Primäranlage; Sekundäranlage(n): %(ids)s") % {"ids": ", ".join(secondaries)}

    return {
        "note": {
            "number": note.number,
            "date": format_date(document_date(note.created_at)),
            "recipient_email": note.recipient_email,
        },
        "partner": {"name": partner.company, "address_lines": _address_lines(partner)},
        "customer": {"name": customer.company, "address_lines": _address_lines(customer)},
        "installation": {
            "identifier_label": identifier_label(installation.identifier_kind),
            "identifier": installation.identifier,
            "name": installation.name,
            "edition": installation.get_edition_display(),
            "pbx_version": installation.pbx_version or _("nicht angegeben"),
            "redundancy": redundancy,
        },
        "binding_hint": binding_hint(installation.identifier_kind, installation.identifier),
        "licenses": [_license_context(lic, installation.pk) for lic in note.licenses.all()],
    }
