"""The recovery-focused language checker, on a corpus of sentences."""

import random
import time
import tomllib
from pathlib import Path

import pytest

from lms.language.rules import Finding, LexiconTerm, _compile, check

LEXICON = (
    LexiconTerm(
        "committed suicide",
        "died by suicide",
        "'Committed' suggests a crime.",
        ("commit suicide", "commits suicide"),
    ),
    LexiconTerm("self-harmer", "a person who self-harms", "Self-harm is not who someone is."),
    LexiconTerm("suffering from", "living with", "Not only suffering.", ("suffers from",)),
    LexiconTerm("the mentally ill", "people with mental health problems", "Lumps people together."),
    LexiconTerm("mentally ill person", "a person with mental health problems", "Person first."),
    LexiconTerm("he's nuts", "he's having a hard time", "Mocks distress.", ("she's nuts",)),
    LexiconTerm("nuts", "(describe what is happening)", "Mocks distress."),
    LexiconTerm("suicidal gesture", "suicide attempt", "Minimises.", ("para-suicidal gesture",)),
    LexiconTerm("victim of", "survivor of", "Let the person choose."),
    LexiconTerm("non-compliant", "chose not to take", "Sounds like obedience."),
    LexiconTerm("inmate", "a person staying on the ward", "Hospitals are not prisons."),
    LexiconTerm("DNA'd", "did not attend", "Jargon that blames.", ("DNAd",)),
    LexiconTerm("a bit OCD", "very tidy", "Trivialises a diagnosis.", ("so OCD",)),
    LexiconTerm("cry for help", "a sign of distress", "Sounds dismissive."),
)

