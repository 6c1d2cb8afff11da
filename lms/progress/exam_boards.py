"""Exam boards: proposed outcomes from the engine, the board's decisions, ratification and corrections.

Ratification locks the outcomes: afterwards a change is a recorded correction
(a new decision pointing at the one it corrects, with a reason; the old one is
kept, marked superseded). The certificates domain reads ratified decisions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from lms.accounts.models import User
from lms.audit.services import record
from lms.authz.access import object_or_404
from lms.cohorts.models import Cohort, Enrolment
from lms.database import utcnow
from lms.extensions import db
from lms.progress.models import BoardDecision, ExamBoard
from lms.progress.policies import can_run_exam_boards
from lms.progress.rules import outcome_to_dict
from lms.progress.services import ProgressRow, build_rows, enrolment_options

DECISIONS = {"ratify": "Ratify the proposed outcome", "defer": "Defer the decision",
             "extra_attempt": "Allow an extra attempt"}
AWARDS = ("credit", "completion", "none")


class BoardRefused(Exception):
    """The request cannot be carried out as it stands; `errors` say why, field by field."""

    def __init__(self, errors: list[tuple[str, str]], status: int = 400):
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors
        self.status = status


def _admin_only(actor: User) -> None:
    if not can_run_exam_boards(actor):
        abort(403)


def boards(actor: User) -> tuple[list[Cohort], dict[int, ExamBoard]]:
    """Cohorts (for opening a board) and each cohort's board, if any."""
    _admin_only(actor)
    cohorts = list(db.session.execute(select(Cohort).order_by(Cohort.start_date.desc())).scalars())
    by_cohort = {b.cohort_id: b for b in db.session.execute(select(ExamBoard).order_by(ExamBoard.id)).scalars()}
    return cohorts, by_cohort


def open_board(actor: User, cohort_id, held_on: str, members: str, comments: str) -> ExamBoard:
    """Open the exam board for a cohort (one per cohort). Raises BoardRefused with the problems."""
    _admin_only(actor)
    errors = []
    try:
        cohort = db.session.get(Cohort, int(cohort_id))
    except (TypeError, ValueError):
        cohort = None
    if cohort is None:
        errors.append(("cohort_id", "Choose the cohort the board is for."))
    elif db.session.execute(select(ExamBoard.id).where(ExamBoard.cohort_id == cohort.id)).first():
        errors.append(("cohort_id", f"{cohort.name} already has an exam board; open it from the list."))
    try:
        day = date.fromisoformat((held_on or "").strip())
    except ValueError:
        day = None
        errors.append(("held_on", "Enter the date the board meets, for example 2027-03-15."))
    if not (members or "").strip():
        errors.append(("members", "List the board's members, one per line."))
    if errors:
        raise BoardRefused(errors)
    board = ExamBoard(cohort_id=cohort.id, held_on=day, members=members.strip(),
                      external_examiner_comments=(comments or "").strip(), opened_by_id=actor.id)
    db.session.add(board)
    db.session.flush()
    record(actor, "exam_board.opened", "exam_board", board.id, cohort_id=cohort.id,
           after={"held_on": day.isoformat()})
    return board


@dataclass
class BoardPage:
    board: ExamBoard
    rows: list[ProgressRow]
    current: dict[int, BoardDecision]  # the standing decision per enrolment
    history: list[BoardDecision]
    moderation: list
    examiner_comments: list
    mitigation: list
    # Marks agreed since the board ratified (referrals, late marking), waiting for the board: enrolment → count.
    waiting: dict[int, int] = None
    # The cohort's marks ratified and not yet released to trainees.
    unreleased: int = 0


def _board(actor: User, board_id: int) -> ExamBoard:
    _admin_only(actor)
    board = db.session.execute(
        select(ExamBoard).options(joinedload(ExamBoard.cohort).selectinload(Cohort.days),
                                  selectinload(ExamBoard.decisions))
        .where(ExamBoard.id == board_id)).unique().scalar_one_or_none()
    return object_or_404(board, board is not None)


def _proposals(board: ExamBoard, as_of: datetime) -> list[ProgressRow]:
    enrolments = list(db.session.execute(
        select(Enrolment).options(*enrolment_options()).where(Enrolment.cohort_id == board.cohort_id)).scalars())
    rows = build_rows(enrolments, as_of, released_only=False)
    return sorted(rows, key=lambda row: row.trainee.display_name.casefold())


def _standing(board: ExamBoard) -> dict[int, BoardDecision]:
    current: dict[int, BoardDecision] = {}
    for decision in board.decisions:
        if not decision.superseded:
            current[decision.enrolment_id] = decision
    return current


