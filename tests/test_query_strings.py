"""A filter in the query string naming an id larger than any key the database holds is a
filter that matches nothing, not a 500 (SQLite and PostgreSQL refuse such a parameter).
Found by tests/properties/test_every_route.py with ?class=999999999999999999999999999999.
"""

import pytest
from django.urls import reverse

from counseling_platform.query import ID_MAX, int_or_none

pytestmark = pytest.mark.django_db
HUGE = "9" * 30


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (str(ID_MAX), ID_MAX), (str(ID_MAX + 1), None), (HUGE, None), ("x", None)],
)
def test_int_or_none_keeps_to_what_a_key_can_hold(value, expected):
    assert int_or_none(value) == expected


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("school_admin", reverse("accounts:account-list") + f"?class={HUGE}"),
        ("counselor", reverse("analytics:caseload") + f"?class={HUGE}"),
        ("counselor", reverse("analytics:multiple-baseline") + f"?client={HUGE}"),
        ("counselor", reverse("audit:client-record-reads") + f"?client={HUGE}"),
    ],
)
def test_a_huge_id_in_a_filter_is_answered(request, client, who, url):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url).status_code == 200
