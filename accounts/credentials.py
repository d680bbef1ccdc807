"""Initial passwords waiting to be handed out: shown only to the admin who issued them, as
a printable list and a CSV, and deleted when the admin says they are saved or after
PendingCredential.CREDENTIAL_TTL, whichever comes first.

They live in a table rather than the web session so that two requests at once (a
double-clicked import) cannot overwrite each other's list.
"""

from django.utils import timezone

from accounts.models import PendingCredential, User
from accounts.services import Credential


def credentials_remember(*, admin: User, credentials: list[Credential]) -> None:
    PendingCredential.objects.bulk_create(
        PendingCredential(
            issued_by=admin,
            username=credential.username,
            name=credential.name,
            class_name=credential.class_name,
            password=credential.password,
        )
        for credential in credentials
    )


def credentials_waiting(*, admin: User) -> list[Credential]:
    expired_before = timezone.now() - PendingCredential.CREDENTIAL_TTL
    PendingCredential.objects.filter(created_at__lt=expired_before).delete()
    return [
        Credential(item.username, item.name, item.class_name, item.password)
        for item in PendingCredential.objects.filter(issued_by=admin)
    ]


def credentials_forget(*, admin: User) -> None:
    PendingCredential.objects.filter(issued_by=admin).delete()