def _coursework_records(cohort_id: int) -> tuple[list, list, list]:
    """The moderation record, examiner comments and mitigation decisions, if coursework is installed."""
    try:
        from lms.coursework.models import Assignment, ExaminerComment, MitigatingClaim, Submission
    except ImportError:
        return [], [], []
    moderation = list(db.session.execute(
        select(Submission).options(joinedload(Submission.candidate), joinedload(Submission.assignment))
        .join(Assignment, Submission.assignment_id == Assignment.id)
        .where(Assignment.cohort_id == cohort_id, Submission.first_mark.is_not(None))
        .order_by(Submission.candidate_id, Submission.attempt)).unique().scalars())
    comments = list(db.session.execute(
        select(ExaminerComment).options(joinedload(ExaminerComment.author))
        .join(Assignment, ExaminerComment.assignment_id == Assignment.id)
        .where(Assignment.cohort_id == cohort_id).order_by(ExaminerComment.created_at)).unique().scalars())
    # Category and decision only: the details are health information and stay in coursework.
    mitigation = list(db.session.execute(
        select(MitigatingClaim).options(joinedload(MitigatingClaim.submission).joinedload(Submission.candidate))
        .join(Submission, MitigatingClaim.submission_id == Submission.id)
        .join(Assignment, Submission.assignment_id == Assignment.id)
        .where(Assignment.cohort_id == cohort_id).order_by(MitigatingClaim.id)).unique().scalars())
    return moderation, comments, mitigation


def _cohort_marks(cohort_id: int, enrolment_id: int | None = None, state: str = "agreed") -> list[tuple[int, int]]:
    """(submission id, enrolment id) of the cohort's marks in `state`: by default agreed, not yet ratified."""
    try:
        from lms.coursework.models import Assignment, Submission
    except ImportError:
        return []
    query = (select(Submission.id, Submission.enrolment_id).join(Assignment, Submission.assignment_id == Assignment.id)
             .where(Assignment.cohort_id == cohort_id, Submission.state == state).order_by(Submission.id))
    if enrolment_id is not None:
        query = query.where(Submission.enrolment_id == enrolment_id)
    return [(row[0], row[1]) for row in db.session.execute(query)]


def _ratify_agreed(actor: User, board: ExamBoard, enrolment_id: int | None = None) -> int:
    waiting = _cohort_marks(board.cohort_id, enrolment_id)
    if not waiting:
        return 0
    from lms.coursework.marking import ratify_marks

    return ratify_marks(actor, board.cohort_id, submission_ids=[submission_id for submission_id, _ in waiting])


def board_page(actor: User, board_id: int, as_of: datetime) -> BoardPage:
    """Everything the board looks at, in a bounded number of queries."""
    board = _board(actor, board_id)
    moderation, comments, mitigation = _coursework_records(board.cohort_id)
    history = sorted(board.decisions, key=lambda d: d.id, reverse=True)
    waiting: dict[int, int] = {}
    unreleased = 0
    if board.status == "ratified":
        for _, enrolment_id in _cohort_marks(board.cohort_id):
            waiting[enrolment_id] = waiting.get(enrolment_id, 0) + 1
        unreleased = len(_cohort_marks(board.cohort_id, state="ratified"))
    return BoardPage(board, _proposals(board, as_of), _standing(board), history, moderation, comments, mitigation,
                     waiting, unreleased)


def release_marks(actor: User, board_id: int, version, as_of: datetime) -> int:
    """Release every ratified mark of the board's cohort to its trainees at once. Returns how many."""
    board = _board(actor, board_id)
    _check_version(board, version)
    if board.status != "ratified":
        raise BoardRefused([("release", "The board is still open: marks are released once it has ratified them.")])
    from lms.coursework.marking import release_cohort

    count = release_cohort(actor, board.cohort_id, now=as_of)
    if not count:
        raise BoardRefused([("release", "There are no ratified marks waiting to be released: trainees already "
                                        "have every mark the board ratified.")], 409)
    return count


