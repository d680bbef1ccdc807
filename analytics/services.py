"""Changes the analytics pages make: only what a student may see of their own trend."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import StudentProfile, User


class AnalyticsError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@transaction.atomic
def anxiety_trend_share(*, counselor: User, student: User, visible: bool) -> StudentProfile:
    """Let the client see their own anxiety trend, or stop it (alliance is never shown)."""
    profile = StudentProfile.objects.select_for_update().get(user=student)
    if profile.counselor_id != counselor.pk:
        raise AnalyticsError("not_client", _("This student is not one of your clients."))
    profile.can_see_anxiety_trend = visible
    profile.save(update_fields=["can_see_anxiety_trend"])
    return profile
