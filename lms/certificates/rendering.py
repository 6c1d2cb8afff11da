"""Certificates and transcripts as tagged PDFs (WeasyPrint), from the same templates as the HTML page.

The certificate page and its PDF share ``templates/certificates/_certificate.html``.
PDFs are PDF/UA-1 (tagged: document language, title, structure and reading
order), A4, with the system's fonts embedded. Jinja escapes every value, so a
name holding markup or a ``file:`` address is printed as text; and the URL
fetcher refuses everything but the app's own static files and the QR code
image made here, so nothing a certificate says can make the server fetch
anything.
"""

from __future__ import annotations

import base64
import mimetypes
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
from flask import current_app

# PDFs resolve static files against this address; the fetcher maps it to the static folder.
STATIC_BASE = "https://lms.invalid/static/"
QR_PREFIX = "data:image/png;base64,"


def verification_url(code: str) -> str:
    """The public address printed (and QR-coded) on a certificate."""
    from lms.certificates.codes import format_code

    return f"{current_app.config['LMS_BASE_URL']}/verify/{format_code(code)}"


@lru_cache(maxsize=512)
def qr_data_uri(url: str) -> str:
    """A PNG QR code of ``url`` as a data: URI (segno writes PNG itself; no Pillow needed).

    PNG rather than SVG so the image is one embedded picture in the PDF, sharp
    at any size with ``image-rendering: pixelated`` and easy to check in tests.
    """
    # A fixed mask spares segno trying all eight (most of its time); any mask is a valid code.
    return segno.make(url, error="m", mask=4, micro=False).png_data_uri(scale=4, border=4)


def _weasyprint():
    # Imported on first use: WeasyPrint takes most of a second to import.
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    return weasyprint, URLFetcher, URLFetcherResponse


@cache
def font_configuration():
    """One FontConfiguration per process: building it is the slow part of the first render."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def static_only_fetcher(static_folder: str | Path):
    """A WeasyPrint URL fetcher for the app's static files and our own QR images, refusing everything else.

    ``fetched`` and ``refused`` list the addresses asked for (tests read them).
    """
    _, URLFetcher, URLFetcherResponse = _weasyprint()
    root = Path(static_folder).resolve()

    class StaticFilesOnly(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=("https", "data"))
            self.fetched: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            if url.startswith(QR_PREFIX):
                self.fetched.append(url[:len(QR_PREFIX)])
                return URLFetcherResponse(url, base64.b64decode(url[len(QR_PREFIX):]),
                                          {"Content-Type": "image/png"})
            if url.startswith(STATIC_BASE):
                path = (root / unquote(urlsplit(url).path[len("/static/"):])).resolve()
                if path.is_relative_to(root) and path.is_file():
                    self.fetched.append(url)
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
            self.refused.append(url)
            raise ValueError("Certificates may use only the LMS's own static files.")

    return StaticFilesOnly()


STYLESHEET = "css/certificates.css"


@cache
def _stylesheet(static_folder: str):
    # Parsed once per process (through the same static-only fetcher): parsing
    # it again for every certificate would cost more than laying one out.
    weasyprint, _, _ = _weasyprint()
    return weasyprint.CSS(url=STATIC_BASE + STYLESHEET, url_fetcher=static_only_fetcher(static_folder),
                          font_config=font_configuration())


def render_pdf(html: str, url_fetcher=None) -> bytes:
    """Render a standalone HTML document (with ``<html lang>`` and ``<title>``) to a tagged PDF/UA-1.

    The certificate stylesheet (static/css/certificates.css) is applied to every document.
    """
    weasyprint, _, _ = _weasyprint()
    fetcher = url_fetcher or static_only_fetcher(current_app.static_folder)
    document = weasyprint.HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[_stylesheet(current_app.static_folder)], pdf_variant="pdf/ua-1",
                              font_config=font_configuration())


def render_document(template: str, **values) -> str:
    """Render a standalone document template.

    Straight from the Jinja environment, without the page context processors
    (signed-in person, navigation): PDFs are also made by background jobs and
    the command line, outside any request. Autoescaping is on (.html).
    """
    return current_app.jinja_env.get_template(template).render(**values)


def certificate_values(certificate) -> dict:
    """What ``_certificate.html`` needs, for the page and the PDF alike."""
    from lms.certificates.codes import format_code

    url = verification_url(certificate.code)
    return {"certificate": certificate, "verify_url": url, "qr": qr_data_uri(url),
            "code": format_code(certificate.code), "verify_page": f"{current_app.config['LMS_BASE_URL']}/verify"}


def certificate_pdf(certificate, url_fetcher=None) -> bytes:
    """The certificate as a PDF (A4 landscape)."""
    html = render_document("certificates/certificate_pdf.html", **certificate_values(certificate))
    return render_pdf(html, url_fetcher)


def transcript_pdf(certificate, url_fetcher=None) -> bytes:
    """The transcript: the assessment with its recorded mark and flags (A4 portrait)."""
    from lms.certificates.codes import format_code

    html = render_document("certificates/transcript_pdf.html", certificate=certificate,
                           code=format_code(certificate.code),
                           verify_page=f"{current_app.config['LMS_BASE_URL']}/verify")
    return render_pdf(html, url_fetcher)
