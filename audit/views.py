"""The audit trail as its readers see it: the counselor's clients' record reads and
the school admin's account changes. Operators use the operator admin or
`manage.py export_audit_trail`."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import counselor_required, school_admin_required
from accounts.selectors import counselor_clients
from audit.presentation import action_label, change_rows, object_kind, read_label
from audit.selectors import client_record_reads, school_account_changes
from counseling_platform.query import int_or_none

ENTRIES_PER_PAGE = 50


@counselor_required
def client_record_reads_page(request: HttpRequest) -> HttpResponse:
    student_id = int_or_none(request.GET.get("client"))
    entries = client_record_reads(counselor=request.user, student_id=student_id)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
        entry.read_label = read_label(entry)
    return render(
        request,
        "audit/client_record_reads.html",
        {
            "page": page,
            "clients": counselor_clients(counselor=request.user),
            "client_id": student_id,
            "client_query": f"client={student_id}&" if student_id else "",
        },
    )


@school_admin_required
def account_changes_page(request: HttpRequest) -> HttpResponse:
    entries = school_account_changes(admin=request.user)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
        entry.change_rows = change_rows(entry)
        entry.object_kind = object_kind(entry)
        entry.action_label = action_label(entry)
    return render(request, "audit/account_changes.html", {"page": page})
