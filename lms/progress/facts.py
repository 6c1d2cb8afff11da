"""Gathering each trainee's facts for the rules engine, in a bounded number of queries.

Every other domain contributes what it knows (attendance figures, attempts at
assessments, diary entry counts, units done). A domain that is not installed
simply contributes nothing, so the progress pages still work without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import case, exists, func, select

from lms.cohorts.models import Enrolment
from lms.extensions import db
from lms.progress.models import AssessmentOptOut, BoardDecision, ExamBoard
from lms.progress.rules import AttendanceFacts, Award, Facts, Rules
from lms.progress.rules_file import load_rules_path


class RulesUnavailable(Exception):
    """The course's rules.toml is missing or invalid."""


@lru_cache(maxsize=32)
def _rules_at(path: str) -> tuple[Rules | None, tuple[str, ...]]:
    loaded, problems = load_rules_path(path)
    return loaded, tuple(str(problem) for problem in problems)


def rules_for(course_slug: str) -> Rules:
    """The course's credit-level rules, read once per process from assessments/<course>/rules.toml."""
    path = Path(current_app.config["LMS_ASSESSMENTS_DIR"]) / course_slug / "rules.toml"
    loaded, problems = _rules_at(str(path))
    if loaded is None:
        raise RulesUnavailable("; ".join(problems) or f"No rules for the course {course_slug}.")
    return loaded


@dataclass
class Extras:
    """What the pages show beside the engine's facts."""

    per_day: tuple[str, ...] = ()  # attendance outcome of each planned day (counted, missed, caught_up, pending)
    day_dates: tuple[date, ...] = ()
    units_done: int = 0
    diary_entries: int = 0
    shared_entries: int = 0
    waiting_for_comment: int = 0  # of those shared with the viewer, how many they have not commented on
    extension: str = ""  # latest extension request's status, if any
    mitigation: str = ""  # latest mitigating circumstances claim's status, if any
    last_activity: datetime | None = None
    ratified: bool = False
    locked_decision: BoardDecision | None = None  # the ratification that locks the outcome, if any
    notes: list[str] = field(default_factory=list)


def _attendance(enrolments: list[Enrolment]) -> dict[int, tuple[AttendanceFacts, tuple[str, ...], tuple[date, ...]]]:
    try:
        from lms.attendance.services import attendance_of
    except ImportError:
        return {}
    result = {}
    for record in attendance_of(enrolments, figures_only=True):
        figures = record.figures
        counted_catch_ups = figures.caught_up_counted
        result[record.enrolment.id] = (
            AttendanceFacts(planned=figures.planned, attended=figures.counted - counted_catch_ups,
                            caught_up=counted_catch_ups + figures.caught_up_beyond_cap, remaining=figures.remaining),
            tuple(str(outcome) for outcome in figures.per_day),
            tuple(day.date for day in record.days),
        )
    return result


def _coursework(ids: list[int], released_only: bool) -> tuple[dict[int, dict], dict[int, str], dict[int, str],
                                                               dict[int, datetime]]:
    """Attempts as facts, and the latest extension and mitigation status and last coursework activity, per
    enrolment (empty when coursework is not installed)."""
    try:
        from lms.coursework.services import coursework_facts
    except ImportError:
        return {}, {}, {}, {}
    found = coursework_facts(ids, released_only=released_only)
    return found.assessments, found.extension, found.mitigation, found.touched


def _diary(trainee_ids: list[int], viewer_id: int | None) -> tuple[dict[int, int], dict[int, datetime], dict[int, int]]:
    try:
        from lms.diary.models import SAVED, DiaryEntry, DiaryShare
    except ImportError:
        return {}, {}, {}
    rows = db.session.execute(
        select(DiaryEntry.trainee_id, func.count(DiaryEntry.id), func.max(DiaryEntry.saved_at))
        .where(DiaryEntry.trainee_id.in_(trainee_ids), DiaryEntry.status == SAVED)
        .group_by(DiaryEntry.trainee_id)).all()
    shared = {}
    if viewer_id is not None:
        from lms.diary.models import DiaryComment

        # (shared with the viewer, of which the viewer has not commented on yet) per trainee.
        answered = exists().where(DiaryComment.entry_id == DiaryShare.entry_id,
                                  DiaryComment.author_id == viewer_id)
        shared = {trainee_id: (total, int(waiting or 0)) for trainee_id, total, waiting in db.session.execute(
            select(DiaryShare.trainee_id, func.count(DiaryShare.id),
                   func.sum(case((answered, 0), else_=1)))
            .where(DiaryShare.trainee_id.in_(trainee_ids), DiaryShare.supervisor_id == viewer_id,
                   DiaryShare.withdrawn_at.is_(None))
            .group_by(DiaryShare.trainee_id))}
    return ({t: n for t, n, _ in rows}, {t: last for t, _, last in rows if last is not None}, shared)


def _units(ids: list[int]) -> dict[int, int]:
    try:
        from lms.curriculum.services import units_done_counts
    except ImportError:
        return {}
    return units_done_counts(ids)


