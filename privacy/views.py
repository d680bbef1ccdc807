"""Data-protection pages: a student's own data download; the school admin's download on
a written request, erasure with a confirmation step, and the list of requests."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import school_admin_required, student_required
from audit.services import ReadKind, record_reads
from privacy import services
from privacy.archive import personal_data_archive
from privacy.forms import ErasureRequestForm, WrittenRequestForm
from privacy.models import DataRequest
from privacy.selectors import (
    erasure_of,
    school_data_requests,
    school_student_get,
    student_personal_data,
)


def _download(request: HttpRequest, student: User, data_request: DataRequest) -> HttpResponse:
    """Record the read in the audit trail and send the archive."""
    record_reads(
        request,
        students=[student],
        what=ReadKind.DATA_EXPORT,
        extra={"data_request": data_request.pk},
    )
    name, content = personal_data_archive(
        data=student_personal_data(student=student),
        processed_by=data_request.processed_by,
        request_date=data_request.request_date,
        reference=data_request.reference,
    )
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@student_required
def my_data(request: HttpRequest) -> HttpResponse:
    """What the download holds; the button posts, so no link prefetch starts one."""
    if request.method == "POST":
        with transaction.atomic():
            data_request = services.data_export_record(
                processed_by=request.user, student=request.user
            )
            return _download(request, request.user, data_request)
    return render(request, "privacy/my_data.html")


@school_admin_required
def student_export(request: HttpRequest, user_id: int) -> HttpResponse:
    student = school_student_get(admin=request.user, user_id=user_id)
    form = WrittenRequestForm(request.POST or None, zone=request.user.school.zone())
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                data_request = services.data_export_record(
                    processed_by=request.user,
                    student=student,
                    requester=form.cleaned_data["requester"],
                    request_date=form.cleaned_data["request_date"],
                    reference=form.cleaned_data["reference"],
                )
                return _download(request, student, data_request)
        except services.PrivacyError as error:
            form.add_error(None, error.message)
    context = {"student": student, "form": form, "erasure": erasure_of(student=student)}
    status = 400 if request.method == "POST" else 200
    return render(request, "privacy/student_export.html", context, status=status)


@school_admin_required
def student_erase(request: HttpRequest, user_id: int) -> HttpResponse:
    """Step one: the written request. Step two: confirm, naming the student. Then erase."""
    student = school_student_get(admin=request.user, user_id=user_id)
    erasure = erasure_of(student=student)
    form = ErasureRequestForm(request.POST or None, zone=request.user.school.zone())
    if erasure is None and request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirmed"]:
            return render(request, "privacy/student_erase_confirm.html", {
                "student": student,
                "form": form,
                "requester_label": DataRequest.Requester(form.cleaned_data["requester"]).label,
            })  # fmt: skip
        try:
            summary = services.student_erase(
                admin=request.user,
                student=student,
                requester=form.cleaned_data["requester"],
                request_date=form.cleaned_data["request_date"],
                reference=form.cleaned_data["reference"],
            )
        except services.PrivacyError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "The student's data has been erased: %(messages)d chat messages, "
                    "%(questionnaires)d questionnaires and %(notifications)d notifications "
                    "removed, %(cancelled)d upcoming sessions cancelled."
                )
                % {
                    "messages": summary.counts["chat_messages"],
                    "questionnaires": summary.counts["questionnaires"],
                    "notifications": summary.counts["notifications"],
                    "cancelled": summary.counts["sessions_cancelled"],
                },
            )
            return redirect("accounts:account-edit", user_id=student.pk)
    context = {"student": student, "form": form, "erasure": erasure}
    status = 400 if request.method == "POST" else 200
    return render(request, "privacy/student_erase.html", context, status=status)


@school_admin_required
def request_list(request: HttpRequest) -> HttpResponse:
    requests = school_data_requests(admin=request.user)[:200]
    return render(request, "privacy/request_list.html", {"requests": requests})
