"""Student import: upload, preview every row, then confirm (all rows or none)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.credentials import credentials_remember, credentials_waiting
from accounts.forms import StudentImportForm
from accounts.importing import (
    COLUMN_HEADERS,
    ImportFileError,
    ImportRejected,
    import_plan,
    parse_rows,
    students_import,
)
from accounts.permissions import school_admin_required

SESSION_KEY = "accounts.student_import"


def _stored_rows(stored: dict) -> list[tuple[int, dict[str, str]]]:
    return [(line, values) for line, values in stored["rows"]]


@school_admin_required
def import_upload(request: HttpRequest) -> HttpResponse:
    school = request.user.school
    form = StudentImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"academic_year": school.current_academic_year()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            rows = parse_rows(form.cleaned_data["file"].read())
        except ImportFileError as error:
            form.add_error("file", error.message)
        else:
            request.session[SESSION_KEY] = {
                "academic_year": form.cleaned_data["academic_year"],
                "file_name": form.cleaned_data["file"].name,
                "rows": rows,
            }
            return redirect("accounts:import-preview")
    return render(request, "accounts/import_upload.html", {"form": form, "columns": COLUMN_HEADERS})


@school_admin_required
def import_preview(request: HttpRequest) -> HttpResponse:
    stored = request.session.get(SESSION_KEY)
    if stored is None:
        messages.info(request, _("Choose a file to import first."))
        return redirect("accounts:import-upload")
    rows = _stored_rows(stored)
    if request.method == "POST":
        try:
            plan, credentials = students_import(
                admin=request.user, academic_year=stored["academic_year"], rows=rows
            )
        except ImportRejected as rejected:
            plan = rejected.plan
            messages.error(request, _("Nothing was imported: fix the rows below and upload again."))
        else:
            request.session.pop(SESSION_KEY, None)
            credentials_remember(admin=request.user, credentials=credentials)
            messages.success(
                request,
                _(
                    "Import finished: %(create)d created, %(update)d updated, "
                    "%(unchanged)d unchanged."
                )
                % plan.counts,
            )
            if credentials_waiting(admin=request.user):
                return redirect("accounts:credentials")
            return redirect("accounts:account-list")
    else:
        plan = import_plan(admin=request.user, academic_year=stored["academic_year"], rows=rows)
    context = {
        "plan": plan,
        "file_name": stored["file_name"],
        "academic_year": stored["academic_year"],
    }
    return render(request, "accounts/import_preview.html", context)
