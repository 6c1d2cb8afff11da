"""Site settings and what each person's home page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.extensions import db
from lms.site.models import SiteSetting

SUPPORT_PAGE_KEY = "support_page"
SUPPORT_PAGE_LIMIT = 20_000

DEFAULT_SUPPORT_PAGE = """\
This training asks you to think about your own experiences, and some days can
stir up difficult feelings. That is understandable, and you do not have to
manage it alone.

## If you are in crisis now

- **Emergency:** if your life or someone else's life is at risk, call **999** or
  go to your nearest A&E.
- **NHS 111:** call 111 and choose the mental health option for urgent help,
  24 hours a day.
- **Samaritans:** call **116 123**, free, any time, day or night.
- **Shout:** text **SHOUT** to **85258** for free text support, any time.

## Support on the course

- Your **tutors** are there on each course day. You can step out of a session
  at any time and talk to a tutor in private.
- Your **academic supervisor** can help with the assignment, extensions and
  anything that is affecting your studies.
- Your **personal supervisor** at work can agree support and adjustments with you.
- Your **wellness plan** is yours to use: look at it when you need it.

You can come back to the course when you are ready. Looking after yourself is
part of the learning, not a step away from it.
"""


def support_page_text() -> str:
    setting = db.session.get(SiteSetting, SUPPORT_PAGE_KEY)
    return setting.value if setting else DEFAULT_SUPPORT_PAGE


def update_support_page(actor: User, text: str) -> SiteSetting:
    """Replace the support page text (admins only; the view checks the role)."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionError("Only admins can change the support page.")
    from lms.audit.services import record

    setting = db.session.get(SiteSetting, SUPPORT_PAGE_KEY)
    before = setting.value if setting else DEFAULT_SUPPORT_PAGE
    if setting is None:
        setting = SiteSetting(key=SUPPORT_PAGE_KEY, value=text)
        db.session.add(setting)
    setting.value = text
    setting.updated_by_id = actor.id
    db.session.flush()
    if text != before:
        # The crisis contacts people rely on: who changed them, when, from what, to what.
        record(actor, "support_page.updated", "site_setting", SUPPORT_PAGE_KEY, before={"text": before},
               after={"text": text})
    return setting


def support_page_problem(text: str) -> str | None:
    if not text.strip():
        return "Enter the support page text. People look for this page when they need help."
    if len(text) > SUPPORT_PAGE_LIMIT:
        return f"Keep the support page under {SUPPORT_PAGE_LIMIT:,} characters."
    return None


@dataclass
class Home:
    """Everything a person's home page shows, section by section."""

    trainee_enrolments: list[Enrolment] = field(default_factory=list)
    next_days: dict[int, CourseDay] = field(default_factory=dict)
    teaching: list[Cohort] = field(default_factory=list)
    supervising_academic: list[Enrolment] = field(default_factory=list)
    supervising_personal: list[Enrolment] = field(default_factory=list)
    admin_counts: dict[str, int] = field(default_factory=dict)


def home_for(user: User, today: date) -> Home:
    """Collect the home page sections for ``user`` in a fixed number of queries."""
    home = Home()
    roles = user.roles
    if Role.TRAINEE in roles:
        home.trainee_enrolments = list(db.session.execute(
            select(Enrolment).where(Enrolment.trainee_id == user.id)
            .options(selectinload(Enrolment.cohort).selectinload(Cohort.days),
                     selectinload(Enrolment.academic_supervisor),
                     selectinload(Enrolment.personal_supervisor))
        ).scalars())
        for enrolment in home.trainee_enrolments:
            upcoming = [day for day in enrolment.cohort.days if day.date >= today]
            if upcoming:
                home.next_days[enrolment.cohort_id] = upcoming[0]
    if Role.TUTOR in roles:
        home.teaching = list(db.session.execute(
            select(Cohort).where(Cohort.id.in_(user.cohort_ids_for(Role.TUTOR)))
            .options(selectinload(Cohort.days)).order_by(Cohort.start_date.desc())
        ).scalars())
        for cohort in home.teaching:
            upcoming = [day for day in cohort.days if day.date >= today]
            if upcoming:
                home.next_days[cohort.id] = upcoming[0]
    supervised = select(Enrolment).options(selectinload(Enrolment.trainee), selectinload(Enrolment.cohort))
    if Role.ACADEMIC_SUPERVISOR in roles:
        home.supervising_academic = list(db.session.execute(
            supervised.where(Enrolment.academic_supervisor_id == user.id)
        ).scalars())
    if Role.PERSONAL_SUPERVISOR in roles:
        home.supervising_personal = list(db.session.execute(
            supervised.where(Enrolment.personal_supervisor_id == user.id)
        ).scalars())
    if Role.ADMIN in roles:
        home.admin_counts = {
            "cohorts": db.session.execute(select(func.count(Cohort.id))).scalar_one(),
            "people": db.session.execute(select(func.count(User.id))).scalar_one(),
            "enrolments": db.session.execute(select(func.count(Enrolment.id))).scalar_one(),
        }
    return home


def database_ok() -> bool:
    try:
        db.session.execute(select(1))
        return True
    except Exception:  # any failure to answer means "unavailable"
        db.session.rollback()
        return False
