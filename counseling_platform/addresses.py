"""The client's address, as the audit trail and the sign-in limits see it.

daphne (run with --proxy-headers behind the TLS proxy) puts the client's address in the
ASGI scope; the proxy must overwrite X-Forwarded-For with the real address (README,
"Production"). Whatever arrives that is not an IP address is replaced by UNKNOWN, so a
forged header can neither break a page nor pass for someone else's address.
"""

import ipaddress
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

UNKNOWN = "0.0.0.0"


def valid_address(value: object) -> str:
    try:
        return str(ipaddress.ip_address(str(value or "").strip()))
    except ValueError:
        return UNKNOWN


def client_address(scope: dict) -> str:
    client = scope.get("client") or ()
    return valid_address(client[0] if client else "")


class ClientAddressMiddleware:
    """REMOTE_ADDR is an IP address (or UNKNOWN) for everything after this."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META["REMOTE_ADDR"] = valid_address(request.META.get("REMOTE_ADDR"))
        return self.get_response(request)
