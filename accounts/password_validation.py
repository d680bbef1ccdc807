"""The common-password check, with common Indonesian passwords.

Django's list of 20,000 holds few Indonesian passwords ("katasandi", "sekolah" and
"siswa" pass it), and it refuses only a listed password exactly as typed, so
"sayang123" passes although "sayang" is listed. This validator adds the list in
accounts/data/ and also refuses a listed password with only digits, symbols or spaces
added. A sentence of ordinary words ("naik sepeda ke sekolah") still passes.
"""

import re
import string
from pathlib import Path

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

INDONESIAN_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords-id.txt"
ADDED_AROUND = string.digits + string.punctuation + string.whitespace
BETWEEN_WORDS = re.compile(r"[\W_]+")


def password_list_read(path: Path) -> set[str]:
    """A list of lowercase passwords, one a line; lines starting with # are comments."""
    with path.open(encoding="utf-8") as lines:
        entries = {line.strip() for line in lines}
    return {entry for entry in entries if entry and not entry.startswith("#")}


class IndonesianCommonPasswordValidator(CommonPasswordValidator):
    """Django's CommonPasswordValidator over Django's list and ours; it replaces
    Django's in AUTH_PASSWORD_VALIDATORS, so a password is refused once."""

    def __init__(self, *args, indonesian_list_path: Path = INDONESIAN_PASSWORDS, **kwargs):
        super().__init__(*args, **kwargs)
        self.passwords = (self.passwords | password_list_read(indonesian_list_path)) - {""}

    def validate(self, password: str, user=None) -> None:
        super().validate(password, user)  # a listed password as typed
        typed = password.lower().strip()
        word = typed.strip(ADDED_AROUND)  # "sayang123", "123sayang" → "sayang"
        joined = BETWEEN_WORDS.sub("", word)  # "aku sayang kamu" → "akusayangkamu"
        if word in self.passwords or joined in self.passwords:
            raise ValidationError(
                _(
                    "This password is a common password with only digits, symbols or "
                    "spaces added. A short sentence of your own is harder to guess."
                ),
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return _(
            "Your password can’t be a commonly used password, even with digits, symbols "
            "or spaces added."
        )
