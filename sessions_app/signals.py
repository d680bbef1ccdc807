"""Close a person's open room sockets the moment they sign out, lose their account or
get a new password (a reset is how a school shuts out someone who knew the old one)."""

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


User = get_user_model()


@receiver(post_save, sender=User)
def close_sockets_of_deactivated_user(sender, instance, created, **kwargs) -> None:
    if not created and (not instance.is_active or instance.is_saving_new_password):
        sockets_close_for_user(instance.pk)
