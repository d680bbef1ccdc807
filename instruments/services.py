"""Sending questionnaires, answering them, voiding an answer and rescoring.

Each workflow is one transaction that checks its rules and raises `InstrumentError`
with a code; the view shows the translated message.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import has_guardian_consent
from accounts.services import lock_people
from counseling_platform.errors import DomainError
from instruments.definitions import Instrument, all_instruments, get_instrument
from instruments.models import Administration, Response
from instruments.scoring import Score, ScoringError, score_answers, score_total
from notifications.models import Notification
from notifications.services import notify
from sessions_app.policy import booking_policy_for

Phase = Administration.Phase
Status = Administration.Status
# A scheduled questionnaire opens at this local hour of its day (or at once, if later).
OPENING_HOUR = 6
MAX_SCHEDULED = 10


class InstrumentError(DomainError):
    pass


def consent_missing_for_counselor() -> InstrumentError:
    return InstrumentError(
        "guardian_consent_missing",
        _("This student's parent or guardian has not given consent (or withdrew it), so "
          "no questionnaires can be scheduled or imported. The school admin records consent."),
    )  # fmt: skip


def consent_missing() -> InstrumentError:
    return InstrumentError(
        "guardian_consent_missing",
        _("Questionnaires need your parent's or guardian's consent, and the school has none "
          "recorded (or it was withdrawn), so this one cannot be answered. Ask your school "
          "admin."),
    )  # fmt: skip


def _local_date(moment: datetime.datetime, student: User) -> str:
    return formats.date_format(timezone.localtime(moment, student.school.zone()), "j F Y")


def administrations_for_session(*, session, now: datetime.datetime | None = None) -> int:
    """Send the after-session questionnaires of a completed session, once.

    Runs inside the transaction that completes the session; the student is notified
    once it commits. Returns how many were created (0 when they already exist).
    """
    now = now or timezone.now()
    if not has_guardian_consent(session.student_id):
        return 0  # consent withdrawn: no questionnaires are sent
    open_days = booking_policy_for(session.school).questionnaire_open_days
    created = 0
    for instrument in all_instruments():
        if not instrument.is_sent_after_sessions:
            continue
        _administration, was_created = Administration.objects.get_or_create(
            session=session,
            instrument_code=instrument.code,
            defaults={
                "school_id": session.school_id,
                "student_id": session.student_id,
                "counselor_id": session.counselor_id,
                "phase": Phase.TREATMENT,
                "opens_at": now,
                "closes_at": now + datetime.timedelta(days=open_days),
                "notified_at": now,
            },
        )
        created += was_created
    if created:
        notify(user=session.student, kind=Notification.Kind.QUESTIONNAIRES_READY, session=session)
    return created


@transaction.atomic
def administrations_schedule(
    *,
    counselor: User,
    student: User,
    instrument_code: str,
    phase: str,
    first_date: datetime.date,
    count: int,
    interval_days: int,
    open_days: int,
    now: datetime.datetime | None = None,
) -> list[Administration]:
    """Baseline or follow-up measurements: `count` administrations `interval_days` apart,
    each open for `open_days` from OPENING_HOUR on its day in the school's time zone."""
    now = now or timezone.now()
    if not student.is_client_of(counselor):
        raise InstrumentError("not_client", _("This student is not one of your clients."))
    lock_people(student)  # a double click schedules the series once
    if not has_guardian_consent(student.pk):
        raise consent_missing_for_counselor()
    instrument = get_instrument(instrument_code)
    if instrument is None:
        raise InstrumentError("unknown_instrument", _("Choose one of the listed questionnaires."))
    if phase not in (Phase.BASELINE, Phase.FOLLOW_UP):
        raise InstrumentError("bad_phase", _("Only baseline and follow-up can be scheduled."))
    if not 1 <= count <= MAX_SCHEDULED:
        raise InstrumentError(
            "bad_count", _("Schedule between 1 and %(max)d occasions.") % {"max": MAX_SCHEDULED}
        )
    if open_days < 1 or interval_days < 1:
        raise InstrumentError("bad_days", _("Use at least one day."))
    if count > 1 and open_days > interval_days:
        raise InstrumentError(
            "overlapping",
            _("Each questionnaire must close before the next one opens: keep it open for "
              "at most %(days)d days, or space the occasions further apart.")
            % {"days": interval_days},
        )  # fmt: skip
    zone = student.school.zone()
    if first_date < timezone.localdate(now, timezone=zone):
        raise InstrumentError("in_past", _("The first date cannot be in the past."))
    # Windows the student already has for this instrument: a new one may not overlap
    # them, or the student would see the same questionnaire twice at once.
    taken = list(
        Administration.objects.filter(
            student=student, instrument_code=instrument.code, cancelled_at__isnull=True
        ).values_list("opens_at", "closes_at")
    )
    created = []
    for index in range(count):
        day = first_date + datetime.timedelta(days=index * interval_days)
        opening = datetime.datetime.combine(day, datetime.time(OPENING_HOUR), tzinfo=zone)
        opens_at = max(opening, now)  # scheduled for today, after 06:00: open now
        closes_at = opening + datetime.timedelta(days=open_days)
        if any(opens_at < until and since < closes_at for since, until in taken):
            raise InstrumentError(
                "duplicate",
                _("%(instrument)s is already scheduled for this student on %(date)s.")
                % {"instrument": instrument.short_name, "date": formats.date_format(day, "j F Y")},
            )
        created.append(
            Administration(
                school_id=student.school_id,
                student=student,
                counselor=counselor,
                instrument_code=instrument.code,
                phase=phase,
                opens_at=opens_at,
                closes_at=closes_at,
                created_by=counselor,
            )
        )
    Administration.objects.bulk_create(created)
    administrations_announce(now=now, student=student)
    return created


