"""The session room page, the counselor's note and outcome, and the transcript."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import counselor_required, role_required
from audit.services import ReadKind, record_read
from counseling_platform.headers import permissions_policy
from sessions_app.forms import NoteForm, OutcomeForm
from sessions_app.models import CounselingSession
from sessions_app.selectors import (
    room_transcript,
    session_for_participant,
    session_note_and_outcome,
)
from sessions_app.services import BookingError
from sessions_app.services.room import session_note_save, session_outcome_record

participant_required = role_required(User.Role.STUDENT, User.Role.COUNSELOR)
# The video call: the only pages where the browser may offer the camera and microphone.
room_devices = permissions_policy(camera=["self"], microphone=["self"])


def _counselor_session(request: HttpRequest, session_id: int) -> CounselingSession:
    session = session_for_participant(user=request.user, session_id=session_id)
    if session.counselor_id != request.user.pk:
        raise Http404
    return session


def room_strings(*, is_counselor: bool) -> dict[str, str]:
    """What the room's scripts say, in the user's language."""
    peer = _("The student") if is_counselor else _("Your counselor")
    return {
        "connecting": _("Connecting…"),
        "online": _("Connected"),
        "offline": _("Offline. Trying to reconnect…"),
        "signed_out": _("You were signed out. Sign in again to continue."),
        "forbidden": _("This room cannot be opened."),
        "peer_online": _("%(who)s is in the room") % {"who": peer},
        "peer_offline": _("%(who)s is not in the room") % {"who": peer},
        "typing": _("%(who)s is typing…") % {"who": peer},
        "sending": _("Sending…"),
        "sent": _("Sent"),
        "read": _("Read"),
        "failed": _("Not sent"),
        "retry": _("Send again"),
        "queued": _("Waiting for the connection…"),
        "chars_left": _("%(count)s characters left"),
        "too_long": _("The message is too long: at most %(limit)s characters."),
        "note_saving": _("Saving…"),
        "note_saved": _("Saved at %(time)s"),
        "note_failed": _("The note could not be saved. Your text is still here; try again."),
        "confirm_end": _("End the session for both of you? The room will close."),
        "ended_unsent": _(
            "The session has ended. Messages that could not be sent are marked below; "
            "copy what you still need."
        ),
    }


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


@room_devices
@participant_required
def room(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_for_participant(user=request.user, session_id=session_id)
    return _render_room(request, session)


def _render_room(
    request: HttpRequest,
    session: CounselingSession,
    *,
    note_form: NoteForm | None = None,
    outcome_form: OutcomeForm | None = None,
) -> HttpResponse:
    is_counselor = request.user.pk == session.counselor_id
    record_read(request, student=session.student, what=ReadKind.ROOM_CHAT, session_id=session.pk)
    chat_messages = room_transcript(session=session)
    context = {
        "session": session,
        "is_counselor": is_counselor,
        "room_state": session.room_state(timezone.now()),
        "chat_messages": chat_messages,
        "last_id": chat_messages[-1].seq if chat_messages else 0,
        "phases": CounselingSession.Phase.choices,
        "room_strings": room_strings(is_counselor=is_counselor),
    }
    if is_counselor:
        note, outcome = session_note_and_outcome(session=session)
        if note is not None and note.body:
            record_read(request, student=session.student, what=ReadKind.NOTE, session_id=session.pk)
        context["note_form"] = note_form or NoteForm(initial={"body": note.body if note else ""})
        context["note"] = note
        context["outcome"] = outcome
        context["outcome_form"] = outcome_form or OutcomeForm(instance=outcome)
    status = 400 if (note_form or outcome_form) else 200
    return render(request, "sessions_app/room.html", context, status=status)


@room_devices  # an invalid form shows the room page again
@require_POST
@counselor_required
def room_note(request: HttpRequest, session_id: int) -> HttpResponse:
    """Save the note; answers JSON to the room's autosave, a redirect to a plain form."""
    session = _counselor_session(request, session_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)
        return _render_room(request, session, note_form=form)
    note = session_note_save(
        counselor=request.user, session=session, body=form.cleaned_data["body"]
    )
    if _wants_json(request):
        local = timezone.localtime(note.updated_at, session.school.zone())
        return JsonResponse({"ok": True, "saved_at": local.strftime("%H:%M")})
    messages.success(request, _("The note is saved."))
    return redirect("sessions:room", session_id=session.pk)


@room_devices  # an invalid form shows the room page again
@require_POST
@counselor_required
def room_outcome(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _counselor_session(request, session_id)
    _note, outcome = session_note_and_outcome(session=session)
    form = OutcomeForm(request.POST, instance=outcome)
    if form.is_valid():
        try:
            session_outcome_record(
                counselor=request.user,
                session=session,
                kind=form.cleaned_data["kind"],
                referred_to=form.cleaned_data["referred_to"],
                referral_reason=form.cleaned_data["referral_reason"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The outcome is recorded."))
            return redirect("sessions:room", session_id=session.pk)
    return _render_room(request, session, outcome_form=form)


@participant_required
def transcript(request: HttpRequest, session_id: int) -> HttpResponse:
    """The conversation: the student reads their own, the counselor reads and exports."""
    session = session_for_participant(user=request.user, session_id=session_id)
    is_counselor = request.user.pk == session.counselor_id
    context = {
        "session": session,
        "is_counselor": is_counselor,
        "chat_messages": room_transcript(session=session),
    }
    if request.GET.get("format") == "txt":
        if not is_counselor:
            raise Http404
        record_read(
            request,
            student=session.student,
            what=ReadKind.TRANSCRIPT_EXPORT,
            session_id=session.pk,
        )
        for message in context["chat_messages"]:
            # Continuation lines are indented, so no message can forge a line that reads
            # as a message of its own.
            message.export_body = "\n    ".join(message.body.splitlines())
        text = render_to_string("sessions_app/transcript.txt", context, request=request)
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="transkrip-sesi-{session.pk}.txt"'
        return response
    record_read(request, student=session.student, what=ReadKind.TRANSCRIPT, session_id=session.pk)
    return render(request, "sessions_app/transcript.html", context)
