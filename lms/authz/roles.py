"""The roles people hold. All but admin are held per cohort."""

from enum import StrEnum


class Role(StrEnum):
    TRAINEE = "trainee"
    TUTOR = "tutor"
    ACADEMIC_SUPERVISOR = "academic_supervisor"
    PERSONAL_SUPERVISOR = "personal_supervisor"
    ADMIN = "admin"
    EXTERNAL_EXAMINER = "external_examiner"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.TRAINEE: "Trainee",
    Role.TUTOR: "Tutor",
    Role.ACADEMIC_SUPERVISOR: "Academic supervisor",
    Role.PERSONAL_SUPERVISOR: "Personal supervisor",
    Role.ADMIN: "Admin",
    Role.EXTERNAL_EXAMINER: "External examiner",
}

# Only admin is held across the whole site; the rest belong to a cohort.
SITE_WIDE_ROLES = frozenset({Role.ADMIN})
