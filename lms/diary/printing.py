"""The wellness plan as a PDF, rendered by WeasyPrint.

The PDF is made on request and never stored: it holds health information. It
is tagged (PDF/UA) so that a screen reader can read it, and WeasyPrint may
fetch nothing but the app's own static files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

STATIC_BASE = "https://lms.invalid/static/"


@lru_cache(maxsize=1)
def _font_configuration():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def static_only_fetcher(static_folder: str):
    """A WeasyPrint URL fetcher that serves files from ``static_folder`` and refuses everything else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = Path(static_folder).resolve()

    class StaticOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(STATIC_BASE):
                raise ValueError(f"Only the LMS's own static files may be used in a PDF, not {url[:80]}")
            path = (root / unquote(urlsplit(url).path[len("/static/"):])).resolve()
            if root not in path.parents or not path.is_file():
                raise ValueError("No such static file.")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _content_type(path)})

    return StaticOnly(allowed_protocols=("https",))


def _content_type(path: Path) -> str:
    types = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}
    return types.get(path.suffix, "application/octet-stream")


def plan_pdf(owner_name: str, plan_sections, sections: dict[str, str], version) -> bytes:
    """The PDF of one version of a wellness plan."""
    from weasyprint import HTML

    html = render_template("diary/plan_pdf.html", owner_name=owner_name, plan_sections=plan_sections,
                           sections=sections, version=version)
    document = HTML(string=html, base_url=STATIC_BASE,
                    url_fetcher=static_only_fetcher(current_app.static_folder))
    return document.write_pdf(font_config=_font_configuration(), pdf_variant="pdf/ua-1")
