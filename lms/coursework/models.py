"""The assignment of each cohort, submissions, their files, marks and the records around them.

One `Assignment` per cohort per assessment (its brief and rubric copied from
`assessments/` when it is set up, so later edits to the files never change
marking already done). One `Submission` per trainee per attempt: a draft until
the trainee submits, then a script moving through the marking chain
(`lms.coursework.rules.MarkingState`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.cohorts.models import Cohort, Enrolment
from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class Assignment(db.Model):
    """An assessment as set for one cohort, with its dates and marking settings."""

    __tablename__ = "coursework_assignments"
    __table_args__ = (UniqueConstraint("cohort_id", "assessment_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    assessment_slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    credit_bearing: Mapped[bool] = mapped_column(Boolean, default=True)
    brief_markdown: Mapped[str] = mapped_column(Text, default="")
    # [{"id", "title", "weight", "bands": [{"low", "high", "descriptor"}]}], copied from the assessment file.
    rubric: Mapped[list] = mapped_column(JSON, default=list)
    submission_types: Mapped[list] = mapped_column(JSON, default=list)
    word_count: Mapped[int | None] = mapped_column(Integer)
    word_tolerance_percent: Mapped[int] = mapped_column(default=10)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cut_off_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cut_off_working_days: Mapped[int] = mapped_column(default=5)
    marks_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Markers see candidate numbers, not names, until marks are released.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    # Second markers mark blind unless the cohort chooses otherwise.
    second_marker_sees_first_mark: Mapped[bool] = mapped_column(Boolean, default=False)
    third_marker_tolerance: Mapped[int] = mapped_column(default=10)
    pass_mark: Mapped[int] = mapped_column(default=40)
    max_extension_working_days: Mapped[int] = mapped_column(default=10)
    referral_weeks: Mapped[int] = mapped_column(default=4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    cohort: Mapped[Cohort] = relationship()
    submissions: Mapped[list[Submission]] = relationship(back_populates="assignment")

    __mapper_args__ = {"version_id_col": version}

    @property
    def weights(self) -> dict[str, int]:
        return {criterion["id"]: criterion["weight"] for criterion in self.rubric}


class Candidate(db.Model):
    """The candidate number of an enrolment, used for anonymous marking ("C-4821")."""

    __tablename__ = "coursework_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), unique=True)
    number: Mapped[int] = mapped_column(unique=True)

    @property
    def label(self) -> str:
        from lms.coursework.rules import format_candidate_number

        return format_candidate_number(self.number)


class Submission(db.Model):
    """One trainee's attempt at an assignment: a draft, then a script in the marking chain."""

    __tablename__ = "coursework_submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "enrolment_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("coursework_assignments.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("coursework_candidates.id"), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    # A referral (second attempt) has dates of its own; a first attempt follows the assignment's.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cut_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # draft, submitted
    status: Mapped[str] = mapped_column(String(20), default="draft")
    text: Mapped[str] = mapped_column(Text, default="")
    text_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declaration: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    word_count: Mapped[int | None] = mapped_column(Integer)
    text_digest: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[str | None] = mapped_column(String(64))
    deadline_applied: Mapped[datetime | None] = mapped_column(UTCDateTime)
    working_days_late: Mapped[int] = mapped_column(default=0)
    # The marking chain (None while a draft).
    state: Mapped[str | None] = mapped_column(String(20), index=True)
    first_marker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    second_marker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    third_marker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sampled: Mapped[bool] = mapped_column(Boolean, default=False)
    first_mark: Mapped[int | None] = mapped_column(Integer)
    second_mark: Mapped[int | None] = mapped_column(Integer)
    third_mark: Mapped[int | None] = mapped_column(Integer)
    # The mark agreed after moderation (the raw mark), and the mark now on record
    # (the agreed mark, or a correction of it after release).
    agreed_mark: Mapped[int | None] = mapped_column(Integer)
    agreed_rationale: Mapped[str | None] = mapped_column(Text)
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mark: Mapped[int | None] = mapped_column(Integer)
    ratified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic locking: a save made from an older copy is refused, never lost.
    version: Mapped[int] = mapped_column(default=1)

    assignment: Mapped[Assignment] = relationship(back_populates="submissions")
    enrolment: Mapped[Enrolment] = relationship()
    candidate: Mapped[Candidate] = relationship()
    first_marker: Mapped[User | None] = relationship(foreign_keys=[first_marker_id])
    second_marker: Mapped[User | None] = relationship(foreign_keys=[second_marker_id])
    third_marker: Mapped[User | None] = relationship(foreign_keys=[third_marker_id])
    files: Mapped[list[StoredFile]] = relationship(
        primaryjoin="and_(StoredFile.submission_id == Submission.id, StoredFile.purpose == 'submission')",
        order_by="StoredFile.id", viewonly=True)
    marks: Mapped[list[Mark]] = relationship(back_populates="submission", order_by="Mark.id")
    extensions: Mapped[list[Extension]] = relationship(back_populates="submission", order_by="Extension.id")

    __mapper_args__ = {"version_id_col": version}


class StoredFile(db.Model):
    """A file kept in the upload store under a random name (never under static/)."""

    __tablename__ = "coursework_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("coursework_submissions.id"), index=True)
    # submission, feedback, extension_evidence, mitigation_evidence
    purpose: Mapped[str] = mapped_column(String(30))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # pdf, docx, odt
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    word_count: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(foreign_keys=[submission_id])


class Mark(db.Model):
    """One marker's marking of a script: first, second or third."""

    __tablename__ = "coursework_marks"
    __table_args__ = (UniqueConstraint("submission_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("coursework_submissions.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))  # first, second, third
    marker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # {criterion id: {"band": "60-69", "mark": 64, "comment": "..."}}
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_mark: Mapped[int | None] = mapped_column(Integer)
    mark: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str | None] = mapped_column(Text)
    # First marking: feedback for the trainee (Markdown). Second and third: notes for the marking team.
    feedback: Mapped[str] = mapped_column(Text, default="")
    feedback_file_id: Mapped[int | None] = mapped_column(ForeignKey("coursework_files.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="marks")
    marker: Mapped[User] = relationship()
    feedback_file: Mapped[StoredFile | None] = relationship()


class Extension(db.Model):
    """A trainee's request for more time on an attempt, and the decision on it."""

    __tablename__ = "coursework_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("coursework_submissions.id"), index=True)
    working_days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("coursework_files.id"))
    # requested, approved, shortened, declined
    status: Mapped[str] = mapped_column(String(20), default="requested", index=True)
    granted_days: Mapped[int | None] = mapped_column(Integer)
    granted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_message: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="extensions")
    evidence_file: Mapped[StoredFile | None] = relationship()
    decided_by: Mapped[User | None] = relationship()


class MitigatingClaim(db.Model):
    """Mitigating circumstances a trainee reported for an attempt.

    Seen only by the trainee, their academic supervisor and admins; never by markers.
    """

    __tablename__ = "coursework_mitigating_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("coursework_submissions.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text)
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("coursework_files.id"))
    # Reported after the attempt was submitted: taken as "fit to sit" unless accepted exceptionally.
    after_submission: Mapped[bool] = mapped_column(Boolean, default=False)
    # reported, accepted, rejected
    status: Mapped[str] = mapped_column(String(20), default="reported", index=True)
    exceptional: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()
    evidence_file: Mapped[StoredFile | None] = relationship()
    decided_by: Mapped[User | None] = relationship()


class MarkCorrection(db.Model):
    """A recorded correction of a released mark."""

    __tablename__ = "coursework_mark_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("coursework_submissions.id"), index=True)
    old_mark: Mapped[int | None] = mapped_column(Integer)
    new_mark: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    corrected_by: Mapped[User | None] = relationship()


class ExaminerComment(db.Model):
    """An external examiner's comment on the moderation sample or on one script in it."""

    __tablename__ = "coursework_examiner_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("coursework_assignments.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("coursework_submissions.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()
