"""Party validators now live in the core (``vendorportal.parties.validators``).

Kept under their old names because licensing's historical migrations (0001) reference
them; new code imports them from the core.
"""

from vendorportal.parties.validators import (  # noqa: F401
    compact_iban,
    compact_vat_id,
    validate_bic,
    validate_country_code,
    validate_iban,
    validate_vat_id,
)
from vendorportal.validators import (  # noqa: F401 — licensing's models and migrations use these names
    PLAUSIBLE_FIRST_DAY,
    PLAUSIBLE_LAST_DAY,
    PLAUSIBLE_MAX_USERS,
    plausible_date_check,
    validate_plausible_date,
    validate_plausible_users,
)
