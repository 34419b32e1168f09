"""Licensing's pages in the partner portal (included under /portal/ by vendorportal.urls)."""

from django.urls import path

from licensing import views_systems

urlpatterns = [
    path("systeme/", views_systems.systems_list, name="systems"),
    path("systeme/<int:pk>/neu-initialisieren/", views_systems.system_reinitialise_view, name="system_reinitialise"),
]
