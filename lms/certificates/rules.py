"""Who gets which certificate, and why someone gets none (pure: facts in, a verdict out).

Only an outcome an exam board has ratified leads to a certificate. The award
decides which: ``credit`` gives the credit certificate, ``completion`` the
certificate of completion, ``none`` no certificate. A certificate already
issued is never issued twice, and a revoked one is never issued again by a
batch: putting that right is a deliberate decision, not a side effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

AWARDS_WITH_CERTIFICATE = ("credit", "completion")


class Verdict(StrEnum):
    ISSUE = "issue"
    ALREADY_ISSUED = "already_issued"
    NO_DECISION = "no_decision"
    NOT_RATIFIED = "not_ratified"
    NOT_FINAL = "not_final"          # the board deferred, or allowed another attempt
    NO_AWARD = "no_award"
    REVOKED = "revoked"
    OTHER_AWARD = "other_award"      # holds a valid certificate for a different award


@dataclass(frozen=True)
class DecisionFacts:
    """A board decision on one trainee, with the state of its board."""

    id: int
    decision: str              # ratify, defer, extra_attempt
    award: str | None          # credit, completion, none
    board_status: str          # open, ratified
    board_date: date
    superseded: bool = False


@dataclass(frozen=True)
class CertificateFacts:
    """A certificate the trainee already has (any status)."""

    serial: str
    award: str
    status: str                # valid, revoked, reissued
    decision_id: int | None = None
    status_reason: str | None = None
    status_changed_on: date | None = None


@dataclass(frozen=True)
class Eligibility:
    """What a trainee gets from an issuing run, and the reason in plain words."""

    verdict: Verdict
    reason: str
    award: str | None = None           # the award to issue, when verdict is ISSUE
    decision_id: int | None = None
    awarded_on: date | None = None
    serial: str | None = None          # the certificate this is about, if any

    @property
    def issues(self) -> bool:
        return self.verdict is Verdict.ISSUE


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


AWARD_NAMES = {"credit": "credit certificate", "completion": "certificate of completion"}


def eligibility(decisions: Iterable[DecisionFacts], certificates: Iterable[CertificateFacts]) -> Eligibility:
    """Decide what an issuing run does for one trainee."""
    current = [d for d in decisions if not d.superseded]
    ratified = [d for d in current if d.board_status == "ratified"]
    certificates = list(certificates)
    if not ratified:
        waiting = max(current, key=lambda d: d.id, default=None)
        if waiting is not None:
            return Eligibility(Verdict.NOT_RATIFIED,
                               f"The exam board of {long_date(waiting.board_date)} has not ratified its "
                               "decisions yet. Certificates follow ratification.")
        return Eligibility(Verdict.NO_DECISION, "There is no exam board decision on this trainee's outcome yet.")
    decision = max(ratified, key=lambda d: d.id)
    if decision.decision == "defer":
        return Eligibility(Verdict.NOT_FINAL, f"The exam board of {long_date(decision.board_date)} deferred "
                                              "its decision, so there is no final outcome yet.",
                           decision_id=decision.id)
    if decision.decision != "ratify":
        return Eligibility(Verdict.NOT_FINAL, f"The exam board of {long_date(decision.board_date)} allowed "
                                              "another attempt, so there is no final outcome yet.",
                           decision_id=decision.id)
    if decision.award not in AWARDS_WITH_CERTIFICATE:
        return Eligibility(Verdict.NO_AWARD, "The ratified outcome has no award, so there is no certificate.",
                           decision_id=decision.id)
    valid = [c for c in certificates if c.status == "valid"]
    same = next((c for c in valid if c.award == decision.award), None)
    if same is not None:
        return Eligibility(Verdict.ALREADY_ISSUED, f"Already issued: {same.serial}.", decision_id=decision.id,
                           serial=same.serial)
    other = next(iter(valid), None)
    if other is not None:
        return Eligibility(Verdict.OTHER_AWARD,
                           f"Holds {other.serial}, a {AWARD_NAMES.get(other.award, other.award)}, from an earlier "
                           f"decision. Revoke it first if the {AWARD_NAMES[decision.award]} should replace it.",
                           decision_id=decision.id, serial=other.serial)
    revoked = next((c for c in certificates if c.status == "revoked" and c.decision_id == decision.id), None)
    if revoked is not None:
        when = f" on {long_date(revoked.status_changed_on)}" if revoked.status_changed_on else ""
        why = f" ({revoked.status_reason})" if revoked.status_reason else ""
        return Eligibility(Verdict.REVOKED, f"{revoked.serial} was revoked{when}{why}. A revoked certificate is "
                                            "not issued again.", decision_id=decision.id, serial=revoked.serial)
    return Eligibility(Verdict.ISSUE, f"Gets the {AWARD_NAMES[decision.award]}.", award=decision.award,
                       decision_id=decision.id, awarded_on=decision.board_date)
