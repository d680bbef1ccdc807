"""The counselor's caseload at a glance: every client's latest scores, trends and alerts,
read in three queries whether the counselor has 1 client or 300."""

import datetime
from dataclasses import dataclass, field
from itertools import pairwise

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SchoolClass, StudentProfile, User
from accounts.selectors import counselor_clients
from analytics.report import InstrumentSeries, SeriesPoint
from analytics.series import ALLIANCE, ANXIETY, series_by_student
from instruments.definitions import all_instruments
from instruments.models import Administration, Response
from sessions_app.models import CounselingSession

ALLIANCE_DROP = 5  # points from one session to the next: a possible rupture
ANXIETY_RISES = 2  # anxiety higher at each of the last 2 measurements (3 totals)
TREND_WINDOW = 5  # the trend arrow looks at the last 5 measurements
TREND_STEP = 0.5  # points per measurement below which a trend counts as steady
OVERDUE_AFTER = datetime.timedelta(days=2)
OVERDUE_WINDOW = datetime.timedelta(days=30)

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


@dataclass
class CaseloadRow:
    profile: StudentProfile
    sessions_done: int
    overdue: int
    alliance: InstrumentSeries | None
    anxiety: InstrumentSeries | None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def last_alliance(self) -> SeriesPoint | None:
        return self.alliance.points[-1] if self.alliance else None

    @property
    def last_anxiety(self) -> SeriesPoint | None:
        return self.anxiety.points[-1] if self.anxiety else None

    @property
    def alliance_trend(self) -> str:
        return trend(self.alliance)

    @property
    def anxiety_trend(self) -> str:
        return trend(self.anxiety)

    @property
    def alliance_spark(self) -> str:
        return sparkline(self.alliance)

    @property
    def anxiety_spark(self) -> str:
        return sparkline(self.anxiety)

    @property
    def alert_codes(self) -> set[str]:
        return {alert.code for alert in self.alerts}


def trend(series: InstrumentSeries | None) -> str:
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


def sparkline(series: InstrumentSeries | None, width: int = 80, height: int = 20) -> str:
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


def alerts_for(row: CaseloadRow) -> list[Alert]:
    labels = alert_labels()
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
    series = series_by_student([profile.user_id for profile in profiles])
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
        row.alerts = alerts_for(row)
        if not alert or alert in row.alert_codes:
            rows.append(row)
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["alerts"])
    rows.sort(key=SORT_KEYS["name"])
    rows.sort(key=key, reverse=descending)
    return rows


def counselor_classes(*, counselor: User) -> list[SchoolClass]:
    """The classes the counselor's clients are in, for the filter."""
    return list(
        SchoolClass.objects.filter(Q(students__counselor=counselor), students__user__is_active=True)
        .distinct()
        .order_by("name")
    )
