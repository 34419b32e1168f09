"""Factories for tests — the one place test data is built (STYLE 10)."""

import itertools
from datetime import date

import factory
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licensing import keys
from licensing.models import Installation, License, LicenseBinding, MaintenanceCoverage, SystemLicense
from vendorportal.parties.tests.factories import (  # noqa: F401 — licensing tests build parties through these
    CustomerFactory,
    PartnerFactory,
    PartnerLevelFactory,
    PartnerUserFactory,
    UserFactory,
)

_key_counter = itertools.count(1)


def server_key(n: int | None = None) -> str:
    n = next(_key_counter) if n is None else n
    return f"TEST{n % 10}-{n:05d}-ABCDE-{(n * 7919) % 100000:05d}"


class InstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installation

    customer = factory.SubFactory(CustomerFactory)
    vendor = "starface"
    edition = "appliance"
    identifier_kind = "server_key"
    identifier = factory.LazyFunction(server_key)
    pbx_users = 10
    pbx_version = "8.2.0.5"


_serials = itertools.count(1)


def make_system(edition: str = "comtrexx_next", customer=None, **fields):
    """An Auerswald system (serial-bound, SYS-1)."""
    extra = {"customer": customer} if customer is not None else {}
    return InstallationFactory(
        vendor="auerswald",
        edition=edition,
        identifier_kind="serial",
        identifier=f"SN{next(_serials):08d}",
        pbx_version="",
        **extra,
        **fields,
    )


def book(system, *, start: date, end: date, users: int, kind: str = "initial", months: int | None = 12):
    """Ledger rows of an order booked earlier: coverage row + Call Assist users."""
    MaintenanceCoverage.objects.create(installation=system, kind=kind, start=start, end=end, months=months, users=users)
    if kind in ("initial", "add_users"):
        SystemLicense.objects.create(installation=system, kind=SystemLicense.CALL_ASSIST_USERS, quantity=users)


_TEST_SIGNING_KEY = Ed25519PrivateKey.generate()
_license_serials = itertools.count(4_000_001)


def make_license(
    installation, version, *, kind=License.PURCHASE, tier="81-150", user_limit=150, valid_until=None, also=()
):
    """A licence row with a real signed key, as the issuing service stores it."""
    bound = [installation, *also]
    serial = next(_license_serials)
    payload = keys.build_payload(
        private_key=_TEST_SIGNING_KEY,
        serial=serial,
        module_code=version.product.article,
        version=version.version,
        user_limit=user_limit,
        expiry=valid_until,
        demo=kind == License.DEMO,
        bindings=[(inst.identifier_kind, inst.identifier) for inst in bound],
    )
    key = keys.sign_key(payload, _TEST_SIGNING_KEY)
    lic = License.objects.create(
        serial=serial,
        product=version.product,
        module_version=version,
        installation=installation,
        kind=kind,
        tier=tier,
        user_limit=user_limit,
        valid_until=valid_until,
        key=key,
        key_compact=key.replace("-", ""),
        signing_key_id=1,
    )
    for inst in bound:
        LicenseBinding.objects.create(
            license=lic, installation=inst, identifier_kind=inst.identifier_kind, identifier=inst.identifier
        )
    return lic


def module_version(article: str = "CALLREC", version: str = "2.1", name: str = "Call Recording"):
    """A module with one version, without loading the whole catalog (get-or-create by article)."""
    from licensing.models import ModuleVersion, Product

    product, _created = Product.objects.get_or_create(
        article=article, defaults={"name": name, "kind": Product.MODULE, "pricing_model": Product.TIERED}
    )
    found, _created = ModuleVersion.objects.get_or_create(
        product=product, version=version, defaults={"released_on": date(2024, 4, 15)}
    )
    return found


# The smallest file a PDF reader opens: what the portal tests need of a stored delivery note.
FAKE_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def make_delivery_note(installation, licenses, *, pdf: bytes | None = FAKE_PDF):
    """A delivery note made by the service, its PDF stored as ``pdf`` (None: not rendered yet)."""
    from django.core.files.base import ContentFile

    from licensing.services.delivery import delivery_note_create

    note = delivery_note_create(installation=installation, licenses=licenses)
    if pdf is not None:
        note.pdf.save(f"{note.number}.pdf", ContentFile(pdf), save=True)
    return note
