from django.urls import path

from api import views_portal
from api.api import api

urlpatterns = [path("api/v1/", api.urls)]

portal_urlpatterns = [
    path("api-zugaenge/", views_portal.tokens_view, name="api_tokens"),
    path("api-zugaenge/<int:pk>/widerrufen/", views_portal.token_revoke_view, name="api_token_revoke"),
]
