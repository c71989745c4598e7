from django.urls import path

from services.faq.api.v2 import views

app_name = "faq-v2"

urlpatterns = [
    path("faqs", views.EntryCollectionApi.as_view(), name="entry-list"),
    path("faqs/<id:entry_id>", views.EntryDetailApi.as_view(), name="entry-detail"),
]
