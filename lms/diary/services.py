"""Use cases of the reflective diary and the wellness plan.

Every function takes the acting person and checks the policies itself: an
entry or plan the actor may not see answers 404, exactly as if it did not
exist. Services flush, never commit. What trainees write is encrypted before
it reaches the database (lms.diary.crypto) and never goes into a log, an
e-mail, a notification or the audit log: those say that something happened,
not what was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import url_for
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.audit.services import record
from lms.authz.access import object_or_404
from lms.cohorts.models import CourseDay, Enrolment
from lms.database import utcnow
from lms.diary import policies
from lms.diary.crypto import seal, unseal
from lms.diary.models import (
    DRAFT,
    SAVED,
    DiaryComment,
    DiaryEntry,
    DiaryEntryVersion,
    DiarySettings,
    DiaryShare,
    WellnessPlan,
    WellnessPlanVersion,
)
from lms.extensions import db
from lms.notify.services import notify

BODY_LIMIT = 50_000
TITLE_LIMIT = 200
PROMPT_LIMIT = 1_000
TAGS_LIMIT = 10
TAG_LENGTH = 40
COMMENT_LIMIT = 5_000
SECTION_LIMIT = 10_000
DEFAULT_COURSE_DAYS = 11

# A wellbeing check-in is always a number with words, never a number (or colour) alone.
MOODS = {
    1: "Having a really hard time",
    2: "Finding things difficult",
    3: "Getting by",
    4: "Doing okay",
    5: "Feeling well",
}

RELATIONSHIP_LABELS = {
    policies.ACADEMIC: "academic supervisor",
    policies.PERSONAL: "personal supervisor",
}

Problems = list[tuple[str, str]]


# ---------------------------------------------------------------------------
# What an entry says
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryContent:
    """The words of an entry: everything here is encrypted at rest."""

    title: str = ""
    body: str = ""
    prompt: str = ""
    tags: tuple[str, ...] = ()
    mood: int | None = None

    def as_dict(self) -> dict:
        return {"title": self.title, "body": self.body, "prompt": self.prompt,
                "tags": list(self.tags), "mood": self.mood}

    @classmethod
    def from_dict(cls, data: dict | None) -> EntryContent:
        data = data or {}
        return cls(title=data.get("title", ""), body=data.get("body", ""), prompt=data.get("prompt", ""),
                   tags=tuple(data.get("tags", ())), mood=data.get("mood"))

    @property
    def mood_words(self) -> str | None:
        return MOODS.get(self.mood) if self.mood else None


@dataclass(frozen=True)
class EntryFields:
    """An entry as read from a form: its words plus the date and course day (kept in clear)."""

    content: EntryContent
    entry_date: date
    day_number: int | None

    def snapshot(self) -> dict:
        return {"content": self.content.as_dict(), "entry_date": self.entry_date.isoformat(),
                "day_number": self.day_number}

    @classmethod
    def from_snapshot(cls, data: dict) -> EntryFields:
        return cls(EntryContent.from_dict(data.get("content")), date.fromisoformat(data["entry_date"]),
                   data.get("day_number"))


def normalise_prompt(text: str | None) -> str:
    """A diary prompt from a course day link, as plain text of reasonable length."""
    return " ".join((text or "").split())[:PROMPT_LIMIT]


def parse_tags(text: str) -> tuple[str, ...]:
    """Comma-separated tags, trimmed, without repeats (first spelling kept)."""
    seen: dict[str, str] = {}
    for raw in (text or "").split(","):
        tag = " ".join(raw.split())
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return tuple(seen.values())


def read_entry_form(*, title: str, body: str, entry_date: str, day_number: str, prompt: str, tags: str,
                    mood: str, today: date, max_day: int, saving: bool) -> tuple[EntryFields, Problems]:
    """Check what the entry form sent. Returns the fields (as far as they could be read) and problems.

    ``saving`` is True for "Save entry", which needs some words; a draft may be
    saved with whatever is there. Nothing is ever cut short: an over-long entry
    is a problem to fix, with the words kept in the form.
    """
    problems: Problems = []
    title = (title or "").strip()
    body = (body or "").replace("\r\n", "\n")
    if len(title) > TITLE_LIMIT:
        problems.append(("title", f"Keep the title under {TITLE_LIMIT} characters (it is {len(title):,} now)."))
    if body_too_long(body):
        problems.append(("body", body_too_long(body)))
    elif saving and not body.strip():
        problems.append(("body", "Write something in your entry before saving it. You can also save it as a draft."))
    try:
        when = date.fromisoformat((entry_date or "").strip()) if (entry_date or "").strip() else today
    except ValueError:
        problems.append(("entry_date", "Enter the date of the entry as a real date, for example 2026-11-03."))
        when = today
    day = None
    if (day_number or "").strip():
        try:
            day = int(day_number)
        except ValueError:
            day = -1
        if not 1 <= day <= max_day:
            problems.append(("day_number", f"Choose a course day from 1 to {max_day}, or “Not about a course day”."))
            day = None
    tag_list = parse_tags(tags)
    if len(tag_list) > TAGS_LIMIT:
        problems.append(("tags", f"Use up to {TAGS_LIMIT} tags (there are {len(tag_list)})."))
    elif any(len(tag) > TAG_LENGTH for tag in tag_list):
        problems.append(("tags", f"Keep each tag under {TAG_LENGTH} characters."))
    mood_value = None
    if (mood or "").strip():
        try:
            mood_value = int(mood)
        except ValueError:
            mood_value = 0
        if mood_value not in MOODS:
            problems.append(("mood", "Choose how you are feeling from the list, or “I’d rather not say”."))
            mood_value = None
    if not title:
        title = default_title(day, when)
    content = EntryContent(title=title, body=body, prompt=normalise_prompt(prompt), tags=tag_list,
                           mood=mood_value)
    return EntryFields(content, when, day), problems


def body_too_long(body: str) -> str | None:
    """The message for an entry over the size limit, or None."""
    if len(body) <= BODY_LIMIT:
        return None
    return (f"Your entry is {len(body):,} characters long. Keep it under {BODY_LIMIT:,} characters, "
            "or split it into two entries. Your words are still in the box below.")


def default_title(day_number: int | None, when: date) -> str:
    """A title for an entry the trainee did not name."""
    if day_number:
        return f"Day {day_number} reflection"
    return f"Reflection, {when.day} {when:%B %Y}"


def entry_content(entry: DiaryEntry) -> EntryContent:
    """The saved words of an entry (decrypted)."""
    return EntryContent.from_dict(unseal(entry))


def entry_fields(entry: DiaryEntry) -> EntryFields:
    return EntryFields(entry_content(entry), entry.entry_date, entry.day_number)


def comments_on(entry: DiaryEntry, author_id: int | None = None) -> list[tuple[DiaryComment, str]]:
    """The comments on an entry with their words (only ``author_id``'s when given), oldest first."""
    return [(comment, unseal(comment)["body"]) for comment in entry.comments
            if author_id is None or comment.author_id == author_id]


def unsaved_changes(entry: DiaryEntry) -> EntryFields | None:
    """Autosaved changes to a saved entry that the trainee has not yet saved or discarded."""
    data = unseal(entry, "draft_sealed")
    return EntryFields.from_snapshot(data) if data else None


# ---------------------------------------------------------------------------
# The trainee's diary
# ---------------------------------------------------------------------------

def settings_for(trainee: User) -> DiarySettings:
    """The trainee's diary settings (defaults when never changed)."""
    settings = db.session.get(DiarySettings, trainee.id)
    return settings or DiarySettings(trainee_id=trainee.id, mood_check_in=True)


def set_mood_check_in(trainee: User, enabled: bool) -> DiarySettings:
    settings = db.session.get(DiarySettings, trainee.id)
    if settings is None:
        settings = DiarySettings(trainee_id=trainee.id)
        db.session.add(settings)
    settings.mood_check_in = enabled
    db.session.flush()
    return settings


def course_day_count(trainee: User) -> int:
    """How many course days the trainee's cohorts have (for linking an entry to a day)."""
    count = db.session.execute(
        select(func.max(CourseDay.number)).join(Enrolment, Enrolment.cohort_id == CourseDay.cohort_id)
        .where(Enrolment.trainee_id == trainee.id)
    ).scalar_one_or_none()
    return count or DEFAULT_COURSE_DAYS


def _entry_query():
    return select(DiaryEntry).options(
        selectinload(DiaryEntry.shares).selectinload(DiaryShare.supervisor),
        selectinload(DiaryEntry.comments).selectinload(DiaryComment.author),
    )


def own_entry(actor: User, entry_id: int) -> DiaryEntry:
    """The actor's own entry with its shares and comments; 404 for anyone else's."""
    entry = db.session.execute(_entry_query().where(DiaryEntry.id == entry_id)).scalar_one_or_none()
    return object_or_404(entry, policies.owns(actor, entry))


@dataclass
class EntrySummary:
    """A line in the trainee's diary list."""

    entry: DiaryEntry
    content: EntryContent
    shared_with: list[User]
    comment_count: int
    has_unsaved_changes: bool


def my_entries(actor: User, *, tag: str | None = None, search: str | None = None) -> list[EntrySummary]:
    """The actor's entries, newest first, optionally only those with a tag or containing some words.

    The words are encrypted, so filtering happens here, after decrypting the
    trainee's own entries: nobody else's entries are ever read.
    """
    entries = db.session.execute(
        _entry_query().where(DiaryEntry.trainee_id == actor.id)
        .order_by(DiaryEntry.entry_date.desc(), DiaryEntry.id.desc())
    ).scalars()
    wanted_tag = (tag or "").strip().casefold()
    words = (search or "").strip().casefold()
    summaries = []
    for entry in entries:
        content = entry_content(entry)
        if wanted_tag and wanted_tag not in {t.casefold() for t in content.tags}:
            continue
        if words and not any(words in part.casefold() for part in (content.title, content.body, *content.tags)):
            continue
        summaries.append(EntrySummary(
            entry=entry, content=content,
            shared_with=[share.supervisor for share in entry.shares if share.active],
            comment_count=len(entry.comments), has_unsaved_changes=entry.draft_sealed is not None))
    return summaries


def all_tags(summaries: list[EntrySummary]) -> list[str]:
    tags: dict[str, str] = {}
    for summary in summaries:
        for tag in summary.content.tags:
            tags.setdefault(tag.casefold(), tag)
    return sorted(tags.values(), key=str.casefold)


def entry_count(trainee_id: int) -> int:
    """How many diary entries the trainee has saved (drafts not counted). Never reads their words."""
    return db.session.execute(
        select(func.count(DiaryEntry.id)).where(DiaryEntry.trainee_id == trainee_id, DiaryEntry.status == SAVED)
    ).scalar_one()


def entries_linked_to_day(trainee_id: int, day_number: int) -> int:
    """How many saved entries the trainee linked to a course day (drafts not counted). Never reads their words.

    For a catch-up task, where a tutor sees whether a reflective entry on the day exists, and nothing more.
    """
    return db.session.execute(
        select(func.count(DiaryEntry.id)).where(DiaryEntry.trainee_id == trainee_id, DiaryEntry.status == SAVED,
                                                DiaryEntry.day_number == day_number)
    ).scalar_one()


def create_entry(actor: User, fields: EntryFields, *, draft: bool) -> DiaryEntry:
    """A new entry for the actor: saved (with its first version) or kept as a draft."""
    now = utcnow()
    entry = DiaryEntry(trainee_id=actor.id, status=DRAFT if draft else SAVED, entry_date=fields.entry_date,
                       day_number=fields.day_number, saved_at=None if draft else now)
    db.session.add(entry)
    seal(entry, fields.content.as_dict())
    if not draft:
        _add_version(entry, fields, now)
    db.session.flush()
    return entry


def save_entry(actor: User, entry: DiaryEntry, fields: EntryFields) -> bool:
    """Save new words for the actor's entry, keeping the old ones in its history.

    Returns False when nothing had changed (no new version is made).
    """
    object_or_404(entry, policies.owns(actor, entry))
    now = utcnow()
    changed = entry.status == DRAFT or entry_fields(entry) != fields
    if changed:
        entry.entry_date, entry.day_number = fields.entry_date, fields.day_number
        seal(entry, fields.content.as_dict())
        entry.saved_at = now
        _add_version(entry, fields, now)
    entry.status = SAVED
    entry.draft_sealed, entry.draft_saved_at = None, None
    db.session.flush()
    return changed


def _add_version(entry: DiaryEntry, fields: EntryFields, when: datetime) -> None:
    version = DiaryEntryVersion(entry_id=entry.id, trainee_id=entry.trainee_id, saved_at=when)
    db.session.add(version)
    seal(version, fields.snapshot())


def save_draft(actor: User, entry: DiaryEntry | None, fields: EntryFields) -> DiaryEntry:
    """Keep work in progress: a new draft entry, or unsaved changes to an existing one.

    A saved entry keeps its saved words (what a supervisor may see) until the
    trainee saves; the changes wait beside it.
    """
    if entry is None:
        entry = create_entry(actor, fields, draft=True)
        entry.draft_saved_at = utcnow()
        db.session.flush()
        return entry
    object_or_404(entry, policies.owns(actor, entry))
    if entry.status == DRAFT:
        entry.entry_date, entry.day_number = fields.entry_date, fields.day_number
        seal(entry, fields.content.as_dict())
    elif fields == entry_fields(entry):
        # Nothing differs from the saved entry (an autosave landing just after a save, say).
        entry.draft_sealed, entry.draft_saved_at = None, None
        db.session.flush()
        return entry
    else:
        seal(entry, fields.snapshot(), "draft_sealed")
    entry.draft_saved_at = utcnow()
    db.session.flush()
    return entry


def discard_unsaved_changes(actor: User, entry: DiaryEntry) -> None:
    object_or_404(entry, policies.owns(actor, entry))
    entry.draft_sealed, entry.draft_saved_at = None, None
    db.session.flush()


def delete_entry(actor: User, entry: DiaryEntry) -> None:
    """Delete the actor's entry with its history, shares and comments."""
    object_or_404(entry, policies.owns(actor, entry))
    db.session.delete(entry)
    db.session.flush()


def entry_versions(actor: User, entry: DiaryEntry) -> list[DiaryEntryVersion]:
    object_or_404(entry, policies.owns(actor, entry))
    return list(db.session.execute(
        select(DiaryEntryVersion).where(DiaryEntryVersion.entry_id == entry.id)
        .order_by(DiaryEntryVersion.id.desc())).scalars())


def own_entry_version(actor: User, entry: DiaryEntry, version_id: int) -> tuple[DiaryEntryVersion, EntryFields]:
    """One earlier version of the actor's entry; 404 for anyone else's or another entry's."""
    object_or_404(entry, policies.owns(actor, entry))
    version = db.session.get(DiaryEntryVersion, version_id)
    object_or_404(version, version is not None and version.entry_id == entry.id and policies.owns(actor, version))
    return version, EntryFields.from_snapshot(unseal(version))


# ---------------------------------------------------------------------------
# Sharing entries with supervisors
# ---------------------------------------------------------------------------

def _enrolments_of(trainee_id: int, *, with_supervisors: bool = False) -> list[Enrolment]:
    query = select(Enrolment).where(Enrolment.trainee_id == trainee_id).order_by(Enrolment.id)
    if with_supervisors:
        query = query.options(selectinload(Enrolment.academic_supervisor),
                              selectinload(Enrolment.personal_supervisor))
    return list(db.session.execute(query).scalars())


@dataclass(frozen=True)
class SupervisorLink:
    """One of the trainee's supervisors, as offered for sharing."""

    user: User
    relationship: str

    @property
    def label(self) -> str:
        return RELATIONSHIP_LABELS[self.relationship]


def supervisors_of(trainee: User) -> list[SupervisorLink]:
    """The trainee's current supervisors, academic first."""
    enrolments = _enrolments_of(trainee.id, with_supervisors=True)
    links = policies.supervisor_links(enrolments)
    people = {}
    for enrolment in enrolments:
        for person in (enrolment.academic_supervisor, enrolment.personal_supervisor):
            if person is not None:
                people[person.id] = person
    found = [SupervisorLink(people[user_id], relationship) for user_id, relationship in links.items()
             if user_id != trainee.id]
    return sorted(found, key=lambda link: (link.relationship != policies.ACADEMIC, link.user.display_name))


def share_entry(actor: User, entry: DiaryEntry, supervisor_id: int | None) -> str | None:
    """Share the actor's entry with one of their supervisors. Returns a problem to show, or None."""
    object_or_404(entry, policies.owns(actor, entry))
    if entry.status != SAVED:
        return "Save this entry before sharing it."
    enrolments = _enrolments_of(actor.id)
    if supervisor_id is None or not policies.can_share_entry_with(actor, supervisor_id, enrolments):
        return "You can share an entry only with your own academic supervisor or personal supervisor."
    relationship = policies.supervisor_links(enrolments)[supervisor_id]
    share = next((s for s in entry.shares if s.supervisor_id == supervisor_id), None)
    if share is not None and share.active:
        return None
    if share is None:
        share = DiaryShare(entry=entry, trainee_id=actor.id, supervisor_id=supervisor_id)
        db.session.add(share)
    share.relationship_to_trainee = relationship
    share.shared_at, share.withdrawn_at = utcnow(), None
    db.session.flush()
    record(actor, "diary_entry.shared", "diary_entry", entry.id, after={"supervisor_id": supervisor_id,
           "relationship": relationship}, subject_user_id=actor.id)
    supervisor = db.session.get(User, supervisor_id)
    notify(supervisor, "A diary entry has been shared with you",
           f"{actor.display_name} has shared a reflective diary entry with you.",
           link=url_for("diary.shared_entry", entry_id=entry.id))
    return None


def withdraw_entry_share(actor: User, entry: DiaryEntry, supervisor_id: int | None) -> str | None:
    """Stop sharing the actor's entry with a supervisor; they can no longer open it."""
    object_or_404(entry, policies.owns(actor, entry))
    share = next((s for s in entry.shares if s.supervisor_id == supervisor_id and s.active), None)
    if share is None:
        return "This entry is not shared with that person, so there is nothing to stop."
    share.withdrawn_at = utcnow()
    db.session.flush()
    record(actor, "diary_entry.share_withdrawn", "diary_entry", entry.id,
           before={"supervisor_id": supervisor_id}, subject_user_id=actor.id)
    return None


# ---------------------------------------------------------------------------
# The supervisor's side
# ---------------------------------------------------------------------------

@dataclass
class SharedEntry:
    """A shared entry as its supervisor sees it: saved words and their own comments only."""

    entry: DiaryEntry
    share: DiaryShare
    fields: EntryFields
    trainee: User
    my_comments: list[tuple[DiaryComment, str]]


def shared_entry_for(actor: User, entry_id: int) -> SharedEntry:
    """An entry shared with the actor; 404 when it is not (or no longer) shared with them."""
    entry = db.session.execute(
        select(DiaryEntry).where(DiaryEntry.id == entry_id, DiaryEntry.status == SAVED)
        .options(selectinload(DiaryEntry.shares), selectinload(DiaryEntry.trainee),
                 selectinload(DiaryEntry.comments))
    ).scalar_one_or_none()
    share = next((s for s in entry.shares if s.supervisor_id == actor.id), None) if entry else None
    enrolments = _enrolments_of(entry.trainee_id) if share is not None else []
    object_or_404(entry, policies.can_view_shared_entry(actor, share, enrolments))
    return SharedEntry(entry, share, entry_fields(entry), entry.trainee, comments_on(entry, actor.id))


def add_comment(actor: User, entry_id: int, body: str) -> tuple[SharedEntry, str | None]:
    """Comment on an entry shared with the actor and tell the trainee (without the words)."""
    shared = shared_entry_for(actor, entry_id)
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        return shared, "Write your comment before sending it."
    if len(body) > COMMENT_LIMIT:
        return shared, (f"Keep your comment under {COMMENT_LIMIT:,} characters (it is {len(body):,} now). "
                        "Your words are still in the box below.")
    comment = DiaryComment(entry_id=shared.entry.id, trainee_id=shared.entry.trainee_id, author_id=actor.id)
    db.session.add(comment)
    seal(comment, {"body": body})
    notify(shared.trainee, "New comment on your diary entry",
           f"{actor.display_name} has commented on a diary entry you shared with them.",
           link=url_for("diary.entry", entry_id=shared.entry.id))
    db.session.flush()
    return shared, None


@dataclass
class SharedEntrySummary:
    share: DiaryShare
    title: str
    trainee: User
    waiting: bool
    last_commented_at: datetime | None


@dataclass
class SharedWithMe:
    entries: list[SharedEntrySummary] = field(default_factory=list)
    plans: list[WellnessPlan] = field(default_factory=list)


def shared_with_me(actor: User) -> SharedWithMe:
    """Entries (waiting for a comment first) and wellness plans shared with the actor.

    A fixed number of queries, however many trainees share with them.
    """
    shares = list(db.session.execute(
        select(DiaryShare).join(DiaryEntry, DiaryEntry.id == DiaryShare.entry_id)
        .where(DiaryShare.supervisor_id == actor.id, DiaryShare.withdrawn_at.is_(None),
               DiaryEntry.status == SAVED)
        .options(selectinload(DiaryShare.entry), selectinload(DiaryShare.trainee))
    ).scalars())
    linked = _trainees_linked_to(actor)
    my_comments: dict[int, datetime] = dict(db.session.execute(
        select(DiaryComment.entry_id, func.max(DiaryComment.created_at))
        .where(DiaryComment.author_id == actor.id, DiaryComment.entry_id.in_([s.entry_id for s in shares]))
        .group_by(DiaryComment.entry_id)
    ).all()) if shares else {}
    summaries = []
    for share in shares:
        if share.trainee_id not in linked:
            continue
        last = my_comments.get(share.entry_id)
        latest_change = max(share.shared_at, share.entry.saved_at or share.shared_at)
        summaries.append(SharedEntrySummary(share, entry_content(share.entry).title, share.trainee,
                                            waiting=last is None or last < latest_change,
                                            last_commented_at=last))
    summaries.sort(key=lambda s: (not s.waiting, -s.share.shared_at.timestamp()))
    personal = {trainee for trainee, kinds in linked.items() if policies.PERSONAL in kinds}
    plans = [plan for plan in db.session.execute(
        select(WellnessPlan).where(WellnessPlan.shared_with_id == actor.id)
        .options(selectinload(WellnessPlan.trainee))
    ).scalars() if plan.trainee_id in personal]
    return SharedWithMe(summaries, plans)


def _trainees_linked_to(actor: User) -> dict[int, set[str]]:
    """{trainee id: {academic_supervisor, personal_supervisor}} of the trainees the actor supervises now."""
    linked: dict[int, set[str]] = {}
    rows = db.session.execute(
        select(Enrolment.trainee_id, Enrolment.academic_supervisor_id, Enrolment.personal_supervisor_id)
        .where(or_(Enrolment.academic_supervisor_id == actor.id, Enrolment.personal_supervisor_id == actor.id),
               Enrolment.status.not_in(policies.ENDED))
    ).all()
    for trainee_id, academic_id, personal_id in rows:
        kinds = linked.setdefault(trainee_id, set())
        if academic_id == actor.id:
            kinds.add(policies.ACADEMIC)
        if personal_id == actor.id:
            kinds.add(policies.PERSONAL)
    return linked


# ---------------------------------------------------------------------------
# Wellness plan
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanSection:
    key: str
    heading: str
    hint: str
    group: str | None = None


PLAN_SECTIONS = (
    PlanSection("well", "What I’m like when I’m well",
                "How you would describe yourself when you feel well: what you do, how you are with people."),
    PlanSection("daily_tools", "My daily wellness tools",
                "Things that help you stay well day to day, such as a walk, music or talking to a friend."),
    PlanSection("triggers", "Triggers and what I can do",
                "Things that can knock you off balance, and what you can do when they happen."),
    PlanSection("early_warning", "Early warning signs and what I can do",
                "Small changes you or others notice when things start to slip, and how you respond."),
    PlanSection("breaking_down", "When things are breaking down",
                "Signs that things are getting much harder, and what you and others can do then."),
    PlanSection("crisis_people", "People to contact", "Names and numbers of people you would like to be contacted, "
                "and what you would like each of them to do.", "My crisis plan"),
    PlanSection("crisis_helps", "What helps", "What other people can do that helps you in a crisis.",
                "My crisis plan"),
    PlanSection("crisis_does_not_help", "What doesn’t help", "What you would like people not to do.",
                "My crisis plan"),
    PlanSection("after_crisis", "After a crisis",
                "What helps you recover afterwards, and how you would like to be supported back."),
)
SECTION_KEYS = tuple(section.key for section in PLAN_SECTIONS)


def own_plan(actor: User) -> WellnessPlan | None:
    """The actor's wellness plan with its versions and who it is shared with, or None."""
    return db.session.execute(
        select(WellnessPlan).where(WellnessPlan.trainee_id == actor.id)
        .options(selectinload(WellnessPlan.versions), selectinload(WellnessPlan.shared_with))
    ).scalar_one_or_none()


def plan_sections(version: WellnessPlanVersion | None) -> dict[str, str]:
    """The words of a plan version, one entry per section (empty when none yet)."""
    data = unseal(version) if version is not None else None
    sections = (data or {}).get("sections", {})
    return {key: sections.get(key, "") for key in SECTION_KEYS}


def read_plan_form(values: dict[str, str]) -> tuple[dict[str, str], Problems]:
    sections = {key: (values.get(key) or "").replace("\r\n", "\n").strip() for key in SECTION_KEYS}
    problems = [(key, f"Keep this section under {SECTION_LIMIT:,} characters (it is {len(text):,} now). "
                      "Your words are still in the box.")
                for key, text in sections.items() if len(text) > SECTION_LIMIT]
    return sections, problems


def save_plan(actor: User, sections: dict[str, str]) -> WellnessPlanVersion | None:
    """Save the actor's plan as a new dated version. Returns None when nothing had changed."""
    plan = own_plan(actor)
    if plan is None:
        plan = WellnessPlan(trainee_id=actor.id)
        db.session.add(plan)
        db.session.flush()
        latest = None
    else:
        latest = plan.versions[-1] if plan.versions else None
    if latest is not None and plan_sections(latest) == sections:
        return None
    version = WellnessPlanVersion(plan_id=plan.id, trainee_id=actor.id,
                                  number=(latest.number + 1) if latest else 1, saved_at=utcnow())
    db.session.add(version)
    seal(version, {"sections": sections})
    db.session.flush()
    return version


def own_plan_version(actor: User, version_id: int) -> WellnessPlanVersion:
    """One version of the actor's own plan; 404 for anyone else's."""
    version = db.session.get(WellnessPlanVersion, version_id)
    return object_or_404(version, policies.owns(actor, version))


def share_plan(actor: User, supervisor_id: int | None) -> str | None:
    """Share the actor's plan with their personal supervisor. Returns a problem to show, or None."""
    plan = own_plan(actor)
    if plan is None or not plan.versions:
        return "Save your wellness plan before sharing it."
    if supervisor_id is None or not policies.can_share_plan_with(actor, supervisor_id, _enrolments_of(actor.id)):
        return "You can share your wellness plan only with your own personal supervisor."
    if plan.shared_with_id == supervisor_id:
        return None
    plan.shared_with_id, plan.shared_at = supervisor_id, utcnow()
    db.session.flush()
    record(actor, "wellness_plan.shared", "wellness_plan", plan.id, after={"supervisor_id": supervisor_id},
           subject_user_id=actor.id)
    notify(db.session.get(User, supervisor_id), "A wellness plan has been shared with you",
           f"{actor.display_name} has shared their wellness plan with you, to help agree support at work.",
           link=url_for("diary.shared_plan", plan_id=plan.id))
    return None


def withdraw_plan(actor: User) -> str | None:
    plan = own_plan(actor)
    if plan is None or plan.shared_with_id is None:
        return "Your wellness plan is not shared with anyone, so there is nothing to stop."
    before = {"supervisor_id": plan.shared_with_id}
    plan.shared_with_id, plan.shared_at = None, None
    db.session.flush()
    record(actor, "wellness_plan.share_withdrawn", "wellness_plan", plan.id, before=before,
           subject_user_id=actor.id)
    return None


def shared_plan_for(actor: User, plan_id: int) -> tuple[WellnessPlan, WellnessPlanVersion]:
    """The latest version of a plan shared with the actor; 404 otherwise."""
    plan = db.session.execute(
        select(WellnessPlan).where(WellnessPlan.id == plan_id)
        .options(selectinload(WellnessPlan.versions), selectinload(WellnessPlan.trainee))
    ).scalar_one_or_none()
    enrolments = _enrolments_of(plan.trainee_id) if plan is not None and plan.shared_with_id == actor.id else []
    object_or_404(plan, policies.can_view_shared_plan(actor, plan, enrolments) and bool(plan.versions))
    return plan, plan.versions[-1]


# ---------------------------------------------------------------------------
# Personal data: export and erasure
# ---------------------------------------------------------------------------

def export_for(user: User) -> dict:
    """Everything the diary holds about ``user``, decrypted, for their personal data export."""
    entries = db.session.execute(
        select(DiaryEntry).where(DiaryEntry.trainee_id == user.id).order_by(DiaryEntry.id)
        .options(selectinload(DiaryEntry.versions), selectinload(DiaryEntry.shares).selectinload(DiaryShare.supervisor),
                 selectinload(DiaryEntry.comments).selectinload(DiaryComment.author))
    ).scalars()
    exported_entries = []
    for entry in entries:
        draft = unsaved_changes(entry)
        exported_entries.append({
            "id": entry.id, "status": entry.status, "date": entry.entry_date.isoformat(),
            "course_day": entry.day_number, "created_at": entry.created_at.isoformat(),
            "saved_at": entry.saved_at.isoformat() if entry.saved_at else None,
            **entry_content(entry).as_dict(),
            "unsaved_changes": draft.snapshot() if draft else None,
            "history": [{"saved_at": v.saved_at.isoformat(), **unseal(v)} for v in entry.versions],
            "shares": [{"with": s.supervisor.display_name, "as": RELATIONSHIP_LABELS.get(s.relationship_to_trainee),
                        "shared_at": s.shared_at.isoformat(),
                        "withdrawn_at": s.withdrawn_at.isoformat() if s.withdrawn_at else None} for s in entry.shares],
            "comments": [{"by": c.author.display_name if c.author else "A former supervisor",
                          "at": c.created_at.isoformat(), "comment": unseal(c)["body"]} for c in entry.comments],
        })
    written = db.session.execute(
        select(DiaryComment).where(DiaryComment.author_id == user.id, DiaryComment.trainee_id != user.id)
        .order_by(DiaryComment.id)).scalars()
    plan = own_plan(user)
    settings = settings_for(user)
    return {
        "diary_settings": {"wellbeing_check_in": settings.mood_check_in},
        "diary_entries": exported_entries,
        "diary_comments_written": [{"entry_id": c.entry_id, "at": c.created_at.isoformat(),
                                    "comment": unseal(c)["body"]} for c in written],
        "wellness_plan": None if plan is None else {
            "shared_with": plan.shared_with.display_name if plan.shared_with else None,
            "versions": [{"number": v.number, "saved_at": v.saved_at.isoformat(), "sections": plan_sections(v)}
                         for v in plan.versions],
        },
    }


def erase_for(user: User) -> dict[str, int]:
    """Remove ``user``'s diary, its history and their wellness plan (an approved erasure).

    Comments ``user`` wrote on other trainees' entries stay with those
    trainees but no longer name them; shares made to ``user`` end. Flushes,
    never commits; the erasure itself is audited by lms.privacy. Returns
    counts of what was removed.
    """
    entries = db.session.execute(
        select(func.count(DiaryEntry.id)).where(DiaryEntry.trainee_id == user.id)).scalar_one()
    plans = db.session.execute(
        select(func.count(WellnessPlan.id)).where(WellnessPlan.trainee_id == user.id)).scalar_one()
    # Children first, so the erasure does not rely on the database cascading.
    for model in (DiaryComment, DiaryShare, DiaryEntryVersion):
        db.session.execute(delete(model).where(model.trainee_id == user.id))
    db.session.execute(delete(DiaryEntry).where(DiaryEntry.trainee_id == user.id))
    db.session.execute(delete(WellnessPlanVersion).where(WellnessPlanVersion.trainee_id == user.id))
    db.session.execute(delete(WellnessPlan).where(WellnessPlan.trainee_id == user.id))
    db.session.execute(delete(DiarySettings).where(DiarySettings.trainee_id == user.id))
    db.session.execute(update(DiaryComment).where(DiaryComment.author_id == user.id).values(author_id=None))
    db.session.execute(delete(DiaryShare).where(DiaryShare.supervisor_id == user.id))
    db.session.execute(update(WellnessPlan).where(WellnessPlan.shared_with_id == user.id)
                       .values(shared_with_id=None, shared_at=None))
    db.session.expire_all()
    return {"diary_entries": entries, "wellness_plans": plans}
