"""Licensing's pages in the partner portal (included under /portal/ by vendorportal.urls)."""

from django.urls import path

from licensing import views_portal, views_systems

urlpatterns = [
    path("systeme/", views_systems.systems_list, name="systems"),
    path("systeme/<int:pk>/neu-initialisieren/", views_systems.system_reinitialise_view, name="system_reinitialise"),
    path("kunden/", views_portal.customers_list, name="customers"),
    path("kunden/neu/", views_portal.customer_create_view, name="customer_create"),
    path("kunden/<int:pk>/bearbeiten/", views_portal.customer_edit_view, name="customer_edit"),
    path(
        "kunden/<int:customer_pk>/installationen/",
        views_portal.installations_list,
        name="installations_for_customer",
    ),
    path("installationen/", views_portal.installations_list, name="installations"),
    path("installationen/neu/", views_portal.installation_create_view, name="installation_create"),
    path("installationen/<int:pk>/bearbeiten/", views_portal.installation_edit_view, name="installation_edit"),
    path("lizenzen/", views_portal.licenses_list, name="licenses"),
    path("lizenzen/pruefen/", views_portal.license_check_view, name="license_check"),
    path("lieferscheine/<int:pk>/pdf/", views_portal.delivery_note_pdf, name="delivery_note_pdf"),
    path("artikeldaten.csv", views_portal.articles_csv, name="articles_csv"),
    path("preisliste.pdf", views_portal.price_list_pdf, name="price_list_pdf"),
]
