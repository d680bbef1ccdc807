"""A new password is an account change the trail records, without any of its value.

django-auditlog cannot tell a new password from Django re-hashing the same one at sign-in
(accounts.receivers.note_password_change can), so the entry is written here.
"""

from auditlog.models import LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from audit.registration import HIDDEN


@receiver(post_save, sender=User)
def record_new_password(sender, instance: User, created: bool, **kwargs) -> None:
    if not created and instance.is_saving_new_password:
        LogEntry.objects.log_create(
            instance,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes={"password": [HIDDEN, HIDDEN]},
        )
