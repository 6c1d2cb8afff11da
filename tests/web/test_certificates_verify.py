"""Public verification: by code, by the form, unknown and mistyped codes, revoked and replaced, erased holders."""

from __future__ import annotations

from sqlalchemy import select

from lms.certificates import codes, services
from lms.certificates.codes import format_code
from lms.certificates.models import Certificate
from lms.extensions import db
from tests.web.certificates_fixtures import certificate_of, issued, ready, user  # noqa: F401 (fixtures)


def test_anyone_can_verify_a_certificate_without_signing_in(client, ready, issued):
    certificate = certificate_of("trainee13@example.org")
    response = client.get(f"/verify/{format_code(certificate.code)}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This certificate is genuine and valid." in page
    for expected in ("Maya Patel", "Certificate in Peer Support Work", "20 credits", "Level 4 (FHEQ)",
                     "Peer Support Worker Training", "Recovery College Training Team", "The Open University",
                     certificate.serial, f"{certificate.awarded_on.day} {certificate.awarded_on:%B %Y}",
                     "Date issued"):
        assert expected in page, expected
    # As little else as possible: no mark, no e-mail address, no reason codes.
    # (The random code may hold the digits "58" itself, so it is taken out before looking for the mark.)
    without_code = page.replace(format_code(certificate.code), "").replace(certificate.code, "")
    assert "trainee13@example.org" not in page and "58" not in without_code.split("Certificate number")[0]
    assert response.headers["X-Robots-Tag"] == "noindex" and response.headers["Cache-Control"] == "no-cache"


def test_case_spaces_and_dashes_in_the_address_do_not_matter(client, ready, issued):
    certificate = certificate_of("trainee14@example.org")
    sloppy = " ".join(format_code(certificate.code).lower().split("-"))
    response = client.get(f"/verify/{sloppy}")
    assert response.status_code == 200 and "Noah James Thompson" in response.get_data(as_text=True)


def test_the_form_takes_a_typed_code(client, ready, issued):
    page = client.get("/verify")
    assert page.status_code == 200 and 'label class="label" for="code"' in page.get_data(as_text=True)
    certificate = certificate_of("trainee13@example.org")
    typed = format_code(certificate.code).lower().replace("-", " ")
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{format_code(certificate.code)}")


def test_a_malformed_code_in_the_form_is_explained_next_to_the_field(client, ready):
    response = client.get("/verify", query_string={"code": "K7QM-3XRT-O"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and "Verification codes do not use &#39;O&#39;" in page
    assert 'aria-invalid="true"' in page and 'value="K7QM-3XRT-O"' in page


def test_a_forged_code_answers_404_with_a_plain_message(client, ready, issued):
    forged = codes.new_code()  # well formed, with a right check character, never issued
    response = client.get(f"/verify/{format_code(forged)}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "No certificate found" in page and f"There is no certificate with the code {format_code(forged)}" in page


def test_a_mistyped_code_answers_404_and_says_it_has_a_mistake(client, ready, issued):
    code = certificate_of("trainee13@example.org").code
    typo = code[:5] + next(c for c in codes.ALPHABET if c != code[5]) + code[6:]
    response = client.get(f"/verify/{format_code(typo)}")
    assert response.status_code == 404
    assert "This code has a mistake in it" in response.get_data(as_text=True)


def test_markup_in_a_typed_code_is_shown_as_text(client, ready):
    response = client.get("/verify/<script>alert(1)</script>")
    assert response.status_code == 404 and "<script>alert(1)" not in response.get_data(as_text=True)


def test_a_revoked_certificate_says_so_with_its_date(client, ready, issued):
    certificate = certificate_of("trainee14@example.org")
    services.revoke(None, certificate, "Awarded in error: outcome corrected.")
    db.session.commit()
    page = client.get(f"/verify/{format_code(certificate.code)}").get_data(as_text=True)
    assert "This certificate was revoked on" in page and "It is no longer valid." in page
    assert "Awarded in error" not in page  # the reason stays in the register


def test_a_replaced_certificate_says_what_replaced_it(client, ready, issued):
    old = certificate_of("trainee13@example.org")
    new, errors = services.reissue(user("admin@example.org"), old, "Maya Rose Patel", "Name changed by deed poll.")
    assert not errors
    db.session.commit()
    page = client.get(f"/verify/{format_code(old.code)}").get_data(as_text=True)
    assert "replaced on" in page and f"by certificate {new.serial}" in page
    assert f"/verify/{format_code(new.code)}" in page
    assert "genuine and valid" in client.get(f"/verify/{format_code(new.code)}").get_data(as_text=True)


def test_an_erased_trainee_s_certificate_stays_verifiable(client, ready, issued):
    certificate = certificate_of("trainee15@example.org")
    trainee = user("trainee15@example.org")
    # Erasure keeps nothing of the person but what the register itself holds.
    trainee.display_name, trainee.email, trainee.active = "Former trainee", "erased-15@invalid", False
    db.session.execute(Certificate.__table__.update().where(Certificate.id == certificate.id).values(trainee_id=None))
    db.session.commit()
    page = client.get(f"/verify/{format_code(certificate.code)}").get_data(as_text=True)
    assert "Olivia Hughes" in page and "genuine and valid" in page


def test_verification_is_rate_limited_per_address(client, ready, issued):
    code = format_code(certificate_of("trainee13@example.org").code)
    statuses = [client.get(f"/verify/{code}").status_code for _ in range(30)]
    assert statuses == [200] * 30
    assert client.get(f"/verify/{code}").status_code == 429
    # The form shares the same allowance.
    assert client.get("/verify", query_string={"code": code}).status_code == 429
    other = client.get(f"/verify/{code}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_unknown_certificate_numbers_look_like_missing_pages(login_as, ready):
    client = login_as("admin")
    assert client.get("/certificates/PSW-2026-999999").status_code == 404
    assert db.session.execute(select(Certificate)).first() is None
