"""The questionnaire pages as the student and the counselor use them: answering, being
refused, skipping, the student's home, the counselor's client page, scheduling, voiding,
cancelling, reliability and the notification that leads to the questionnaires.

Pages are checked on stable things (status codes, redirects, element ids, numbers and
the database); where words matter the test switches to English with the language cookie.
"""

import datetime
import statistics

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.test.html import Element, parse_html
from django.urls import reverse
from django.utils import timezone

from instruments.definitions import get_instrument
from instruments.models import Administration, Response
from instruments.scoring import score_answers
from instruments.services import administrations_for_session
from notifications.models import Notification
from tests.factories import AdministrationFactory, CounselingSessionFactory, StudentFactory

pytestmark = pytest.mark.django_db


# AMAS answers by item: total 1+2+3+4+5+4+3+2+1 = 25 (band fairly high, 23–27);
# learning (items 1, 3, 6, 7, 9) 1+3+4+3+1 = 12; evaluation (2, 4, 5, 8) 2+4+5+2 = 13.
AMAS_ANSWERS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 4, 7: 3, 8: 2, 9: 1}
# WAI-SR answers by item: total 44, the lowest "high" total (44–60);
# task (1, 2, 10, 12) 5+4+5+3 = 17; bond (3, 5, 7, 9) 3+2+3+2 = 10;
# goal (4, 6, 8, 11) 4+5+4+4 = 17.
WAI_ANSWERS = {1: 5, 2: 4, 3: 3, 4: 4, 5: 2, 6: 5, 7: 3, 8: 4, 9: 2, 10: 5, 11: 4, 12: 3}


# --- helpers ---------------------------------------------------------------------------


def elements(node):
    """Every element under `node` (a django.test.html tree), depth first."""
    for child in getattr(node, "children", []):
        if isinstance(child, Element):
            yield child
            yield from elements(child)


def attrs(element) -> dict:
    return dict(element.attributes)


def by_id(root, element_id: str):
    return next((e for e in elements(root) if attrs(e).get("id") == element_id), None)


