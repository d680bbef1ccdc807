"""One session's page and the actions on it, for its student and its counselor only."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import role_required
from audit.services import ReadKind, record_read
from sessions_app import services
from sessions_app.calendar import session_ics
from sessions_app.forms import LocalTimeForm, ReasonForm
from sessions_app.models import CounselingSession
from sessions_app.policy import booking_policy_for
from sessions_app.selectors import session_for_participant

participant_required = role_required(User.Role.STUDENT, User.Role.COUNSELOR)


@participant_required
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_for_participant(user=request.user, session_id=session_id)
    return _render_detail(request, session)


def _render_detail(
    request: HttpRequest, session: CounselingSession, **forms: object
) -> HttpResponse:
    if session.description or session.status_reason:  # what the student wrote, or why
        record_read(request, student=session.student, what=ReadKind.BOOKING, session_id=session.pk)
    zone = session.school.zone()
    actions = session.actions_for(request.user)
    context = {
        "session": session,
        "actions": actions,
        "reason_action": "decline" if "decline" in actions else "cancel",
        "consent_text": booking_policy_for(session.school).consent_text
        if "consent" in actions
        else "",
        "is_counselor": request.user.pk == session.counselor_id,
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "reschedule_form": forms.get("reschedule_form") or LocalTimeForm(zone=zone),
        "failed_action": forms.get("failed_action", ""),
    }
    status = 400 if forms else 200
    return render(request, "sessions_app/session_detail.html", context, status=status)


# action -> (who may ask, the form it needs if any, what it does, what the person is told).
# Each call gets the request, the session and the valid form (or None).
ACTIONS: dict[str, tuple[str, str | None, Callable, object]] = {
    "confirm": (
        "counselor",
        None,
        lambda r, s, f: services.session_confirm(counselor=r.user, session=s),
        gettext_lazy("The session is confirmed; the student was notified."),
    ),
    "decline": (
        "counselor",
        "reason_form",
        lambda r, s, f: services.session_decline(
            counselor=r.user, session=s, reason=f.cleaned_data["reason"]
        ),
        gettext_lazy("The request was declined; the student was notified."),
    ),
    "cancel": (
        "either",
        "reason_form",
        lambda r, s, f: services.session_cancel(
            user=r.user, session=s, reason=f.cleaned_data["reason"]
        ),
        gettext_lazy("The session was cancelled; the other side was notified."),
    ),
    "start": (
        "counselor",
        None,
        lambda r, s, f: services.session_start(counselor=r.user, session=s),
        gettext_lazy("The session has started."),
    ),
    "complete": (
        "counselor",
        None,
        lambda r, s, f: services.session_complete(counselor=r.user, session=s),
        gettext_lazy("The session is completed."),
    ),
    "no-show": (
        "counselor",
        None,
        lambda r, s, f: services.session_mark_no_show(counselor=r.user, session=s),
        gettext_lazy("The session is recorded as a no-show."),
    ),
    "reschedule": (
        "counselor",
        "reschedule_form",
        lambda r, s, f: services.session_reschedule_propose(
            counselor=r.user, session=s, starts_at=f.starts_at()
        ),
        gettext_lazy("The new time was proposed; the student was notified and must accept it."),
    ),
    "accept-time": (
        "student",
        None,
        lambda r, s, f: services.session_reschedule_answer(student=r.user, session=s, accept=True),
        gettext_lazy("The session moved to the new time."),
    ),
    "reject-time": (
        "student",
        None,
        lambda r, s, f: services.session_reschedule_answer(student=r.user, session=s, accept=False),
        gettext_lazy("The session stays at its time; your counselor was notified."),
    ),
    "consent": (
        "student",
        None,
        lambda r, s, f: services.session_consent_give(student=r.user, session=s),
        gettext_lazy("Thank you. Your consent is recorded."),
    ),
}


def _bound_form(request: HttpRequest, session: CounselingSession, form_name: str | None):
    if form_name == "reschedule_form":
        return LocalTimeForm(request.POST, zone=session.school.zone())
    if form_name == "reason_form":
        return ReasonForm(request.POST)
    return None


@require_POST
@participant_required
def session_action(request: HttpRequest, session_id: int, action: str) -> HttpResponse:
    session = session_for_participant(user=request.user, session_id=session_id)
    if action not in ACTIONS:
        raise Http404
    who, form_name, run, done = ACTIONS[action]
    if who == "counselor" and request.user.pk != session.counselor_id:
        raise Http404
    if who == "student" and request.user.pk != session.student_id:
        raise Http404
    form = _bound_form(request, session, form_name)
    if form is not None and not form.is_valid():
        return _render_detail(request, session, **{form_name: form}, failed_action=action)
    try:
        run(request, session, form)
    except services.BookingError as error:
        if form is not None:  # show the form again with what was typed, and why
            form.add_error(None, error.message)
            return _render_detail(request, session, **{form_name: form}, failed_action=action)
        messages.error(request, error.message)
        return redirect("sessions:session-detail", session_id=session.pk)
    messages.success(request, done)
    return redirect("sessions:session-detail", session_id=session.pk)


@participant_required
def session_calendar(request: HttpRequest, session_id: int) -> HttpResponse:
    """The session as an .ics file, for a confirmed session only."""
    session = session_for_participant(user=request.user, session_id=session_id)
    if session.status != CounselingSession.Status.CONFIRMED:
        raise Http404
    response = HttpResponse(session_ics(session), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sesi-bk-{session.pk}.ics"'
    return response
