"""The shell's URLs; the project's URLconf adds each app's portal URL module under /portal/."""

from django.urls import path

from vendorportal.portal import views, views_logins

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("passwort/", views.PortalPasswordChangeView.as_view(), name="password_change"),
    path("passwort/geaendert/", views.PortalPasswordChangeDoneView.as_view(), name="password_change_done"),
    path("passwort-vergessen/", views.PortalPasswordResetView.as_view(), name="password_reset"),
    path("passwort-vergessen/gesendet/", views.PortalPasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "passwort-setzen/<uidb64>/<token>/",
        views.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("passwort-setzen/fertig/", views.PortalPasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("zugaenge/", views_logins.logins_list, name="logins"),
    path("zugaenge/sprache/", views_logins.partner_language, name="partner_language"),
    path("zugaenge/einladen/", views_logins.login_invite, name="login_invite"),
    path("zugaenge/<int:pk>/deaktivieren/", views_logins.login_deactivate, name="login_deactivate"),
]
