"""Who and from where, for every audit entry written while serving a request."""

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, but the address is the one daphne saw.

    daphne (run with --proxy-headers behind the proxy) already resolves the client's
    address into REMOTE_ADDR; an X-Forwarded-For header sent by the client is not trusted.
    """

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return request.META.get("REMOTE_ADDR") or None

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None
