"""Issuing, revoking and blocking module licence keys; moving and transferring
installations (LIC-1…LIC-13). Every write goes through here: admin actions, portal
views, commands and tasks call these functions.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from licensing import keys, rules, verifier
from licensing.constants import INSIGHT, STARFACE
from licensing.exceptions import LicenseRefused, LicensingError
from licensing.models import (
    InsightOwnUse,
    Installation,
    IssueClaim,
    License,
    LicenseBinding,
    ModuleVersion,
    NfrLock,
    Product,
)
from vendorportal import clock
from vendorportal.formats import format_date
from vendorportal.webhooks import constants as webhook_events
from vendorportal.webhooks import payloads as webhook_payloads
from vendorportal.webhooks.events import EventDraft, has_webhooks_exists, webhook_events_emit_many


class AlreadyIssued(LicenseRefused):
    """This issue (form token or order reference) was carried out before; ``licenses`` are
    the keys it issued then. Nothing new was written."""

    def __init__(self, message, *, code: str, licenses: list[License]):
        super().__init__(message, code=code)
        self.licenses = licenses


# --- signing keys ---------------------------------------------------------------------


def signing_key():
    """The Ed25519 key that signs new licence keys (generated on first use, see README)."""
    return keys.cached_signing_key(settings.LICENSE_SIGNING_KEY_FILE)


def public_keys() -> dict:
    """Every public key that still verifies: the current one plus rotated ones (LIC-2)."""
    return keys.cached_public_keys(settings.LICENSE_SIGNING_KEY_FILE, settings.LICENSE_PUBLIC_KEYS_DIR)


# --- issuing ----------------------------------------------------------------------------


def _refuse(message: str, code: str):
    raise LicenseRefused(message, code=code)


def _check_issue(
    *, product: Product, version: ModuleVersion, installations: list[Installation], kind: str, today: date
) -> None:
    if product.kind != Product.MODULE:
        _refuse(_("%(name)s ist kein Modul mit Lizenzschlüssel.") % {"name": product.name}, "not_a_module")
    if not product.active:
        _refuse(_("%(name)s wird nicht mehr angeboten.") % {"name": product.name}, "inactive")
    if version.product_id != product.pk:
        _refuse(
            _("Version %(version)s gehört nicht zu %(name)s.") % {"version": version.version, "name": product.name},
            "version_mismatch",
        )
    if kind not in dict(License.KIND_CHOICES):
        _refuse(_("Unbekannte Lizenzart „%(kind)s“.") % {"kind": kind}, "invalid_kind")
    if not installations:
        _refuse(_("Eine Lizenz braucht eine Installation."), "no_installation")
    for inst in installations:
        if inst.vendor != STARFACE:
            _refuse(
                _("Modullizenzen gibt es nur für STARFACE-Anlagen; %(id)s ist ein Auerswald-System.")
                % {"id": inst.identifier},
                "not_starface",
            )
        if not inst.is_active_on(today):
            _refuse(
                _(
                    "Die Installation %(id)s ist seit %(date)s außer Betrieb; für sie werden keine Schlüssel mehr ausgestellt."
                )
                % {"id": inst.identifier, "date": format_date(inst.decommissioned_on)},
                "decommissioned",
            )
    if kind == License.PURCHASE and not product.purchase_allowed:
        _refuse(_("%(name)s gibt es nur im Abo.") % {"name": product.name}, "subscription_only")
    if kind == License.SUBSCRIPTION and not product.subscription_allowed:
        _refuse(_("%(name)s gibt es nicht im Abo.") % {"name": product.name}, "no_subscription")
    problem = rules.multi_binding_refusal(version_released_on=version.released_on, installations=len(installations))
    if problem:
        _refuse(problem, "multi_binding")
    if len({inst.customer_id for inst in installations}) > 1:
        _refuse(
            _("Eine Lizenz für mehrere Server gilt nur für Primär- und Sekundäranlage desselben Kunden."),
            "multi_customer",
        )
    seen: set[int] = set()
    for inst in installations:
        if inst.pk in seen:
            _refuse(
                _(
                    "Der Serverlizenzschlüssel %(id)s ist doppelt angegeben: Ein weiterer Serverlizenzschlüssel (Redundanz) "
                    "muss ein anderer sein als der der Primäranlage."
                )
                % {"id": inst.identifier},
                "duplicate_binding",
            )
        seen.add(inst.pk)


def _paid_key_refusal(*, product: Product, installation: Installation, serial: int) -> str:
    return _(
        "Für %(id)s gibt es bereits einen aktiven bezahlten Schlüssel für %(name)s (Lizenz Nr. %(serial)s). "
        "Ein zweiter wird nicht ausgestellt: Für mehr Benutzer bitte das Staffel-Upgrade bestellen; "
        "läuft das Modul auf einem neuen Serverlizenzschlüssel, den Umzug mit Kulanzschlüssel verwenden."
    ) % {"id": installation.identifier, "name": product.name, "serial": serial}


def _active_paid_bindings(*, product_id: int, replaced_id: int | None):
    """The bindings of ``product``'s active paid keys (ORD-6), except the key being replaced."""
    bindings = LicenseBinding.objects.filter(
        license__product_id=product_id, license__kind__in=License.PAID_KINDS, license__state=License.ACTIVE
    )
    return bindings.exclude(license_id=replaced_id) if replaced_id is not None else bindings


