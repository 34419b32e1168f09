"""Billing's pages in the partner portal (included under /portal/ by vendorportal.urls)."""

from django.urls import path

from billing import views

urlpatterns = [
    path("bestellungen/", views.orders_list, name="orders"),
    path("bestellungen/neu/", views.order_new, name="order_new"),
    path("bestellungen/neu/<int:installation>/", views.order_new_for, name="order_new_for"),
    path("bestellungen/<int:pk>/", views.order_detail, name="order_detail"),
    path("bestellungen/<int:pk>/bestellen/", views.order_confirm, name="order_confirm"),
    path("bestellungen/<int:pk>/stornieren/", views.order_cancel, name="order_cancel"),
    path("bestellungen/<int:pk>/lieferschein/<int:note>/", views.delivery_note_pdf, name="order_delivery_note"),
    path("rechnungen/", views.invoices_list, name="invoices"),
    path("rechnungen/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("sepa-mandat/", views.sepa_mandate, name="sepa_mandate"),
]
