"""The counselor's analytics: a client's trends and report (page, PDF, CSV), what the
client may see, the caseload dashboard and the multiple-baseline view."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import counselor_required
from analytics.caseload import (
    ALERT_CODES,
    ALLIANCE_DROP,
    ANXIETY_RISES,
    SORT_KEYS,
    alert_labels,
    caseload,
    caseload_lines,
    counselor_classes,
    sort_columns,
)
from analytics.exports import report_csv, report_pdf_bytes
from analytics.figures import (
    alliance_titles,
    anxiety_titles,
    multiple_baseline_figure,
    report_figures,
    trend_figures,
)
from analytics.report import report_tables
from analytics.selectors import baseline_studies, client_report, client_series
from analytics.services import AnalyticsError, anxiety_trend_share
from audit.services import ReadKind, record_read, record_reads
from counseling_platform.query import int_or_none
from instruments.selectors import counselor_client_get

MAX_BASELINE_PANELS = 8


@counselor_required
def client_trends(request: HttpRequest, student_id: int) -> HttpResponse:
    student = counselor_client_get(counselor=request.user, student_id=student_id)
    record_read(request, student=student, what=ReadKind.TRENDS)
    zone = request.user.school.zone()
    alliance, anxiety = client_series(student=student)
    return render(
        request,
        "analytics/client_trends.html",
        {
            "client": student,
            "alliance_charts": trend_figures(alliance, zone, titles=alliance_titles())
            if alliance
            else [],
            "anxiety_charts": trend_figures(anxiety, zone, titles=anxiety_titles())
            if anxiety
            else [],
        },
    )


@require_POST
@counselor_required
def trend_share(request: HttpRequest, student_id: int) -> HttpResponse:
    student = counselor_client_get(counselor=request.user, student_id=student_id)
    visible = request.POST.get("visible") == "1"
    try:
        anxiety_trend_share(counselor=request.user, student=student, visible=visible)
    except AnalyticsError as error:
        messages.error(request, error.message)
    else:
        shown = (
            _("%(name)s can now see their own anxiety trend.")
            if visible
            else _("%(name)s no longer sees their anxiety trend.")
        )
        messages.success(request, shown % {"name": student.display_name})
    return redirect("analytics:client-trends", student_id=student.pk)


def _report_for(
    request: HttpRequest, student_id: int, what: ReadKind, *, with_reference: bool = True
):
    student = counselor_client_get(counselor=request.user, student_id=student_id)
    record_read(request, student=student, what=what)
    report = client_report(counselor=request.user, student=student, with_reference=with_reference)
    return student, report


@counselor_required
def report_page(request: HttpRequest, student_id: int) -> HttpResponse:
    student, report = _report_for(request, student_id, ReadKind.REPORT)
    return render(
        request,
        "analytics/report.html",
        {
            "client": student,
            "report": report,
            "tables": report_tables(report),
            "figures": report_figures(report),
        },
    )


def _file_name(student, extension: str) -> str:
    today = timezone.localdate(timezone=student.school.zone()).isoformat()
    return f"laporan-{slugify(student.username)}-{today}.{extension}"


def _download(student, content: bytes, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_file_name(student, extension)}"'
    response["Cache-Control"] = "no-store"  # a confidential record: no copies on the way
    return response


@counselor_required
def report_pdf(request: HttpRequest, student_id: int) -> HttpResponse:
    student, report = _report_for(request, student_id, ReadKind.REPORT_PDF)
    content = report_pdf_bytes(report)
    return _download(student, content, "application/pdf", "pdf")


@counselor_required
def report_csv_download(request: HttpRequest, student_id: int) -> HttpResponse:
    student, report = _report_for(request, student_id, ReadKind.REPORT_CSV, with_reference=False)
    content = report_csv(report)
    return _download(student, content, "text/csv; charset=utf-8", "csv")


@counselor_required
def caseload_page(request: HttpRequest) -> HttpResponse:
    class_id = int_or_none(request.GET.get("class"))
    alert = request.GET.get("alert", "")
    alert = alert if alert in ALERT_CODES else ""
    sort = request.GET.get("sort", "-alerts")
    sort = sort if sort.lstrip("-") in SORT_KEYS else "-alerts"
    rows = caseload(counselor=request.user, class_id=class_id, alert=alert, sort=sort)
    shown_scores = [row.profile.user for row in rows if row.alliance or row.anxiety]
    record_reads(request, students=shown_scores, what=ReadKind.CASELOAD)
    return render(
        request,
        "analytics/caseload.html",
        {
            "lines": caseload_lines(rows),
            "classes": counselor_classes(counselor=request.user),
            "alert_choices": list(alert_labels().items()),
            "sort_columns": sort_columns(),
            "alliance_drop": ALLIANCE_DROP,
            "anxiety_rises": ANXIETY_RISES,
            "class_id": class_id,
            "alert": alert,
            "sort": sort,
        },
    )


@counselor_required
def multiple_baseline(request: HttpRequest) -> HttpResponse:
    """Several clients' anxiety series on one time axis, each with its phase changes."""
    chosen_ids = {int_or_none(value) for value in request.GET.getlist("client")} - {None}
    candidates, chosen = baseline_studies(
        counselor=request.user, chosen_ids=chosen_ids, limit=MAX_BASELINE_PANELS
    )
    record_reads(
        request, students=[profile.user for profile, _ in chosen], what=ReadKind.MULTIPLE_BASELINE
    )
    zone = request.user.school.zone()
    figure = (
        multiple_baseline_figure(
            [(profile.user.display_name, series) for profile, series in chosen], zone
        )
        if chosen
        else None
    )
    return render(
        request,
        "analytics/multiple_baseline.html",
        {
            "figure": figure,
            "candidates": [profile for profile, _series in candidates],
            "chosen_ids": {profile.user_id for profile, _series in chosen},
            "max_panels": MAX_BASELINE_PANELS,
        },
    )
