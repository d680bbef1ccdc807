"""Who and from where, for every audit entry written while serving a request."""

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, but the address is the one daphne saw.

    django-auditlog would read X-Forwarded-For itself; here the address is REMOTE_ADDR,
    which daphne resolved from the proxy's header and ClientAddressMiddleware checked.
    """

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return request.META.get("REMOTE_ADDR") or None

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None
