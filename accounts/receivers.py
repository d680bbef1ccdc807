"""Keep the list of sign-ins in step with Django's sign-in and sign-out, and tell the
post_save receivers when an account gets a new password."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import pre_save
from django.dispatch import receiver

from accounts.models import SignIn, User
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


@receiver(pre_save, sender=User)
def note_password_change(sender, instance: User, update_fields=None, **kwargs) -> None:
    """Whether this save stores another password hash, for User.is_saving_new_password.

    Django re-hashes a password with a newer hasher or work factor when its owner signs
    in: that save names only "password" and sets no raw password (AbstractBaseUser's
    check_password), and it is not a new password.
    """
    instance._saving_new_password = False
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    is_hash_upgrade = (
        update_fields is not None
        and set(update_fields) == {"password"}
        and getattr(instance, "_password", None) is None
    )
    if is_hash_upgrade:
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._saving_new_password = stored is not None and stored != instance.password
