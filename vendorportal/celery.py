"""The Celery app. Every periodic job is declared here, in one place (STYLE 6)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vendorportal.settings")

app = Celery("vendorportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Times are Europe/Berlin (CELERY_TIMEZONE).
app.conf.beat_schedule = {
    "heartbeat": {
        "task": "vendorportal.tasks.heartbeat",
        "schedule": crontab(minute="*/15"),
    },
    "outbox-dispatch": {  # e-mails that are due and unsent: lost messages, dead workers, retries
        "task": "vendorportal.tasks.outbox_dispatch",
        "schedule": crontab(minute="*/5"),
    },
    "swp-expiry-daily": {  # Softwarepflege reminders and notices (SWP-8)
        "task": "licensing.tasks.swp_expiry_daily",
        "schedule": crontab(hour=6, minute=0),
    },
    "swp-report-weekly": {  # Softwarepflege report to finance (SWP-8)
        "task": "licensing.tasks.swp_report_weekly",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
    "invoices-overdue-daily": {  # overdue invoices and their one friendly reminder (billing)
        "task": "billing.tasks.invoices_overdue_daily",
        "schedule": crontab(hour=6, minute=30),
    },
    "support-sla-quarter-hourly": {  # Enterprise SLA: warn one support hour before, flag breaches (SUP-2)
        "task": "support.tasks.sla_check_quarter_hourly",
        "schedule": crontab(minute="*/15"),
    },
    "support-mail": {  # inbound support e-mail → tickets and replies
        "task": "support.tasks.fetch_support_mail",
        "schedule": crontab(minute="*/5"),
    },
    "subscriptions-end-daily": {  # keys of ended subscriptions are blocked, once (LIC-12)
        "task": "billing.tasks.subscriptions_end_daily",
        "schedule": crontab(hour=0, minute=30),
    },
    "invoicing-monthly": {  # bill every subscription period / plan year starting this month (INV-3)
        "task": "billing.tasks.invoicing_monthly",
        "schedule": crontab(hour=3, minute=0, day_of_month=1),
    },
    "invoicing-catch-up": {  # finishes a run that died; queues nothing when all is billed (INV-3)
        "task": "billing.tasks.invoicing_catch_up",
        "schedule": crontab(minute=20),
    },
}