@transaction.atomic
def administrations_announce(
    *, now: datetime.datetime | None = None, student: User | None = None
) -> int:
    """Tell students (or one student) about scheduled questionnaires that have opened.
    Idempotent."""
    now = now or timezone.now()
    due = Administration.objects.select_for_update(of=("self",)).filter(
        notified_at__isnull=True,
        cancelled_at__isnull=True,
        opens_at__lte=now,
        closes_at__gt=now,
        # Without a guardian's consent nobody is asked; announced once consent is given.
        student__student_profile__has_guardian_consent=True,
    )
    if student is not None:
        due = due.filter(student=student)
    due = list(due.select_related("student__school"))
    for student_id in sorted({administration.student_id for administration in due}):
        student = next(a.student for a in due if a.student_id == student_id)
        notify(user=student, kind=Notification.Kind.QUESTIONNAIRE_OPENED)
    Administration.objects.filter(pk__in=[a.pk for a in due]).update(notified_at=now)
    return len(due)


def _locked(administration: Administration) -> Administration:
    return (
        Administration.objects.select_for_update(of=("self",))
        .select_related("student__school")
        .get(pk=administration.pk)
    )


@transaction.atomic
def administration_cancel(*, counselor: User, administration: Administration) -> Administration:
    administration = _locked(administration)
    if not administration.student.is_client_of(counselor):
        raise InstrumentError("not_allowed", _("This questionnaire is not yours to change."))
    if administration.status not in (Status.SCHEDULED, Status.OPEN):
        raise InstrumentError(
            "not_cancellable",
            _("Only a questionnaire that has not been answered can be cancelled."),
        )
    administration.cancelled_at = timezone.now()
    administration.save(update_fields=["cancelled_at"])
    return administration


@transaction.atomic
def administration_skip(*, student: User, administration: Administration) -> Administration:
    """A student passes on an optional questionnaire."""
    administration = _locked(administration)
    if administration.student_id != student.pk:
        raise InstrumentError("not_allowed", _("This questionnaire is not for you."))
    instrument = administration.instrument
    if instrument is None or not instrument.is_optional:
        raise InstrumentError("required", _("This questionnaire cannot be skipped."))
    refusal = refusal_for(administration, timezone.now())
    if refusal is not None:
        raise refusal
    administration.skipped_at = timezone.now()
    administration.save(update_fields=["skipped_at"])
    return administration


def refusal_for(administration: Administration, now: datetime.datetime) -> InstrumentError | None:
    """Why this administration cannot be answered now, or None if it can."""
    status = administration.status_at(now)
    student = administration.student
    if administration.is_imported and status != Status.COMPLETED:
        return InstrumentError(
            "imported", _("This is an earlier measurement your counselor recorded.")
        )
    if status == Status.COMPLETED:
        return InstrumentError(
            "already_answered",
            _("You answered this questionnaire on %(date)s. Answers cannot be changed.")
            % {"date": _local_date(administration.live_response.submitted_at, student)},
        )
    if status == Status.EXPIRED:
        return InstrumentError(
            "expired",
            _("This questionnaire closed on %(date)s, so answers can no longer be sent. "
              "Ask your counselor if you still want to answer it.")
            % {"date": _local_date(administration.closes_at, student)},
        )  # fmt: skip
    if status == Status.SCHEDULED:
        return InstrumentError(
            "not_open_yet",
            _("This questionnaire opens on %(date)s.")
            % {"date": _local_date(administration.opens_at, student)},
        )
    if status == Status.CANCELLED:
        return InstrumentError(
            "cancelled", _("Your counselor cancelled this questionnaire; there is nothing to do.")
        )
    if not has_guardian_consent(administration.student_id):
        return consent_missing()
    return None


