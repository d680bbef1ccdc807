"""Who may answer a questionnaire and who may see the answers.

Only the student answers their own administrations; only the administration's counselor
sees answers and scores and changes them; the school admin sees completion counts, never
answers. Every forbidden access is tried, refused, and leaves the data as it was.
"""

import datetime

import pytest
from django.test.html import Element, parse_html
from django.urls import reverse
from django.utils import timezone

from instruments.models import Administration, Response
from tests.factories import AdministrationFactory, ResponseFactory, StudentFactory

pytestmark = pytest.mark.django_db


# Hand-picked AMAS answers: total 1+2+3+4+5+4+3+2+1 = 25; learning (1, 3, 6, 7, 9)
# 1+3+4+3+1 = 12; evaluation (2, 4, 5, 8) 2+4+5+2 = 13; band fairly high (23–27).
AMAS_ANSWERS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 4, 7: 3, 8: 2, 9: 1}


def amas_response(administration, **fields):
    """A stored AMAS response of AMAS_ANSWERS with its hand-computed scores."""
    values = {
        "answers": {str(number): value for number, value in AMAS_ANSWERS.items()},
        "total": 25,
        "subscale_scores": {"learning": 12, "evaluation": 13},
        "band": "fairly_high",
    }
    values.update(fields)
    return ResponseFactory(administration=administration, **values)


def amas_post_data(answers=AMAS_ANSWERS):
    return {f"item_{number}": str(value) for number, value in answers.items()}


def login_url():
    return reverse("accounts:login")


def elements(node):
    """Every element under `node` (a django.test.html tree), depth first."""
    for child in getattr(node, "children", []):
        if isinstance(child, Element):
            yield child
            yield from elements(child)


def element_by_id(html: str, element_id: str):
    return next(
        (e for e in elements(parse_html(html)) if dict(e.attributes).get("id") == element_id),
        None,
    )


