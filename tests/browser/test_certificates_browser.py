"""In a real browser: an admin previews and issues the finished cohort's certificates, a trainee downloads
theirs, an anonymous visitor verifies it, then sees it revoked. axe checks every page visited."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader

from lms.extensions import db
from tests.browser.conftest import check_accessibility, sign_in, sign_out


@pytest.fixture
def finished_cohort_ready(live_server):
    """The certificates part of the demo (a ratified exam board for demo-finished) on the live server."""
    from lms.certificates import demo

    with live_server.app.app_context():
        demo.seed(date.today())
        db.session.commit()
        db.session.remove()


def test_issue_download_verify_and_revoke(page, live_server, finished_cohort_ready):
    # An admin previews the finished cohort, then issues its certificates.
    sign_in(page, "admin@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Certificates").click()
    page.wait_for_url("**/certificates")
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(r"Preview and issue for .*\(finished\)")).click()
    page.wait_for_url("**/admin/certificates/cohorts/demo-finished")
    check_accessibility(page)
    assert page.get_by_role("cell", name="Maya Patel", exact=True).count() >= 1
    issue_button = page.get_by_role("button", name=re.compile(r"Issue \d+ certificates"))
    assert issue_button.count() == 1, "demo-finished has no certificates ready to issue"
    issue_button.click()
    page.wait_for_url("**/admin/certificates/batches/*")
    assert "Finished:" in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    # The trainee downloads their certificate.
    sign_in(page, "trainee13@example.org")
    page.goto("/certificates")
    check_accessibility(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download my certificate")).click()
    pdf = Path(download.value.path()).read_bytes()
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Maya Patel" in text and "20 credits at Level 4 (FHEQ)" in text
    page.get_by_role("link", name="Certificate in Peer Support Work").click()
    check_accessibility(page)
    # The printed address uses LMS_BASE_URL; the live server listens elsewhere, so follow its path.
    verify_url = urlsplit(page.locator("main a[href*='/verify/']").first.get_attribute("href")).path
    code = verify_url.rsplit("/", 1)[1]
    assert code in text
    sign_out(page)

    # Anyone verifies it, by the QR code's address or by typing the code.
    page.goto(verify_url)
    check_accessibility(page)
    assert "This certificate is genuine and valid." in page.get_by_role("status").inner_text()
    page.goto("/verify")
    check_accessibility(page)
    page.get_by_label("Verification code").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Check certificate").click()
    page.wait_for_url(f"**/verify/{code}")
    assert "Maya Patel" in page.content()
    page.goto("/verify")
    page.get_by_label("Verification code").fill("ABC")
    page.get_by_role("button", name="Check certificate").click()
    assert "A verification code has 18 letters and numbers" in page.get_by_role("alert").inner_text()
    check_accessibility(page)

    # The admin revokes it, with a reason.
    sign_in(page, "admin@example.org")
    serial = re.search(r"PSW-\d{4}-\d{6}", text).group(0)
    page.goto(f"/certificates/{serial}")
    check_accessibility(page)
    page.get_by_role("link", name="Revoke this certificate").click()
    check_accessibility(page)
    page.get_by_label("Reason for revoking").fill("Awarded in error: the outcome was corrected by the board.")
    page.get_by_role("button", name="Revoke certificate").click()
    page.wait_for_url(f"**/certificates/{serial}")
    assert "has been revoked" in page.get_by_role("status").inner_text()
    check_accessibility(page)
    sign_out(page)

    # The visitor checks again and sees it revoked.
    page.goto(verify_url)
    assert "This certificate was revoked on" in page.get_by_role("status").inner_text()
    check_accessibility(page)