def _replaced_id(request: IssueRequest) -> int | None:
    """The key a paid request takes the place of (tier upgrade ORD-6, paid update ORD-7)."""
    replaced = request.replaces
    return replaced.pk if replaced is not None and replaced.product_id == request.product.pk else None


def _check_no_active_paid_key(
    *, product: Product, installations: list[Installation], replaced: License | None = None
) -> None:
    """ORD-6: a module that already runs with an active paid key on one of these server keys
    is not bought again — unless the new key replaces it (tier upgrade, paid update), which
    revokes the old key in the same transaction. The database constraint
    ``license_one_active_paid_key`` decides races."""
    binding = (
        _active_paid_bindings(product_id=product.pk, replaced_id=replaced.pk if replaced is not None else None)
        .filter(installation__in=installations)
        .select_related("license", "installation")
        .first()
    )
    if binding is not None:
        _refuse(
            _paid_key_refusal(product=product, installation=binding.installation, serial=binding.license.serial),
            "paid_key_exists",
        )


def _check_demo(*, product: Product, version: ModuleVersion, installation: Installation) -> None:
    problem = rules.demo_refusal(
        product_name=product.name, demo_allowed=product.demo_allowed, version_released_on=version.released_on
    )
    if problem:
        _refuse(problem, "demo_not_allowed")
    locked = NfrLock.objects.locking(
        product=product, identifier_kind=installation.identifier_kind, identifier=installation.identifier
    ).exists()
    if rules.nfr_unlocks_module(
        installation_has_nfr=installation.has_nfr, product_nfr_allowed=product.nfr_allowed, nfr_locked=locked
    ):
        _refuse(
            _("Auf %(id)s läuft %(name)s dank NFR-Lizenz ohne Schlüssel – ein Demo-Schlüssel ist nicht nötig.")
            % {"id": installation.identifier, "name": product.name},
            "nfr_runs_without_key",
        )
    if License.objects.filter(
        product=product, bindings__identifier=installation.identifier, kind__in=License.PAID_KINDS, state=License.ACTIVE
    ).exists():
        _refuse(
            _("Für %(id)s gibt es bereits einen bezahlten Schlüssel für %(name)s – ein Demo-Schlüssel ist nicht nötig.")
            % {"id": installation.identifier, "name": product.name},
            "already_licensed",
        )


def _new_serial() -> int:
    # Random rather than sequential serials: they do not reveal sales volume.
    return secrets.randbelow(2**32 - 1) + 1


@dataclass(frozen=True)
class IssueRequest:
    """One key to issue: module, version and installation(s), as an order line names them."""

    product: Product
    installation: Installation
    version: ModuleVersion
    kind: str = License.PURCHASE
    demo_days: int | None = None
    also_installations: tuple[Installation, ...] = ()
    tier: str | None = None
    order_reference: str = ""
    subscription_reference: str = ""
    replaces: License | None = None