def text_of(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(text_of(child) for child in node.children)


def make_client(school, counselor):
    client = StudentFactory(school=school)
    client.student_profile.counselor = counselor
    client.student_profile.save()
    return client


# --- Answering: only the student whose administration it is --------------------------


@pytest.fixture
def administration(student):
    return AdministrationFactory(student=student)


@pytest.fixture
def optional_administration(student):
    return AdministrationFactory(student=student, instrument_code="service-evaluation")


def test_the_student_opens_their_own_questionnaire(client, student, administration):
    client.force_login(student)
    response = client.get(reverse("instruments:answer", args=[administration.pk]))
    assert response.status_code == 200
    assert response.context["administration"] == administration


def test_the_student_skips_their_own_optional_questionnaire(
    client, student, optional_administration
):
    client.force_login(student)
    response = client.post(reverse("instruments:skip", args=[optional_administration.pk]))
    assert response.status_code == 302
    optional_administration.refresh_from_db()
    assert optional_administration.skipped_at is not None


@pytest.mark.parametrize("person", ["other_student", "foreign_student"])
def test_another_student_cannot_see_or_answer_the_questionnaire(
    client, request, administration, person
):
    client.force_login(request.getfixturevalue(person))
    url = reverse("instruments:answer", args=[administration.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, amas_post_data()).status_code == 404
    assert not Response.objects.exists()


@pytest.mark.parametrize("person", ["other_student", "foreign_student"])
def test_another_student_cannot_skip_the_questionnaire(
    client, request, optional_administration, person
):
    client.force_login(request.getfixturevalue(person))
    response = client.post(reverse("instruments:skip", args=[optional_administration.pk]))
    assert response.status_code == 404
    optional_administration.refresh_from_db()
    assert optional_administration.skipped_at is None


@pytest.mark.parametrize(
    "person", ["counselor", "other_counselor", "school_admin", "foreign_counselor", "foreign_admin"]
)
def test_staff_cannot_answer_or_skip_a_students_questionnaire(
    client, request, administration, optional_administration, person
):
    # Even the student's own counselor: answering is the student's alone (role check).
    client.force_login(request.getfixturevalue(person))
    answer_url = reverse("instruments:answer", args=[administration.pk])
    assert client.get(answer_url).status_code == 403
    assert client.post(answer_url, amas_post_data()).status_code == 403
    skip_url = reverse("instruments:skip", args=[optional_administration.pk])
    assert client.post(skip_url).status_code == 403
    assert not Response.objects.exists()
    optional_administration.refresh_from_db()
    assert optional_administration.skipped_at is None


def test_an_anonymous_visitor_is_sent_to_log_in_instead_of_answering(
    client, administration, optional_administration
):
    answer_url = reverse("instruments:answer", args=[administration.pk])
    skip_url = reverse("instruments:skip", args=[optional_administration.pk])
    for response in (
        client.get(answer_url),
        client.post(answer_url, amas_post_data()),
        client.post(skip_url),
    ):
        assert response.status_code == 302
        assert response.url.startswith(login_url())
    assert not Response.objects.exists()
    optional_administration.refresh_from_db()
    assert optional_administration.skipped_at is None


@pytest.mark.parametrize("person", ["student", "other_student", "counselor"])
def test_skipping_needs_post(client, request, optional_administration, person):
    client.force_login(request.getfixturevalue(person))
    response = client.get(reverse("instruments:skip", args=[optional_administration.pk]))
    assert response.status_code == 405
    optional_administration.refresh_from_db()
    assert optional_administration.skipped_at is None


def test_an_unknown_administration_is_not_found(client, student):
    client.force_login(student)
    assert client.get(reverse("instruments:answer", args=[999_999])).status_code == 404


# --- A client's pages: only the client's counselor ------------------------------------


def schedule_data(school):
    tomorrow = timezone.localdate(timezone=school.zone()) + datetime.timedelta(days=1)
    return {
        "instrument": "amas",
        "phase": "baseline",
        "first_date": tomorrow.isoformat(),
        "count": "3",
        "interval_days": "7",
        "open_days": "3",
    }


def client_page_requests(client, student, school):
    """(description, response) for every counselor page about `student`."""
    csv = b"tanggal,fase,instrumen,total\n2024-01-08,baseline,amas,30\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    detail = reverse("instruments:client-detail", args=[student.pk])
    schedule = reverse("instruments:administration-schedule", args=[student.pk])
    upload = reverse("instruments:import-upload", args=[student.pk])
    preview = reverse("instruments:import-preview", args=[student.pk])
    return [
        ("detail GET", client.get(detail)),
        ("schedule POST", client.post(schedule, schedule_data(school))),
        ("upload GET", client.get(upload)),
        (
            "upload POST",
            client.post(upload, {"file": SimpleUploadedFile("history.csv", csv, "text/csv")}),
        ),
        ("preview GET", client.get(preview)),
        ("preview POST", client.post(preview)),
    ]


def test_the_clients_counselor_opens_the_client_pages(client, counselor, student, school):
    client.force_login(counselor)
    detail = client.get(reverse("instruments:client-detail", args=[student.pk]))
    assert detail.status_code == 200
    assert detail.context["client"] == student
    upload = client.get(reverse("instruments:import-upload", args=[student.pk]))
    assert upload.status_code == 200
    # Without an uploaded file the preview sends the counselor to the upload page.
    preview = client.get(reverse("instruments:import-preview", args=[student.pk]))
    assert preview.status_code == 302
    assert preview.url == reverse("instruments:import-upload", args=[student.pk])


def test_the_clients_counselor_schedules_measurements(client, counselor, student, school):
    client.force_login(counselor)
    scheduled = client.post(
        reverse("instruments:administration-schedule", args=[student.pk]), schedule_data(school)
    )
    assert scheduled.status_code == 302
    assert Administration.objects.filter(student=student, counselor=counselor).count() == 3


@pytest.mark.parametrize("person", ["other_counselor", "foreign_counselor"])
def test_another_counselor_cannot_reach_the_client_pages(client, request, student, school, person):
    client.force_login(request.getfixturevalue(person))
    for description, response in client_page_requests(client, student, school):
        assert response.status_code == 404, description
    assert not Administration.objects.exists()
    assert not Response.objects.exists()


@pytest.mark.parametrize("person", ["student", "other_student", "school_admin", "foreign_admin"])
def test_students_and_admins_cannot_reach_the_client_pages(
    client, request, student, school, person
):
    client.force_login(request.getfixturevalue(person))
    for description, response in client_page_requests(client, student, school):
        assert response.status_code == 403, description
    assert not Administration.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in_instead_of_the_client_pages(
    client, student, school
):
    for description, response in client_page_requests(client, student, school):
        assert response.status_code == 302, description
        assert response.url.startswith(login_url()), description
    assert not Administration.objects.exists()


def test_scheduling_needs_post(client, counselor, student):
    client.force_login(counselor)
    response = client.get(reverse("instruments:administration-schedule", args=[student.pk]))
    assert response.status_code == 405


def test_a_counselor_cannot_use_an_import_uploaded_for_another_client(
    client, counselor, student, school
):
    # An upload stored in the session for one client is not imported for another.
    second_client = make_client(school, counselor)
    client.force_login(counselor)
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = b"tanggal,fase,instrumen,total\n2024-01-08,baseline,amas,30\n"
    client.post(
        reverse("instruments:import-upload", args=[student.pk]),
        {"file": SimpleUploadedFile("history.csv", csv, "text/csv")},
    )
    response = client.post(reverse("instruments:import-preview", args=[second_client.pk]))
    assert response.status_code == 302
    assert response.url == reverse("instruments:import-upload", args=[second_client.pk])
    assert not Administration.objects.exists()


# --- Voiding a response and cancelling an administration ------------------------------


@pytest.fixture
def answered(student):
    return amas_response(AdministrationFactory(student=student))


@pytest.fixture
def scheduled(student):
    opens = timezone.now() + datetime.timedelta(days=5)
    return AdministrationFactory(
        student=student, phase="baseline", opens_at=opens, notified_at=None
    )


def test_the_administrations_counselor_voids_a_response(client, counselor, answered):
    client.force_login(counselor)
    voided = client.post(
        reverse("instruments:response-void", args=[answered.pk]), {"reason": "Diisi teman."}
    )
    assert voided.status_code == 302
    answered.refresh_from_db()
    assert answered.voided_at is not None


def test_the_administrations_counselor_cancels_it(client, counselor, scheduled):
    client.force_login(counselor)
    cancelled = client.post(reverse("instruments:administration-cancel", args=[scheduled.pk]))
    assert cancelled.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.cancelled_at is not None


@pytest.mark.parametrize("person", ["other_counselor", "foreign_counselor"])
def test_another_counselor_cannot_void_or_cancel(client, request, answered, scheduled, person):
    client.force_login(request.getfixturevalue(person))
    void_url = reverse("instruments:response-void", args=[answered.pk])
    assert client.get(void_url).status_code == 404
    assert client.post(void_url, {"reason": "Bukan milik saya."}).status_code == 404
    cancel_url = reverse("instruments:administration-cancel", args=[scheduled.pk])
    assert client.post(cancel_url).status_code == 404
    answered.refresh_from_db()
    scheduled.refresh_from_db()
    assert answered.voided_at is None
    assert answered.void_reason == ""
    assert scheduled.cancelled_at is None


def test_after_a_reassignment_only_the_new_counselor_sees_and_voids_the_history(
    client, counselor, other_counselor, student, answered
):
    # Access follows the student's current counselor, who sees the whole history.
    student.student_profile.counselor = other_counselor
    student.student_profile.save()
    void_url = reverse("instruments:response-void", args=[answered.pk])
    client_url = reverse("instruments:client-detail", args=[student.pk])

    client.force_login(counselor)
    assert client.get(client_url).status_code == 404
    assert client.post(void_url, {"reason": "Saya konselor lama."}).status_code == 404
    answered.refresh_from_db()
    assert answered.voided_at is None

    client.force_login(other_counselor)
    assert str(answered.total) in client.get(client_url).content.decode()
    assert client.post(void_url, {"reason": "Saya konselor baru."}).status_code == 302
    answered.refresh_from_db()
    assert answered.voided_by == other_counselor


@pytest.mark.parametrize("person", ["student", "school_admin", "foreign_admin"])
def test_students_and_admins_cannot_void_or_cancel(client, request, answered, scheduled, person):
    client.force_login(request.getfixturevalue(person))
    void_url = reverse("instruments:response-void", args=[answered.pk])
    assert client.get(void_url).status_code == 403
    assert client.post(void_url, {"reason": "x"}).status_code == 403
    cancel_url = reverse("instruments:administration-cancel", args=[scheduled.pk])
    assert client.post(cancel_url).status_code == 403
    answered.refresh_from_db()
    scheduled.refresh_from_db()
    assert answered.voided_at is None
    assert scheduled.cancelled_at is None


def test_an_anonymous_visitor_cannot_void_or_cancel(client, answered, scheduled):
    void_url = reverse("instruments:response-void", args=[answered.pk])
    cancel_url = reverse("instruments:administration-cancel", args=[scheduled.pk])
    for response in (client.post(void_url, {"reason": "x"}), client.post(cancel_url)):
        assert response.status_code == 302
        assert response.url.startswith(login_url())
    answered.refresh_from_db()
    scheduled.refresh_from_db()
    assert answered.voided_at is None
    assert scheduled.cancelled_at is None


# --- Reliability: counselors only ------------------------------------------------------


def test_a_counselor_opens_the_reliability_page(client, counselor):
    client.force_login(counselor)
    assert client.get(reverse("instruments:reliability")).status_code == 200


@pytest.mark.parametrize("person", ["student", "school_admin"])
def test_students_and_admins_cannot_open_the_reliability_page(client, request, person):
    client.force_login(request.getfixturevalue(person))
    for query in ("", "?scope=school"):
        assert client.get(reverse("instruments:reliability") + query).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in_instead_of_reliability(client):
    response = client.get(reverse("instruments:reliability"))
    assert response.status_code == 302
    assert response.url.startswith(login_url())


# --- The school admin: counts, never answers --------------------------------------------

SECRET_COMMENT = "Koneksi putus terus waktu saya cerita soal ayah"


@pytest.fixture
def school_responses(student):
    """AMAS: two sent, one answered (total 41); service evaluation: one sent and answered
    with a comment."""
    # 5+5+5+5+5+5+5+3+3 = 41, an unusual total for this page; learning (1, 3, 6, 7, 9)
    # 5+5+5+5+3 = 23, evaluation (2, 4, 5, 8) 5+5+5+3 = 18.
    ResponseFactory(
        administration=AdministrationFactory(student=student),
        answers={"1": 5, "2": 5, "3": 5, "4": 5, "5": 5, "6": 5, "7": 5, "8": 3, "9": 3},
        total=41,
        subscale_scores={"learning": 23, "evaluation": 18},
        band="high",
    )
    AdministrationFactory(student=student)
    ResponseFactory(
        administration=AdministrationFactory(student=student, instrument_code="service-evaluation"),
        answers={"1": 4, "2": 2, "3": 5, "4": SECRET_COMMENT},
        total=None,
        subscale_scores={},
        band="",
    )


def counts_table_rows(html: str) -> dict[str, list[str]]:
    """Row header → the cells of the admin's questionnaire-counts table."""
    table = element_by_id(html, "questionnaire-counts")
    assert table is not None
    rows = {}
    for row in (e for e in elements(table) if e.name == "tr"):
        header = next((e for e in row.children if isinstance(e, Element) and e.name == "th"), None)
        cells = [text_of(e).strip() for e in row.children if isinstance(e, Element)]
        if header is not None and any(
            isinstance(e, Element) and e.name == "td" for e in row.children
        ):
            rows[text_of(header).strip()] = cells[1:]
    return rows


def test_the_school_admin_sees_completion_counts_but_no_answers(
    client, school_admin, student, school_responses
):
    client.force_login(school_admin)
    response = client.get(reverse("sessions:statistics"))
    assert response.status_code == 200
    body = response.content.decode()
    by_code = {row["instrument_code"]: row for row in response.context["questionnaires"]}
    assert (by_code["amas"]["sent"], by_code["amas"]["answered"]) == (2, 1)
    assert (by_code["service-evaluation"]["sent"], by_code["service-evaluation"]["answered"]) == (
        1,
        1,
    )
    # The rendered table: sent, answered, still open, skipped, expired, rate.
    rows = counts_table_rows(body)
    assert sorted([*cells[:5], cells[5].rstrip("%")] for cells in rows.values()) == [
        ["1", "1", "0", "0", "0", "100"],
        ["2", "1", "1", "0", "0", "50"],
    ]
    # Neither the comment, the total nor the student appears.
    assert SECRET_COMMENT not in body
    assert "Koneksi putus" not in body
    assert all("41" not in cells for cells in rows.values())
    assert student.display_name not in body
    assert "answers" not in by_code["amas"]
    assert "total" not in by_code["amas"]


def test_another_schools_admin_does_not_count_this_schools_questionnaires(
    client, foreign_admin, school_responses
):
    client.force_login(foreign_admin)
    response = client.get(reverse("sessions:statistics"))
    assert response.status_code == 200
    assert response.context["questionnaires"] == []
    body = response.content.decode()
    assert element_by_id(body, "questionnaire-counts") is None
    assert SECRET_COMMENT not in body


# --- A counselor sees only their own clients' answers ----------------------------------


def test_the_client_page_shows_the_clients_whole_history_and_nobody_elses(
    client, counselor, other_counselor, student, other_student
):
    mine = AdministrationFactory(student=student)
    amas_response(mine)
    # Another counselor's client, and what the student's previous counselor collected.
    theirs = AdministrationFactory(student=other_student)
    earlier = AdministrationFactory(student=student, counselor=other_counselor)
    ResponseFactory(administration=theirs, total=44)
    ResponseFactory(administration=earlier, total=43)
    client.force_login(counselor)
    response = client.get(reverse("instruments:client-detail", args=[student.pk]))
    assert response.status_code == 200
    shown = {
        occasion.administration.pk
        for history in response.context["histories"]
        for occasion in history.occasions
    }
    assert shown == {mine.pk, earlier.pk}  # the current counselor sees the whole history
    body = response.content.decode()
    assert reverse("instruments:response-void", args=[theirs.responses.get().pk]) not in body
    assert reverse("instruments:response-void", args=[earlier.responses.get().pk]) in body


def amas_report(response):
    return next(r for r in response.context["reports"] if r.instrument.code == "amas")


def test_reliability_of_my_clients_counts_only_my_clients_responses(
    client, counselor, other_counselor, student, other_student, school
):
    # Five complete AMAS responses from the counselor's clients, three from another
    # counselor's client, and a voided one of the counselor's (never counted).
    second_client = make_client(school, counselor)
    for index in range(5):
        owner = student if index % 2 else second_client
        ResponseFactory(
            administration=AdministrationFactory(student=owner),
            answers={str(n): 1 + (n + index) % 5 for n in range(1, 10)},
        )
    for index in range(3):
        ResponseFactory(
            administration=AdministrationFactory(student=other_student),
            answers={str(n): 1 + (n * index) % 5 for n in range(1, 10)},
        )
    ResponseFactory(administration=AdministrationFactory(student=student), voided_at=timezone.now())
    client.force_login(counselor)
    mine = client.get(reverse("instruments:reliability") + "?scope=mine")
    school_wide = client.get(reverse("instruments:reliability") + "?scope=school")
    assert amas_report(mine).responses == 5
    assert amas_report(school_wide).responses == 8
    client.force_login(other_counselor)
    theirs = client.get(reverse("instruments:reliability") + "?scope=mine")
    assert amas_report(theirs).responses == 3


def test_someone_elses_questionnaire_is_refused_with_a_clear_page(client, other_student, answered):
    client.force_login(other_student)
    page = client.get(reverse("instruments:answer", args=[answered.administration_id]))
    assert page.status_code == 404
    assert "bukan untuk Anda" in page.content.decode()  # "not yours to see", in Indonesian


def test_a_page_for_another_role_is_refused_with_a_clear_page(client, student):
    client.force_login(student)
    page = client.get(reverse("instruments:reliability"))
    assert page.status_code == 403
    assert 'id="not-allowed"' in page.content.decode()
