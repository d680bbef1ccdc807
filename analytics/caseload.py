"""The counselor's caseload at a glance: every client's latest scores, trends and alerts,
read in three queries whether the counselor has 1 client or 300."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TypedDict

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SchoolClass, StudentProfile, User
from accounts.selectors import counselor_clients
from analytics.series import ALLIANCE, ANXIETY, live_responses
from instruments.definitions import all_instruments, get_instrument
from instruments.models import Administration, Response
from sessions_app.models import CounselingSession

ALLIANCE_DROP = 5  # points from one session to the next: a possible rupture
ANXIETY_RISES = 2  # anxiety higher at each of the last 2 measurements (3 totals)
TREND_WINDOW = 5  # the trend arrow looks at the last 5 measurements
TREND_STEP = 0.5  # points per measurement below which a trend counts as steady
OVERDUE_AFTER = datetime.timedelta(days=2)
OVERDUE_WINDOW = datetime.timedelta(days=30)
# Measurements read per client and instrument: the sparkline's; the trend and the alerts
# look at fewer.
RECENT_POINTS = TREND_WINDOW * 2

ALERT_CODES = ("alliance", "anxiety", "overdue")


def alert_labels() -> dict[str, str]:
    return {
        "alliance": _("Alliance falling"),
        "anxiety": _("Anxiety rising"),
        "overdue": _("Questionnaires overdue"),
    }


@dataclass
class Alert:
    code: str
    label: str
    detail: str


@dataclass(frozen=True)
class RecentScore:
    """One answered questionnaire as the dashboard shows it: no date, no subscales."""

    total: int
    band_label: str
    counselor_id: int | None  # whose client the student was (WAI-SR rates them)


@dataclass(frozen=True)
class RecentScores:
    """A client's last RECENT_POINTS scores on one instrument, oldest first."""

    code: str
    total_min: int
    total_max: int
    bands: list[tuple[str, str, int, int]]  # (code, label, min, max), low to high
    points: list[RecentScore]


def recent_scores_by_student(
    student_ids: Iterable[int], codes: Iterable[str] = (ALLIANCE, ANXIETY)
) -> dict[int, dict[str, RecentScores]]:
    """{student id: {instrument code: scores}} in one query; a student or instrument with
    no answers has no entry. Only the rows and columns the dashboard shows: reading every
    answer of 300 clients as a full series point, with its date, cost twice as much."""
    instruments = {code: get_instrument(code) for code in codes}
    bands = {
        code: [(band.code, str(band.label), band.min, band.max) for band in instrument.bands]
        for code, instrument in instruments.items()
        if instrument is not None
    }
    band_labels = {code: {band[0]: band[1] for band in found} for code, found in bands.items()}
    points: dict[int, dict[str, list[RecentScore]]] = defaultdict(lambda: defaultdict(list))
    rows = live_responses(student_ids, bands, last=RECENT_POINTS).values_list(
        "administration__student_id",
        "administration__instrument_code",
        "total",
        "band",
        "administration__counselor_id",
    )
    for student_id, code, total, band, counselor_id in rows:
        points[student_id][code].append(
            RecentScore(total, band_labels[code].get(band, ""), counselor_id)
        )
    return {
        student_id: {
            code: RecentScores(
                code=code,
                total_min=instruments[code].total_min,
                total_max=instruments[code].total_max,
                bands=bands[code],
                points=found,
            )
            for code, found in by_code.items()
        }
        for student_id, by_code in points.items()
    }


@dataclass
class CaseloadRow:
    profile: StudentProfile
    sessions_done: int
    overdue: int
    alliance: RecentScores | None
    anxiety: RecentScores | None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def last_alliance(self) -> RecentScore | None:
        return self.alliance.points[-1] if self.alliance else None

    @property
    def last_anxiety(self) -> RecentScore | None:
        return self.anxiety.points[-1] if self.anxiety else None

    @property
    def alert_codes(self) -> set[str]:
        return {alert.code for alert in self.alerts}


