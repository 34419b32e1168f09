"""The periodic jobs as staff read them: ``settings.CELERY_BEAT_SCHEDULE`` (the one place
they are declared, STYLE 6) in German words, with the recipients of their e-mails
(``settings.JOB_RECIPIENTS`` names the setting that holds them).

:func:`describe_crontab` covers the patterns the schedule uses (every n minutes, daily,
on weekdays, on a day of the month at a time); anything else is shown as its cron
fields, so a new entry is never hidden or described wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Read at import: lazily translated, rendered when a page asks.
WEEKDAYS = {
    "0": gettext_lazy("sonntags"),
    "sun": gettext_lazy("sonntags"),
    "1": gettext_lazy("montags"),
    "mon": gettext_lazy("montags"),
    "2": gettext_lazy("dienstags"),
    "tue": gettext_lazy("dienstags"),
    "3": _("mittwochs"),
    "wed": _("mittwochs"),
    "4": gettext_lazy("donnerstags"),
    "thu": gettext_lazy("donnerstags"),
    "5": gettext_lazy("freitags"),
    "fri": gettext_lazy("freitags"),
    "6": gettext_lazy("samstags"),
    "sat": gettext_lazy("samstags"),
}


def _field(value) -> str:
    return str(value).strip().lower()


def describe_crontab(schedule) -> str:
    """German words for a Celery ``crontab`` in Europe/Berlin, e.g. "montags um 07:15 Uhr",
    "am 1. jedes Monats um 07:30 Uhr", "alle 5 Minuten", "stündlich um :20"; other schedules as their fields."""
    try:
        minute, hour = _field(schedule._orig_minute), _field(schedule._orig_hour)
        weekday, day = _field(schedule._orig_day_of_week), _field(schedule._orig_day_of_month)
        month = _field(schedule._orig_month_of_year)
    except AttributeError:
        return str(schedule)
    if month == "*":
        if minute.startswith("*/") and hour == weekday == day == "*":
            return _("alle %(n)s Minuten") % {"n": minute[2:]}
        if minute.isdigit() and hour == weekday == day == "*":
            return _("stündlich um :%(minute)02d") % {"minute": int(minute)}
        if minute.isdigit() and hour.isdigit():
            at = _("um %(hour)02d:%(minute)02d Uhr") % {"hour": int(hour), "minute": int(minute)}
            if weekday == "*" and day == "*":
                return _("täglich %(at)s") % {"at": at}
            if weekday in WEEKDAYS and day == "*":
                return f"{WEEKDAYS[weekday]} {at}"
            if weekday == "*" and day.isdigit():
                return _("am %(day)s. jedes Monats %(at)s") % {"day": int(day), "at": at}
    return _("Cron: Minute %(minute)s, Stunde %(hour)s, Tag %(day)s, Monat %(month)s, Wochentag %(weekday)s") % {
        "minute": minute,
        "hour": hour,
        "day": day,
        "month": month,
        "weekday": weekday,
    }


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    task: str
    when: str
    recipients: tuple[str, ...]
    recipients_setting: str


def scheduled_jobs() -> list[ScheduledJob]:
    """Every beat entry, by name, with when it runs and whom it e-mails."""
    jobs = []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        setting = settings.JOB_RECIPIENTS.get(name, "")
        value = getattr(settings, setting, ()) if setting else ()
        recipients = (value,) if isinstance(value, str) else tuple(value)
        jobs.append(
            ScheduledJob(
                name=name,
                task=entry["task"],
                when=describe_crontab(entry["schedule"]),
                recipients=recipients,
                recipients_setting=setting,
            )
        )
    return jobs
