"""A lighter hash for admin-issued initial passwords.

Importing a school year creates hundreds of accounts in one request; at Django's default
PBKDF2 cost (about half a second per password) that takes minutes. Initial passwords are
random (about 49 bits, see services.initial_password_generate) and must be changed at
first sign-in, so their strength comes from their randomness, not from the hash cost.
Django re-hashes a password with the default hasher when its owner next signs in.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher


class InitialPasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_initial"
    iterations = 20_000

    def verify(self, password: str, encoded: str) -> bool:
        if super().verify(password, encoded):
            return True
        # A wrong password must cost what it costs for a username that does not exist
        # (Django hashes it once with the default hasher), or the quick answer would
        # tell which usernames (NISNs) still have an initial password. Django evens out
        # the cost only for hashes of its preferred hasher, so it is done here.
        default = get_hasher("default")
        if isinstance(default, PBKDF2PasswordHasher):  # the same total as Django's
            rounds = max(default.iterations - self.iterations, 1)
            default.encode(password, default.salt(), iterations=rounds)
        else:
            default.encode(password, default.salt())
        return False
