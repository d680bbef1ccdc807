"""The one place new passwords are shown: a printable list and its CSV."""

import csv

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.credentials import credentials_forget, credentials_waiting
from accounts.permissions import school_admin_required


def spreadsheet_safe(text: str) -> str:
    """Keep a name from an imported file from running as a formula when the CSV is opened
    in a spreadsheet."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@school_admin_required
def credentials_page(request: HttpRequest) -> HttpResponse:
    credentials = credentials_waiting(admin=request.user)
    response = render(request, "accounts/credentials.html", {"credentials": credentials})
    response["Cache-Control"] = "no-store"
    return response


@school_admin_required
def credentials_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ruangbk-akun-baru.csv"'
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # so Excel reads the file as UTF-8
    writer = csv.writer(response)
    writer.writerow([_("Username"), _("Name"), _("Class"), _("Initial password")])
    for credential in credentials_waiting(admin=request.user):
        writer.writerow(
            [
                spreadsheet_safe(credential.username),
                spreadsheet_safe(credential.name),
                spreadsheet_safe(credential.class_name),
                credential.password,
            ]
        )
    return response


@require_POST
@school_admin_required
def credentials_dismiss(request: HttpRequest) -> HttpResponse:
    credentials_forget(admin=request.user)
    messages.info(request, _("The passwords have been removed from this screen."))
    return redirect("accounts:account-list")