def _prepare(request: IssueRequest, today: date, paid_serials: dict | None = None) -> dict:
    """Validate one request and work out tier, user limit and expiry; writes nothing.

    ``paid_serials`` are the active paid keys read with the installations
    (:func:`_installations_for_issue`); without them the ORD-6 check queries on its own.
    """
    product, installation = request.product, request.installation
    installations = [installation, *request.also_installations]
    _check_issue(product=product, version=request.version, installations=installations, kind=request.kind, today=today)
    max_order = License._meta.get_field("order_reference").max_length
    if len(request.order_reference) > max_order:
        _refuse(_("Die Bestellnummer ist zu lang (höchstens %(max)s Zeichen).") % {"max": max_order}, "order_too_long")
    if request.kind in License.PAID_KINDS:
        if paid_serials is None:
            _check_no_active_paid_key(
                product=product,
                installations=installations,
                replaced=request.replaces if _replaced_id(request) else None,
            )
        else:
            for inst in installations:
                serial = paid_serials.get((inst.pk, product.pk, _replaced_id(request)))
                if serial is not None:
                    _refuse(_paid_key_refusal(product=product, installation=inst, serial=serial), "paid_key_exists")
    valid_until = None
    subscription = request.kind == License.SUBSCRIPTION
    if request.replaces is not None and request.kind == License.GOODWILL:
        # LIC-10: a replacement keeps the limits of the key it replaces — a demo's last
        # day, a subscription's binding (blocked with it, updates free while it runs).
        if request.demo_days is not None:
            _refuse(
                _("Ein Kulanz-Ersatzschlüssel übernimmt die Laufzeit des ersetzten Schlüssels."),
                "days_with_replacement",
            )
        valid_until = request.replaces.valid_until
        subscription = request.replaces.is_subscription_bound
    elif request.kind == License.DEMO:
        _check_demo(product=product, version=request.version, installation=installation)
        days = request.demo_days if request.demo_days is not None else rules.DEMO_DAYS_DEFAULT
        valid_until = rules.demo_expiry(today, days)
    elif request.demo_days is not None:
        _refuse(_("Nur Demo-Schlüssel haben eine Laufzeit in Tagen."), "days_without_demo")
    tier = request.tier
    if tier is None:
        if product.pricing_model == Product.TIERED:
            if not installation.installed_users:
                _refuse(
                    _("Für %(name)s braucht die Installation die Anzahl installierter Benutzerlizenzen (Staffel).")
                    % {"name": product.name},
                    "no_users",
                )
            tier = rules.tier_for(installation.installed_users)
        else:
            tier = ""
    return {
        "installations": installations,
        "tier": tier,
        "user_limit": rules.tier_user_limit(tier) if tier else None,
        "valid_until": valid_until,
        "subscription": subscription,
    }


def license_issue_check(*, request: IssueRequest, today: date | None = None) -> None:
    """Raise the :class:`LicenseRefused` that :func:`licenses_issue` would raise for
    ``request`` today, writing nothing — so an order refuses a key it cannot deliver
    when the line is added, not first when it is confirmed (issue 16)."""
    _prepare(request, today or clock.today())


def _claims(requests: list[IssueRequest], request_token: str) -> list[str]:
    """The one-time claims of an issue: its form token, and every order reference it
    issues for the first time (replacements reuse their original's reference)."""
    claims = [f"form:{request_token}"] if request_token else []
    for ref in dict.fromkeys(r.order_reference.strip() for r in requests if r.replaces is None):
        if ref:
            claims.append(f"order:{ref}")
    return claims


def _already_issued(claims: list[str]) -> AlreadyIssued | None:
    claim = IssueClaim.objects.filter(claim__in=claims).order_by("pk").first()
    if claim is None:
        return None
    licenses = list(claim.licenses.select_related("product").order_by("serial"))
    serials = ", ".join(str(lic.serial) for lic in licenses) or "—"
    if claim.claim.startswith("form:"):
        message = _(
            "Dieses Formular wurde bereits abgeschickt; dabei wurde Lizenz Nr. %(serials)s ausgestellt. "
            "Es wurde kein weiterer Schlüssel ausgestellt."
        ) % {"serials": serials}
        return AlreadyIssued(message, code="form_already_used", licenses=licenses)
    message = _(
        "Zur Bestellung %(order)s wurden bereits Schlüssel ausgestellt (Lizenz Nr. %(serials)s). "
        "Eine Bestellung wird nur einmal ausgestellt."
    ) % {"order": claim.claim.removeprefix("order:"), "serials": serials}
    return AlreadyIssued(message, code="order_already_issued", licenses=licenses)


def _claim(claims: list[str]) -> list[IssueClaim]:
    """Write the claims before any key. Of two concurrent issues with the same claim, the
    second waits on the unique index (PostgreSQL) until the first commits, then fails here."""
    if not claims:
        return []
    try:
        with transaction.atomic():
            return IssueClaim.objects.bulk_create([IssueClaim(claim=claim) for claim in claims])
    except IntegrityError:
        refusal = _already_issued(claims)
        if refusal is None:
            raise
        raise refusal from None


