"""The school admin's overview counts sessions per month and never shows a score."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.analytics.study import study
from tests.factories import CounselingSessionFactory

pytestmark = pytest.mark.django_db


def test_sessions_held_are_counted_per_month_in_the_schools_zone(client, school_admin, student):
    zone = student.school.zone()
    this_month = timezone.localdate(timezone=zone).replace(day=1)
    # 00:30 on the first of this month in Jakarta is still last month in UTC.
    first_minute = datetime.datetime.combine(this_month, datetime.time(0, 30), tzinfo=zone)
    CounselingSessionFactory(student=student, starts_at=first_minute, status="completed")
    CounselingSessionFactory(
        student=student, starts_at=first_minute + datetime.timedelta(hours=2), status="cancelled"
    )
    client.force_login(school_admin)
    response = client.get(reverse("sessions:statistics"))
    by_month = dict(response.context["by_month"])
    assert len(by_month) == 12
    assert by_month[this_month] == 1  # the cancelled one is not a session held
    assert sum(by_month.values()) == 1


def test_the_overview_shows_no_scores(client, school_admin, student):
    study(student, baseline=[37], sessions=[(53, 41)])
    client.force_login(school_admin)
    html = client.get(reverse("sessions:statistics")).content.decode()
    assert student.display_name not in html
    assert ">53<" not in html and ">41<" not in html and ">37<" not in html
