"""'Need help now?': the school's emergency contacts, on every page a student sees."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sessions_app.models import EmergencyContact


def emergency_contacts(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_student:
        return {}
    # Lazy: the query runs only when a template shows the contacts.
    return {
        "emergency_contacts": SimpleLazyObject(
            lambda: list(EmergencyContact.objects.filter(school_id=user.school_id))
        )
    }
