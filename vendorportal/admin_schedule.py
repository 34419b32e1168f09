"""Staff page "Zeitplan der Jobs": the beat schedule and the recipients of its e-mails.

It only reads settings (:mod:`vendorportal.schedule`) — nothing here changes anything,
and the page accepts no POST — so every active staff member (sales, finance, support)
may read it; ``admin_view`` has checked the staff login. The schedule is changed in
settings and the environment (``FINANCE_EMAILS``), by a deployment, never in the admin.
"""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from vendorportal.schedule import scheduled_jobs


@require_safe
def job_schedule_view(request):
    context = {
        **admin.site.each_context(request),
        "title": _("Zeitplan der Jobs"),
        "jobs": scheduled_jobs(),
    }
    return TemplateResponse(request, "admin/job_schedule.html", context)