def _installations_for_issue(requests: list[IssueRequest]) -> tuple[dict[int, Installation], dict]:
    """Everything the checks read: every installation of the issue with its customer and
    partner (delivery e-mail, checks), and the serial of an active paid key of each paid
    request's module already bound to it (ORD-6). Returns the installations by id and
    ``{(installation id, product id, replaced id): serial}``.

    A key of one module (the single-key path) reads both in one query (a correlated
    subquery); an order of several modules reads the paid keys in a second query.
    """
    ids = {r.installation.pk for r in requests} | {i.pk for r in requests for i in r.also_installations}
    checks = list(dict.fromkeys((r.product.pk, _replaced_id(r)) for r in requests if r.kind in License.PAID_KINDS))
    installations = (
        Installation.objects.select_related("customer__partner")
        .filter(pk__in=ids)
        .annotate(partner_has_webhooks=has_webhooks_exists(partner="customer__partner"))
    )
    if len(checks) == 1:
        product_id, replaced_id = checks[0]
        paid = (
            _active_paid_bindings(product_id=product_id, replaced_id=replaced_id)
            .filter(installation=OuterRef("pk"))
            .values("license__serial")[:1]
        )
        fresh = {inst.pk: inst for inst in installations.annotate(paid_serial=Subquery(paid))}
        return fresh, {
            (inst.pk, product_id, replaced_id): inst.paid_serial
            for inst in fresh.values()
            if inst.paid_serial is not None
        }
    fresh = installations.in_bulk()
    paid_serials: dict[tuple, int] = {}
    if checks:
        bound = LicenseBinding.objects.filter(
            installation_id__in=ids,
            license__product_id__in={product_id for product_id, _ in checks},
            license__kind__in=License.PAID_KINDS,
            license__state=License.ACTIVE,
        ).values_list("installation_id", "license__product_id", "license_id", "license__serial")
        for installation_id, product_id, license_id, serial in bound:
            for checked_product, replaced_id in checks:
                if checked_product == product_id and license_id != replaced_id:
                    paid_serials.setdefault((installation_id, product_id, replaced_id), serial)
    return fresh, paid_serials


def _new_serials(count: int) -> list[int]:
    serials: set[int] = set()
    while len(serials) < count:
        serials.add(_new_serial())
    return list(serials)


