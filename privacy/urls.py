from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("my-data/", views.my_data, name="my-data"),
    path("school/requests/", views.request_list, name="request-list"),
    path("school/students/<int:user_id>/export/", views.student_export, name="student-export"),
    path("school/students/<int:user_id>/erase/", views.student_erase, name="student-erase"),
]
