"""URL arguments for the accounts endpoints in the access-matrix walk."""

from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db


def _a_trainee():
    return {"user_id": db.session.execute(
        select(User.id).where(User.email == "trainee2@example.org")).scalar_one()}


SAMPLE_ARGS = {
    # Not a real token: the pages answer "this link is not right" (400).
    "accounts.accept_invitation": {"token": "not-a-real-invitation-token"},
    "accounts.reset_password": {"token": "not-a-real-reset-token"},
    "accounts.resend_invitation": _a_trainee,
}
