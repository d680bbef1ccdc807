"""Site-wide responses that are not any app's page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Too many sign-in or password-reset attempts from here (django-ratelimit). The
    page is the same whether the account named exists or not."""
    return render(request, "429.html", status=429)
