"""Who may use the language helper: anyone signed in (the helper keeps nothing)."""

from lms.authz.access import SIGNED_IN

ENDPOINT_ACCESS = {
    "language.practice": SIGNED_IN,
    "language.check": SIGNED_IN,
}
