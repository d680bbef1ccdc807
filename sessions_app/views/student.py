"""The student's pages: book a session, and my sessions."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import student_required
from sessions_app.forms import BookingForm
from sessions_app.policy import booking_policy_for
from sessions_app.selectors import student_counselor, student_sessions
from sessions_app.services import BookingError, session_request
from sessions_app.slots import counselor_slots, slots_by_day

# Days listed open; later days sit behind "more dates" so a phone page stays short.
FIRST_DAYS_SHOWN = 6


@student_required
def book(request: HttpRequest) -> HttpResponse:
    """Free slots of the student's own counselor, grouped by day, and the intake form.

    A refused booking (say, the time was just taken) shows the message and the current
    free slots, and keeps everything the student typed.
    """
    counselor = student_counselor(student=request.user)
    if counselor is None:
        return render(request, "sessions_app/book.html", {"counselor": None})
    policy = booking_policy_for(request.user.school)
    form = BookingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = session_request(
                student=request.user,
                starts_at=data["slot"],
                mode=data["mode"],
                field=data["field"],
                description=data["description"],
                consent_given=data["consent"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
            if error.code in {"slot_taken", "slot_unavailable", "slot_too_soon"}:
                form.add_error("slot", _("Choose another time below."))
        else:
            messages.success(
                request,
                _("Your request was sent. Your counselor will confirm it; you will be notified."),
            )
            return redirect("sessions:session-detail", session_id=session.pk)
    slots = counselor_slots(counselor=counselor, policy=policy, student=request.user)
    zone = request.user.school.zone()
    days = slots_by_day(slots, zone)
    chosen = request.POST.get("slot", "")
    return render(
        request,
        "sessions_app/book.html",
        {
            "counselor": counselor,
            "form": form,
            "days": days[:FIRST_DAYS_SHOWN],
            "more_days": days[FIRST_DAYS_SHOWN:],
            "chosen": chosen,
            "chosen_is_later": any(
                slot.key == chosen for _day, later in days[FIRST_DAYS_SHOWN:] for slot in later
            ),
            "policy": policy,
        },
    )


@student_required
def my_sessions(request: HttpRequest) -> HttpResponse:
    upcoming, past = student_sessions(student=request.user)
    return render(request, "sessions_app/my_sessions.html", {"upcoming": upcoming, "past": past})
