"""Date helpers of the Softwarepflege notices and filters (RULES SWP-5, SWP-7, SWP-8).

Pure rules, no database; expected dates worked out by hand with GEN-1.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from licensing import rules


@pytest.mark.parametrize(
    "end, free_until, renewable_until",
    [
        # Seed 003: end 31.12.24 → the 3 months run 01.01.25…31.03.25; 36 months …31.12.27.
        (date(2024, 12, 31), date(2025, 3, 31), date(2027, 12, 31)),
        # end 2025-01-30 → start 2025-01-31; 3 months: April has no 31st → day before
        # "31 April" is … GEN-1: the month (April) has no such day → its last day 2025-04-30.
        (date(2025, 1, 30), date(2025, 4, 30), date(2028, 1, 30)),
        # end 2025-11-29 → start 2025-11-30; + 3 months → February 2026 has no 30th → 2026-02-28;
        # + 36 months → November 2028, day before the 30th → 2028-11-29.
        (date(2025, 11, 29), date(2026, 2, 28), date(2028, 11, 29)),
        # end 2027-11-30 → start 2027-12-01 → + 3 months ends 2028-02-29 (leap year).
        (date(2027, 11, 30), date(2028, 2, 29), date(2030, 11, 30)),
    ],
)
def test_surcharge_free_and_online_renewal_limits(end, free_until, renewable_until):
    assert rules.surcharge_free_until(end) == free_until
    assert rules.online_renewal_until(end) == renewable_until
    # The same days are the borders of renewal_quote: no surcharge on the last free day,
    # surcharge the day after, refusal the day after the online limit.
    assert not rules.renewal_quote(end, free_until, 5, 12).surcharge
    assert rules.renewal_quote(end, free_until + timedelta(days=1), 5, 12).surcharge
    rules.renewal_quote(end, renewable_until, 5, 12)
    with pytest.raises(rules.MaintenanceRuleError):
        rules.renewal_quote(end, renewable_until + timedelta(days=1), 5, 12)


def test_state_windows_hand_example():
    # today 2025-03-31: active from end 2025-05-31 (61 days left); expiring 2025-03-31…2025-05-30;
    # lapsed: ends whose 3-month window (from end + 1) still contains today: end 2024-12-31
    # (window ends 2025-03-31) is the earliest — end 2024-12-30 → start 2024-12-31 → window
    # ends 2025-03-30. So lapsed 2024-12-31…2025-03-30; surcharge from end 2022-03-31
    # (start 2022-04-01 + 36 months ends 2025-03-31) to 2024-12-30; not renewable ≤ 2022-03-30.
    windows = rules.maintenance_state_windows(date(2025, 3, 31))
    assert windows == {
        rules.SWP_ACTIVE: (date(2025, 5, 31), None),
        rules.SWP_EXPIRING: (date(2025, 3, 31), date(2025, 5, 30)),
        rules.SWP_LAPSED: (date(2024, 12, 31), date(2025, 3, 30)),
        rules.SWP_LAPSED_SURCHARGE: (date(2022, 3, 31), date(2024, 12, 30)),
        rules.SWP_NOT_RENEWABLE: (None, date(2022, 3, 30)),
    }


def _in(window, day):
    low, high = window
    return (low is None or low <= day) and (high is None or day <= high)


TODAYS = [
    date(2024, 2, 29),
    date(2024, 3, 1),
    date(2024, 5, 31),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 2, 28),
    date(2025, 3, 1),
    date(2025, 3, 31),
    date(2025, 4, 30),
    date(2025, 8, 31),
    date(2025, 11, 30),
    date(2026, 1, 30),
    date(2027, 3, 29),
    date(2028, 2, 29),
    date(2028, 5, 31),
]


@pytest.mark.parametrize("today", TODAYS)
def test_state_windows_agree_with_maintenance_state_for_every_end(today):
    windows = rules.maintenance_state_windows(today)
    for offset in range(-1200, 120):
        end = today + timedelta(days=offset)
        state = rules.maintenance_state(end, today)
        matching = [s for s, window in windows.items() if _in(window, end)]
        assert matching == [state], (end, today)
