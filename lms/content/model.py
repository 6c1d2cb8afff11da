"""The course and its assessments as frozen dataclasses.

These are what the loader builds from `courses/<slug>/` and
`assessments/<slug>/` (see docs/content-format.md). Nothing here reads files,
touches the database or imports Flask: other domains take these values and
store or display them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, told to the person who can fix it.

    ``file`` is relative to the course folder that was checked (assessments
    live beside it, so theirs start with ``../../assessments/``); ``line`` is
    1-based, or None when the problem belongs to a whole file or folder.
    """

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (self.file, self.line or 0, self.message)


@dataclass(frozen=True)
class Principle:
    """One of the core principles of peer support (mutual, safe, ...)."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class CoreArea:
    """One of the core content areas the course must cover."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class LearningOutcome:
    """What a trainee will be able to do by the end (LO1, LO2, ...)."""

    id: str
    text: str


@dataclass(frozen=True)
class Competence:
    """A code from the competence framework the course maps to ("2.5")."""

    code: str
    title: str
    description: str = ""

    @property
    def domain(self) -> str:
        """The domain code: the part before the first dot ("2" for "2.5")."""
        return self.code.split(".", 1)[0]


@dataclass(frozen=True)
class Unit:
    """A session within a course day.

    ``body_markdown`` is what trainees see: the unit's Markdown without its
    ``## `` heading and without any facilitator notes. ``facilitator_markdown``
    holds the notes for tutors only (blocks joined by a blank line).
    ``prompts`` are the reflective diary prompts listed in the unit.
    ``line`` is the line of the unit's heading in its day file.
    ``content_note`` (Markdown, may be empty) says what emotive material the
    unit holds; trainees see it before the unit, with the choice to step out.
    """

    id: str
    title: str
    body_markdown: str
    facilitator_markdown: str
    prompts: tuple[str, ...]
    line: int
    content_note: str = ""


@dataclass(frozen=True)
class Day:
    """One course day, built from ``days/NN-name.md``.

    ``intro_markdown`` is the trainee-facing text before the first unit;
    ``intro_facilitator_markdown`` any facilitator notes placed there.
    """

    number: int
    title: str
    file_name: str
    core_areas: tuple[str, ...]
    principles: tuple[str, ...]
    outcomes: tuple[str, ...]
    competences: tuple[str, ...]
    duration_minutes: int | None
    content_notes: tuple[str, ...]
    topics: tuple[str, ...]
    intro_markdown: str
    intro_facilitator_markdown: str
    units: tuple[Unit, ...]

    @property
    def prompts(self) -> tuple[str, ...]:
        """Every reflective diary prompt of the day, in the order written."""
        return tuple(prompt for unit in self.units for prompt in unit.prompts)

    def unit(self, unit_id: str) -> Unit | None:
        """The unit with this id on this day, or None."""
        return next((unit for unit in self.units if unit.id == unit_id), None)


@dataclass(frozen=True)
class LexiconTerm:
    """A stigmatising or deficit phrase with a kinder alternative.

    ``term`` and ``variants`` are matched as whole phrases, case-insensitively.
    """

    term: str
    alternative: str
    reason: str
    variants: tuple[str, ...] = ()
    line: int | None = None

    @property
    def phrases(self) -> tuple[str, ...]:
        """The term followed by its variants."""
        return (self.term, *self.variants)


@dataclass(frozen=True)
class Lexicon:
    """The recovery-focused language list from ``lexicon.toml``."""

    terms: tuple[LexiconTerm, ...] = ()


@dataclass(frozen=True)
class Band:
    """A mark band of a rubric criterion: marks ``low`` to ``high`` inclusive."""

    low: int
    high: int
    descriptor: str

    @property
    def label(self) -> str:
        """How the band is written in the rubric, e.g. "40-49"."""
        return f"{self.low}-{self.high}"

    def holds(self, mark: int) -> bool:
        """Whether a mark out of 100 falls in this band."""
        return self.low <= mark <= self.high


@dataclass(frozen=True)
class Criterion:
    """A rubric criterion with its weight (percent) and mark bands, lowest first."""

    id: str
    title: str
    weight: int
    bands: tuple[Band, ...]

    def band_for(self, mark: int) -> Band | None:
        """The band a mark out of 100 falls in, or None."""
        return next((band for band in self.bands if band.holds(mark)), None)


@dataclass(frozen=True)
class Assessment:
    """An assessment from ``assessments/<slug>/<name>.md``.

    A formative task has ``credit_bearing`` False, ``weighting`` 0 and may have
    no rubric. ``due_weeks_after_last_day`` is the default due date rule that
    admins may change per cohort.
    """

    slug: str
    title: str
    credit_bearing: bool
    weighting: int
    due_weeks_after_last_day: int | None
    cut_off_working_days: int
    submission_types: tuple[str, ...]
    word_count: int | None
    word_tolerance_percent: int
    outcomes: tuple[str, ...]
    rubric: tuple[Criterion, ...]
    brief_markdown: str
    file_name: str = ""

    @property
    def word_range(self) -> tuple[int, int] | None:
        """The fewest and most words allowed, or None when there is no word count."""
        if self.word_count is None:
            return None
        margin = self.word_count * self.word_tolerance_percent // 100
        return (self.word_count - margin, self.word_count + margin)


@dataclass(frozen=True)
class Course:
    """A whole course: its details, days (ordered by number), lexicon and assessments."""

    slug: str
    title: str
    version: str
    summary: str
    level: int
    credits: int
    framework: str
    award_title: str
    notional_hours: int
    day_count: int
    awarding_body: str
    delivering_provider: str
    assessments_key: str | None
    principles: tuple[Principle, ...]
    core_areas: tuple[CoreArea, ...]
    outcomes: tuple[LearningOutcome, ...]
    competences: tuple[Competence, ...]
    days: tuple[Day, ...]
    lexicon: Lexicon = field(default_factory=Lexicon)
    assessments: tuple[Assessment, ...] = ()

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every unit of the course, day by day."""
        return tuple(unit for day in self.days for unit in day.units)

    def day(self, number: int) -> Day | None:
        """The day with this number, or None."""
        return next((day for day in self.days if day.number == number), None)

    def day_of_unit(self, unit_id: str) -> Day | None:
        """The day holding the unit with this id, or None."""
        return next((day for day in self.days if day.unit(unit_id) is not None), None)

    def assessment(self, slug: str) -> Assessment | None:
        """The assessment with this slug, or None."""
        return next((item for item in self.assessments if item.slug == slug), None)
