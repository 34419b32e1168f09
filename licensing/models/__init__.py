from .catalog import Bundle, ModuleVersion, PbxVersion, Price, PriceList, Product
from .installations import EDITIONS, AUERSWALD, STARFACE, Installation
from .parties import Customer, Partner, PartnerLevel, PartnerUser

__all__ = [
    "AUERSWALD",
    "Bundle",
    "Customer",
    "EDITIONS",
    "Installation",
    "ModuleVersion",
    "Partner",
    "PartnerLevel",
    "PartnerUser",
    "PbxVersion",
    "Price",
    "PriceList",
    "Product",
    "STARFACE",
]
