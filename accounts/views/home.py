"""Each role's home page, and the dispatcher that sends a user to theirs."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import User
from accounts.permissions import counselor_required, school_admin_required, student_required
from accounts.selectors import admin_home_counts, counselor_clients
from instruments.selectors import student_open_administrations
from sessions_app.selectors import (
    counselor_requests,
    counselor_schedule,
    student_counselor,
    student_sessions,
)

HOME_URL_NAMES = {
    User.Role.STUDENT: "accounts:student-home",
    User.Role.COUNSELOR: "accounts:counselor-home",
    User.Role.SCHOOL_ADMIN: "accounts:admin-home",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:  # operators have no school: they work in /operator/
        return redirect("admin:index")
    url_name = HOME_URL_NAMES.get(request.user.role)
    if url_name is None:
        raise PermissionDenied
    return redirect(url_name)


@student_required
def student_home(request: HttpRequest) -> HttpResponse:
    counselor = student_counselor(student=request.user)
    upcoming, _past = student_sessions(student=request.user)
    return render(
        request,
        "accounts/student_home.html",
        {
            "counselor": counselor,
            "upcoming": upcoming,
            "questionnaires": student_open_administrations(student=request.user),
        },
    )


@counselor_required
def counselor_home(request: HttpRequest) -> HttpResponse:
    clients = counselor_clients(counselor=request.user)
    zone = request.user.school.zone()
    today = counselor_schedule(
        counselor=request.user, first_day=timezone.localdate(timezone=zone), days=1, zone=zone
    )
    return render(
        request,
        "accounts/counselor_home.html",
        {
            "clients": clients,
            "today_sessions": today,
            "requests": counselor_requests(counselor=request.user),
        },
    )


@school_admin_required
def admin_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/admin_home.html", admin_home_counts(admin=request.user))