def licenses_issue(
    *,
    requests: list[IssueRequest],
    today: date | None = None,
    issued_by=None,
    recipient_email: str | None = None,
    delivery_note: bool = True,
    request_token: str = "",
    recipient_emails: dict[int, str] | None = None,
) -> list[License]:
    """Issue signed keys (LIC-1, LIC-2) — one order's worth at once — with one
    delivery note per installation (ORD-2), all or nothing.

    Every request is validated before anything is written. Demo keys (LIC-6)
    expire after ``demo_days`` (30 by default); redundancy keys bind several server
    keys (LIC-9); a paid key's binding locks the NFR unlock of its server key + module
    for good (LIC-8). Rows are written in bulk, so a key costs eight statements on its
    own and an order of ten keys hardly more (bench/bench_issue.py).

    ``recipient_emails`` (installation id → address) sends each installation's note to its
    own address (ORD-2: an order across installations delivers to each end customer);
    installations without an entry get ``recipient_email``.

    Issuing is idempotent (STYLE 14): a form's one-time ``request_token`` and each order
    reference issue once (:class:`AlreadyIssued` says what was issued then), and a second
    active paid key of a module on an installation is refused (ORD-6) — by the
    ``license_one_active_paid_key`` constraint when two issues race. Random serials are
    unique in the database; the rare collision is issued again with new serials.
    """
    today = today or clock.today()
    if not requests:
        raise LicensingError(_("Keine Lizenzen zum Ausstellen angegeben."), code="empty")
    if len(request_token) > 64:
        raise LicensingError(_("Ungültiges Formular-Token; bitte das Formular neu laden."), code="bad_token")
    for attempt in range(3):
        try:
            return _licenses_issue(
                requests=requests,
                today=today,
                issued_by=issued_by,
                recipient_email=recipient_email,
                delivery_note=delivery_note,
                request_token=request_token,
                recipient_emails=recipient_emails or {},
            )
        except IntegrityError:
            # The transaction (or its savepoint) is rolled back. A concurrent issue of the
            # same paid key (ORD-6) or form/order claim: say what it issued. Otherwise a
            # serial collision — issue again with new serials.
            claims = _claims(requests, request_token)
            done = _already_issued(claims) if claims else None
            if done is not None:
                raise done from None
            for request in requests:
                if request.kind in License.PAID_KINDS:
                    _check_no_active_paid_key(
                        product=request.product,
                        installations=[request.installation, *request.also_installations],
                        replaced=request.replaces if _replaced_id(request) else None,
                    )
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _licenses_issue(
    *,
    requests: list[IssueRequest],
    today: date,
    issued_by,
    recipient_email: str | None,
    delivery_note: bool,
    request_token: str,
    recipient_emails: dict[int, str],
) -> list[License]:
    fresh, paid_serials = _installations_for_issue(requests)
    requests = [
        dataclasses.replace(
            r,
            installation=fresh[r.installation.pk],
            also_installations=tuple(fresh[i.pk] for i in r.also_installations),
        )
        for r in requests
    ]
    claims = _claims(requests, request_token)
    refusal = _already_issued(claims) if claims else None
    if refusal is not None:  # a re-run: say what was issued then, before any other check
        raise refusal
    try:
        prepared = [_prepare(request, today, paid_serials) for request in requests]
    except LicenseRefused:
        # A concurrent issue with the same token or order may have committed since the check
        # above and caused this refusal (its key is the "existing paid key"): say what it issued.
        done = _already_issued(claims) if claims else None
        if done is None:
            raise
        raise done from None
    paid_pairs = [(r.installation.pk, r.product.pk) for r in requests if r.kind in License.PAID_KINDS]
    if len(set(paid_pairs)) < len(paid_pairs):
        _refuse(
            _("Dasselbe Modul ist für dieselbe Installation zweimal als bezahlter Schlüssel angegeben."),
            "paid_key_twice",
        )
    notes: dict[int, str] = {}
    if delivery_note:
        from licensing.services.delivery import delivery_note_recipient

        for request in requests:  # a bad address refuses the issue before anything is written
            inst = request.installation
            if inst.pk not in notes:
                notes[inst.pk] = delivery_note_recipient(inst, recipient_emails.get(inst.pk) or recipient_email)
    claim_rows = _claim(claims)

    private_key = signing_key()
    now = clock.now()
    licenses = []
    for request, prep, serial in zip(requests, prepared, _new_serials(len(requests))):
        payload = keys.build_payload(
            private_key=private_key,
            serial=serial,
            module_code=request.product.article,
            version=request.version.version,
            user_limit=prep["user_limit"],
            expiry=prep["valid_until"],
            demo=prep["valid_until"] is not None,
            subscription=prep["subscription"],
            goodwill=request.kind == License.GOODWILL,
            bindings=[(inst.identifier_kind, inst.identifier) for inst in prep["installations"]],
        )
        key = keys.sign_key(payload, private_key)
        licenses.append(
            License(
                serial=serial,
                product=request.product,
                module_version=request.version,
                installation=request.installation,
                kind=request.kind,
                tier=prep["tier"],
                user_limit=prep["user_limit"],
                valid_until=prep["valid_until"],
                key=key,
                key_compact=key.replace("-", ""),
                signing_key_id=payload.key_id,
                issued_by=issued_by,
                issued_at=now,
                order_reference=request.order_reference,
                subscription_reference=request.subscription_reference,
                replaces=request.replaces,
            )
        )
    for lic in licenses:
        # A paid key that replaces a paid key of its module (tier upgrade ORD-6, paid update
        # ORD-7) takes its place: the old key is revoked first, so only one stays active.
        old = lic.replaces
        if (
            lic.is_paid
            and old is not None
            and old.is_paid
            and old.product_id == lic.product_id
            and old.state == License.ACTIVE
        ):
            _change_state(
                old, License.REVOKED, _("Ersetzt durch Lizenz Nr. %(serial)s") % {"serial": lic.serial}, issued_by
            )
    # Unique serials and keys, one active paid key per module and installation (ORD-6):
    # the database refuses what a check above could have missed (see licenses_issue).
    License.objects.bulk_create(licenses)
    # In bulk no per-record signal runs: the acting channel (an API token) is passed on here.
    from vendorportal.audit import change_reason

    License.history.bulk_history_create(
        licenses, default_user=issued_by, default_date=now, default_change_reason=change_reason()
    )
    for row in claim_rows:
        row.licenses.set(licenses)
    # LIC-9 bindings; a paid key's bindings are also its NFR lock (LIC-8, NfrLock).
    LicenseBinding.objects.bulk_create(
        LicenseBinding(license=lic, installation=inst, identifier_kind=inst.identifier_kind, identifier=inst.identifier)
        for lic, prep in zip(licenses, prepared)
        for inst in prep["installations"]
    )
    if delivery_note:
        from licensing.services.delivery import delivery_notes_write

        by_installation: dict[int, list[License]] = {}
        for lic in licenses:
            by_installation.setdefault(lic.installation_id, []).append(lic)
        delivery_notes_write(
            [
                (group[0].installation, group, notes[installation_id])
                for installation_id, group in by_installation.items()
            ]
        )
    # issue 19: license.issued for partners with an active webhook endpoint (read with the
    # installations, so a partner without webhooks costs no query here).
    webhook_events_emit_many(
        [
            EventDraft(
                partner_id=lic.installation.customer.partner_id,
                event=webhook_events.LICENSE_ISSUED,
                payload=webhook_payloads.license_payload(lic),
                dedup_key=f"{webhook_events.LICENSE_ISSUED}:{lic.pk}",
            )
            for lic in licenses
            if lic.installation.partner_has_webhooks
        ]
    )
    return licenses


