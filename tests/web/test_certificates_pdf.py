"""The certificate PDF: what it says, that it is tagged, that its QR code works, and that it fetches nothing."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select

from lms.certificates import rendering, services
from lms.certificates.codes import format_code
from lms.certificates.models import Certificate, CertificateName
from lms.extensions import db
from tests.conftest import sign_in
from tests.web.certificates_fixtures import certificate_of, issued, ready, user  # noqa: F401 (fixtures)

MARKUP_NAME = '<img src="file:///etc/passwd"> <b>Maya</b> <link rel="stylesheet" href="http://example.org/x.css">'


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_shows_the_name_award_credits_level_and_code(client, ready, issued):
    certificate = certificate_of("trainee13@example.org")
    sign_in(client, "trainee13@example.org")
    response = client.get(f"/certificates/{certificate.serial}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = text_of(response.data)
    for expected in ("Maya Patel", "Certificate in Peer Support Work", "20 credits at Level 4 (FHEQ)",
                     "Peer Support Worker Training", "The Open University", "Recovery College Training Team",
                     certificate.serial, format_code(certificate.code)):
        assert expected in text, expected
    # The date of award is the exam board's date, and the notional hours are credits × 10.
    board_date = certificate.awarded_on
    from lms.progress.models import BoardDecision

    assert board_date == db.session.get(BoardDecision, certificate.decision_id).board.held_on
    assert f"Date of award {board_date.day} {board_date:%B %Y}" in text
    assert "200 notional hours of learning" in text and certificate.notional_hours == 200
    # Stored once rendered: the second download is the same file, with its recorded SHA-256.
    again = client.get(f"/certificates/{certificate.serial}/certificate.pdf")
    stored = db.session.get(Certificate, certificate.id)
    db.session.refresh(stored)
    assert again.data == response.data and hashlib.sha256(again.data).hexdigest() == stored.pdf_sha256
    digest = base64.b64encode(hashlib.sha256(again.data).digest()).decode()
    assert again.headers["Repr-Digest"] == f"sha-256=:{digest}:"


def test_the_pdf_is_tagged_a4_landscape_and_one_page(ready, issued):
    pdf = services.pdf_bytes(certificate_of("trainee13@example.org"))
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert catalog["/Lang"] == "en-GB"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert "Maya Patel" in reader.metadata.title
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    # Every font is embedded (a viewer without them shows the certificate as printed).
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        font = font.get_object()
        descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font).get(
            "/FontDescriptor")
        assert descriptor is not None, font.get("/BaseFont")
        descriptor = descriptor.get_object()
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font.get("/BaseFont")
    # Reading order follows the page: the provider's line, then the one heading, then the rest.
    kinds = []

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, dict) and "/S" in node:
            kinds.append(str(node["/S"]))
        kids = node.get("/K") if isinstance(node, dict) else None
        if kids is None or depth > 20:
            return
        for kid in (kids if isinstance(kids, list) else [kids]):
            if hasattr(kid, "get_object") and isinstance(kid.get_object(), dict):
                walk(kid, depth + 1)

    walk(catalog["/StructTreeRoot"])
    headings = [i for i, kind in enumerate(kinds) if kind.startswith("/H")]
    paragraphs = [i for i, kind in enumerate(kinds) if kind == "/P"]
    assert kinds.count("/H1") == 1 and paragraphs[0] < headings[0] < paragraphs[1], kinds


def test_the_qr_code_decodes_to_the_verification_url(app, ready, issued):
    certificate = certificate_of("trainee13@example.org")
    page = PdfReader(io.BytesIO(services.pdf_bytes(certificate))).pages[0]
    images = page.images
    assert len(images) == 1
    decoded = [barcode.text for barcode in zxingcpp.read_barcodes(images[0].image)]
    assert decoded == [f"{app.config['LMS_BASE_URL']}/verify/{format_code(certificate.code)}"]


def test_a_certificate_of_completion_says_so_and_carries_no_credits(ready, issued):
    text = text_of(services.pdf_bytes(certificate_of("trainee17@example.org")))
    assert "Certificate of Completion" in text and "Rosa Martins" in text
    assert "carries no academic credit" in text and "20 credits" not in text


class Spy:
    """Wraps the static-only fetcher and records what WeasyPrint asked for."""

    def __init__(self, app):
        self.inner = rendering.static_only_fetcher(app.static_folder)
        self.asked: list[str] = []
        self._fail_on_errors = False

    def __call__(self, url):
        self.asked.append(url)
        return self.inner(url)


def test_a_name_with_markup_or_a_file_url_is_printed_as_text_and_nothing_is_fetched(app, client, ready):
    db.session.execute(select(CertificateName).where(
        CertificateName.user_id == user("trainee13@example.org").id)).scalar_one().name = MARKUP_NAME
    db.session.commit()
    services.issue_cohort(ready.id, None, render=False)
    certificate = certificate_of("trainee13@example.org")
    assert certificate.holder_name == MARKUP_NAME
    spy = Spy(app)
    pdf = rendering.certificate_pdf(certificate, url_fetcher=spy)
    # Only the QR code image made by the LMS itself was asked for: no file:, no http:.
    assert spy.asked and all(url.startswith(rendering.QR_PREFIX) for url in spy.asked)
    assert spy.inner.refused == []
    # Long names wrap (after a "/", say), so compare without the spaces line breaks leave.
    squashed = "".join(text_of(pdf).split())
    assert "".join(MARKUP_NAME.split()) in squashed
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1  # the QR code, and nothing else
    # The HTML page escapes it too.
    sign_in(client, "admin@example.org")
    page = client.get(f"/certificates/{certificate.serial}").get_data(as_text=True)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in page and '<img src="file:' not in page


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://example.org/x.css", "https://example.org/static/css/lms.css",
    rendering.STATIC_BASE + "../../../etc/passwd", rendering.STATIC_BASE + "css/missing.css",
    "data:text/css;base64,Ym9keXt9",
])
def test_the_fetcher_refuses_anything_but_static_files(app, url):
    fetcher = rendering.static_only_fetcher(app.static_folder)
    with pytest.raises(ValueError):
        fetcher(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_static_files(app):
    fetcher = rendering.static_only_fetcher(app.static_folder)
    response = fetcher(rendering.STATIC_BASE + "css/certificates.css")
    assert b".certificate__qr" in response.read()
    response.close()


def test_the_transcript_shows_the_recorded_mark_and_flags(client, ready, issued):
    certificate = certificate_of("trainee17@example.org")
    sign_in(client, "trainee17@example.org")
    response = client.get(f"/certificates/{certificate.serial}/transcript.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = text_of(response.data)
    assert "Transcript" in text and "Rosa Martins" in text
    assert "34 out of 100" in text and "R means referral" in text and "/verify with the code" in text and "Not passed" in text
    catalog = PdfReader(io.BytesIO(response.data)).trailer["/Root"]
    assert "/StructTreeRoot" in catalog and catalog["/Lang"] == "en-GB"


def test_an_admin_downloads_the_cohort_as_one_zip(login_as, ready, issued):
    client = login_as("admin")
    response = client.get("/admin/certificates/cohorts/demo-finished/certificates.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert len(names) == 8 and all(name.startswith("PSW-") and name.endswith(".pdf") for name in names)
    assert "Maya Patel" in text_of(archive.read(next(n for n in names if "Maya-Patel" in n)))


def test_a_changed_stored_pdf_is_rendered_again(app, ready, issued):
    from pathlib import Path

    certificate = certificate_of("trainee13@example.org")
    services.pdf_bytes(certificate)
    db.session.commit()
    path = Path(app.config["LMS_UPLOAD_DIR"]) / "certificates" / certificate.pdf_file
    path.write_bytes(b"%PDF-1.7 not the certificate")
    data = services.pdf_bytes(certificate)
    assert data.startswith(b"%PDF") and "Maya Patel" in text_of(data)
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
