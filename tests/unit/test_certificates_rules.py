"""Verification codes, who gets which certificate, and the status list bitstring (pure, no app)."""

from datetime import date

import pytest

from lms.certificates import codes, credentials
from lms.certificates.rules import CertificateFacts, DecisionFacts, Verdict, eligibility

BOARD = date(2026, 3, 12)


def test_a_new_code_is_long_enough_grouped_and_uses_only_unambiguous_characters():
    code = codes.new_code()
    assert len(code) == 18 and codes.code_bits() >= 80
    assert set(code) <= set(codes.ALPHABET) and not set("01OILUV") & set(codes.ALPHABET)
    formatted = codes.format_code(code)
    assert [len(group) for group in formatted.split("-")] == [4, 4, 4, 4, 2]
    assert codes.code_problem(formatted) is None


def test_codes_are_different_each_time():
    assert len({codes.new_code() for _ in range(2000)}) == 2000


@pytest.mark.parametrize("typed", ["k7qm 3xrt 9pdh w2cz", "K7QM-3XRT-9PDH-W2CZ", " k7qm–3xrt_9pdh.w2cz "])
def test_case_spaces_and_dashes_do_not_matter(typed):
    body = "K7QM3XRT9PDHW2CZ8"
    code = body + codes.check_character(body)
    assert codes.normalise_code(typed + code[-2:].lower()) == code


def test_every_single_mistyped_character_is_caught():
    code = codes.new_code()
    for position in range(len(code)):
        for replacement in codes.ALPHABET:
            if replacement != code[position]:
                typo = code[:position] + replacement + code[position + 1:]
                assert codes.code_problem(typo) is not None


def test_problems_are_told_in_plain_words():
    assert "Enter the verification code" in codes.code_problem("  ")
    assert "do not use 'O'" in codes.code_problem("K7QM-3XRT-9PDH-W2CZ-8O")
    assert "18 letters and numbers; this one has 5" in codes.code_problem("K7QM3")
    body = "K7QM3XRT9PDHW2CZ8"
    wrong = next(c for c in codes.ALPHABET if c != codes.check_character(body))
    assert "mistake" in codes.code_problem(body + wrong)


def test_serial_numbers():
    assert codes.serial_number(2026, 123) == "PSW-2026-000123"


def decision(id=1, decision="ratify", award="credit", board_status="ratified", superseded=False):
    return DecisionFacts(id, decision, award, board_status, BOARD, superseded)


def test_a_ratified_credit_decision_gets_the_credit_certificate():
    verdict = eligibility([decision()], [])
    assert verdict.verdict is Verdict.ISSUE and verdict.award == "credit" and verdict.awarded_on == BOARD


def test_completion_gets_the_certificate_of_completion():
    assert eligibility([decision(award="completion")], []).award == "completion"


def test_an_unratified_outcome_gets_nothing():
    verdict = eligibility([decision(board_status="open")], [])
    assert verdict.verdict is Verdict.NOT_RATIFIED and not verdict.issues
    assert "has not ratified" in verdict.reason
    assert eligibility([], []).verdict is Verdict.NO_DECISION


def test_an_award_of_none_gets_nothing():
    verdict = eligibility([decision(award="none")], [])
    assert verdict.verdict is Verdict.NO_AWARD and "no award" in verdict.reason


@pytest.mark.parametrize("kind", ["defer", "extra_attempt"])
def test_a_deferred_decision_or_another_attempt_gets_nothing_yet(kind):
    assert eligibility([decision(decision=kind, award=None)], []).verdict is Verdict.NOT_FINAL


def test_a_superseded_decision_does_not_count():
    verdict = eligibility([decision(1, award="none", superseded=True), decision(2, award="credit")], [])
    assert verdict.issues and verdict.decision_id == 2


def test_already_issued_is_not_issued_again():
    verdict = eligibility([decision()], [CertificateFacts("PSW-2026-000001", "credit", "valid", 1)])
    assert verdict.verdict is Verdict.ALREADY_ISSUED and verdict.serial == "PSW-2026-000001"


def test_a_revoked_certificate_is_not_issued_again():
    revoked = CertificateFacts("PSW-2026-000001", "credit", "revoked", 1, "Awarded in error", date(2026, 4, 1))
    verdict = eligibility([decision()], [revoked])
    assert verdict.verdict is Verdict.REVOKED and not verdict.issues
    assert "revoked on 1 April 2026 (Awarded in error)" in verdict.reason


def test_a_corrected_decision_after_a_revocation_can_be_issued():
    revoked = CertificateFacts("PSW-2026-000001", "completion", "revoked", 1)
    verdict = eligibility([decision(1, award="completion", superseded=True), decision(2, award="credit")], [revoked])
    assert verdict.issues and verdict.award == "credit"


def test_a_valid_certificate_for_another_award_must_be_revoked_first():
    held = CertificateFacts("PSW-2026-000001", "completion", "valid", 1)
    verdict = eligibility([decision(1, award="completion", superseded=True), decision(2, award="credit")], [held])
    assert verdict.verdict is Verdict.OTHER_AWARD and "Revoke it first" in verdict.reason


def test_status_list_is_gzip_base64url_multibase_of_at_least_16kb():
    encoded = credentials.encode_status_list([0, 7, 131071])
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    import base64
    import gzip

    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16 * 1024
    assert raw[0] == 0b1000_0001 and raw[-1] == 1
    assert credentials.status_bit(encoded, 7) and not credentials.status_bit(encoded, 8)


def test_status_positions():
    assert credentials.status_position(1) == (1, 0)
    assert credentials.status_position(131_072) == (1, 131_071)
    assert credentials.status_position(131_073) == (2, 0)


@pytest.mark.parametrize("base, did", [
    ("https://training.example.org", "did:web:training.example.org"),
    ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
    ("https://example.org/lms", "did:web:example.org:lms"),
])
def test_issuer_did_web(base, did):
    assert credentials.issuer_did(base) == did


def test_every_swap_of_neighbours_is_caught():
    code = codes.new_code()
    for position in range(len(code) - 1):
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
        if swapped != code:
            assert codes.code_problem(swapped) is not None
