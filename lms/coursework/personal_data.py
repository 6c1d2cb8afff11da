"""The assignment's part of a person's data export, of an approved erasure, and of retention.

Registered with lms.privacy.registry. A trainee's export holds their own
work, receipts, released marks and feedback, extension requests and the
mitigating circumstances they reported. An erasure removes what they wrote
and uploaded (text, files, reasons, circumstances) and the comments about
their work, but keeps the marks, digests and dates that accreditation needs.
Retention does the same for submitted work once a cohort ended long enough
ago (blank by default: scripts are kept until an admin sets a period).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.cohorts.models import CourseDay, Enrolment
from lms.coursework import uploads
from lms.coursework.models import Extension, Mark, MitigatingClaim, StoredFile, Submission
from lms.coursework.rules import MarkingState
from lms.coursework.services import CLAIM_CATEGORIES, EXTENSION_STATUS, CLAIM_STATUS
from lms.extensions import db
from lms.privacy.registry import ERASERS, EXPORTERS, RETENTION_RULES, ExportSection, RetentionRule

ERASED = "[removed at the person's request]"
EXPIRED = "[removed under the retention policy]"


def _submissions_of(user: User) -> list[Submission]:
    from sqlalchemy.orm import joinedload, selectinload

    return list(db.session.execute(
        select(Submission).join(Submission.enrolment).where(Enrolment.trainee_id == user.id)
        .options(joinedload(Submission.assignment), selectinload(Submission.files),
                 selectinload(Submission.marks), selectinload(Submission.extensions))
        .order_by(Submission.assignment_id, Submission.attempt)).unique().scalars())


def export_coursework(user: User) -> list[ExportSection]:
    """The person's own assignment work, receipts, released feedback, extensions and circumstances."""
    submissions = _submissions_of(user)
    claims = list(db.session.execute(select(MitigatingClaim).where(
        MitigatingClaim.submission_id.in_([s.id for s in submissions])).order_by(MitigatingClaim.id)).scalars()) \
        if submissions else []
    work, extensions = [], []
    for s in submissions:
        released = s.state == MarkingState.RELEASED
        first = next((m for m in s.marks if m.stage == "first"), None)
        work.append({
            "assignment": s.assignment.title, "attempt": s.attempt, "status": s.status,
            "submitted": s.submitted_at, "word_count": s.word_count, "sha256": s.digest,
            "working_days_late": s.working_days_late, "text": s.text,
            "files": [{"name": f.original_name, "sha256": f.sha256, "size": f.size} for f in s.files],
            "mark": s.mark if released else None,
            "feedback": first.feedback if (released and first) else None,
        })
        extensions += [{"assignment": s.assignment.title, "attempt": s.attempt, "asked": e.created_at,
                        "working_days": e.working_days, "reason": e.reason, "status": EXTENSION_STATUS[e.status],
                        "new_deadline": e.granted_until, "message": e.decision_message} for e in s.extensions]
    by_id = {s.id: s for s in submissions}
    circumstances = [{"assignment": by_id[c.submission_id].assignment.title, "reported": c.created_at,
                      "what": CLAIM_CATEGORIES.get(c.category, c.category), "details": c.details,
                      "status": CLAIM_STATUS[c.status], "reason": c.decision_reason} for c in claims]
    sections = [ExportSection("assignment_work", "My assignment work", work,
                              "What you wrote and uploaded (file names and fingerprints), your receipts, and the "
                              "marks and feedback released to you.", order=30)]
    if extensions:
        sections.append(ExportSection("extension_requests", "My extension requests", extensions, order=31))
    if circumstances:
        sections.append(ExportSection("mitigating_circumstances", "Mitigating circumstances I reported",
                                      circumstances, order=32))
    return sections


def _strip(submission_ids: list[int], note: str, keep_feedback: bool = False) -> int:
    """Remove written work, files, reasons and comments of these attempts; keep marks and digests."""
    if not submission_ids:
        return 0
    files = list(db.session.execute(select(StoredFile).where(StoredFile.submission_id.in_(submission_ids))).scalars())
    file_ids = [f.id for f in files]
    if file_ids:
        db.session.execute(update(Extension).where(Extension.evidence_file_id.in_(file_ids))
                           .values(evidence_file_id=None).execution_options(synchronize_session=False))
        db.session.execute(update(MitigatingClaim).where(MitigatingClaim.evidence_file_id.in_(file_ids))
                           .values(evidence_file_id=None).execution_options(synchronize_session=False))
        db.session.execute(update(Mark).where(Mark.feedback_file_id.in_(file_ids))
                           .values(feedback_file_id=None).execution_options(synchronize_session=False))
    for stored in files:
        db.session.delete(stored)
        uploads.remove_after_commit(stored.stored_name)
    db.session.execute(update(Submission).where(Submission.id.in_(submission_ids))
                       .values(text="").execution_options(synchronize_session=False))
    db.session.execute(update(Extension).where(Extension.submission_id.in_(submission_ids))
                       .values(reason=note).execution_options(synchronize_session=False))
    db.session.execute(update(MitigatingClaim).where(MitigatingClaim.submission_id.in_(submission_ids))
                       .values(details=note).execution_options(synchronize_session=False))
    if not keep_feedback:
        db.session.execute(update(Mark).where(Mark.submission_id.in_(submission_ids))
                           .values(feedback=note, criteria={}).execution_options(synchronize_session=False))
    db.session.flush()
    return len(submission_ids)


def erase_coursework(user: User) -> None:
    """Remove what the person wrote and uploaded, and comments on it; marks stay (flushes, never commits)."""
    _strip([s.id for s in _submissions_of(user)], ERASED)


def purge_old_work(months: int, today: date, apply: bool) -> int:
    """Submitted work of cohorts whose last course day is more than `months` months ago.

    Returns how many attempts hold text or files past the limit; with `apply`
    their text, files, reasons and circumstances are removed (marks stay).
    """
    cut = today - timedelta(days=months * 30)
    ended = select(CourseDay.cohort_id).group_by(CourseDay.cohort_id).having(func.max(CourseDay.date) < cut)
    from lms.coursework.models import Assignment

    with_files = select(StoredFile.submission_id)
    ids = list(db.session.execute(
        select(Submission.id).join(Submission.assignment).where(
            Assignment.cohort_id.in_(ended),
            (Submission.text != "") | Submission.id.in_(with_files))).scalars())
    if apply:
        _strip(ids, EXPIRED, keep_feedback=True)
    return len(ids)


EXPORTERS.append(export_coursework)
ERASERS.append(erase_coursework)
RETENTION_RULES.append(RetentionRule(
    key="coursework_work", label="Submitted assignment work (text and files)",
    description=("Removed this many months after the cohort's last course day; marks, receipts' fingerprints and "
                 "dates are kept for the accreditation record. Leave blank to keep the work."),
    default_months=None, purge=purge_old_work))
