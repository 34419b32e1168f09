"""Support's pages in the partner portal (included under /portal/ by vendorportal.urls)."""

from django.urls import path

from support import views

urlpatterns = [
    path("support/", views.ticket_list, name="support_tickets"),
    path("support/neu/", views.ticket_new, name="support_ticket_new"),
    path("support/fehler-melden/", views.bug_report, name="support_bug_report"),
    path("support/funktionswunsch/", views.feature_request, name="support_feature_request"),
    path("support/<int:pk>/", views.ticket_detail, name="support_ticket"),
    path("support/<int:pk>/anhang/<int:attachment_pk>/", views.attachment_download, name="support_attachment"),
    path("wissen/", views.knowledge_base, name="support_kb"),
    path("wissen/<slug:slug>/", views.article_detail, name="support_article"),
]
