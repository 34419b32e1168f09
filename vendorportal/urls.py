from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from vendorportal.views import staff_media

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:dashboard", permanent=False)),
    path("admin/2fa/", include("vendorportal.security.urls", namespace="security")),
    path("admin/", admin.site.urls),
    path("portal/", include("licensing.urls", namespace="portal")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Uploaded files (decommissioning proofs, stored PDFs) are for staff only.
    re_path(r"^media/(?P<path>.*)$", staff_media, name="staff-media"),
]
