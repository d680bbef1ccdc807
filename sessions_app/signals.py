"""Close a person's open room sockets the moment they sign out, lose their account or
get a new password (a reset is how a school shuts out someone who knew the old one)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from sessions_app.realtime import sockets_close_for_login, sockets_close_for_user


@receiver(user_logged_out)
def close_sockets_of_sign_in(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        sockets_close_for_login(session_key)


User = get_user_model()


@receiver(pre_save, sender=User)
def note_password_change(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        instance._password_changed = False
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=User)
def close_sockets_of_deactivated_user(sender, instance, created, **kwargs) -> None:
    password_changed = getattr(instance, "_password_changed", False)
    if not created and (not instance.is_active or password_changed):
        sockets_close_for_user(instance.pk)
