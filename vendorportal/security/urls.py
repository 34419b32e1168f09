"""Two-factor pages of the staff admin, mounted at ``admin/2fa/`` (before ``admin/``)."""

from django.contrib import admin
from django.urls import path

from vendorportal.security import views

app_name = "security"

urlpatterns = [
    path("einrichten/", admin.site.admin_view(views.otp_setup), name="setup"),
    path("einrichten/qr.svg", admin.site.admin_view(views.otp_setup_qr), name="setup-qr"),
    path("code/", admin.site.admin_view(views.otp_verify), name="verify"),
]
