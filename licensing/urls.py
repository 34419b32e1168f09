from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("", views.dashboard, name="dashboard"),
]

from . import views_systems  # noqa: E402

urlpatterns += [
    path("systeme/", views_systems.systems_list, name="systems"),
    path("systeme/<int:pk>/neu-initialisieren/", views_systems.system_reinitialise_view, name="system_reinitialise"),
]
