"""'Need help now?': the school's emergency contacts, on every page a student sees."""

from typing import NamedTuple

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sessions_app.models import EmergencyContact, dial_href
from sessions_app.policy import national_hotlines


class Contact(NamedTuple):
    name: str
    phone: str
    description: str

    @property
    def dial_href(self) -> str:
        return dial_href(self.phone)


def _contacts(school_id: int) -> list:
    contacts = list(EmergencyContact.objects.filter(school_id=school_id))
    # Until the school sets its own, the national hotlines are shown.
    return contacts or [Contact(*hotline) for hotline in national_hotlines()]


def emergency_contacts(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_student:
        return {}
    # Lazy: the query runs only when a template shows the contacts.
    return {"emergency_contacts": SimpleLazyObject(lambda: _contacts(user.school_id))}
