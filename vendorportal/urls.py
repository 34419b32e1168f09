"""The project's URLs. The partner portal is one namespace, ``portal``: the shell's pages
(vendorportal.portal.urls) plus each app's portal URL module, all under /portal/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

import api.urls
import billing.urls
import licensing.urls
import support.urls
import vendorportal.portal.urls
import vendorportal.webhooks.urls
from vendorportal import i18n

portal_urlpatterns = [
    *vendorportal.portal.urls.urlpatterns,
    *licensing.urls.urlpatterns,
    *billing.urls.urlpatterns,
    *support.urls.urlpatterns,
    *api.urls.portal_urlpatterns,
    *vendorportal.webhooks.urls.urlpatterns,
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:dashboard", permanent=False)),
    path("admin/2fa/", include("vendorportal.security.urls", namespace="security")),
    path("admin/", admin.site.urls),
    path("portal/", include((portal_urlpatterns, "portal"))),
    path("i18n/setlang/", i18n.set_language, name="set_language"),
    *api.urls.urlpatterns,
    # No /media/: stored documents are served only by views that check rights (the admin's
    # /admin/dokumente/…, the portal's partner-scoped downloads), see vendorportal.stored_files.
]

handler403 = "vendorportal.portal.views.error_403"
handler404 = "vendorportal.portal.views.error_404"
handler500 = "vendorportal.portal.views.error_500"