def license_issue(
    *,
    product: Product,
    installation: Installation,
    version: ModuleVersion,
    kind: str = License.PURCHASE,
    today: date | None = None,
    demo_days: int | None = None,
    also_installations: list[Installation] | None = None,
    tier: str | None = None,
    issued_by=None,
    order_reference: str = "",
    subscription_reference: str = "",
    replaces: License | None = None,
    recipient_email: str | None = None,
    delivery_note: bool = True,
    request_token: str = "",
) -> License:
    """Issue one key and, unless told not to, its delivery note (see :func:`licenses_issue`)."""
    request = IssueRequest(
        product=product,
        installation=installation,
        version=version,
        kind=kind,
        demo_days=demo_days,
        also_installations=tuple(also_installations or ()),
        tier=tier,
        order_reference=order_reference,
        subscription_reference=subscription_reference,
        replaces=replaces,
    )
    return licenses_issue(
        requests=[request],
        today=today,
        issued_by=issued_by,
        recipient_email=recipient_email,
        delivery_note=delivery_note,
        request_token=request_token,
    )[0]


# --- state changes ----------------------------------------------------------------------


def _change_state(lic: License, state: str, reason: str, by) -> License:
    lic = License.objects.select_for_update().get(pk=lic.pk)
    if not reason or not reason.strip():
        raise LicensingError(_("Bitte einen Grund angeben."), code="reason_required")
    lic.move_to(state)
    lic.state_reason = reason.strip()[:300]
    lic.state_changed_at = clock.now()
    lic._history_user = by
    lic.save(update_fields=["state", "state_reason", "state_changed_at"])
    return lic


@transaction.atomic
def license_revoke(*, license: License, reason: str, by=None) -> License:
    """Revoke a key (final). The key keeps working offline (keys cannot be withdrawn,
    seed 000); revocation records that it must no longer be used — e.g. after a
    goodwill replacement (LIC-10) or a correction."""
    return _change_state(license, License.REVOKED, reason, by)


@transaction.atomic
def license_block(*, license: License, reason: str, by=None) -> License:
    """Block a subscription key when its subscription ends (LIC-12)."""
    if not license.is_subscription_bound:
        raise LicensingError(
            _("Gesperrt werden nur Abo-Schlüssel (bei Ende des Abos); Kaufschlüssel bleiben gültig."),
            code="block_purchase",
        )
    return _change_state(license, License.BLOCKED, reason, by)


@transaction.atomic
def license_unblock(*, license: License, reason: str, by=None) -> License:
    if license.is_paid:  # ORD-6: not beside a paid key issued for it meanwhile
        _check_no_active_paid_key(
            product=license.product,
            installations=list(Installation.objects.filter(license_bindings__license=license)),
            replaced=license,
        )
    return _change_state(license, License.ACTIVE, reason, by)


@transaction.atomic
def subscription_keys_block(*, subscription_reference: str, reason: str, by=None) -> int:
    """Block every active key of one subscription (LIC-12); returns how many."""
    count = 0
    for lic in License.objects.filter(subscription_reference=subscription_reference, state=License.ACTIVE):
        license_block(license=lic, reason=reason, by=by)
        count += 1
    return count