def trend(series: RecentScores | None) -> str:
    """ "up", "down" or "steady" over the last measurements (least-squares slope per
    measurement); "" with fewer than two."""
    if series is None or len(series.points) < 2:
        return ""
    values = [point.total for point in series.points[-TREND_WINDOW:]]
    n = len(values)
    centre_x, centre_y = (n - 1) / 2, sum(values) / n
    slope = sum((i - centre_x) * (v - centre_y) for i, v in enumerate(values)) / sum(
        (i - centre_x) ** 2 for i in range(n)
    )
    if slope >= TREND_STEP:
        return "up"
    if slope <= -TREND_STEP:
        return "down"
    return "steady"


def sparkline(series: RecentScores | None, width: int = 80, height: int = 20) -> str:
    """SVG polyline points of the last measurements on the scale's full range."""
    if series is None or len(series.points) < 2:
        return ""
    values = [point.total for point in series.points[-TREND_WINDOW * 2 :]]
    span = series.total_max - series.total_min
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - (v - series.total_min) / span * height:.1f}"
        for i, v in enumerate(values)
    )


def alerts_for(row: CaseloadRow, labels: dict[str, str] | None = None) -> list[Alert]:
    """`labels`: alert_labels(), when the caller has them already."""
    labels = labels or alert_labels()
    alerts = []
    if row.alliance and row.alliance.points:
        last = row.alliance.points[-1]
        lowest = row.alliance.bands[0] if row.alliance.bands else None
        previous = row.alliance.points[-2] if len(row.alliance.points) > 1 else None
        if previous is not None and previous.counselor_id != last.counselor_id:
            previous = None  # a new counselor: a new alliance, not a fall of the old one
        if previous is not None and previous.total - last.total >= ALLIANCE_DROP:
            detail = _("Alliance fell from %(before)d to %(after)d: a possible rupture to repair.")
            alerts.append(
                Alert(
                    "alliance",
                    labels["alliance"],
                    detail % {"before": previous.total, "after": last.total},
                )
            )
        elif lowest is not None and last.total <= lowest[3]:
            detail = _("Alliance %(total)d is in the low band: talk about the relationship.")
            alerts.append(Alert("alliance", labels["alliance"], detail % {"total": last.total}))
    if row.anxiety and len(row.anxiety.points) > ANXIETY_RISES:
        recent = [point.total for point in row.anxiety.points[-ANXIETY_RISES - 1 :]]
        if all(later > earlier for earlier, later in pairwise(recent)):
            detail = _("Anxiety rose at each of the last %(count)d measurements: %(values)s.")
            alerts.append(
                Alert(
                    "anxiety",
                    labels["anxiety"],
                    detail % {"count": ANXIETY_RISES, "values": " → ".join(map(str, recent))},
                )
            )
    if row.overdue:
        detail = _("%(count)d questionnaire(s) not answered in time.")
        alerts.append(Alert("overdue", labels["overdue"], detail % {"count": row.overdue}))
    return alerts


def _overdue_count(now: datetime.datetime):
    required = [instrument.code for instrument in all_instruments() if not instrument.is_optional]
    live = Response.objects.filter(administration=OuterRef("pk"), voided_at__isnull=True)
    overdue = (
        Administration.objects.filter(
            student=OuterRef("user"),
            instrument_code__in=required,
            cancelled_at__isnull=True,
            skipped_at__isnull=True,
            is_imported=False,
            opens_at__lte=now - OVERDUE_AFTER,
            closes_at__gte=now - OVERDUE_WINDOW,
        )
        .exclude(Exists(live))
        .order_by()
        .values("student")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(overdue, output_field=IntegerField()), 0)


def _sessions_done(counselor: User):
    """Completed sessions of each client with this counselor."""
    done = (
        CounselingSession.objects.filter(
            student=OuterRef("user"), counselor=counselor, status=CounselingSession.Status.COMPLETED
        )
        .order_by()
        .values("student")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(done, output_field=IntegerField()), 0)


def sort_columns() -> list[tuple[str, str]]:
    return [
        ("name", _("Name")),
        ("class", _("Class")),
        ("sessions", _("Sessions done")),
        ("alliance", _("Last WAI-SR")),
        ("anxiety", _("Last AMAS")),
        ("alerts", _("Alerts")),
    ]


