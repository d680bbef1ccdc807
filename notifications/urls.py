from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="notification-list"),
    path("<int:notification_id>/open/", views.notification_open, name="notification-open"),
    path("read/", views.notifications_read_all, name="notification-read-all"),
]
