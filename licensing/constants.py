"""Codes the licensing area compares against: vendors, editions and article numbers.

Plain values only (no Django, no imports from the app), so rules, models, services,
commands and the demo data can all use them without import cycles. The codes are
stored in the database; changing one needs a data migration.
"""

from __future__ import annotations

# --- Vendors (LIC-1, SYS-1) ---------------------------------------------------------

STARFACE = "starface"
AUERSWALD = "auerswald"
VENDOR_CHOICES = [(STARFACE, "STARFACE"), (AUERSWALD, "Auerswald")]

# --- Edition / model codes the rules decide on ----------------------------------------

EDITION_CLOUD = "cloud"  # LIC-7: a cloud instance never has NFR licences
EDITION_FREE = "free"  # LIC-1: known by its hardware ID, not a server licence key
COMTREXX_BUSINESS = "comtrexx_business"  # SYS-2: needs a system activation, no tryout
COMTREXX_ADVANCED = "comtrexx_advanced"  # SYS-2: as COMtrexx Business

# --- Article numbers (CAT-8 and the portal's own module codes, licensing/data/products.csv)

INSIGHT = "INSIGHT"  # Insight Analytics (LIC-13: own-use refund)

# PBX Call Assist 5 (seed 003, CAT-8): Auerswald's article numbers.
CALL_ASSIST_PACK_1 = "94375"  # 1-User-Lizenz-Paket
CALL_ASSIST_PACK_5 = "94376"  # 5-Userlizenzen
CALL_ASSIST_PACK_15 = "94377"  # 15-Userlizenzen
CALL_ASSIST_SWP_12 = "94379"  # Softwarepflege pro User für 12 Monate
CALL_ASSIST_SWP_36 = "94380"  # Softwarepflege pro User für 36 Monate
CALL_ASSIST_SWP_DAY = "94381"  # Softwarepflege-Erweiterung pro User und Tag (12-Monats-Satz)
CALL_ASSIST_ARTICLES = (
    CALL_ASSIST_PACK_1,
    CALL_ASSIST_PACK_5,
    CALL_ASSIST_PACK_15,
    CALL_ASSIST_SWP_12,
    CALL_ASSIST_SWP_36,
    CALL_ASSIST_SWP_DAY,
)
