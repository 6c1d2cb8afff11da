"""Printable day handouts as tagged PDF (WeasyPrint).

The HTML comes from ``templates/curriculum/handout.html`` and holds trainee
content only. WeasyPrint may fetch nothing but the app's own static files, so
course content can never make the server request another address.
"""

from __future__ import annotations

import mimetypes
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname


def _weasyprint():
    # Imported on first use: WeasyPrint takes most of a second to import and
    # only the handout needs it.
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    return weasyprint, FontConfiguration, URLFetcher, URLFetcherResponse


@cache
def _font_configuration():
    # One FontConfiguration per process: building it is the slow part of a render.
    _, FontConfiguration, _, _ = _weasyprint()
    return FontConfiguration()


def static_only_fetcher(static_folder: str | Path):
    """A WeasyPrint URL fetcher that serves files from ``static_folder`` and refuses everything else."""
    _, _, URLFetcher, URLFetcherResponse = _weasyprint()
    root = Path(static_folder).resolve()

    class StaticFilesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise ValueError(f"Handouts may only use the LMS's own static files, not {url}")
            path = Path(url2pathname(parts.path)).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise ValueError(f"Handouts may only use the LMS's own static files, not {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    return StaticFilesOnly(allowed_protocols=("file",))


def render_pdf(html: str, static_folder: str | Path) -> bytes:
    """Render handout HTML (with ``<html lang>`` and ``<title>``) to a tagged PDF/UA-1 document.

    The same HTML always makes the same PDF, so recent ones are kept in memory:
    a cohort printing a day's handout renders it once per process, not once per trainee.
    """
    return _render(html, str(static_folder))


@lru_cache(maxsize=32)
def _render(html: str, static_folder: str) -> bytes:
    weasyprint, _, _, _ = _weasyprint()
    base_url = Path(static_folder).resolve().as_uri() + "/"
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=static_only_fetcher(static_folder))
    return document.write_pdf(pdf_variant="pdf/ua-1", font_config=_font_configuration())
