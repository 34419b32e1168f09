from .catalog import Bundle, ModuleVersion, PbxVersion, Price, PriceList, Product
from .installations import AUERSWALD, EDITIONS, STARFACE, Installation
from .licenses import DeliveryNote, IllegalTransition, InsightOwnUse, IssueClaim, License, LicenseBinding, NfrLock
from .systems import (
    MaintenanceCoverage,
    MaintenanceNotice,
    MaintenanceWeeklyReport,
    Reinitialisation,
    SystemLicense,
    Tryout,
)

__all__ = [
    "DeliveryNote",
    "IllegalTransition",
    "InsightOwnUse",
    "IssueClaim",
    "License",
    "LicenseBinding",
    "MaintenanceCoverage",
    "MaintenanceNotice",
    "MaintenanceWeeklyReport",
    "NfrLock",
    "Reinitialisation",
    "SystemLicense",
    "Tryout",
    "AUERSWALD",
    "Bundle",
    "EDITIONS",
    "Installation",
    "ModuleVersion",
    "PbxVersion",
    "Price",
    "PriceList",
    "Product",
    "STARFACE",
]
