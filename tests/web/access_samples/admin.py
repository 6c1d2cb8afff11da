"""Sample URL arguments for the admin pages for people and organisations."""

from sqlalchemy import select

from lms.accounts.models import Organisation, User
from lms.extensions import db


def _trainee() -> dict:
    return {"user_id": db.session.execute(select(User.id).where(User.email == "trainee12@example.org")).scalar_one()}


def _organisation() -> dict:
    return {"organisation_id": db.session.execute(
        select(Organisation.id).where(Organisation.name == "Harbour Mind")).scalar_one()}


SAMPLE_ARGS = {
    "admin.person": _trainee,
    "admin.deactivate_person": _trainee,
    "admin.reactivate_person": _trainee,
    "admin.edit_organisation": _organisation,
}
