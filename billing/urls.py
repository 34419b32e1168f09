"""Billing's pages in the partner portal (included under /portal/ by vendorportal.urls)."""

from django.urls import path

from billing import views, views_subscriptions

urlpatterns = [
    path("bestellungen/", views.orders_list, name="orders"),
    path("bestellungen/neu/", views.order_new, name="order_new"),
    path("bestellungen/neu/preis/", views.order_new_preview, name="order_new_preview"),
    path("bestellungen/neu/csv/", views.order_csv, name="order_csv"),
    path("bestellungen/neu/<int:installation>/", views.order_new_for, name="order_new_for"),
    path("bestellungen/neu/<int:installation>/preis/", views.order_price_preview, name="order_price_preview"),
    path("bestellungen/<int:pk>/", views.order_detail, name="order_detail"),
    path("bestellungen/<int:pk>/bestellen/", views.order_confirm, name="order_confirm"),
    path("bestellungen/<int:pk>/positionen/", views.order_lines_edit, name="order_lines_edit"),
    path("bestellungen/<int:pk>/positionen/preis/", views.order_lines_preview, name="order_lines_preview"),
    path("bestellungen/<int:pk>/positionen/<int:line>/entfernen/", views.order_line_remove, name="order_line_remove"),
    path("bestellungen/<int:pk>/stornieren/", views.order_cancel, name="order_cancel"),
    path("bestellungen/<int:pk>/lieferschein/<int:note>/", views.delivery_note_pdf, name="order_delivery_note"),
    path("rechnungen/", views.invoices_list, name="invoices"),
    path("rechnungen/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("rechnungen/mahnung/<int:pk>/pdf/", views.dunning_notice_pdf, name="dunning_notice_pdf"),
    path("sepa-mandat/", views.sepa_mandate, name="sepa_mandate"),
    path("sepa-mandat/<int:pk>/pdf/", views.sepa_mandate_pdf, name="sepa_mandate_pdf"),
    path("abos/", views_subscriptions.subscriptions_list, name="subscriptions"),
    path("abos/<int:pk>/kuendigen/", views_subscriptions.subscription_cancel, name="subscription_cancel"),
    path("abos/<int:pk>/staffel/", views_subscriptions.subscription_tier, name="subscription_tier"),
    path("service-plaene/", views_subscriptions.service_plans_list, name="service_plans"),
    path("service-plaene/buchen/<int:installation>/", views_subscriptions.service_plan_book, name="service_plan_book"),
    path("service-plaene/<int:pk>/kuendigen/", views_subscriptions.service_plan_cancel, name="service_plan_cancel"),
]
