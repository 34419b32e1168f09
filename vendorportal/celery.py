"""The Celery app. Every periodic job is declared in settings (CELERY_BEAT_SCHEDULE), in one place (STYLE 6)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vendorportal.settings")

app = Celery("vendorportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule is declared once, in settings (CELERY_BEAT_SCHEDULE), where the
# admin's schedule page reads it too; config_from_object above loads it.
# Queues are declared there too (CELERY_TASK_QUEUES, CELERY_TASK_ROUTES): "celery" for
# everything, "mail-in" for reading the support mailbox, each consumed by its own worker
# (Procfile: worker, mailin) so a slow mail server never delays outgoing e-mail.