# Each sentence with the words, as written, that should be found, in order.
CORPUS = [
    # Plain matches, and case makes no difference.
    ("Her brother committed suicide last year.", ["committed suicide"]),
    ("COMMITTED Suicide", ["COMMITTED Suicide"]),
    ("He said he'd commit suicide.", ["commit suicide"]),
    ("She has been suffering from anxiety.", ["suffering from"]),
    ("He suffers from low mood.", ["suffers from"]),
    ("It was just a cry for help.", ["cry for help"]),
    # Across line breaks, extra spaces, hyphens and Markdown emphasis.
    ("He committed\nsuicide in 2019.", ["committed\nsuicide"]),
    ("He committed\r\n   suicide.", ["committed\r\n   suicide"]),
    ("She was suffering\n\nfrom it.", ["suffering\n\nfrom"]),
    ("a self harmer", ["self harmer"]),
    ("a self\u2013harmer", ["self\u2013harmer"]),
    ("a self-\nharmer", ["self-\nharmer"]),
    ("He was non compliant with meds.", ["non compliant"]),
    ("He *committed* suicide.", ["committed* suicide"]),
    ("_committed suicide_", ["committed suicide"]),
    ("**he's nuts**", ["he's nuts"]),
    # Punctuation around a phrase is fine; inside it, a comma or stop ends it.
    ("(committed suicide)", ["committed suicide"]),
    ("She was a victim of crime, a victim of neglect.", ["victim of", "victim of"]),
    ("He was a victim, of course.", []),
    ("She was suffering, from what I saw.", []),
    ("I was the victim. Of all people!", []),
    # Apostrophes: straight and curly, and a term ending in one.
    ("Honestly he\u2019s nuts.", ["he\u2019s nuts"]),
    ("She DNA'd twice and he DNA\u2019d once.", ["DNA'd", "DNA\u2019d"]),
    ("The inmate's room.", ["inmate"]),
    # Whole words only: nothing inside other words.
    ("I love doughnuts and walnuts.", []),
    ("The inmates were kind.", []),
    ("He was noncompliant.", []),
    ("Nutshell: we talked.", []),
    ("victim offered help", []),
    ("She's nuts about running.", ["She's nuts"]),
    ("he's nutsy", []),
    # Longest wins when phrases overlap.
    ("the mentally ill person", ["mentally ill person"]),
    ("about the mentally ill", ["the mentally ill"]),
    ("a para-suicidal gesture", ["para-suicidal gesture"]),
    ("a suicidal gesture", ["suicidal gesture"]),
    ("he's nuts, and nuts again", ["he's nuts", "nuts"]),
    ("I'm a bit OCD, or so OCD.", ["a bit OCD", "so OCD"]),
    # Quoted speech is still checked...
    ('She said "he committed suicide".', ["committed suicide"]),
    ("She said \u201che committed suicide\u201d.", ["committed suicide"]),
    # ...but backticks mark a deliberate use, and are skipped.
    ("The phrase `committed suicide` is outdated.", []),
    ("Say ``he's nuts`` and explain why.", []),
    ("```\ncommitted suicide\n```\nthen a victim of", ["victim of"]),
    ("He committed `suicide`.", []),
    ("`inmate` is old, inmate is too.", ["inmate"]),
    ("An unclosed `committed suicide", ["committed suicide"]),
    # Nothing to find.
    ("We talked about hope, recovery and what helps.", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CORPUS)
def test_corpus(text, expected):
    findings = check(text, LEXICON)
    assert [finding.matched_text for finding in findings] == expected
    for finding in findings:
        assert text[finding.start : finding.end] == finding.matched_text


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 30
    assert sum(1 for _, expected in CORPUS if not expected) >= 10


def test_mental_is_not_found_inside_fundamental():
    lexicon = [LexiconTerm("mental", "(ask)", "An example single word.")]
    assert check("It is fundamental. Judgemental. Mentally.", lexicon) == []
    assert [f.start for f in check("Mental, mental; mental.", lexicon)] == [0, 8, 16]


def test_a_finding_carries_the_term_suggestion_and_reason():
    text = "He commits suicide?"
    assert check(text, LEXICON) == [
        Finding(
            term="committed suicide",
            start=3,
            end=18,
            matched_text="commits suicide",
            suggestion="died by suicide",
            reason="'Committed' suggests a crime.",
        )
    ]


def test_findings_are_in_order_of_position():
    text = "An inmate, a victim of it, said he's nuts and she committed suicide."
    findings = check(text, LEXICON)
    assert [f.term for f in findings] == ["inmate", "victim of", "he's nuts", "committed suicide"]
    assert [f.start for f in findings] == sorted(f.start for f in findings)


def test_an_empty_lexicon_finds_nothing():
    assert check("He committed suicide.", []) == []


def test_blank_terms_are_ignored():
    assert check("anything at all", [LexiconTerm("  ", "x", "y")]) == []


def test_the_first_entry_keeps_a_phrase_listed_twice():
    first = LexiconTerm("inmate", "first", "first reason")
    second = LexiconTerm("inmate", "second", "second reason")
    assert check("an inmate", [first, second])[0].suggestion == "first"


def test_variants_given_as_a_list_are_kept_as_a_tuple():
    term = LexiconTerm("inmate", "x", "y", ["inmates"])
    assert term.variants == ("inmates",)
    assert hash(term)
    assert [f.matched_text for f in check("the inmates", [term])] == ["inmates"]


def test_a_letter_that_only_matches_case_insensitively_still_finds_its_term():
    # Python matches the dotless i to i when ignoring case, but does not fold it.
    findings = check("committed su\u0131cide", LEXICON)
    assert [f.term for f in findings] == ["committed suicide"]


def test_the_pattern_is_built_once_per_lexicon():
    check("warm up", LEXICON)
    before = _compile.cache_info()
    check("an inmate", list(LEXICON))
    check("another inmate", LEXICON)
    after = _compile.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + 2


def test_a_long_text_against_sixty_terms_is_fast():
    words = [f"word{n}" for n in range(60)]
    lexicon = [
        LexiconTerm(f"{word} phrase", "alternative", "reason", (f"{word} phrases",))
        for word in words
    ]
    randomness = random.Random(7)
    everyday = "the person I support told me about their week and what helps".split()
    text = " ".join(randomness.choice(everyday) for _ in range(5000)) + " word59 phrases"
    check("warm up", lexicon)
    began = time.perf_counter()
    findings = check(text, lexicon)
    elapsed = time.perf_counter() - began
    assert [f.matched_text for f in findings] == ["word59 phrases"]
    # About 2 ms on a developer's machine; the bound only catches a regression
    # to something pathological, not a slow CI runner.
    assert elapsed < 0.25


COURSE_LEXICON = Path(__file__).parents[2] / "courses" / "peer-support-l4" / "lexicon.toml"


@pytest.mark.skipif(not COURSE_LEXICON.exists(), reason="the course lexicon is not written yet")
def test_every_phrase_of_the_course_lexicon_is_found_in_a_sentence():
    entries = tomllib.loads(COURSE_LEXICON.read_text(encoding="utf-8"))["term"]
    lexicon = [
        LexiconTerm(e["term"], e["alternative"], e["reason"], tuple(e.get("variants", ())))
        for e in entries
    ]
    for entry in lexicon:
        for phrase in (entry.term, *entry.variants):
            findings = check(f"I wrote that {phrase}, then stopped.", lexicon)
            assert [f.matched_text for f in findings] == [phrase], phrase
