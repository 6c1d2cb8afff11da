"""Course content as data: load `courses/` and `assessments/` folders into
frozen dataclasses, validate them with file and line, and render Markdown
safely. Pure: no Flask or SQLAlchemy here."""

from lms.content.loader import (
    load_course,
    split_facilitator_notes,
    strip_facilitator_notes,
    validate_course,
)
from lms.content.markdown import parse_day_link, render_markdown
from lms.content.model import (
    Assessment,
    Band,
    Competence,
    CoreArea,
    Course,
    Criterion,
    Day,
    LearningOutcome,
    Lexicon,
    LexiconTerm,
    Principle,
    Problem,
    Unit,
)

__all__ = [
    "Assessment", "Band", "Competence", "CoreArea", "Course", "Criterion", "Day",
    "LearningOutcome", "Lexicon", "LexiconTerm", "Principle", "Problem", "Unit",
    "load_course", "parse_day_link", "render_markdown", "split_facilitator_notes",
    "strip_facilitator_notes", "validate_course",
]
