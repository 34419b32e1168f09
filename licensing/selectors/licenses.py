"""Reads about module licences: coverage of versions (LIC-4), compatibility (LIC-5), NFR (LIC-7/8)."""

from __future__ import annotations

from licensing import rules
from licensing.models import Installation, License, ModuleVersion, NfrLock, PbxVersion, Product
from licensing.verifier import parse_version


def active_licenses(installation: Installation, product: Product | None = None):
    qs = License.objects.filter(bindings__installation=installation, state=License.ACTIVE).select_related(
        "product", "module_version"
    )
    if product is not None:
        qs = qs.filter(product=product)
    return qs.distinct()


def version_covered(
    *, installation: Installation, product: Product, target_version: str
) -> tuple[bool, License | None]:
    """Does an existing active key of ``installation`` run ``target_version``? (LIC-4)

    Returns (covered, the key that covers it or the newest key that does not).
    Subscription keys cover every version while active (LIC-12).
    """
    versions = list(product.versions.values_list("version", "is_paid_update"))
    best = None
    for lic in active_licenses(installation, product):
        if lic.kind == License.SUBSCRIPTION or rules.key_covers_version(
            lic.module_version.version, target_version, versions
        ):
            return True, lic
        if best is None or parse_version(lic.module_version.version) > parse_version(best.module_version.version):
            best = lic
    return False, best


def newest_module_version_for_pbx(product: Product, pbx_version: str) -> ModuleVersion | None:
    """The newest module version tested with PBX version ``pbx_version`` (LIC-5).
    None means no tested combination exists ("not tested", not "incompatible")."""
    candidates = ModuleVersion.objects.filter(product=product, tested_with__number=pbx_version)
    return max(candidates, key=lambda mv: (parse_version(mv.version), mv.released_on), default=None)


def pbx_versions_without_module_support(product: Product):
    """PBX versions no version of ``product`` was tested with (support, SUB-6)."""
    return PbxVersion.objects.exclude(module_versions__product=product)


def runs_without_key(installation: Installation, product: Product) -> bool:
    """LIC-7/LIC-8: does ``product`` run on ``installation`` by its NFR licence?"""
    locked = NfrLock.objects.locking(
        product=product, identifier_kind=installation.identifier_kind, identifier=installation.identifier
    ).exists()
    return rules.nfr_unlocks_module(
        installation_has_nfr=installation.has_nfr, product_nfr_allowed=product.nfr_allowed, nfr_locked=locked
    )


def licenses_for_identifier(identifier: str):
    return (
        License.objects.filter(bindings__identifier=identifier)
        .select_related("product", "module_version", "installation")
        .distinct()
    )