@transaction.atomic
def response_submit(
    *,
    student: User,
    administration: Administration,
    answers: dict[int, int | str],
    now: datetime.datetime | None = None,
) -> Response:
    """Store the student's answers with their scores. A second submit is refused with
    code `already_answered`, so a double tap stores one response."""
    now = now or timezone.now()
    administration = _locked(administration)
    if administration.student_id != student.pk:
        raise InstrumentError("not_allowed", _("This questionnaire is not for you."))
    refusal = refusal_for(administration, now)
    if refusal is not None:
        raise refusal
    instrument = administration.instrument
    if instrument is None:
        raise InstrumentError("unknown_instrument", _("This questionnaire is no longer available."))
    choices = {number: value for number, value in answers.items() if isinstance(value, int)}
    try:
        score = score_answers(instrument, choices)
    except ScoringError as error:
        raise InstrumentError("incomplete", _("Please answer every question.")) from error
    texts = {
        item.number: str(answers.get(item.number, "")).strip()
        for item in instrument.items
        if not item.is_choice
    }
    stored: dict[str, int | str] = {
        str(item.number): choices[item.number] for item in instrument.choice_items
    }
    stored.update({str(number): text for number, text in texts.items() if text})
    try:
        with transaction.atomic():
            response = response_create(
                administration=administration,
                instrument=instrument,
                score=score,
                answers=stored,
                submitted_at=now,
            )
    except IntegrityError as error:  # a concurrent submit won (SQLite has no row lock)
        raise InstrumentError("already_answered", _("Your answers were already saved.")) from error
    if administration.skipped_at is not None:
        administration.skipped_at = None
        administration.save(update_fields=["skipped_at"])
    return response


def response_create(
    *,
    administration: Administration,
    instrument: Instrument,
    score: Score,
    answers: dict[str, int | str],
    submitted_at: datetime.datetime,
    is_imported: bool = False,
) -> Response:
    response = Response(
        administration=administration,
        submitted_at=submitted_at,
        answers=answers,
        total=score.total,
        subscale_scores=score.subscales,
        band=score.band,
        definition_version=instrument.version,
        is_imported=is_imported,
    )
    response.full_clean(exclude=["administration"], validate_constraints=False)
    response.save()
    return response


@transaction.atomic
def response_void(*, counselor: User, response: Response, reason: str) -> Response:
    """The counselor sets a response aside (kept, with who, when and why)."""
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("administration__student__student_profile")
        .get(pk=response.pk)
    )
    if not response.administration.student.is_client_of(counselor):
        raise InstrumentError("not_allowed", _("This response is not yours to change."))
    if response.is_voided:
        raise InstrumentError("already_voided", _("This response was already voided."))
    reason = " ".join(reason.split())
    if not reason:
        raise InstrumentError("reason_required", _("Say why this response is voided."))
    response.voided_at = timezone.now()
    response.voided_by = counselor
    response.void_reason = reason
    response.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return response


def responses_rescore() -> tuple[int, list[str]]:
    """Recompute the scores of every response stored with an older definition version.

    Returns (how many were rescored, problems): a response whose answers no longer fit
    its definition is left as it was and named in the problems.
    """
    rescored, problems = 0, []
    for instrument in all_instruments():
        stale = Response.objects.filter(administration__instrument_code=instrument.code).exclude(
            definition_version=instrument.version
        )
        for response in stale.iterator():
            try:
                if response.choice_answers():
                    score = score_answers(instrument, response.choice_answers())
                else:
                    score = score_total(instrument, response.total)
            except (ScoringError, TypeError) as error:
                problems.append(f"response {response.pk} ({instrument.code}): {error}")
                continue
            response.total = score.total
            response.subscale_scores = score.subscales
            response.band = score.band
            response.definition_version = instrument.version
            response.save(update_fields=["total", "subscale_scores", "band", "definition_version"])
            rescored += 1
    return rescored, problems
