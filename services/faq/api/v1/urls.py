from django.urls import path

from services.faq.api.v1 import views

app_name = "faq-v1"

urlpatterns = [
    path("faqs", views.EntryCollectionApi.as_view(), name="entry-list"),
    path("faqs/<id:entry_id>", views.EntryDetailApi.as_view(), name="entry-detail"),
    path("faqs/<id:entry_id>/answer", views.EntryAnswerApi.as_view(), name="entry-answer"),
]
