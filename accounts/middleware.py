"""Per-request language and time zone, the first-login password change, and the
lifetime of a sign-in."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode

from accounts import sign_ins

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


class SignInLifetimeMiddleware:
    """Sign out a web session that was idle too long or has lived its full lifetime.

    Both limits are shorter for counselors and admins (settings.SIGN_IN_IDLE_MINUTES,
    SIGN_IN_LIFETIME_HOURS). Activity in an open session room counts (the room's socket
    marks the sign-in as seen), so a long call does not sign anyone out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            expiry = sign_ins.expiry_reason(request.session, user, now)
            if expiry is not None:
                logout(request)
                return self._signed_out(request, expiry)
            sign_ins.mark_seen(request, now)
        return self.get_response(request)

    @staticmethod
    def _signed_out(request: HttpRequest, reason: str) -> HttpResponse:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"error": "signed_out", "reason": reason}, status=401)
        query = {"expired": reason}
        if request.method == "GET":
            query["next"] = request.get_full_path()
        return redirect(f"{reverse('accounts:login')}?{urlencode(query)}")