def ratify_since(actor: User, board_id: int, version, reason: str, as_of: datetime) -> tuple[int, int]:
    """After the board has ratified: ratify the marks agreed since (a referral, a script marked late), and
    record a ratification for each trainee whose outcome was deferred (or had no decision, or whose standing
    decision no longer matches) and can now be decided. Each new decision corrects the one it replaces.

    Returns (marks ratified, outcomes ratified). Raises BoardRefused when there is nothing to do or no reason.
    """
    board = _board(actor, board_id)
    _check_version(board, version)
    if board.status != "ratified":
        raise BoardRefused([("since-reason", "The board is still open: ratify its outcomes first.")])
    reason = (reason or "").strip()
    if not reason:
        raise BoardRefused([("since-reason", "Give the reason, for example \u201cSecond-attempt marks agreed after "
                                             "the board met, ratified by the chair\u201d. It is kept in the record.")])
    waiting = _cohort_marks(board.cohort_id)
    marks = _ratify_agreed(actor, board)
    changed_enrolments = {enrolment_id for _, enrolment_id in waiting}
    standing = _standing(board)
    outcomes = 0
    for row in _proposals(board, as_of):
        outcome = row.outcome
        if outcome is None or outcome.award is None:
            continue
        previous = standing.get(row.enrolment.id)
        recorded = row.assessment.recorded_mark if row.assessment else None
        unchanged = (previous is not None and previous.decision == "ratify" and previous.award == outcome.award.value
                     and previous.recorded_mark == recorded)
        if unchanged or (previous is not None and previous.decision == "ratify"
                         and row.enrolment.id not in changed_enrolments):
            continue
        if previous is not None:
            previous.superseded = True
        new = _decision_for(actor, board, row, "ratify", reason, corrects=previous)
        db.session.flush()
        record(actor, "exam_board.ratified_since", "board_decision", new.id, cohort_id=board.cohort_id,
               subject_user_id=row.enrolment.trainee_id, reason=reason,
               before={"decision": previous.decision, "award": previous.award} if previous else None,
               after={"decision": "ratify", "award": new.award})
        outcomes += 1
    if not marks and not outcomes:
        raise BoardRefused([("since-reason", "There is nothing waiting for the board: no marks have been agreed "
                                             "since it sat, and no deferred outcome can be decided yet.")], 409)
    _touch(board)
    record(actor, "exam_board.ratified_since", "exam_board", board.id, cohort_id=board.cohort_id, reason=reason,
           after={"marks": marks, "outcomes": outcomes})
    return marks, outcomes


def _check_version(board: ExamBoard, version) -> None:
    try:
        given = int(version)
    except (TypeError, ValueError):
        given = None
    if given != board.version:
        raise BoardRefused([("version", "Someone else changed this exam board while you were looking at it. "
                                        "The page now shows the latest decisions; check them and try again.")], 409)


def _touch(board: ExamBoard) -> None:
    # Any decision bumps the board's version, so two admins cannot both act on what they saw.
    flag_modified(board, "members")
    try:
        db.session.flush()
    except StaleDataError:
        raise BoardRefused([("version", "Someone else changed this exam board at the same moment; "
                                        "check the decisions and try again.")], 409) from None


def _decision_for(actor: User, board: ExamBoard, row: ProgressRow, decision: str, reason: str,
                  corrects: BoardDecision | None = None, award: str | None = None) -> BoardDecision:
    outcome = row.outcome
    proposed = outcome.award.value if outcome is not None and outcome.award else None
    chosen = (award or proposed) if decision == "ratify" else None
    assessment = row.assessment
    new = BoardDecision(
        board_id=board.id, enrolment_id=row.enrolment.id, decision=decision, award=chosen,
        credits=(row.rules.credits if chosen == "credit" and row.rules else 0),
        recorded_mark=assessment.recorded_mark if assessment else None,
        flags=" ".join(flag.value for flag in assessment.flags) if assessment else "",
        outcome_json=json.dumps(outcome_to_dict(outcome) if outcome else {}), reason=reason,
        decided_by_id=actor.id, corrects_id=corrects.id if corrects else None)
    db.session.add(new)
    return new


def ratify_all(actor: User, board_id: int, version, as_of: datetime) -> int:
    """Ratify every proposed outcome that has no decision yet, then lock the board.

    A trainee whose outcome the rules cannot decide yet is deferred. Agreed
    marks move to ratified in coursework. Returns how many were ratified.
    """
    board = _board(actor, board_id)
    _check_version(board, version)
    if board.status == "ratified":
        raise BoardRefused([("board", "This board has already ratified its outcomes; record a correction instead.")])
    standing = _standing(board)
    ratified = 0
    for row in _proposals(board, as_of):
        if row.enrolment.id in standing:
            continue
        if row.outcome is not None and row.outcome.award is not None:
            _decision_for(actor, board, row, "ratify", "Ratified as proposed.")
            ratified += 1
        else:
            deferred = _decision_for(actor, board, row, "defer", "Deferred: the outcome cannot be decided yet.")
            _open_attempts(actor, deferred, as_of)
    board.status = "ratified"
    board.ratified_at = utcnow()
    _touch(board)
    try:
        from lms.coursework.marking import ratify_marks
    except ImportError:
        ratify_marks = None
    if ratify_marks is not None:
        ratify_marks(actor, board.cohort_id)
    record(actor, "exam_board.ratified", "exam_board", board.id, cohort_id=board.cohort_id,
           after={"ratified": ratified})
    return ratified