def _decisions(ids: list[int]) -> tuple[set[int], dict[int, int], dict[int, BoardDecision]]:
    """From the standing (not superseded) decisions, in one query: enrolments with a ratified outcome, extra
    attempts an exam board allowed, and each enrolment's ratification that locks its outcome (its latest
    decision by a board that has ratified, when that decision ratified an award)."""
    ratified: set[int] = set()
    extra: dict[int, int] = {}
    standing: dict[int, BoardDecision] = {}
    for decision, status in db.session.execute(
            select(BoardDecision, ExamBoard.status).join(ExamBoard, BoardDecision.board_id == ExamBoard.id)
            .where(BoardDecision.enrolment_id.in_(ids), BoardDecision.superseded.is_(False))
            .order_by(BoardDecision.id)):
        if decision.decision == "ratify" and status == "ratified":
            ratified.add(decision.enrolment_id)
        elif decision.decision == "extra_attempt":
            extra[decision.enrolment_id] = extra.get(decision.enrolment_id, 0) + 1
        if status == "ratified":
            standing[decision.enrolment_id] = decision
    awards = {award.value for award in Award}
    locked = {enrolment_id: decision for enrolment_id, decision in standing.items()
              if decision.decision == "ratify" and decision.award in awards}
    return ratified, extra, locked


def extra_attempts(ids: list[int]) -> dict[int, int]:
    """Extra attempts exam boards have allowed, per enrolment (standing decisions only)."""
    return _decisions(ids)[1]


def _opted_out(ids: list[int]) -> set[int]:
    """Enrolments whose latest recorded change says the trainee opted out of assessment."""
    latest: dict[int, bool] = {}
    for enrolment_id, opted_out in db.session.execute(
            select(AssessmentOptOut.enrolment_id, AssessmentOptOut.opted_out)
            .where(AssessmentOptOut.enrolment_id.in_(ids)).order_by(AssessmentOptOut.id)):
        latest[enrolment_id] = opted_out
    return {enrolment_id for enrolment_id, opted_out in latest.items() if opted_out}


def facts_for(enrolments: list[Enrolment], as_of: datetime, *, released_only: bool = True,
              viewer_id: int | None = None) -> tuple[dict[int, Facts], dict[int, Extras]]:
    """Each enrolment's facts for the engine, and the extras the grids show.

    `enrolments` must have their cohort and its days loaded. With
    `released_only` (trainees' and supervisors' views) a mark counts only once
    it is released; staff views pass False so agreed marks count too.
    `viewer_id` counts the diary entries shared with that supervisor.
    The number of queries does not depend on how many enrolments there are.
    """
    if not enrolments:
        return {}, {}
    ids = [e.id for e in enrolments]
    trainee_ids = [e.trainee_id for e in enrolments]
    attendance = _attendance(enrolments)
    assessments, extensions, claims, touched = _coursework(ids, released_only)
    diary_counts, diary_last, shared = _diary(trainee_ids, viewer_id)
    units = _units(ids)
    ratified, extra, locked = _decisions(ids)
    opted_out = _opted_out(ids)

    facts: dict[int, Facts] = {}
    extras: dict[int, Extras] = {}
    for enrolment in enrolments:
        days = list(enrolment.cohort.days)
        planned = len(days)
        att, per_day, day_dates = attendance.get(enrolment.id, (
            AttendanceFacts(planned=planned, attended=0, remaining=sum(1 for d in days if d.date >= as_of.date())),
            (), tuple(d.date for d in days)))
        count = diary_counts.get(enrolment.trainee_id, 0)
        attempts = assessments.get(enrolment.id, {})
        if extra.get(enrolment.id):
            attempts = {slug: replace(a, extra_attempts_allowed=extra[enrolment.id]) for slug, a in attempts.items()}
        facts[enrolment.id] = Facts(as_of=as_of, attendance=att, assessments=attempts,
                                    diary_entries=count, ratified=enrolment.id in ratified,
                                    opted_out_of_assessment=enrolment.id in opted_out)
        last = [moment for moment in (diary_last.get(enrolment.trainee_id), touched.get(enrolment.id)) if moment]
        shared_here, waiting_here = shared.get(enrolment.trainee_id, (0, 0))
        counted_days = [d for d, outcome in zip(day_dates, per_day) if outcome in ("counted", "caught_up")]
        if counted_days:
            last.append(datetime.combine(max(counted_days), datetime.min.time(), tzinfo=as_of.tzinfo))
        extras[enrolment.id] = Extras(
            per_day=per_day, day_dates=day_dates, units_done=units.get(enrolment.id, 0), diary_entries=count,
            shared_entries=shared_here, waiting_for_comment=waiting_here, extension=extensions.get(enrolment.id, ""),
            mitigation=claims.get(enrolment.id, ""), last_activity=max(last) if last else None,
            ratified=enrolment.id in ratified, locked_decision=locked.get(enrolment.id))
    return facts, extras


def facts_to_dict(facts: Facts) -> dict:
    """The facts in the JSON form `lms rules check --facts` reads (see the README)."""
    def moment(value):
        return value.isoformat() if value is not None else None

    return {
        "as_of": moment(facts.as_of),
        "attendance": {"planned": facts.attendance.planned, "attended": facts.attendance.attended,
                       "caught_up": facts.attendance.caught_up, "remaining": facts.attendance.remaining},
        "assessments": {slug: {"attempts": [
            {"due": moment(a.due), "extension_until": moment(a.extension_until), "submitted_at": moment(a.submitted_at),
             "mark": a.mark, "mitigation_accepted": a.mitigation_accepted} for a in assessment.attempts]}
            for slug, assessment in facts.assessments.items()},
        "opted_out_of_assessment": facts.opted_out_of_assessment,
        "diary_entries": facts.diary_entries,
        "ratified": facts.ratified,
    }
