from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("record-reads/", views.client_record_reads_page, name="client-record-reads"),
    path("account-changes/", views.account_changes_page, name="account-changes"),
]
