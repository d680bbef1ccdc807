"""The counselor's pages: schedule (day and week), availability, sessions for clients."""

import datetime

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import counselor_required
from sessions_app.forms import AvailabilityExceptionForm, AvailabilityForm, CounselorSessionForm
from sessions_app.models import Availability, AvailabilityException, CounselingSession
from sessions_app.selectors import (
    counselor_availability,
    counselor_clients_for_booking,
    counselor_requests,
    counselor_schedule,
)
from sessions_app.services import BookingError, session_create_for_client


def _parse_day(value: str | None, default: datetime.date) -> datetime.date:
    """The date asked for, within five years of today; anything else is today."""
    try:
        day = datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if abs((day - default).days) <= 5 * 366 else default


@counselor_required
def schedule(request: HttpRequest) -> HttpResponse:
    """Requests to act on, then the sessions of one day or one week (Monday first)."""
    zone = request.user.school.zone()
    today = timezone.localdate(timezone=zone)
    view = "day" if request.GET.get("view") == "day" else "week"
    day = _parse_day(request.GET.get("date"), today)
    if view == "week":
        first, length, step = day - datetime.timedelta(days=day.weekday()), 7, 7
    else:
        first, length, step = day, 1, 1
    sessions = list(
        counselor_schedule(counselor=request.user, first_day=first, days=length, zone=zone)
    )
    days = []
    for offset in range(length):
        date = first + datetime.timedelta(days=offset)
        on_day = [s for s in sessions if timezone.localtime(s.starts_at, zone).date() == date]
        days.append((date, on_day))
    return render(
        request,
        "sessions_app/schedule.html",
        {
            "requests": counselor_requests(counselor=request.user),
            "view": view,
            "day": day,
            "days": days,
            "today": today,
            "first": first,
            "previous": first - datetime.timedelta(days=step),
            "next": first + datetime.timedelta(days=step),
        },
    )


@counselor_required
def availability(request: HttpRequest) -> HttpResponse:
    """Weekly windows and exceptions, each with its own form on one page."""
    zone = request.user.school.zone()
    window_form = AvailabilityForm(counselor=request.user)
    exception_form = AvailabilityExceptionForm(zone=zone)
    if request.method == "POST" and request.POST.get("form") == "window":
        window_form = AvailabilityForm(request.POST, counselor=request.user)
        if window_form.is_valid():
            window = window_form.save(commit=False)
            window.counselor = request.user
            window.save()
            messages.success(request, _("The weekly window was added."))
            return redirect("sessions:availability")
    elif request.method == "POST" and request.POST.get("form") == "exception":
        exception_form = AvailabilityExceptionForm(request.POST, zone=zone)
        if exception_form.is_valid():
            data = exception_form.cleaned_data
            AvailabilityException.objects.bulk_create(
                AvailabilityException(
                    counselor=request.user,
                    kind=data["kind"],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    session_minutes=data["session_minutes"],
                    note=data["note"],
                )
                for starts_at, ends_at in data["ranges"]
            )
            messages.success(request, _("The exception was added."))
            if data["kind"] == AvailabilityException.Kind.BLOCKED:
                _warn_about_sessions_inside(request, data["ranges"])
            return redirect("sessions:availability")
    windows, exceptions = counselor_availability(counselor=request.user)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "sessions_app/availability.html",
        {
            "windows": windows,
            "exceptions": exceptions,
            "window_form": window_form,
            "exception_form": exception_form,
        },
        status=status,
    )


def _warn_about_sessions_inside(request: HttpRequest, ranges: list) -> None:
    """Blocking time does not move sessions already booked in it: say so."""
    inside = Q()
    for starts_at, ends_at in ranges:
        inside |= Q(starts_at__lt=ends_at, ends_at__gt=starts_at)
    count = CounselingSession.objects.filter(
        inside, counselor=request.user, status__in=CounselingSession.OPEN_STATUSES
    ).count()
    if count:
        messages.warning(
            request,
            ngettext(
                "%(count)d session already booked falls in this time. Propose a new time "
                "for it or cancel it from your schedule.",
                "%(count)d sessions already booked fall in this time. Propose new times "
                "for them or cancel them from your schedule.",
                count,
            )
            % {"count": count},
        )


@require_POST
@counselor_required
def availability_delete(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    model = {"window": Availability, "exception": AvailabilityException}.get(kind)
    if model is None:
        raise Http404
    get_object_or_404(model, pk=item_id, counselor=request.user).delete()
    messages.success(request, _("Removed. Sessions already booked are not affected."))
    return redirect("sessions:availability")


@counselor_required
def session_create(request: HttpRequest) -> HttpResponse:
    """Schedule a confirmed session with one of the counselor's own clients."""
    clients = counselor_clients_for_booking(counselor=request.user)
    form = CounselorSessionForm(
        request.POST or None,
        zone=request.user.school.zone(),
        clients=clients,
        initial={"student": request.GET.get("student")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = session_create_for_client(
                counselor=request.user,
                student=data["student"],
                starts_at=form.starts_at(),
                minutes=data["minutes"],
                mode=data["mode"],
                field=data["field"],
                description=data["description"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The session is scheduled; the student was notified."))
            return redirect("sessions:session-detail", session_id=session.pk)
    return render(request, "sessions_app/session_create.html", {"form": form})