def text_of(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(text_of(child) for child in node.children)


def page(response):
    return parse_html(response.content.decode())


def post_data(answers):
    return {f"item_{number}": str(value) for number, value in answers.items()}


def stored_response(administration, answers, **fields):
    """A response stored as the service stores it, scored by the definition (written
    directly, so tests of reading pages do not depend on the answering workflow)."""
    instrument = get_instrument(administration.instrument_code)
    choices = {number: value for number, value in answers.items() if isinstance(value, int)}
    score = score_answers(instrument, choices)
    return Response.objects.create(
        administration=administration,
        answers={str(number): value for number, value in answers.items()},
        total=score.total,
        subscale_scores=score.subscales,
        band=score.band,
        definition_version=instrument.version,
        **fields,
    )


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def message_levels(response) -> list[int]:
    return [message.level for message in get_messages(response.wsgi_request)]


def answer_links(response) -> set[str]:
    """The links to answering pages on a page."""
    prefix = reverse("instruments:answer", args=[1])[: -len("1/")]
    return {
        attrs(e)["href"]
        for e in elements(page(response))
        if e.name == "a" and attrs(e).get("href", "").startswith(prefix)
    }


def answer_url(administration) -> str:
    return reverse("instruments:answer", args=[administration.pk])


def make_client(school, counselor):
    student = StudentFactory(school=school)
    student.student_profile.counselor = counselor
    student.student_profile.save()
    return student


@pytest.fixture
def amas(student):
    return AdministrationFactory(student=student)


# --- Answering ------------------------------------------------------------------------


def test_the_answer_page_shows_nine_labelled_radio_groups(client, student, amas):
    client.force_login(student)
    response = client.get(answer_url(amas))
    assert response.status_code == 200
    root = page(response)
    fieldsets = [e for e in elements(root) if e.name == "fieldset"]
    assert [attrs(e).get("id") for e in fieldsets] == [f"item-{n}" for n in range(1, 10)]
    labels = {attrs(e).get("for") for e in elements(root) if e.name == "label"}
    for number, fieldset in enumerate(fieldsets, start=1):
        assert any(e.name == "legend" for e in fieldset.children if isinstance(e, Element))
        radios = [
            e for e in elements(fieldset) if e.name == "input" and attrs(e)["type"] == "radio"
        ]
        # One group per item, the five scale points, each with its own label.
        assert {attrs(radio)["name"] for radio in radios} == {f"item_{number}"}
        assert [attrs(radio)["value"] for radio in radios] == ["1", "2", "3", "4", "5"]
        assert all(attrs(radio)["id"] in labels for radio in radios)
        assert not any("checked" in attrs(radio) for radio in radios)
    all_radios = [e for e in elements(root) if e.name == "input" and attrs(e)["type"] == "radio"]
    assert len(all_radios) == 9 * 5
    assert len({attrs(radio)["id"] for radio in all_radios}) == 45


def test_the_answer_page_tells_the_position_of_each_question(client, student, amas):
    in_english(client)
    client.force_login(student)
    root = page(client.get(answer_url(amas)))
    assert "Question 3 of 9" in text_of(by_id(root, "item-3"))
    assert "Question 9 of 9" in text_of(by_id(root, "item-9"))


def test_answering_stores_the_scored_response_and_goes_home(client, student, amas):
    client.force_login(student)
    response = client.post(answer_url(amas), post_data(AMAS_ANSWERS))
    assert response.status_code == 302
    assert response.url == reverse("accounts:student-home")
    stored = Response.objects.get(administration=amas)
    assert stored.total == 25
    assert stored.subscale_scores == {"learning": 12, "evaluation": 13}
    assert stored.band == "fairly_high"
    assert stored.definition_version == "1.0"
    assert stored.answers == {str(n): v for n, v in AMAS_ANSWERS.items()}
    assert messages.SUCCESS in message_levels(response)


def test_answering_leads_to_the_next_required_questionnaire(client, student, amas):
    later = timezone.now() + datetime.timedelta(days=5)
    wai = AdministrationFactory(student=student, instrument_code="wai-sr", closes_at=later)
    # The optional evaluation closes first but is not pushed on the student.
    AdministrationFactory(
        student=student,
        instrument_code="service-evaluation",
        closes_at=timezone.now() + datetime.timedelta(hours=2),
    )
    client.force_login(student)
    response = client.post(answer_url(amas), post_data(AMAS_ANSWERS))
    assert response.status_code == 302
    assert response.url == answer_url(wai)
    assert Response.objects.get().administration == amas


def test_after_the_last_required_questionnaire_the_optional_one_waits_on_the_home_page(
    client, student, amas
):
    AdministrationFactory(student=student, instrument_code="service-evaluation")
    client.force_login(student)
    response = client.post(answer_url(amas), post_data(AMAS_ANSWERS))
    assert response.url == reverse("accounts:student-home")


def test_the_optional_evaluation_is_answered_with_its_comment(client, student):
    evaluation = AdministrationFactory(student=student, instrument_code="service-evaluation")
    client.force_login(student)
    data = {"item_1": "4", "item_2": "2", "item_3": "5", "item_4": "  Suara sering putus.  "}
    response = client.post(answer_url(evaluation), data)
    assert response.status_code == 302
    assert response.url == reverse("accounts:student-home")
    stored = Response.objects.get(administration=evaluation)
    assert stored.answers == {"1": 4, "2": 2, "3": 5, "4": "Suara sering putus."}
    assert stored.total is None
    assert stored.band == ""


def test_the_evaluation_comment_is_optional_but_its_scale_items_are_not(client, student):
    evaluation = AdministrationFactory(student=student, instrument_code="service-evaluation")
    client.force_login(student)
    response = client.post(answer_url(evaluation), {"item_1": "4", "item_3": "5"})
    assert response.status_code == 400
    summary = by_id(page(response), "answer-errors")
    assert [attrs(e)["href"] for e in elements(summary) if e.name == "a"] == ["#item-2"]
    assert not Response.objects.exists()


def test_a_missing_answer_is_refused_and_the_other_answers_are_kept(client, student, amas):
    client.force_login(student)
    answers = {number: value for number, value in AMAS_ANSWERS.items() if number != 4}
    response = client.post(answer_url(amas), post_data(answers))
    assert response.status_code == 400
    assert not Response.objects.exists()
    root = page(response)
    checked = {
        attrs(e)["name"]: attrs(e)["value"]
        for e in elements(root)
        if e.name == "input" and attrs(e).get("type") == "radio" and "checked" in attrs(e)
    }
    assert checked == {f"item_{n}": str(v) for n, v in answers.items()}
    summary = by_id(root, "answer-errors")
    assert summary is not None
    links = [attrs(e)["href"] for e in elements(summary) if e.name == "a"]
    assert links == ["#item-4"]
    # The unanswered question itself is marked and described by its error.
    assert attrs(by_id(root, "item-4")).get("aria-describedby") == "item-4-error"
    assert by_id(root, "item-4-error") is not None
    assert "aria-describedby" not in attrs(by_id(root, "item-3"))


def test_an_answer_off_the_scale_is_refused(client, student, amas):
    client.force_login(student)
    response = client.post(answer_url(amas), post_data({**AMAS_ANSWERS, 7: 6}))
    assert response.status_code == 400
    assert not Response.objects.exists()
    summary = by_id(page(response), "answer-errors")
    assert [attrs(e)["href"] for e in elements(summary) if e.name == "a"] == ["#item-7"]


def test_a_double_submit_stores_one_response(client, student, amas):
    client.force_login(student)
    first = client.post(answer_url(amas), post_data(AMAS_ANSWERS))
    second = client.post(answer_url(amas), post_data(dict.fromkeys(range(1, 10), 5)))
    assert first.status_code == 302
    # The second tap is not an error page: it goes on like the first, saying so.
    assert second.status_code == 302
    assert second.url == reverse("accounts:student-home")
    assert message_levels(second)[-1] == messages.INFO
    stored = Response.objects.get(administration=amas)
    assert stored.total == 25  # the first answers, not the second tap's 45


def test_the_second_submit_redirects_with_an_info_message(client, student, amas):
    # The first submit of a double tap has been stored; the second arrives now.
    stored_response(amas, AMAS_ANSWERS)
    client.force_login(student)
    response = client.post(answer_url(amas), post_data(AMAS_ANSWERS))
    assert Response.objects.count() == 1
    assert response.status_code == 302
    assert response.url == reverse("accounts:student-home")
    assert message_levels(response) == [messages.INFO]


def test_an_expired_questionnaire_is_refused_with_a_clear_message(client, student):
    now = timezone.now()
    expired = AdministrationFactory(
        student=student,
        opens_at=now - datetime.timedelta(days=4),
        closes_at=now - datetime.timedelta(minutes=1),
    )
    client.force_login(student)
    posted = client.post(answer_url(expired), post_data(AMAS_ANSWERS))
    assert posted.status_code == 409
    assert not Response.objects.exists()
    refused = by_id(page(posted), "questionnaire-refused")
    assert refused is not None
    shown = client.get(answer_url(expired))
    assert shown.status_code == 200
    assert text_of(by_id(page(shown), "questionnaire-refused")) == text_of(refused)
    assert "questionnaire-form" not in shown.content.decode()


@pytest.mark.parametrize(
    "state",
    [
        {"opens_at_days": 2},
        {"cancelled": True},
    ],
    ids=["scheduled", "cancelled"],
)
def test_a_scheduled_or_cancelled_questionnaire_cannot_be_answered(client, student, state):
    now = timezone.now()
    opens = now + datetime.timedelta(days=state.get("opens_at_days", -1))
    administration = AdministrationFactory(
        student=student,
        opens_at=opens,
        cancelled_at=now if state.get("cancelled") else None,
    )
    client.force_login(student)
    posted = client.post(answer_url(administration), post_data(AMAS_ANSWERS))
    assert posted.status_code == 409
    assert by_id(page(posted), "questionnaire-refused") is not None
    assert not Response.objects.exists()


# --- Skipping ---------------------------------------------------------------------------


def test_the_optional_evaluation_can_be_skipped(client, student):
    evaluation = AdministrationFactory(student=student, instrument_code="service-evaluation")
    client.force_login(student)
    home = reverse("accounts:student-home")
    assert answer_url(evaluation) in answer_links(client.get(home))
    response = client.post(reverse("instruments:skip", args=[evaluation.pk]))
    assert response.status_code == 302
    assert response.url == home
    evaluation.refresh_from_db()
    assert evaluation.skipped_at is not None
    assert answer_url(evaluation) not in answer_links(client.get(home))
    assert not Response.objects.exists()


def test_the_working_alliance_questionnaire_cannot_be_skipped(client, student):
    wai = AdministrationFactory(student=student, instrument_code="wai-sr")
    client.force_login(student)
    response = client.post(reverse("instruments:skip", args=[wai.pk]))
    assert response.status_code == 302
    assert response.url == answer_url(wai)
    assert message_levels(response) == [messages.ERROR]
    wai.refresh_from_db()
    assert wai.skipped_at is None
    assert answer_url(wai) in answer_links(client.get(reverse("accounts:student-home")))


def test_the_skip_button_is_offered_only_for_the_optional_questionnaire(client, student):
    evaluation = AdministrationFactory(student=student, instrument_code="service-evaluation")
    wai = AdministrationFactory(student=student, instrument_code="wai-sr")
    client.force_login(student)
    skip_of_evaluation = reverse("instruments:skip", args=[evaluation.pk])
    skip_of_wai = reverse("instruments:skip", args=[wai.pk])
    assert skip_of_evaluation in client.get(answer_url(evaluation)).content.decode()
    assert skip_of_wai not in client.get(answer_url(wai)).content.decode()


# --- The student's home -------------------------------------------------------------------


def administrations_in_every_state(student, counselor):
    """(listed, not listed) administrations of the student, one or more per state."""
    now = timezone.now()
    past = now - datetime.timedelta(days=10)
    open_amas = AdministrationFactory(student=student)
    open_evaluation = AdministrationFactory(student=student, instrument_code="service-evaluation")
    reopened = AdministrationFactory(student=student, instrument_code="wai-sr")
    stored_response(reopened, WAI_ANSWERS, voided_at=now, voided_by=counselor, void_reason="x")
    answered = AdministrationFactory(student=student)
    stored_response(answered, AMAS_ANSWERS)
    expired = AdministrationFactory(
        student=student, opens_at=past, closes_at=now - datetime.timedelta(seconds=1)
    )
    cancelled = AdministrationFactory(student=student, cancelled_at=now)
    skipped = AdministrationFactory(
        student=student, instrument_code="service-evaluation", skipped_at=now
    )
    scheduled = AdministrationFactory(
        student=student, phase="follow_up", opens_at=now + datetime.timedelta(days=1)
    )
    listed = [open_amas, open_evaluation, reopened]
    hidden = [answered, expired, cancelled, skipped, scheduled]
    return listed, hidden


def test_the_student_home_lists_only_open_questionnaires(client, student, counselor, other_student):
    listed, hidden = administrations_in_every_state(student, counselor)
    someone_elses = AdministrationFactory(student=other_student)
    client.force_login(student)
    response = client.get(reverse("accounts:student-home"))
    assert response.status_code == 200
    assert answer_links(response) == {answer_url(a) for a in listed}
    assert answer_url(someone_elses) not in response.content.decode()
    assert all(answer_url(a) not in response.content.decode() for a in hidden)


def test_the_student_home_runs_constant_queries(
    client, student, counselor, assert_constant_queries
):
    AdministrationFactory(student=student)
    client.force_login(student)

    def grow():
        for _round in range(2):
            administrations_in_every_state(student, counselor)

    assert_constant_queries(lambda: client.get(reverse("accounts:student-home")), grow)


# --- The counselor's client page ------------------------------------------------------------


def row_cells(row) -> list[str]:
    return [" ".join(text_of(cell).split()) for cell in row.children if isinstance(cell, Element)]


def test_the_client_page_shows_phase_scores_band_and_item_answers(
    client, counselor, student, school
):
    session = CounselingSessionFactory(student=student, status="completed")
    wai = AdministrationFactory(student=student, instrument_code="wai-sr", session=session)
    stored_response(wai, WAI_ANSWERS)
    in_english(client)
    client.force_login(counselor)
    response = client.get(reverse("instruments:client-detail", args=[student.pk]))
    assert response.status_code == 200
    root = page(response)
    table = next(e for e in elements(root) if attrs(e).get("data-instrument") == "wai-sr")
    header = [" ".join(text_of(e).split()) for e in elements(table) if e.name == "th"]
    assert header[:8] == ["Date", "Phase", "Status", "Total", "Task", "Bond", "Goal", "Band"]
    rows = [e for e in elements(table) if e.name == "tr" and "data-status" in attrs(e)]
    assert len(rows) == 1
    assert attrs(rows[0])["data-status"] == "completed"
    cells = row_cells(rows[0])
    assert cells[1:8] == ["Treatment", "Completed", "44", "17", "10", "17", "High"]
    answers = {
        int(attrs(item)["value"]): text_of(
            next(e for e in item.children if isinstance(e, Element) and e.name == "strong")
        ).strip()
        for item in elements(rows[0])
        if item.name == "li"
    }
    assert answers == {number: str(value) for number, value in WAI_ANSWERS.items()}
    # The items name the student's counselor.
    assert counselor.display_name in text_of(rows[0])


def test_the_client_page_shows_a_voided_response_as_history_without_its_scores(
    client, counselor, student
):
    administration = AdministrationFactory(student=student)
    stored_response(
        administration,
        AMAS_ANSWERS,
        voided_at=timezone.now(),
        voided_by=counselor,
        void_reason="Diisi oleh teman sekelas",
    )
    client.force_login(counselor)
    response = client.get(reverse("instruments:client-detail", args=[student.pk]))
    root = page(response)
    table = next(e for e in elements(root) if attrs(e).get("data-instrument") == "amas")
    row = next(e for e in elements(table) if e.name == "tr" and "data-status" in attrs(e))
    assert attrs(row)["data-status"] == "open"
    cells = row_cells(row)
    assert cells[3:6] == ["", "", ""]  # no total, no subscales: nothing counts
    assert "Diisi oleh teman sekelas" in text_of(row)


def test_the_client_page_runs_constant_queries(client, counselor, student, assert_constant_queries):
    stored_response(AdministrationFactory(student=student), AMAS_ANSWERS)
    client.force_login(counselor)
    now = timezone.now()

    def grow():
        for index in range(4):
            session = CounselingSessionFactory(
                student=student,
                status="completed",
                starts_at=now.replace(microsecond=0) - datetime.timedelta(days=index + 1),
            )
            wai = AdministrationFactory(student=student, instrument_code="wai-sr", session=session)
            stored_response(wai, WAI_ANSWERS)
            amas = AdministrationFactory(student=student, session=session)
            stored_response(
                amas, AMAS_ANSWERS, voided_at=now, voided_by=counselor, void_reason="ulang"
            )
            stored_response(amas, {n: 1 + (n + index) % 5 for n in range(1, 10)})
            evaluation = AdministrationFactory(
                student=student, instrument_code="service-evaluation", session=session
            )
            stored_response(evaluation, {1: 4, 2: 3, 3: 5, 4: "Suara putus-putus"})
            AdministrationFactory(
                student=student,
                phase="follow_up",
                opens_at=now + datetime.timedelta(days=index + 1),
            )
            AdministrationFactory(student=student, phase="baseline", cancelled_at=now)

    url = reverse("instruments:client-detail", args=[student.pk])
    assert_constant_queries(lambda: client.get(url), grow)


def schedule_data(first_date, **changes):
    data = {
        "instrument": "amas",
        "phase": "baseline",
        "first_date": first_date.isoformat(),
        "count": "3",
        "interval_days": "7",
        "open_days": "3",
    }
    data.update(changes)
    return data


def test_scheduling_creates_three_baseline_administrations_a_week_apart(
    client, counselor, student, school
):
    zone = school.zone()
    first = timezone.localdate(timezone=zone) + datetime.timedelta(days=2)
    client.force_login(counselor)
    response = client.post(
        reverse("instruments:administration-schedule", args=[student.pk]), schedule_data(first)
    )
    assert response.status_code == 302
    assert response.url == reverse("instruments:client-detail", args=[student.pk])
    created = list(Administration.objects.filter(student=student).order_by("opens_at"))
    # Each opens at 06:00 on its day in Jakarta and stays open three days.
    expected_opening = [
        datetime.datetime.combine(first + datetime.timedelta(days=days), datetime.time(6), zone)
        for days in (0, 7, 14)
    ]
    assert [a.opens_at for a in created] == expected_opening
    assert [a.closes_at - a.opens_at for a in created] == [datetime.timedelta(days=3)] * 3
    assert {(a.phase, a.instrument_code, a.counselor_id) for a in created} == {
        ("baseline", "amas", counselor.pk)
    }


def test_overlapping_occasions_are_refused_keeping_the_typed_values(
    client, counselor, student, school
):
    first = timezone.localdate(timezone=school.zone()) + datetime.timedelta(days=2)
    client.force_login(counselor)
    data = schedule_data(first, phase="follow_up", interval_days="2", open_days="5")
    response = client.post(reverse("instruments:administration-schedule", args=[student.pk]), data)
    assert response.status_code == 400
    assert not Administration.objects.exists()
    form = by_id(page(response), "schedule-form")
    values = {
        attrs(e)["name"]: attrs(e).get("value")
        for e in elements(form)
        if e.name == "input" and attrs(e).get("type") != "hidden"
    }
    assert values == {
        "first_date": first.isoformat(),
        "count": "3",
        "interval_days": "2",
        "open_days": "5",
    }
    selected = {
        attrs(select)["name"]: attrs(option)["value"]
        for select in elements(form)
        if select.name == "select"
        for option in elements(select)
        if "selected" in attrs(option)
    }
    assert selected == {"instrument": "amas", "phase": "follow_up"}


def test_an_invalid_schedule_form_is_refused_keeping_the_typed_values(
    client, counselor, student, school
):
    first = timezone.localdate(timezone=school.zone()) + datetime.timedelta(days=2)
    client.force_login(counselor)
    data = schedule_data(first, count="11", interval_days="9")
    response = client.post(reverse("instruments:administration-schedule", args=[student.pk]), data)
    assert response.status_code == 400
    assert not Administration.objects.exists()
    assert "count" in response.context["schedule_form"].errors
    form = by_id(page(response), "schedule-form")
    values = {
        attrs(e)["name"]: attrs(e).get("value")
        for e in elements(form)
        if e.name == "input" and attrs(e).get("type") != "hidden"
    }
    assert values["count"] == "11"
    assert values["interval_days"] == "9"
    assert values["first_date"] == first.isoformat()


@pytest.fixture
def answered(student):
    return stored_response(AdministrationFactory(student=student), AMAS_ANSWERS)


def test_the_void_page_voids_with_a_reason(client, counselor, student, answered):
    client.force_login(counselor)
    url = reverse("instruments:response-void", args=[answered.pk])
    shown = client.get(url)
    assert shown.status_code == 200
    assert shown.context["response"] == answered
    response = client.post(url, {"reason": "  Diisi   oleh teman\nsekelas "})
    assert response.status_code == 302
    assert response.url == reverse("instruments:client-detail", args=[student.pk])
    answered.refresh_from_db()
    assert answered.voided_at is not None
    assert answered.voided_by == counselor
    assert answered.void_reason == "Diisi oleh teman sekelas"
    # The administration is open again for the student.
    assert answered.administration.status == Administration.Status.OPEN


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_voiding_without_a_reason_is_refused(client, counselor, answered, reason):
    client.force_login(counselor)
    response = client.post(
        reverse("instruments:response-void", args=[answered.pk]), {"reason": reason}
    )
    assert response.status_code == 400
    assert "reason" in response.context["form"].errors
    answered.refresh_from_db()
    assert answered.voided_at is None
    assert answered.void_reason == ""


def test_a_voided_response_cannot_be_voided_again(client, counselor, answered):
    client.force_login(counselor)
    url = reverse("instruments:response-void", args=[answered.pk])
    client.post(url, {"reason": "Pertama"})
    answered.refresh_from_db()
    first_voided_at = answered.voided_at
    response = client.post(url, {"reason": "Kedua"})
    assert response.status_code == 400
    answered.refresh_from_db()
    assert (answered.voided_at, answered.void_reason) == (first_voided_at, "Pertama")


def test_cancelling_a_scheduled_administration(client, counselor, student):
    scheduled = AdministrationFactory(
        student=student,
        phase="baseline",
        opens_at=timezone.now() + datetime.timedelta(days=3),
        notified_at=None,
    )
    client.force_login(counselor)
    response = client.post(reverse("instruments:administration-cancel", args=[scheduled.pk]))
    assert response.status_code == 302
    assert response.url == reverse("instruments:client-detail", args=[student.pk])
    scheduled.refresh_from_db()
    assert scheduled.cancelled_at is not None
    assert scheduled.status == Administration.Status.CANCELLED


def test_an_answered_administration_cannot_be_cancelled(client, counselor, answered):
    client.force_login(counselor)
    response = client.post(
        reverse("instruments:administration-cancel", args=[answered.administration_id])
    )
    assert response.status_code == 302
    assert message_levels(response) == [messages.ERROR]
    answered.administration.refresh_from_db()
    assert answered.administration.cancelled_at is None


# --- Reliability ----------------------------------------------------------------------------

# Five students' AMAS answers (items 1–9).
RELIABILITY_ROWS = [
    [1, 1, 2, 1, 2, 1, 1, 2, 1],
    [2, 2, 2, 3, 2, 2, 3, 2, 2],
    [3, 3, 4, 3, 3, 3, 3, 4, 3],
    [4, 4, 4, 5, 4, 4, 4, 4, 5],
    [5, 5, 5, 5, 4, 5, 5, 5, 5],
]


def independent_alpha(rows: list[list[int]]) -> float:
    """Cronbach's alpha, k/(k−1) · (1 − Σ item variances / variance of the totals)."""
    k = len(rows[0])
    item_variances = sum(statistics.variance([row[i] for row in rows]) for i in range(k))
    total_variance = statistics.variance([sum(row) for row in rows])
    return k / (k - 1) * (1 - item_variances / total_variance)


def clients_answer(school, counselor, rows):
    for row in rows:
        student = make_client(school, counselor)
        administration = AdministrationFactory(student=student)
        stored_response(administration, dict(enumerate(row, start=1)))


def test_reliability_shows_alpha_with_five_complete_responses(client, counselor, school):
    clients_answer(school, counselor, RELIABILITY_ROWS)
    in_english(client)
    client.force_login(counselor)
    response = client.get(reverse("instruments:reliability"))
    assert response.status_code == 200
    section = next(
        e for e in elements(page(response)) if attrs(e).get("aria-labelledby") == "reliability-amas"
    )
    alphas = [text_of(e).strip() for e in elements(section) if "data-alpha" in attrs(e)]
    # The whole scale, then the learning and evaluation subscales.
    assert len(alphas) == 3
    assert alphas[0] == f"{independent_alpha(RELIABILITY_ROWS):.3f}"
    learning = [[row[n - 1] for n in (1, 3, 6, 7, 9)] for row in RELIABILITY_ROWS]
    assert alphas[1] == f"{independent_alpha(learning):.3f}"
    assert "needs at least" not in text_of(section)


def test_reliability_with_too_few_responses_says_so_and_shows_no_alpha(client, counselor, school):
    clients_answer(school, counselor, RELIABILITY_ROWS[:4])
    in_english(client)
    client.force_login(counselor)
    response = client.get(reverse("instruments:reliability"))
    assert response.status_code == 200
    section = next(
        e for e in elements(page(response)) if attrs(e).get("aria-labelledby") == "reliability-amas"
    )
    assert "Reliability needs at least 5 responses" in " ".join(text_of(section).split())
    assert not [e for e in elements(page(response)) if "data-alpha" in attrs(e)]


# --- The counselor's home and the notification ------------------------------------------


def test_the_counselor_home_links_each_client_to_their_page(
    client, counselor, student, other_student, school
):
    second = make_client(school, counselor)
    client.force_login(counselor)
    response = client.get(reverse("accounts:counselor-home"))
    links = {
        attrs(e)["href"]: " ".join(text_of(e).split())
        for e in elements(page(response))
        if e.name == "a" and "/questionnaires/clients/" in attrs(e).get("href", "")
    }
    assert links == {
        reverse("instruments:client-detail", args=[student.pk]): student.display_name,
        reverse("instruments:client-detail", args=[second.pk]): second.display_name,
    }
    assert reverse("instruments:client-detail", args=[other_student.pk]) not in links


def test_the_questionnaires_ready_notification_opens_the_student_home(client, student):
    session = CounselingSessionFactory(student=student, status="completed")
    assert administrations_for_session(session=session) == 3
    note = Notification.objects.get(user=student, kind=Notification.Kind.QUESTIONNAIRES_READY)
    client.force_login(student)
    response = client.post(reverse("notifications:notification-open", args=[note.pk]))
    assert response.status_code == 302
    assert response.url == reverse("accounts:student-home") + "#questionnaires-heading"
    note.refresh_from_db()
    assert note.read_at is not None
    home = client.get(response.url)
    assert answer_links(home) == {
        answer_url(a) for a in Administration.objects.filter(session=session)
    }


def _responses_for_new_clients(counselor, how_many: int) -> None:
    """Clients of `counselor` with an answered AMAS and WAI-SR, a voided answer and an
    expired questionnaire each."""
    for index in range(how_many):
        client_student = StudentFactory(school=counselor.school)
        client_student.student_profile.counselor = counselor
        client_student.student_profile.save()
        for code, items in (("amas", 9), ("wai-sr", 12)):
            answers = {str(n): (n + index) % 5 + 1 for n in range(1, items + 1)}
            administration = AdministrationFactory(student=client_student, instrument_code=code)
            Response.objects.create(
                administration=administration, answers=answers, definition_version="1.0"
            )
        voided = AdministrationFactory(student=client_student)
        Response.objects.create(
            administration=voided,
            answers={str(n): 3 for n in range(1, 10)},
            definition_version="1.0",
            voided_at=timezone.now(),
        )
        AdministrationFactory(
            student=client_student,
            instrument_code="service-evaluation",
            opens_at=timezone.now() - datetime.timedelta(days=9),
            closes_at=timezone.now() - datetime.timedelta(days=6),
        )


@pytest.mark.parametrize("query", ["", "?scope=school"])
def test_the_reliability_page_runs_constant_queries(
    client, counselor, assert_constant_queries, query
):
    _responses_for_new_clients(counselor, 6)
    client.force_login(counselor)
    url = reverse("instruments:reliability") + query
    assert_constant_queries(
        lambda: client.get(url), lambda: _responses_for_new_clients(counselor, 30)
    )


def test_the_admins_statistics_page_runs_constant_queries(
    client, counselor, school_admin, assert_constant_queries
):
    _responses_for_new_clients(counselor, 2)
    client.force_login(school_admin)
    url = reverse("sessions:statistics")
    assert_constant_queries(
        lambda: client.get(url), lambda: _responses_for_new_clients(counselor, 10)
    )
