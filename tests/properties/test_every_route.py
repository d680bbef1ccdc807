"""Every route of the URLconf is either a form fuzzed by a test of this package or a
page that takes no input but its query string, which is fuzzed here. A new route with
neither fails `test_every_route_is_covered`: add its property test, then its row."""

import pytest
from django.urls import URLResolver, get_resolver, reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.properties.checks import rolled_back, signed_in
from tests.properties.hostile import hostile_text

# Route name -> the test that posts hostile input to it.
FORMS = {
    "accounts:login": "test_account_forms::test_sign_in_form",
    "accounts:logout": "test_account_forms::test_sign_out",
    "accounts:password-change": "test_account_forms::test_password_change_form",
    "accounts:password-reset": "test_account_forms::test_password_reset_request_form",
    "accounts:password-reset-confirm": "test_account_forms::test_password_reset_confirm_form",
    "accounts:device-sign-out": "test_privacy_forms::test_signing_out_devices",
    "accounts:devices-sign-out-others": "test_privacy_forms::test_signing_out_devices",
    "accounts:account-create": "test_account_forms::test_account_create_form",
    "accounts:account-edit": "test_account_forms::test_account_edit_form",
    "accounts:account-consent": "test_account_forms::test_guardian_consent_form",
    "accounts:account-set-active": "test_account_forms::test_account_activation_*",
    "accounts:account-password-reset": "test_account_forms::test_account_activation_*",
    "accounts:assign-class": "test_account_forms::test_class_assignment_form",
    "accounts:class-list": "test_account_forms::test_class_forms",
    "accounts:class-edit": "test_account_forms::test_class_forms",
    "accounts:import-upload": "test_imports::test_student_import",
    "accounts:import-preview": "test_imports::test_student_import",
    "accounts:credentials-dismiss": "test_account_forms::test_credentials_dismiss",
    "sessions:book": "test_session_forms::test_booking_form",
    "sessions:availability": "test_session_forms::test_weekly_window_form (and exceptions)",
    "sessions:availability-delete": "test_session_forms::test_availability_delete",
    "sessions:session-create": "test_session_forms::test_counselor_schedules_a_session_form",
    "sessions:session-action": "test_session_forms::test_session_actions_of_the_*",
    "sessions:room-note": "test_session_forms::test_room_note_form",
    "sessions:room-outcome": "test_session_forms::test_room_outcome_form",
    "sessions:booking-settings": "test_session_forms::test_booking_settings_*",
    "instruments:answer": "test_instrument_forms::test_questionnaire_answer_form",
    "instruments:skip": "test_instrument_forms::test_questionnaire_skip",
    "instruments:administration-schedule": "test_instrument_forms::test_schedule_form",
    "instruments:import-upload": "test_imports::test_history_import",
    "instruments:import-preview": "test_imports::test_history_import",
    "instruments:administration-cancel": "test_instrument_forms::test_void_and_cancel",
    "instruments:response-void": "test_instrument_forms::test_void_and_cancel",
    "analytics:trend-share": "test_instrument_forms::test_trend_sharing_switch",
    "notifications:notification-open": "test_instrument_forms::test_notification_bell",
    "notifications:notification-read-all": "test_instrument_forms::test_notification_bell",
    "privacy:my-data": "test_privacy_forms::test_my_data_download",
    "privacy:student-export": "test_privacy_forms::test_export_on_a_written_request",
    "privacy:student-erase": "test_privacy_forms::test_erasure_on_a_written_request",
    "set_language": "test_account_forms::test_language_switch",
}


def session(world):
    return [world.sessions.in_progress.pk]


def client_of_counselor(world):
    return [world.student.pk]


# Route name -> (who opens it, the URL's arguments): pages without a form, each opened
# with a random query string (filters, pages, dates, formats).
PAGES = {
    "home": ("student", None),
    "accounts:password-change-done": ("student", None),
    "accounts:password-reset-done": (None, None),
    "accounts:password-reset-complete": (None, None),
    "accounts:devices": ("student", None),
    "accounts:student-home": ("student", None),
    "accounts:counselor-home": ("counselor", None),
    "accounts:admin-home": ("admin", None),
    "accounts:account-list": ("admin", None),
    "accounts:credentials": ("admin", None),
    "accounts:credentials-csv": ("admin", None),
    "sessions:my-sessions": ("student", None),
    "sessions:schedule": ("counselor", None),
    "sessions:session-detail": ("student", session),
    "sessions:session-calendar": ("student", lambda world: [world.sessions.confirmed.pk]),
    "sessions:room": ("counselor", session),
    "sessions:transcript": ("counselor", session),
    "sessions:statistics": ("admin", None),
    "instruments:client-detail": ("counselor", client_of_counselor),
    "instruments:reliability": ("counselor", None),
    "analytics:caseload": ("counselor", None),
    "analytics:multiple-baseline": ("counselor", None),
    "analytics:client-trends": ("counselor", client_of_counselor),
    "analytics:report": ("counselor", client_of_counselor),
    "analytics:report-pdf": ("counselor", client_of_counselor),
    "analytics:report-csv": ("counselor", client_of_counselor),
    "analytics:my-anxiety": ("student", None),
    "notifications:notification-list": ("student", None),
    "privacy:request-list": ("admin", None),
    "audit:client-record-reads": ("counselor", None),
    "audit:account-changes": ("admin", None),
    "healthz": (None, None),
}
# Read by some page: the filters, pagination, dates and formats of this application.
QUERY_KEYS = st.sampled_from(
    [
        "q",
        "role",
        "class",
        "without",
        "page",
        "view",
        "date",
        "alert",
        "sort",
        "client",
        "scope",
        "student",
        "format",
        "next",
        "expired",
    ]
)


def route_names(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from route_names(pattern.url_patterns, inner)
        else:
            yield f"{namespace}{pattern.name}"


def test_every_route_is_covered():
    # The operator admin (/operator/) is Django's own, for staff only.
    routes = {
        name for name in route_names(get_resolver().url_patterns) if not name.startswith("admin:")
    }
    assert not set(FORMS) & set(PAGES)
    missing = routes - set(FORMS) - set(PAGES)
    assert not missing, f"routes no property test covers: {sorted(missing)}"
    assert not (set(FORMS) | set(PAGES)) - routes, "rows of routes that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_any_query_string_is_answered(world, name):
    who, arguments = PAGES[name]
    client = signed_in(getattr(world, who) if who else None)
    url = reverse(name, args=arguments(world) if arguments else None)

    @settings(max_examples=8)  # a page reads a few parameters: fewer examples do
    @given(st.lists(st.tuples(QUERY_KEYS, hostile_text()), max_size=4))
    def example(params):
        with rolled_back():
            assert client.get(url, params).status_code < 500

    example()
