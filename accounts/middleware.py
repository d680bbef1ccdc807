"""Per-request language and time zone, and the first-login password change."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

# Pages a user who must change their password may still open.
PASSWORD_CHANGE_ALLOWED_URL_NAMES = ("accounts:password-change", "accounts:logout")


class SchoolTimezoneMiddleware:
    """Show every time in the zone of the signed-in user's school (storage stays UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.school_id:
            timezone.activate(user.school.time_zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """Send a user with an initial (admin-issued) password to the password change page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse(name) for name in PASSWORD_CHANGE_ALLOWED_URL_NAMES}
            if request.path not in allowed and not request.path.startswith("/i18n/"):
                return redirect("accounts:password-change")
        return self.get_response(request)


class SchoolLanguageMiddleware:
    """Bahasa Indonesia unless the user picked another language with the switcher.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: many
    students' phones are set to English, and the school's service speaks Indonesian
    first. The choice made in the footer (the language cookie) is honoured.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
