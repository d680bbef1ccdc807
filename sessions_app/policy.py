"""Each school's booking policy, created with sensible defaults on first use."""

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import School
from sessions_app.models import BookingPolicy, EmergencyContact


def default_consent_text() -> str:
    return _(
        "Online counseling means talking with your school counselor by chat or video "
        "instead of in the counseling room.\n\n"
        "Confidentiality: what you tell your counselor stays between you and your "
        "counselor. Only your counselor can read your chat and their notes; the school "
        "admin sees only counts, never what you wrote. There are limits: if you or "
        "someone else is in serious and foreseeable danger, or the law requires it (for "
        "example when a child is being abused), your counselor must tell the people who "
        "can protect you, and will tell you first where possible.\n\n"
        "If the connection fails, wait a moment: the room reconnects by itself. If video "
        "does not work, continue in the chat of the same room. If nothing works, your "
        "counselor will contact you to agree on a new time.\n\n"
        "Your counselor answers a booking request within one school day. The chat is not "
        "watched outside sessions.\n\n"
        "In an emergency, do not wait for a session: call one of the numbers under "
        '"Need help now?" on every page, or 112.\n\n'
        "After each session you answer two short questionnaires (about 3 minutes) about "
        "how the session went and how you feel about mathematics. They help your "
        "counselor help you.\n\n"
        "Use a place where nobody can read or listen along, and sign out on a shared "
        "phone."
    )


def national_hotlines() -> list[tuple[str, str, str]]:
    return [
        (_("Emergency (police, ambulance, fire)"), "112", _("Free, 24 hours")),
        (
            _("SAPA 129 (child and women protection)"),
            "129 / WhatsApp 08111-129-129",
            _("Violence, abuse or bullying"),
        ),
        (
            _("Healing 119 (mental health)"),
            "119 ext. 8",
            _("Ministry of Health counseling line"),
        ),
    ]


@transaction.atomic
def booking_policy_for(school: School) -> BookingPolicy:
    """The school's policy; the first call creates it with the national hotlines."""
    policy = BookingPolicy.objects.filter(school=school).first()
    if policy is not None:
        return policy
    with translation.override(settings.LANGUAGE_CODE):
        policy, created = BookingPolicy.objects.get_or_create(
            school=school, defaults={"consent_text": default_consent_text()}
        )
        if created and not EmergencyContact.objects.filter(school=school).exists():
            EmergencyContact.objects.bulk_create(
                EmergencyContact(
                    school=school, name=name, phone=phone, description=description, position=n
                )
                for n, (name, phone, description) in enumerate(national_hotlines())
            )
    return policy