# --- moving and transferring installations (LIC-10, LIC-11) --------------------------------


@dataclass(frozen=True)
class MoveResult:
    outcome: str
    new_licenses: list[License]
    message: str


@transaction.atomic
def installation_move(
    *, old: Installation, new: Installation, proof=None, today: date | None = None, by=None
) -> MoveResult:
    """Staff action "installation moved to a new server key" (LIC-10).

    With STARFACE's proof that the old server key is permanently decommissioned:
    goodwill keys on the new key for every active licence, old keys revoked, the old
    installation marked decommissioned with the proof. Without proof: nothing changes
    and the message tells the partner a new purchase is needed. A changed Free
    Edition hardware ID is a new system: no transfer.
    """
    today = today or clock.today()
    old = Installation.objects.select_for_update().get(pk=old.pk)
    proven = bool(proof) or bool(old.decommission_proof)
    outcome = rules.move_outcome(
        old_identifier_kind=old.identifier_kind,
        same_identifier=old.pk == new.pk or old.identifier == new.identifier,
        decommission_proven=proven,
    )
    if outcome == "same":
        raise LicensingError(
            _("Gleicher Serverlizenzschlüssel: Der Umzug ist kostenlos, der Schlüssel bleibt gültig."), code="same_key"
        )
    if outcome == rules.MOVE_NO_TRANSFER:
        raise LicensingError(
            _(
                "Bei der Free Edition ist eine geänderte Hardware-ID ein neues System – Modullizenzen können nicht übertragen werden."
            ),
            code="free_edition",
        )
    if outcome == rules.MOVE_NEW_PURCHASE:
        raise LicensingError(
            _(
                "Ohne Bestätigung von STARFACE, dass %(old)s dauerhaft außer Betrieb ist, ist für %(new)s ein Neukauf nötig. "
                "Der bisherige Schlüssel bleibt mit %(old)s weiter nutzbar."
            )
            % {"old": old.identifier, "new": new.identifier},
            code="proof_required",
        )
    if new.customer.partner_id != old.customer.partner_id:
        raise LicensingError(_("Die neue Installation gehört zu einem anderen Partner."), code="other_partner")
    active = list(
        License.objects.filter(bindings__installation=old, state=License.ACTIVE)
        .select_related("product", "module_version")
        .distinct()
    )
    if not active:
        raise LicensingError(
            _("Auf %(old)s gibt es keine aktiven Lizenzen zu übertragen.") % {"old": old.identifier},
            code="nothing_to_move",
        )
    if proof:
        old.decommission_proof = proof
    old.decommissioned_on = old.decommissioned_on or today
    old._history_user = by
    old.save()
    new_licenses = licenses_issue(
        requests=[
            IssueRequest(
                product=lic.product,
                installation=new,
                version=lic.module_version,
                kind=License.GOODWILL,
                tier=lic.tier,
                order_reference=lic.order_reference,
                replaces=lic,
                subscription_reference=lic.subscription_reference,
            )
            for lic in active
        ],
        today=today,
        issued_by=by,
    )
    for lic in active:
        license_revoke(license=lic, reason=_("Umzug auf %(new)s (Kulanz)") % {"new": new.identifier}, by=by)
    return MoveResult(
        outcome=outcome,
        new_licenses=new_licenses,
        message=_("%(n)s Kulanzschlüssel für %(new)s ausgestellt; die Schlüssel für %(old)s sind widerrufen.")
        % {"n": len(new_licenses), "new": new.identifier, "old": old.identifier},
    )


@transaction.atomic
def installation_transfer(*, installation: Installation, customer, by=None) -> Installation:
    """LIC-11: the installation (same server key) with its licences passes to another
    customer. Licences never move to another server key this way."""
    if customer.pk == installation.customer_id:
        raise LicensingError(_("Die Installation gehört bereits diesem Kunden."), code="same_customer")
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    installation.customer = customer
    installation._history_user = by
    installation.save(update_fields=["customer"])
    return installation


def license_transfer_to_other_installation(*, license: License, installation: Installation) -> None:
    """LIC-11: refused — a key belongs to its server key; kept as a function so admin
    and portal give the same message."""
    problem = rules.transfer_refusal(
        same_identifier=license.bindings.filter(identifier=installation.identifier).exists()
    )
    if problem:
        raise LicensingError(problem, code="transfer_refused")


# --- diagnosis (LIC-3) ------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    message: str
    license: License | None = None


