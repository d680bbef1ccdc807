from django.urls import path

from analytics.views import counselor, student

app_name = "analytics"

urlpatterns = [
    # Counselor
    path("caseload/", counselor.caseload_page, name="caseload"),
    path("multiple-baseline/", counselor.multiple_baseline, name="multiple-baseline"),
    path("clients/<int:student_id>/", counselor.client_trends, name="client-trends"),
    path("clients/<int:student_id>/share/", counselor.trend_share, name="trend-share"),
    path("clients/<int:student_id>/report/", counselor.report_page, name="report"),
    path("clients/<int:student_id>/report.pdf", counselor.report_pdf, name="report-pdf"),
    path("clients/<int:student_id>/report.csv", counselor.report_csv_download, name="report-csv"),
    # Student
    path("me/anxiety/", student.my_anxiety, name="my-anxiety"),
]
