"""The caseload dashboard: latest scores, trends, alerts, filters, sorting, and the same
number of queries for 1 client or 300."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import StudentProfile, User
from analytics.caseload import caseload, trend
from instruments.models import Administration, Response
from tests.analytics.study import measure, study
from tests.factories import SchoolClassFactory, StudentFactory

pytestmark = pytest.mark.django_db


def client_of(counselor, **profile):
    user = StudentFactory(
        school=counselor.school, **{f"profile__{k}": v for k, v in profile.items()}
    )
    user.student_profile.counselor = counselor
    user.student_profile.save()
    return user


def row_for(rows, user):
    return next(row for row in rows if row.profile.user_id == user.pk)


def test_alliance_drop_of_five_points_is_flagged_as_a_possible_rupture(counselor):
    falling = client_of(counselor)
    study(falling, sessions=[(50, 20), (52, 19), (47, 19)])  # 52 → 47: −5
    steady = client_of(counselor)
    study(steady, sessions=[(50, 20), (52, 19), (48, 19)])  # 52 → 48: −4, medium band
    rows = caseload(counselor=counselor)
    assert [alert.code for alert in row_for(rows, falling).alerts] == ["alliance"]
    assert "52" in row_for(rows, falling).alerts[0].detail
    assert row_for(rows, steady).alerts == []


def test_alliance_in_the_low_band_is_flagged(counselor):
    low = client_of(counselor)
    study(low, sessions=[(27, 20)])  # WAI-SR low band is 12–27
    at_edge = client_of(counselor)
    study(at_edge, sessions=[(28, 20)])  # medium starts at 28
    rows = caseload(counselor=counselor)
    assert [alert.code for alert in row_for(rows, low).alerts] == ["alliance"]
    assert row_for(rows, at_edge).alerts == []


def test_anxiety_rising_at_each_of_the_last_three_measurements_is_flagged(counselor):
    rising = client_of(counselor)
    study(rising, baseline=[20], sessions=[(45, 21), (46, 23)])  # 20 → 21 → 23
    flat_then_up = client_of(counselor)
    study(flat_then_up, baseline=[20], sessions=[(45, 20), (46, 23)])  # 20 → 20 → 23
    rows = caseload(counselor=counselor)
    assert [alert.code for alert in row_for(rows, rising).alerts] == ["anxiety"]
    assert row_for(rows, flat_then_up).alerts == []


def test_a_questionnaire_left_unanswered_for_more_than_two_days_is_overdue(counselor):
    late = client_of(counselor)
    measure(late, "baseline", timezone.now() - datetime.timedelta(days=2, hours=1), None)
    fresh = client_of(counselor)
    measure(fresh, "baseline", timezone.now() - datetime.timedelta(days=1), None)
    rows = caseload(counselor=counselor)
    assert [alert.code for alert in row_for(rows, late).alerts] == ["overdue"]
    assert row_for(rows, late).overdue == 1
    assert row_for(rows, fresh).alerts == []


def test_skipped_cancelled_or_answered_questionnaires_are_not_overdue(counselor):
    user = client_of(counselor)
    long_ago = timezone.now() - datetime.timedelta(days=5)
    measure(user, "baseline", long_ago, 30)  # answered
    skipped = measure(user, "baseline", long_ago, None)
    skipped.skipped_at = long_ago
    skipped.save()
    cancelled = measure(user, "baseline", long_ago, None)
    cancelled.cancelled_at = long_ago
    cancelled.save()
    assert row_for(caseload(counselor=counselor), user).overdue == 0


def test_trend_is_the_least_squares_slope_of_the_last_five_measurements(counselor):
    user = client_of(counselor)
    # Last five totals 30, 28, 29, 27, 26: slope by hand = Σ(i−2)(v−28) / Σ(i−2)²
    # = (−2·2 + −1·0 + 0·1 + 1·−1 + 2·−2) / 10 = −0.9 per measurement → "down".
    study(user, baseline=[10, 30, 28, 29, 27, 26])
    row = row_for(caseload(counselor=counselor), user)
    assert trend(row.anxiety) == "down"
    assert row.last_anxiety.total == 26


def test_filter_by_class_and_alert_and_sort(counselor, school):
    class_a = SchoolClassFactory(school=school, name="X A")
    class_b = SchoolClassFactory(school=school, name="X B")
    alpha = client_of(counselor, school_class=class_a)
    study(alpha, sessions=[(27, 30)])  # low alliance
    beta = client_of(counselor, school_class=class_b)
    study(beta, sessions=[(55, 15)])
    assert [r.profile.user_id for r in caseload(counselor=counselor, class_id=class_b.pk)] == [
        beta.pk
    ]
    assert [r.profile.user_id for r in caseload(counselor=counselor, alert="alliance")] == [
        alpha.pk
    ]
    by_anxiety = caseload(counselor=counselor, sort="anxiety")
    assert [r.profile.user_id for r in by_anxiety] == [beta.pk, alpha.pk]
    assert [r.profile.user_id for r in caseload(counselor=counselor, sort="-anxiety")] == [
        alpha.pk,
        beta.pk,
    ]


def test_the_page_shows_scores_bands_and_alerts(client, counselor, student):
    study(student, baseline=[30], sessions=[(52, 25), (46, 27)])
    client.force_login(counselor)
    response = client.get(reverse("analytics:caseload"))
    html = response.content.decode()
    assert response.status_code == 200
    assert student.display_name in html
    assert 'data-series="alliance"' in html
    assert ">46<" in html and ">27<" in html  # the last WAI-SR and AMAS totals
    assert "alert-alliance" in html  # 52 → 46
    bad = client.get(reverse("analytics:caseload") + "?class=abc&alert=nope&sort=evil")
    assert bad.status_code == 200  # unknown filter values fall back to the defaults


def _add_clients(counselor, count: int, sessions_each: int) -> None:
    """Many clients with answered questionnaires, written in bulk."""
    now = timezone.now()
    for _n in range(count):
        user = client_of(counselor)
        administrations = Administration.objects.bulk_create(
            Administration(
                school_id=user.school_id, student=user, counselor=counselor,
                instrument_code=code, phase="treatment",
                opens_at=now - datetime.timedelta(days=7 * (week + 1)),
                closes_at=now - datetime.timedelta(days=7 * week + 1),
            )
            for week in range(sessions_each) for code in ("wai-sr", "amas")
        )  # fmt: skip
        Response.objects.bulk_create(
            Response(
                administration=a,
                submitted_at=a.opens_at,
                total=40 if a.instrument_code == "wai-sr" else 20,
                band="medium",
                subscale_scores={},
                definition_version="1",
            )
            for a in administrations
        )


def test_the_dashboard_runs_the_same_queries_for_one_client_or_three_hundred(
    client, counselor, student, assert_constant_queries
):
    study(student, baseline=[30], sessions=[(40, 25)])
    client.force_login(counselor)

    def request():
        response = client.get(reverse("analytics:caseload"))
        assert response.status_code == 200

    assert_constant_queries(
        request, lambda: _add_clients(counselor, 299, 2), ignore='INSERT INTO "auditlog_logentry"'
    )
    assert StudentProfile.objects.filter(counselor=counselor).count() == 300
    assert User.objects.filter(student_profile__counselor=counselor).count() == 300


def test_the_multiple_baseline_page_runs_constant_queries(
    client, counselor, student, assert_constant_queries
):
    study(student, baseline=[30, 31], sessions=[(40, 25)])
    client.force_login(counselor)

    def request():
        assert client.get(reverse("analytics:multiple-baseline")).status_code == 200

    assert_constant_queries(request, lambda: _add_clients(counselor, 30, 1))


def test_the_multiple_baseline_view_stacks_the_studies_by_start_of_treatment(client, counselor):
    later = client_of(counselor)
    study(later, baseline=[30, 31, 30, 29], sessions=[(45, 26), (50, 22)])  # B in week 5
    earlier = client_of(counselor)
    study(earlier, baseline=[33, 32], sessions=[(40, 30), (44, 27), (47, 25), (52, 21)])
    screened = client_of(counselor)  # one screening score and a session: not a study
    study(screened, baseline=[25], sessions=[(50, 20)])
    client.force_login(counselor)
    html = client.get(reverse("analytics:multiple-baseline")).content.decode()
    names = [later.display_name, earlier.display_name, screened.display_name]
    chart = html[html.index('id="multiple-baseline-chart"') :]
    assert names[2] not in chart.split("</figure>")[0]
    # Both studies span the same six weeks; the shorter baseline starts treatment first.
    assert chart.index(names[1]) < chart.index(names[0])
    chosen = client.get(
        reverse("analytics:multiple-baseline") + f"?client={screened.pk}"
    ).content.decode()
    assert screened.display_name in chosen.split("</figure>")[0]
