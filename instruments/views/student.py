"""The student's side: answer a questionnaire, or pass on an optional one."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import student_required
from instruments.definitions import with_counselor
from instruments.forms import QuestionnaireForm
from instruments.selectors import student_administration_get, student_next_required
from instruments.services import (
    InstrumentError,
    administration_skip,
    refusal_for,
    response_submit,
)


def _counselor_name(administration) -> str:
    return administration.counselor.display_name


def _next_page(request: HttpRequest) -> HttpResponse:
    """After answering: the next required questionnaire waiting, else home."""
    waiting = student_next_required(student=request.user)
    if waiting is not None:
        return redirect("instruments:answer", administration_id=waiting.pk)
    return redirect("accounts:student-home")


def _already_saved(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Your answers were already saved."))
    return _next_page(request)


@student_required
def questionnaire_answer(request: HttpRequest, administration_id: int) -> HttpResponse:
    administration = student_administration_get(
        student=request.user, administration_id=administration_id
    )
    instrument = administration.instrument
    refusal = refusal_for(administration, timezone.now())
    if refusal is not None and refusal.code == "already_answered" and request.method == "POST":
        return _already_saved(request)  # a second tap on "send"
    if refusal is not None or instrument is None:
        message = refusal.message if refusal else _("This questionnaire is no longer available.")
        status = 409 if request.method == "POST" else 200
        return render(
            request,
            "instruments/closed.html",
            {"administration": administration, "message": message},
            status=status,
        )
    form = QuestionnaireForm(
        request.POST or None, instrument=instrument, counselor_name=_counselor_name(administration)
    )
    if request.method == "POST" and form.is_valid():
        try:
            response_submit(
                student=request.user, administration=administration, answers=form.answers()
            )
        except InstrumentError as error:
            if error.code != "already_answered":
                return render(
                    request,
                    "instruments/closed.html",
                    {"administration": administration, "message": error.message},
                    status=409,
                )
            return _already_saved(request)
        messages.success(
            request,
            _("Thank you! Your answers to %(name)s were saved.") % {"name": instrument.short_name},
        )
        return _next_page(request)
    return render(
        request,
        "instruments/answer.html",
        {
            "administration": administration,
            "instrument": instrument,
            "instructions": with_counselor(instrument.instructions, _counselor_name(administration))
            if instrument.instructions
            else "",
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@student_required
def questionnaire_skip(request: HttpRequest, administration_id: int) -> HttpResponse:
    administration = student_administration_get(
        student=request.user, administration_id=administration_id
    )
    try:
        administration_skip(student=request.user, administration=administration)
    except InstrumentError as error:
        messages.error(request, error.message)
        return redirect("instruments:answer", administration_id=administration.pk)
    messages.info(request, _("Skipped. Thank you for your time."))
    return redirect("accounts:student-home")
