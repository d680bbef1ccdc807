"""Permissions-Policy: browser features that no page needs are off everywhere.

A view that needs one turns it on for its own responses with a decorator:

    @permissions_policy(camera=["self"], microphone=["self"])
    def room(request, session_id): ...

The header is a structured field: `camera=(self), geolocation=(), …`; `()` allows no
origin at all, not even ours.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.http import HttpRequest, HttpResponseBase

HEADER = "Permissions-Policy"
# Only names Chromium knows: an unknown one costs a console error on every page.
DENIED_FEATURES = (
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
ORIGIN_KEYWORDS = {"self", "*"}

View = Callable[..., HttpResponseBase]


def header_value(allowed: dict[str, tuple[str, ...]]) -> str:
    """`feature=()` for each denied feature, `feature=(self)` for one a view allowed."""
    features = dict.fromkeys(DENIED_FEATURES, ()) | allowed
    return ", ".join(
        f"{feature}=({' '.join(origins)})" for feature, origins in sorted(features.items())
    )


def permissions_policy(**allowed: Iterable[str]) -> Callable[[View], View]:
    """Allow features (underscores for dashes) to the given origins on this view's
    responses: "self", "*" or quoted origins such as '"https://example.org"'."""
    features = {name.replace("_", "-"): tuple(origins) for name, origins in allowed.items()}
    for origins in features.values():
        for origin in origins:
            if origin not in ORIGIN_KEYWORDS and not origin.startswith('"'):
                raise ValueError(f"an origin must be self, * or quoted, not {origin!r}")

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            response.permissions_policy = features
            return response

        return wrapped

    return decorator


class PermissionsPolicyMiddleware:
    """Send the Permissions-Policy header on every response (error pages included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        allowed = getattr(response, "permissions_policy", {})
        response.headers.setdefault(HEADER, header_value(allowed))
        return response