SORT_KEYS = {
    "name": lambda row: row.profile.user.display_name.lower(),
    "class": lambda row: row.profile.school_class.name if row.profile.school_class else "~",
    "sessions": lambda row: row.sessions_done,
    "alliance": lambda row: row.last_alliance.total if row.last_alliance else -1,
    "anxiety": lambda row: row.last_anxiety.total if row.last_anxiety else -1,
    "alerts": lambda row: len(row.alerts),
}


def caseload(
    *,
    counselor: User,
    class_id: int | None = None,
    alert: str = "",
    sort: str = "-alerts",
    now: datetime.datetime | None = None,
) -> list[CaseloadRow]:
    """The counselor's active clients, filtered by class and alert, sorted by `sort`
    (a key of SORT_KEYS, "-" first for descending; ties by name)."""
    now = now or timezone.now()
    profiles = counselor_clients(counselor=counselor).annotate(
        sessions_done=_sessions_done(counselor), overdue=_overdue_count(now)
    )
    if class_id is not None:
        profiles = profiles.filter(school_class_id=class_id)
    profiles = list(profiles)
    series = recent_scores_by_student([profile.user_id for profile in profiles])
    labels = alert_labels()
    rows = []
    for profile in profiles:
        found = series.get(profile.user_id, {})
        row = CaseloadRow(
            profile=profile,
            sessions_done=profile.sessions_done,
            overdue=profile.overdue,
            alliance=found.get(ALLIANCE),
            anxiety=found.get(ANXIETY),
        )
        row.alerts = alerts_for(row, labels)
        if not alert or alert in row.alert_codes:
            rows.append(row)
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["alerts"])
    rows.sort(key=SORT_KEYS["name"])
    rows.sort(key=key, reverse=descending)
    return rows


class ScoreCell(TypedDict):
    """A score column of a caseload row, ready to print."""

    series: str  # "alliance" | "anxiety"
    total: int | None  # None: nothing answered yet
    band_label: str
    trend_arrow: str  # "↑", "↓", "→", or "" with fewer than two measurements
    trend_label: str  # the arrow in words
    spark: str  # SVG polyline points, "" with fewer than two measurements


class CaseloadLine(TypedDict):
    """A caseload row as the table prints it. Plain dicts of values worked out
    beforehand: the template engine finds a dict key at once but an attribute only
    after a failed key lookup, and 300 rows of a dozen values each add up."""

    username: str
    trends_url: str
    name: str
    class_name: str
    sessions_done: int
    scores: list[ScoreCell]
    alerts: list[Alert]


def trend_words() -> dict[str, tuple[str, str]]:
    """{trend: (arrow, the arrow in words)}"""
    return {"up": ("↑", _("rising")), "down": ("↓", _("falling")), "steady": ("→", _("steady"))}


def score_cell(
    series_code: str, series: RecentScores | None, words: dict[str, tuple[str, str]]
) -> ScoreCell:
    last = series.points[-1] if series and series.points else None
    if last is None:
        return ScoreCell(
            series=series_code, total=None, band_label="", trend_arrow="", trend_label="", spark=""
        )
    arrow, label = words.get(trend(series), ("", ""))
    return ScoreCell(
        series=series_code,
        total=last.total,
        band_label=last.band_label,
        trend_arrow=arrow,
        trend_label=label,
        spark=sparkline(series),
    )


def caseload_lines(rows: list[CaseloadRow]) -> list[CaseloadLine]:
    """The rows as the dashboard's table prints them."""
    words = trend_words()
    return [
        CaseloadLine(
            username=row.profile.user.username,
            trends_url=reverse("analytics:client-trends", args=[row.profile.user_id]),
            name=row.profile.user.display_name,
            class_name=row.profile.school_class.name if row.profile.school_class else "",
            sessions_done=row.sessions_done,
            scores=[
                score_cell("alliance", row.alliance, words),
                score_cell("anxiety", row.anxiety, words),
            ],
            alerts=row.alerts,
        )
        for row in rows
    ]


def counselor_classes(*, counselor: User) -> list[SchoolClass]:
    """The classes the counselor's clients are in, for the filter."""
    return list(
        SchoolClass.objects.filter(Q(students__counselor=counselor), students__user__is_active=True)
        .distinct()
        .order_by("name")
    )
