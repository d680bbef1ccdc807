"""The counselor's side: a client's measurements, scheduling, voiding, import, reliability."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.importing import ImportFileError
from accounts.permissions import counselor_required
from audit.services import ReadKind, record_read
from instruments.forms import HistoryUploadForm, ScheduleForm, VoidForm
from instruments.importing import (
    COLUMN_HEADERS,
    HistoryRejected,
    history_import,
    history_plan,
    parse_history,
)
from instruments.reliability import VALID_ITEM_TOTAL, reliability_report
from instruments.selectors import (
    client_history,
    counselor_administration_get,
    counselor_client_get,
    counselor_response_get,
)
from instruments.services import (
    InstrumentError,
    administration_cancel,
    administrations_schedule,
    response_void,
)

IMPORT_SESSION_KEY = "instruments.history_import"


def _client_page(request, student, schedule_form, status=200) -> HttpResponse:
    record_read(request, student=student, what=ReadKind.ANSWERS)
    context = {
        "client": student,
        "histories": client_history(counselor=request.user, student=student),
        "schedule_form": schedule_form,
    }
    return render(request, "instruments/client_detail.html", context, status=status)


@counselor_required
def client_detail(request: HttpRequest, student_id: int) -> HttpResponse:
    student = counselor_client_get(counselor=request.user, student_id=student_id)
    return _client_page(request, student, ScheduleForm(initial={"instrument": "amas"}))


@require_POST
@counselor_required
def administration_schedule(request: HttpRequest, student_id: int) -> HttpResponse:
    student = counselor_client_get(counselor=request.user, student_id=student_id)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            created = administrations_schedule(
                counselor=request.user,
                student=student,
                instrument_code=data.pop("instrument"),
                **data,
            )
        except InstrumentError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("%(count)d questionnaire(s) scheduled.") % {"count": len(created)},
            )
            return redirect("instruments:client-detail", student_id=student.pk)
    messages.error(request, _("Nothing was scheduled. Please correct the marked fields."))
    return _client_page(request, student, form, status=400)


@require_POST
@counselor_required
def administration_cancel_view(request: HttpRequest, administration_id: int) -> HttpResponse:
    administration = counselor_administration_get(
        counselor=request.user, administration_id=administration_id
    )
    try:
        administration_cancel(counselor=request.user, administration=administration)
    except InstrumentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The questionnaire was cancelled."))
    return redirect("instruments:client-detail", student_id=administration.student_id)


@counselor_required
def response_void_view(request: HttpRequest, response_id: int) -> HttpResponse:
    response = counselor_response_get(counselor=request.user, response_id=response_id)
    form = VoidForm(request.POST or None)
    student_id = response.administration.student_id
    record_read(request, student=response.administration.student, what=ReadKind.ANSWERS)
    if request.method == "POST" and form.is_valid():
        try:
            response_void(
                counselor=request.user, response=response, reason=form.cleaned_data["reason"]
            )
        except InstrumentError as error:
            form.add_error("reason" if error.code == "reason_required" else None, error.message)
        else:
            messages.success(request, _("The response was voided and kept in the history."))
            return redirect("instruments:client-detail", student_id=student_id)
    return render(
        request,
        "instruments/void.html",
        {"response": response, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@counselor_required
def history_import_upload(request: HttpRequest, student_id: int) -> HttpResponse:
    student = counselor_client_get(counselor=request.user, student_id=student_id)
    form = HistoryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            rows = parse_history(form.cleaned_data["file"].read())
        except ImportFileError as error:
            form.add_error("file", error.message)
        else:
            request.session[IMPORT_SESSION_KEY] = {
                "student_id": student.pk,
                "file_name": form.cleaned_data["file"].name,
                "rows": rows,
            }
            return redirect("instruments:import-preview", student_id=student.pk)
    return render(
        request,
        "instruments/import_upload.html",
        {"client": student, "form": form, "columns": COLUMN_HEADERS},
        status=400 if request.method == "POST" else 200,
    )


@counselor_required
def history_import_preview(request: HttpRequest, student_id: int) -> HttpResponse:
    student = counselor_client_get(counselor=request.user, student_id=student_id)
    stored = request.session.get(IMPORT_SESSION_KEY)
    if stored is None or stored["student_id"] != student.pk:
        messages.info(request, _("Choose a file to import first."))
        return redirect("instruments:import-upload", student_id=student.pk)
    rows = [(line, values) for line, values in stored["rows"]]
    if request.method == "POST":
        try:
            plan = history_import(counselor=request.user, student=student, rows=rows)
        except HistoryRejected as rejected:
            plan = rejected.plan
            messages.error(request, rejected.message)
        except InstrumentError as error:  # e.g. the guardian's consent was withdrawn
            plan = history_plan(student=student, rows=rows)
            messages.error(request, error.message)
        else:
            request.session.pop(IMPORT_SESSION_KEY, None)
            messages.success(
                request, _("%(count)d occasion(s) imported.") % {"count": len(plan.rows)}
            )
            return redirect("instruments:client-detail", student_id=student.pk)
    else:
        plan = history_plan(student=student, rows=rows)
    return render(
        request,
        "instruments/import_preview.html",
        {"client": student, "plan": plan, "file_name": stored["file_name"]},
    )


@counselor_required
def reliability(request: HttpRequest) -> HttpResponse:
    whole_school = request.GET.get("scope") == "school"
    return render(
        request,
        "instruments/reliability.html",
        {
            "reports": reliability_report(counselor=request.user, whole_school=whole_school),
            "whole_school": whole_school,
            "valid_item_total": VALID_ITEM_TOTAL,
        },
    )