def _row_for(board: ExamBoard, enrolment_id, as_of: datetime) -> ProgressRow:
    try:
        wanted = int(enrolment_id)
    except (TypeError, ValueError):
        wanted = None
    row = next((r for r in _proposals(board, as_of) if r.enrolment.id == wanted), None)
    if row is None:
        raise BoardRefused([("enrolment_id", "Choose a trainee of this cohort.")])
    return row


def decide(actor: User, board_id: int, enrolment_id, decision: str, reason: str, version, as_of: datetime
           ) -> BoardDecision:
    """Record the board's decision on one trainee while the board is open (an override of the proposal)."""
    board = _board(actor, board_id)
    _check_version(board, version)
    if board.status == "ratified":
        raise BoardRefused([("decision", "The outcomes are ratified; record a correction with a reason instead.")])
    reason = (reason or "").strip()
    errors = []
    if decision not in DECISIONS:
        errors.append(("decision", "Choose ratify, defer or allow an extra attempt."))
    elif decision != "ratify" and not reason:
        errors.append(("reason", "Give the reason for deferring or for allowing an extra attempt."))
    if errors:
        raise BoardRefused(errors)
    row = _row_for(board, enrolment_id, as_of)
    if decision == "ratify" and (row.outcome is None or row.outcome.award is None):
        raise BoardRefused([("decision", f"{row.trainee.display_name}'s outcome cannot be decided yet; "
                                         "defer it or allow an extra attempt.")])
    previous = _standing(board).get(row.enrolment.id)
    if previous is not None:
        previous.superseded = True
    new = _decision_for(actor, board, row, decision, reason or "Ratified as proposed.")
    _touch(board)
    record(actor, f"exam_board.{decision}", "board_decision", new.id, cohort_id=board.cohort_id,
           subject_user_id=row.enrolment.trainee_id, reason=reason or None)
    _open_attempts(actor, new, as_of)
    return new


def _open_attempts(actor: User, decision: BoardDecision, as_of: datetime) -> None:
    """A deferral or an extra attempt opens the trainee's next attempt where the rules leave one."""
    if decision.decision == "ratify":
        return
    try:
        from lms.coursework.marking import open_next_attempts
    except ImportError:
        return
    db.session.flush()
    open_next_attempts(actor, decision.enrolment_id, as_of, why=f"attempt_opened_by_exam_board_{decision.decision}")


def correct(actor: User, board_id: int, enrolment_id, decision: str, award: str, reason: str, version,
            as_of: datetime) -> BoardDecision:
    """After ratification: a recorded correction (new decision, the old one superseded), with a reason."""
    board = _board(actor, board_id)
    _check_version(board, version)
    if board.status != "ratified":
        raise BoardRefused([("decision", "The board is still open; record the decision directly.")])
    reason = (reason or "").strip()
    errors = []
    if decision not in DECISIONS:
        errors.append(("correction-decision", "Choose ratify, defer or allow an extra attempt."))
    if decision == "ratify" and award not in AWARDS:
        errors.append(("award", "Choose the award to record: credit, completion or none."))
    if not reason:
        errors.append(("correction-reason", "Give the reason for the correction; it is kept in the record."))
    if errors:
        raise BoardRefused(errors)
    row = _row_for(board, enrolment_id, as_of)
    if decision == "ratify" and _ratify_agreed(actor, board, row.enrolment.id):
        row = _row_for(board, enrolment_id, as_of)  # the outcome with those marks ratified
    previous = _standing(board).get(row.enrolment.id)
    if previous is not None:
        previous.superseded = True
    new = _decision_for(actor, board, row, decision, reason, corrects=previous,
                        award=award if decision == "ratify" else None)
    _touch(board)
    record(actor, "exam_board.corrected", "board_decision", new.id, cohort_id=board.cohort_id,
           subject_user_id=row.enrolment.trainee_id, reason=reason,
           before={"decision": previous.decision, "award": previous.award} if previous else None,
           after={"decision": decision, "award": new.award})
    _open_attempts(actor, new, as_of)
    return new