def license_diagnose(
    *,
    key_text: str,
    identifier: str,
    module_code: str | None = None,
    installed_version: str | None = None,
    today: date | None = None,
    identifier_kind: str = rules.SERVER_KEY,
) -> Diagnosis:
    """Why is this key (not) accepted on this installation? One LIC-3 verdict and what to do."""
    today = today or clock.today()
    malformed_identifier = ""
    try:
        identifier = rules.normalize_identifier(identifier_kind, identifier)
    except rules.IdentifierFormatError as exc:
        # Diagnose anyway (a mistyped key is still worth saying), but a key that is only
        # "for another server key" is told that the server key itself is malformed.
        malformed_identifier = exc.message
    product = None
    if module_code:
        product = Product.objects.filter(article=module_code.strip().upper()).first()
        if product is None:
            raise LicensingError(_("Unbekanntes Modul „%(code)s“.") % {"code": module_code}, code="unknown_module")
    result = verifier.verify_key(
        key_text, identifier, public_keys(), identifier_kind=identifier_kind, module=module_code, today=today
    )
    key_product = None
    lic = None
    if result.payload is not None:
        lic = License.objects.filter(serial=result.payload.serial).select_related("product").first()
        key_product = (
            lic.product
            if lic
            else next(
                (
                    p
                    for p in Product.objects.filter(kind=Product.MODULE)
                    if verifier.module_digest(p.article) == result.payload.module_digest
                ),
                None,
            )
        )
    required = None
    if result.ok and installed_version:
        target_product = product or key_product
        if target_product is not None:
            versions = list(target_product.versions.values_list("version", "is_paid_update"))
            required = rules.required_key_version(installed_version, versions)
            if required is not None:
                result = verifier.verify_key(
                    key_text,
                    identifier,
                    public_keys(),
                    identifier_kind=identifier_kind,
                    module=module_code,
                    today=today,
                    required_version=required,
                )
    payload = result.payload
    message = rules.diagnosis_message(
        result.code,
        module=product.name if product else "",
        key_module=key_product.name if key_product else "",
        expiry=payload.expiry if payload else None,
        licensed_version=payload.version_text if payload else "",
        required_version=required or "",
        identifier=identifier,
    )
    if malformed_identifier and result.code == verifier.OTHER_SERVER_KEY:
        message = (
            malformed_identifier
            + " "
            + _("Der Modullizenzschlüssel selbst ist echt; bitte die Kennung der Anlage prüfen.")
        )
    return Diagnosis(verdict=result.code, message=message, license=lic)


# --- Insight Analytics own use (LIC-13) ----------------------------------------------------


@transaction.atomic
def insight_own_use_register(*, license: License, purchased_on: date, price_paid: Decimal) -> InsightOwnUse:
    if license.product.article != INSIGHT:
        raise LicensingError(_("Nur Insight Analytics wird bei Eigennutzung erstattet."), code="not_insight")
    partner = license.installation.customer.partner
    return InsightOwnUse.objects.create(
        partner=partner, license=license, purchased_on=purchased_on, price_paid=price_paid
    )


def insight_sold_tiers(own_use: InsightOwnUse) -> list[str]:
    """Tiers of the partner's paid Insight Analytics customer licences since the own-use purchase."""
    return list(
        License.objects.filter(
            product__article=INSIGHT,
            installation__customer__partner=own_use.partner,
            kind__in=License.PAID_KINDS,
            issued_at__date__gte=own_use.purchased_on,
        )
        .exclude(pk=own_use.license_id)
        .values_list("tier", flat=True)
    )


def insight_refund_due(own_use: InsightOwnUse) -> bool:
    return own_use.refunded_on is None and rules.insight_refund_due(own_use.license.tier, insight_sold_tiers(own_use))


@transaction.atomic
def insight_refund_mark(*, own_use: InsightOwnUse, on: date) -> InsightOwnUse:
    own_use = InsightOwnUse.objects.select_for_update().get(pk=own_use.pk)
    if own_use.refunded_on:
        raise LicensingError(
            _("Bereits am %(date)s erstattet.") % {"date": format_date(own_use.refunded_on)}, code="already_refunded"
        )
    if not insight_refund_due(own_use):
        raise LicensingError(
            _(
                "Die Erstattung ist noch nicht fällig: Die verkauften Staffeln reichen noch nicht an die eigene Staffel heran."
            ),
            code="not_due",
        )
    own_use.refunded_on = on
    own_use.save(update_fields=["refunded_on"])
    return own_use
