"""Pure checks for the admin pages: organisations and people's details."""

from __future__ import annotations

from dataclasses import dataclass

from lms.cohorts.rules import Problem, valid_email

ORGANISATION_KINDS = {
    "employer": "Employer (an NHS trust, charity or other service)",
    "partner": "Partner",
    "provider": "Training provider",
}
MAX_ORGANISATION_NAME = 200
MAX_PERSON_NAME = 120


@dataclass(frozen=True)
class OrganisationDetails:
    name: str
    kind: str
    contact_email: str


def check_organisation(details: OrganisationDetails) -> tuple[OrganisationDetails | None, list[Problem]]:
    """Tidy and check an organisation's details; whether the name is taken is asked of the database."""
    name = " ".join((details.name or "").split())
    email = (details.contact_email or "").strip().lower()
    problems = []
    if not name:
        problems.append(Problem("name", "Enter the organisation's name, for example “Northshire Mental Health NHS Foundation Trust”."))
    elif len(name) > MAX_ORGANISATION_NAME:
        problems.append(Problem("name", f"Keep the name to {MAX_ORGANISATION_NAME} characters or fewer."))
    if details.kind not in ORGANISATION_KINDS:
        problems.append(Problem("kind", "Choose what kind of organisation this is."))
    if email and not valid_email(email):
        problems.append(Problem("contact_email", "Enter the contact email in the right format, like team@example.org, or leave it empty."))
    if problems:
        return None, problems
    return OrganisationDetails(name, details.kind, email), []


def check_person_name(name: str) -> tuple[str | None, list[Problem]]:
    name = " ".join((name or "").split())
    if not name:
        return None, [Problem("display_name", "Enter the person's name, as they like to be called.")]
    if len(name) > MAX_PERSON_NAME:
        return None, [Problem("display_name", f"Keep the name to {MAX_PERSON_NAME} characters or fewer.")]
    return name, []
