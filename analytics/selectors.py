"""Reads for the analytics pages. Every one starts from the person asking: a counselor's
own clients (a student of another counselor is a 404), a student's own series."""

import datetime
import math
from collections import defaultdict

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import counselor_clients
from analytics import stats
from analytics.analysis import ChangeReference, Heading, build_report
from analytics.report import ClientReport, InstrumentSeries
from analytics.series import ALLIANCE, ANXIETY, series_by_student, session_pairs
from instruments.definitions import get_instrument
from instruments.models import Administration, Response
from instruments.reliability import keyed_rows

MIN_REFERENCE_RESPONSES = 30  # answered questionnaires for the school's own alpha
MIN_REFERENCE_CLIENTS = 10  # students with baseline scores, for the school's own SD
MAX_REFERENCE_RESPONSES = 2000  # the most recent answers: alpha is stable long before


def reference_from_school(school_id: int, code: str) -> tuple[ChangeReference | None, str]:
    """Reliability and SD for the reliable change index when the instrument's definition
    gives none: Cronbach's alpha of the school's answers, and the SD between students
    before counseling (each student's baseline mean counts once: Jacobson and Truax use
    the spread of a pre-treatment population, not one person's week-to-week wobble).
    Counts only leave this function, never a person's answers."""
    instrument = get_instrument(code)
    if instrument is None:
        return None, _("The instrument is not installed.")
    if instrument.reference is not None:
        reference = instrument.reference
        return ChangeReference(reference.reliability, reference.sd, str(reference.source)), ""
    responses = Response.objects.filter(
        voided_at__isnull=True,
        administration__school_id=school_id,
        administration__instrument_code=code,
        administration__cancelled_at__isnull=True,
    )
    recent = responses.order_by("-submitted_at", "-pk")[:MAX_REFERENCE_RESPONSES]
    rows = keyed_rows(instrument, recent.values_list("answers", flat=True))
    by_student: dict[int, list[int]] = defaultdict(list)
    for student_id, total in responses.filter(
        administration__phase=Administration.Phase.BASELINE, total__isnull=False
    ).values_list("administration__student_id", "total"):
        by_student[student_id].append(total)
    baselines = [stats.mean(totals) for totals in by_student.values()]
    needed = _(
        "A reliable change needs the scale's reliability and a reference SD. The definition "
        "of %(name)s gives none, and this school does not yet have enough data of its own "
        "(%(responses)d of %(min_responses)d answered questionnaires; baseline scores from "
        "%(baselines)d of %(min_baselines)d students)."
    ) % {
        "name": instrument.short_name,
        "responses": len(rows),
        "min_responses": MIN_REFERENCE_RESPONSES,
        "baselines": len(baselines),
        "min_baselines": MIN_REFERENCE_CLIENTS,
    }
    if len(rows) < MIN_REFERENCE_RESPONSES or len(baselines) < MIN_REFERENCE_CLIENTS:
        return None, needed
    alpha = stats.cronbach_alpha(rows)
    sd = math.sqrt(stats.sample_variance(baselines))
    if alpha is None or not 0 < alpha < 1 or sd <= 0:
        return None, needed
    source = _(
        "Reliability: Cronbach's alpha of %(name)s over this school's %(responses)d answered "
        "questionnaires. SD: between the baseline means of %(baselines)d students at this "
        "school."
    ) % {"name": instrument.short_name, "responses": len(rows), "baselines": len(baselines)}
    return ChangeReference(alpha, sd, source), ""


def client_series(*, student: User) -> tuple[InstrumentSeries | None, InstrumentSeries | None]:
    """(alliance, anxiety) of one client the caller may see."""
    found = series_by_student([student.pk]).get(student.pk, {})
    return found.get(ALLIANCE), found.get(ANXIETY)


def student_shared_anxiety(*, student: User) -> InstrumentSeries | None:
    """The student's own anxiety series once their counselor has shared it (a 404
    before); the alliance is never read for the student."""
    profile = getattr(student, "student_profile", None)
    if profile is None or not profile.can_see_anxiety_trend:
        raise Http404
    return series_by_student([student.pk], (ANXIETY,)).get(student.pk, {}).get(ANXIETY)


def client_report(
    *,
    counselor: User,
    student: User,
    now: datetime.datetime | None = None,
    with_reference: bool = True,
) -> ClientReport:
    """The regression report of one of the counselor's clients (the caller has checked).
    Without the reference (the CSV needs only the data) no reliable change is computed."""
    zone = student.school.zone()
    alliance, anxiety = client_series(student=student)
    reference, problem = (
        reference_from_school(student.school_id, ANXIETY) if with_reference else (None, "")
    )
    profile = student.student_profile
    return build_report(
        heading=Heading(
            school_name=student.school.name,
            counselor_name=counselor.display_name,
            client_name=student.display_name,
            client_class=profile.school_class.name if profile.school_class else "",
        ),
        pairs=session_pairs(alliance, anxiety, zone),
        alliance=alliance,
        anxiety=anxiety,
        reference=reference,
        reference_problem=problem,
        zone=zone,
        now=now or timezone.now(),
    )


def is_study(series: InstrumentSeries) -> bool:
    """A single-case study: two or more baseline measurements, then treatment."""
    phases = [point.phase for point in series.points]
    return phases.count("baseline") >= 2 and "treatment" in phases


def treatment_start(series: InstrumentSeries):
    """When treatment began (clients without treatment last)."""
    starts = [point.date for point in series.points if point.phase != "baseline"]
    return (0, starts[0]) if starts else (1, series.points[-1].date)


def baseline_studies(*, counselor: User, chosen_ids: set[int], limit: int):
    """(every client with anxiety scores, the clients to draw) as (profile, anxiety series)
    pairs, from the counselor's active clients only. Without a choice: the single-case
    studies. Drawn earliest start of treatment first: the staircase of a
    multiple-baseline figure."""
    profiles = list(counselor_clients(counselor=counselor).order_by("user__first_name", "pk"))
    series = series_by_student([profile.user_id for profile in profiles], (ANXIETY,))
    candidates = [
        (profile, series[profile.user_id][ANXIETY])
        for profile in profiles
        if ANXIETY in series.get(profile.user_id, {})
    ]
    if chosen_ids:
        chosen = [(p, s) for p, s in candidates if p.user_id in chosen_ids]
    else:
        chosen = [(p, s) for p, s in candidates if is_study(s)]
    chosen.sort(key=lambda pair: treatment_start(pair[1]))
    return candidates, chosen[:limit]
