from django.urls import path

from instruments.views import counselor, student

app_name = "instruments"

urlpatterns = [
    # Student
    path("<int:administration_id>/", student.questionnaire_answer, name="answer"),
    path("<int:administration_id>/skip/", student.questionnaire_skip, name="skip"),
    # Counselor
    path("clients/<int:student_id>/", counselor.client_detail, name="client-detail"),
    path(
        "clients/<int:student_id>/schedule/",
        counselor.administration_schedule,
        name="administration-schedule",
    ),
    path("clients/<int:student_id>/import/", counselor.history_import_upload, name="import-upload"),
    path(
        "clients/<int:student_id>/import/preview/",
        counselor.history_import_preview,
        name="import-preview",
    ),
    path(
        "administrations/<int:administration_id>/cancel/",
        counselor.administration_cancel_view,
        name="administration-cancel",
    ),
    path("responses/<int:response_id>/void/", counselor.response_void_view, name="response-void"),
    path("reliability/", counselor.reliability, name="reliability"),
]
