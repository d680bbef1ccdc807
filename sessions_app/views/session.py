"""One session's page and the actions on it, for its student and its counselor only."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import role_required
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


def _with_reason(service: Callable) -> Callable:
    """An action that needs a reason: an invalid form is handed back to be shown again."""

    def run(request: HttpRequest, session: CounselingSession):
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return form
        return service(request, session, form.cleaned_data["reason"])

    return run


def _reschedule(request: HttpRequest, session: CounselingSession):
    form = _typed_form(request, session, "reschedule")
    if not form.is_valid():
        return form
    return services.session_reschedule_propose(
        counselor=request.user, session=session, starts_at=form.starts_at()
    )


# action -> (who may ask, what it does, what the person is told)
ACTIONS: dict[str, tuple[str, Callable, object]] = {
    "confirm": (
        "counselor",
        lambda r, s: services.session_confirm(counselor=r.user, session=s),
        gettext_lazy("The session is confirmed; the student was notified."),
    ),
    "decline": (
        "counselor",
        _with_reason(
            lambda r, s, reason: services.session_decline(
                counselor=r.user, session=s, reason=reason
            )
        ),
        gettext_lazy("The request was declined; the student was notified."),
    ),
    "cancel": (
        "either",
        _with_reason(
            lambda r, s, reason: services.session_cancel(user=r.user, session=s, reason=reason)
        ),
        gettext_lazy("The session was cancelled; the other side was notified."),
    ),
    "start": (
        "counselor",
        lambda r, s: services.session_start(counselor=r.user, session=s),
        gettext_lazy("The session has started."),
    ),
    "complete": (
        "counselor",
        lambda r, s: services.session_complete(counselor=r.user, session=s),
        gettext_lazy("The session is completed."),
    ),
    "no-show": (
        "counselor",
        lambda r, s: services.session_mark_no_show(counselor=r.user, session=s),
        gettext_lazy("The session is recorded as a no-show."),
    ),
    "reschedule": (
        "counselor",
        _reschedule,
        gettext_lazy("The new time was proposed; the student was notified and must accept it."),
    ),
    "accept-time": (
        "student",
        lambda r, s: services.session_reschedule_answer(student=r.user, session=s, accept=True),
        gettext_lazy("The session moved to the new time."),
    ),
    "reject-time": (
        "student",
        lambda r, s: services.session_reschedule_answer(student=r.user, session=s, accept=False),
        gettext_lazy("The session stays at its time; your counselor was notified."),
    ),
    "consent": (
        "student",
        lambda r, s: services.session_consent_give(student=r.user, session=s),
        gettext_lazy("Thank you. Your consent is recorded."),
    ),
}


TYPED_ACTIONS = {"decline", "cancel", "reschedule"}


def _form_name(action: str) -> str:
    return "reschedule_form" if action == "reschedule" else "reason_form"


def _typed_form(request: HttpRequest, session: CounselingSession, action: str):
    if action == "reschedule":
        return LocalTimeForm(request.POST, zone=session.school.zone())
    return ReasonForm(request.POST)


@require_POST
@participant_required
def session_action(request: HttpRequest, session_id: int, action: str) -> HttpResponse:
    session = session_for_participant(user=request.user, session_id=session_id)
    if action not in ACTIONS:
        raise Http404
    who, run, done = ACTIONS[action]
    if who == "counselor" and request.user.pk != session.counselor_id:
        raise Http404
    if who == "student" and request.user.pk != session.student_id:
        raise Http404
    try:
        result = run(request, session)
    except services.BookingError as error:
        if action in TYPED_ACTIONS:  # show the form again with what was typed
            form = _typed_form(request, session, action)
            form.is_valid()
            form.add_error(None, error.message)
            return _render_detail(
                request, session, **{_form_name(action): form}, failed_action=action
            )
        messages.error(request, error.message)
        return redirect("sessions:session-detail", session_id=session.pk)
    if not isinstance(result, CounselingSession):  # the form was invalid: show it again
        return _render_detail(
            request, session, **{_form_name(action): result}, failed_action=action
        )
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
