"""Password hashing with Argon2id."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

hasher = PasswordHasher()  # Argon2id with the library's current recommended costs
# Verifying against this when no account matches keeps timing alike for both cases.
_UNKNOWN_ACCOUNT_HASH = hasher.hash("no account has this password")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash`` (None means no account)."""
    try:
        return hasher.verify(stored_hash or _UNKNOWN_ACCOUNT_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """A plain message when a new password is too weak, else None."""
    if len(password) < MIN_LENGTH:
        return f"Choose a password of at least {MIN_LENGTH} characters. A short phrase is easy to remember."
    if password.strip() == "":
        return "Choose a password that is not only spaces."
    return None
