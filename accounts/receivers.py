"""Keep the list of sign-ins in step with Django's sign-in and sign-out."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from accounts.models import SignIn
from accounts.sign_ins import sign_in_record


@receiver(user_logged_in)
def remember_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        sign_in_record(request, user)


@receiver(user_logged_out)
def forget_sign_in(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        SignIn.objects.filter(session_key=session_key).delete()
