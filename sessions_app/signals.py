"""Close a person's open room sockets the moment they sign out or lose their account."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from sessions_app.realtime import sockets_close_for_login, sockets_close_for_user


@receiver(user_logged_out)
def close_sockets_of_sign_in(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        sockets_close_for_login(session_key)


@receiver(post_save, sender=get_user_model())
def close_sockets_of_deactivated_user(sender, instance, created, **kwargs) -> None:
    if not created and not instance.is_active:
        sockets_close_for_user(instance.pk)
