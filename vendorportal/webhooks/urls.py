"""Portal pages of the webhooks (under /portal/, namespace ``portal``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("webhooks/", views.endpoints_view, name="webhooks"),
    path("webhooks/<int:pk>/", views.endpoint_view, name="webhook"),
    path("webhooks/<int:pk>/status/", views.endpoint_state_view, name="webhook_state"),
    path("webhooks/<int:pk>/schluessel/", views.endpoint_secret_view, name="webhook_secret"),
    path("webhooks/<int:pk>/loeschen/", views.endpoint_delete_view, name="webhook_delete"),
    path(
        "webhooks/<int:pk>/zustellungen/<int:delivery_pk>/erneut/",
        views.delivery_resend_view,
        name="webhook_delivery_resend",
    ),
]
