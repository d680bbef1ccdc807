"""Initial passwords waiting to be handed out: kept in the admin's web session only,
shown as a printable list and a CSV, and forgotten when the admin says they are saved."""

from dataclasses import asdict

from django.http import HttpRequest

from accounts.services import Credential

SESSION_KEY = "accounts.new_credentials"


def credentials_remember(request: HttpRequest, credentials: list[Credential]) -> None:
    waiting = request.session.get(SESSION_KEY, [])
    request.session[SESSION_KEY] = waiting + [asdict(credential) for credential in credentials]


def credentials_waiting(request: HttpRequest) -> list[Credential]:
    return [Credential(**item) for item in request.session.get(SESSION_KEY, [])]


def credentials_forget(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
