"""A client's pages (trends, report, its PDF and CSV) run the same number of queries
whether the counselor has one client or many, and the dashboard reads only the scores it
shows."""

import pytest
from django.urls import reverse

from analytics.caseload import RECENT_POINTS, caseload, sparkline
from analytics.selectors import client_report
from tests.analytics.study import study
from tests.analytics.test_caseload import client_of

pytestmark = pytest.mark.django_db

CLIENT_PAGES = [
    "analytics:client-trends",
    "analytics:report",
    "analytics:report-pdf",
    "analytics:report-csv",
]


@pytest.mark.parametrize("page", CLIENT_PAGES)
def test_a_clients_page_runs_the_same_queries_with_one_client_or_thirteen(
    client, counselor, student, assert_constant_queries, page
):
    study(student, baseline=[30, 31], sessions=[(40, 25), (44, 23), (47, 22)], follow_up=[20])
    client.force_login(counselor)
    url = reverse(page, args=[student.pk])

    def request():
        assert client.get(url).status_code == 200

    def grow():
        for _n in range(12):
            study(client_of(counselor), baseline=[30, 33], sessions=[(40, 27), (45, 24)])

    assert_constant_queries(request, grow)


def test_with_thirteen_clients_the_report_has_the_schools_own_reference(counselor, student):
    """The count above is the same although the report then computes a reliable change
    (30 answered AMAS and 10 students' baselines are needed): 13 × 4 = 52 and 13."""
    study(student, baseline=[30, 31], sessions=[(40, 25), (44, 23), (47, 22)], follow_up=[20])
    assert client_report(counselor=counselor, student=student).change is None
    for _n in range(12):
        study(client_of(counselor), baseline=[30, 33], sessions=[(40, 27), (45, 24)])
    assert client_report(counselor=counselor, student=student).change is not None


def test_the_dashboard_reads_the_last_ten_measurements_in_time_order(counselor, student):
    # 4 baseline, 8 sessions and 2 follow-up AMAS: 14 totals, the last ten drawn.
    baseline, follow_up = [40, 41, 39, 42], [21, 20]
    sessions = [(40 + k, 38 - 2 * k) for k in range(8)]  # AMAS 38, 36, …, 24
    study(student, baseline=baseline, sessions=sessions, follow_up=follow_up)
    (row,) = caseload(counselor=counselor)
    anxiety = baseline + [amas for _wai, amas in sessions] + follow_up
    assert RECENT_POINTS == 10
    assert [point.total for point in row.anxiety.points] == anxiety[-10:]
    assert anxiety[-10:] == [38, 36, 34, 32, 30, 28, 26, 24, 21, 20]
    assert [point.total for point in row.alliance.points] == list(range(40, 48))  # all 8
    assert row.last_anxiety.total == 20 and row.last_alliance.total == 47
    # On the AMAS's 9–45 and a 80 × 20 box: 38 at (0, 20 − 29/36 × 20 = 3.9), 20 at
    # (80, 20 − 11/36 × 20 = 13.9).
    points = sparkline(row.anxiety).split()
    assert len(points) == 10
    assert (points[0], points[-1]) == ("0.0,3.9", "80.0,13.9")
