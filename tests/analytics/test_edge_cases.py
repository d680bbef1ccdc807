"""Edge cases found in review of the analytics: a researcher's messy file, a client who
changed counselor, SPSS's exact notation, the school's time zone, a very long series.
Expected values are computed by hand in the comments."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from analytics.analysis import Heading, build_report
from analytics.caseload import caseload
from analytics.figures import alliance_titles, trend_figures
from analytics.report import SeriesPoint, SessionPair, format_p, regression_tables
from analytics.research import PairsFileError, pairs_from_table
from analytics.selectors import client_report
from analytics.series import instrument_series
from instruments.definitions import get_instrument
from tests.analytics.study import WEEK, session_with_answers, study


def _messages(content: bytes) -> tuple[list[SessionPair], list[str]]:
    """What the researcher is told about a file: the pairs read, and every error or note."""
    try:
        pairs, notes = pairs_from_table(content)
    except PairsFileError as error:
        return [], error.errors
    return pairs, notes


# --- regression_report --csv (analytics/research.py) -------------------------------------


def test_a_row_with_an_unknown_or_empty_phase_is_reported_not_silently_dropped():
    content = (
        b"phase,alliance,anxiety\n"
        b"treatment,40,30\n"  # line 2: counted
        b"treatmnet,45,28\n"  # line 3: a typo of the treatment phase
        b",50,25\n"  # line 4: no phase at all
        b"baseline,,33\n"  # line 5: a baseline week, rightly not a session
        b"treatment,55,20\n"  # line 6: counted
    )
    _pairs, messages = _messages(content)
    text = "\n".join(messages)
    # Today: 2 pairs, no note, no error: lines 3 and 4 vanished without a word.
    assert "3" in text and "4" in text


def test_a_row_with_more_cells_than_the_header_is_an_error():
    content = b"alliance,anxiety\n40,5,30\n45,28\n50,25\n"
    pairs, messages = _messages(content)
    # Meant: alliance 40.5, anxiety 30. Read today: alliance 40.0, anxiety 5.0, no message.
    assert pairs == [] and any("2" in message for message in messages), pairs


# --- Caseload alerts (analytics/caseload.py) ---------------------------------------------


@pytest.mark.django_db
def test_a_new_counselors_first_alliance_is_not_a_rupture_of_the_previous_alliance(
    counselor, other_counselor, student
):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - 8 * WEEK
    study(student, sessions=[(55, 20), (56, 19)], start=start)  # with `counselor`
    student.student_profile.counselor = other_counselor
    student.student_profile.save()
    # The WAI-SR items name the counselor: 48 rates a new relationship (high band, 44–60),
    # not a fall of the old one.
    study(student, sessions=[(48, 19)], start=start + 4 * WEEK)
    (row,) = caseload(counselor=other_counselor)
    assert "alliance" not in row.alert_codes, [alert.detail for alert in row.alerts]


# --- The report's numbers as SPSS prints them (analytics/report.py) ----------------------


def _three_sessions_report():
    """x = 40, 43, 46; y = 30, 29, 26. By hand: x̄ = 43, ȳ = 85/3; Sxx = 18, Sxy = −12,
    Syy = 26/3; B = −12/18 = −0.6667; SS regression = 144/18 = 8; SS residual = 26/3 − 8
    = 0.6667 (df 1), so MS residual = 0.6667, std. error of the estimate = √0.6667 =
    0.8165, SE(B) = √(0.6667/18) = 0.19245; R² = 8/(26/3) = 0.92308."""
    pairs = [
        SessionPair(number, None, alliance, anxiety)
        for number, (alliance, anxiety) in enumerate([(40, 30), (43, 29), (46, 26)], start=1)
    ]
    return build_report(heading=Heading(client_name="x"), pairs=pairs, alliance_max=60)


def test_values_between_minus_one_and_one_have_no_leading_zero_in_every_table():
    summary, anova, coefficients = regression_tables(_three_sessions_report())
    assert summary.rows[0][4] == ".816"  # std. error of the estimate
    assert anova.rows[1][1] == ".667" and anova.rows[1][3] == ".667"  # residual SS and MS
    assert coefficients.rows[1][1] == "-.667"  # B
    assert coefficients.rows[1][2] == ".192"  # its standard error


def test_p_is_less_than_001_only_where_spss_prints_000():
    assert format_p(0.0004) == "< .001"  # SPSS: .000
    assert format_p(0.0007) == ".001"  # SPSS: .001


def test_the_indonesian_reading_writes_decimals_with_a_comma():
    with translation.override("id"):
        sentences = _three_sessions_report().interpretation
    # R² = 0.92308 → 92,3 % explained, 7,7 % from other things.
    assert "92,3 %" in sentences[1], sentences[1]


# --- Time zones --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_json_dates_are_the_schools_days(client, counselor, student, school):
    school.time_zone = "Asia/Jayapura"  # WIT, UTC+9
    school.save()
    zone = school.zone()
    first_day = timezone.localdate(timezone=zone) - 5 * WEEK
    days = [first_day + i * WEEK for i in range(3)]
    for day, (alliance, anxiety) in zip(days, [(40, 30), (43, 29), (46, 26)], strict=True):
        starts_at = datetime.datetime.combine(day, datetime.time(8), tzinfo=zone)
        session_with_answers(student, starts_at, alliance, anxiety)
    out = io.StringIO()
    call_command("regression_report", student.username, "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    client.force_login(counselor)
    csv_text = client.get(reverse("analytics:report-csv", args=[student.pk])).content
    csv_days = [line.split(",")[0] for line in csv_text.decode("utf-8-sig").splitlines()[1:]]
    assert csv_days == [day.isoformat() for day in days]  # the CSV is right
    # 08:00 WIT is 23:00 UTC the day before: today the JSON says the previous day.
    assert [row["date"][:10] for row in report["data"]] == csv_days


# --- Robustness --------------------------------------------------------------------------


def test_a_long_series_prints_a_readable_number_of_values_and_keeps_every_tooltip():
    wai = get_instrument("wai-sr")
    start = datetime.datetime(2024, 1, 1, 9, tzinfo=datetime.UTC)
    points = [
        SeriesPoint(
            start + datetime.timedelta(days=7 * i),
            "treatment",
            12 + (i * 7) % 49,
            {"goal": 4 + i % 17, "task": 4 + (i * 3) % 17, "bond": 4 + (i * 5) % 17},
            "",
            "",
        )
        for i in range(300)
    ]
    total_chart, subscale_chart = trend_figures(
        instrument_series(wai, points), datetime.UTC, titles=alliance_titles()
    )
    svg = total_chart.svg()
    # 300 weekly points on a plot 596 units wide: one printed value per 12 units at most
    # (every 7th point, and the last), while every point keeps its tooltip.
    assert svg.count('class="point"') == 300
    assert svg.count('class="value"') <= 596 // 12 + 1
    last_total = str(12 + (299 * 7) % 49)
    assert f">{last_total}</text>" in svg
    assert subscale_chart.svg().count('class="point"') == 900


@pytest.mark.django_db
def test_a_client_moved_to_another_counselor_stops_seeing_the_shared_trend(
    school_admin, counselor, other_counselor, student, school_class
):
    from accounts.services import counselor_assign_class, student_profile_save

    profile = student.student_profile
    profile.can_see_anxiety_trend = True
    profile.save()
    student_profile_save(admin=school_admin, profile=profile, data={"counselor": counselor})
    profile.refresh_from_db()
    assert profile.can_see_anxiety_trend is True  # same counselor: nothing changes
    counselor_assign_class(admin=school_admin, school_class=school_class, counselor=other_counselor)
    profile.refresh_from_db()
    assert profile.can_see_anxiety_trend is False
    profile.can_see_anxiety_trend = True
    profile.save()
    student_profile_save(admin=school_admin, profile=profile, data={"counselor": counselor})
    profile.refresh_from_db()
    assert profile.can_see_anxiety_trend is False


@pytest.mark.django_db
def test_the_report_warns_when_the_alliance_rates_two_counselors(
    counselor, other_counselor, student
):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - 10 * WEEK
    study(student, sessions=[(50, 25), (52, 24)], start=start)
    student.student_profile.counselor = other_counselor
    student.student_profile.save()
    study(student, sessions=[(45, 23), (47, 22)], start=start + 4 * WEEK)
    with translation.override("en"):
        report = client_report(counselor=other_counselor, student=student)
    assert any("rate 2 different counselors" in warning for warning in report.warnings)
    (row,) = caseload(counselor=other_counselor)
    assert row.sessions_done == 2  # with this counselor


@pytest.mark.django_db
def test_a_session_with_a_questionnaire_missing_keeps_its_number(counselor, student):
    study(student, sessions=[(40, 30), (None, 28), (46, 26), (48, 25)])
    report = client_report(counselor=counselor, student=student)
    # Sessions 1–4 by time; the second has no WAI-SR answer, so no pair.
    assert [pair.number for pair in report.pairs] == [1, 3, 4]
