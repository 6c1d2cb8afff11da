"""Files people upload: checked by their content, kept under random names outside static/.

A file is first streamed to a temporary name in the upload store while it is
measured, hashed and checked; it gets its final name only once the database
rows pointing to it have been flushed (`keep`), and it is removed again if the
request's transaction rolls back. Nothing is ever half-saved: either the row
and the file both exist, or neither does.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms import jobs
from lms.coursework.rules import count_words

KINDS = {
    "pdf": ("PDF", "application/pdf"),
    "docx": ("Word (.docx)", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "odt": ("OpenDocument (.odt)", "application/vnd.oasis.opendocument.text"),
}
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DEFAULT_MAX_MB = 20
CHUNK = 64 * 1024
# Reading the text out of a Word or OpenDocument file to count its words: never
# inflate more than this, whatever the archive claims (a "zip bomb" guard).
MAX_XML_BYTES = 30 * 1024 * 1024
KEPT = "lms_coursework_kept_uploads"
_ACTIVE_CONTENT = (b"<html", b"<svg", b"<!doctype", b"<script", b"<?xml", b"<head", b"<body", b"<iframe")
_ACTIVE_EXTENSIONS = {"html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "js", "mht", "mhtml"}


class UploadProblem(Exception):
    """A file that cannot be accepted, with a message for the person who chose it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class StagedUpload:
    """A checked file waiting in the store under a temporary name."""

    temp_path: Path
    stored_name: str
    original_name: str
    kind: str
    size: int
    sha256: str
    word_count: int | None


def max_upload_bytes() -> int:
    """The largest file accepted, from LMS_MAX_UPLOAD_MB (default 20 MB)."""
    value = current_app.config.get("LMS_MAX_UPLOAD_MB") or os.environ.get("LMS_MAX_UPLOAD_MB") or DEFAULT_MAX_MB
    return int(float(value) * 1024 * 1024)


def describe_size(size: int) -> str:
    """'20 MB', '1.5 MB', '320 KB' for messages."""
    if size >= 1024 * 1024:
        megabytes = size / (1024 * 1024)
        return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def too_large_message(limit: int | None = None) -> str:
    """The message shown whenever a request or a file is over the limit."""
    limit = limit or max_upload_bytes()
    return (f"The file you chose is too large. Files can be up to {describe_size(limit)} each. "
            "Make the file smaller (for example, export the PDF again at a lower image quality, "
            "or save the document without embedded pictures) and choose it again. "
            "Nothing from this form was saved, so please check your text and files before trying again.")


def upload_dir() -> Path:
    """The coursework folder of the upload store (made if missing)."""
    path = Path(current_app.config["LMS_UPLOAD_DIR"]) / "coursework"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(stored_name: str) -> Path:
    """Where a kept file lives. Stored names are random hex, never a person's file name."""
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise ValueError("Not a stored file name.")
    return upload_dir() / stored_name


def display_name(name: str) -> str:
    """A file name safe to show in a message: control characters taken out, kept short."""
    cleaned = "".join(ch for ch in name if ch.isprintable())
    return cleaned if len(cleaned) <= 80 else cleaned[:77] + "…"


def filename_problem(name: str | None) -> str | None:
    """Check the name a browser sent for a file. Returns a message or None."""
    if not name or not name.strip():
        return "The file has no name. Rename it, for example essay.pdf, and choose it again."
    if (any(not ch.isprintable() for ch in name) or "/" in name or "\\" in name or ".." in name
            or name.startswith(".") or len(name) > 200):
        return (f"The file name “{display_name(name)}” has characters we can't accept (such as ../, "
                "slashes or hidden control characters), or is very long. Rename the file with letters, "
                "numbers and hyphens, for example my-assignment.pdf, and choose it again.")
    return None


def extension_of(name: str) -> str:
    """The lower-case extension of a file name, or ''."""
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def _wrong_type(name: str) -> str:
    return (f"“{display_name(name)}” is not a PDF, Word (.docx) or OpenDocument (.odt) file. "
            "Save or export your work in one of those formats and choose it again.")


def _active(name: str) -> str:
    return (f"“{display_name(name)}” is a web page or SVG image. We can't accept those, because they "
            "can run code when opened. Save or export your work as a PDF, Word (.docx) or "
            "OpenDocument (.odt) file and choose it again.")


def _mismatch(name: str, kind: str) -> str:
    label = KINDS[kind][0]
    return (f"“{display_name(name)}” is named as a {label} file, but what is inside is not a {label} file. "
            f"It may be damaged or saved in another format. Open it, save (or export) it as a {label} "
            "file and choose it again.")


def content_kind(path: Path, head: bytes) -> str | None:
    """What the bytes really are: 'pdf', 'docx', 'odt', 'active' (HTML, SVG, XML) or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if "[Content_Types].xml" in names and "word/document.xml" in names:
                    return "docx"
                if names and names[0] == "mimetype":
                    with archive.open("mimetype") as member:
                        if member.read(len(ODT_MIMETYPE) + 1).strip() == ODT_MIMETYPE:
                            return "odt"
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError):
            return None
        return None
    sniff = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith(b"<") or any(marker in sniff for marker in _ACTIVE_CONTENT):
        return "active"
    return None


def _xml_words(path: Path, member: str, paragraph_end: str) -> int | None:
    """Count the words of the text in a Word or OpenDocument file's XML, or None if it can't be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
            if info.file_size > MAX_XML_BYTES:
                return None
            with archive.open(info) as handle:
                xml = handle.read(MAX_XML_BYTES + 1).decode("utf-8", errors="replace")
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError):
        return None
    # Paragraph ends and tabs separate words; runs inside a paragraph join up.
    xml = xml.replace(paragraph_end, " " + paragraph_end)
    xml = re.sub(r"<(?:w:tab|w:br|text:s|text:tab|text:line-break)\b[^>]*/>", " ", xml)
    return count_words(html.unescape(re.sub(r"<[^>]+>", "", xml)))


def file_word_count(path: Path, kind: str) -> int | None:
    """Words in a Word or OpenDocument file; None for PDFs (not counted)."""
    if kind == "docx":
        return _xml_words(path, "word/document.xml", "</w:p>")
    if kind == "odt":
        return _xml_words(path, "content.xml", "</text:p>")
    return None


def stage(storage, limit: int | None = None) -> StagedUpload:
    """Check an uploaded file (a werkzeug FileStorage) and copy it to a temporary name.

    Raises UploadProblem (status 413 for a file over the limit) with a plain
    message; nothing is left behind when it does.
    """
    name = storage.filename or ""
    problem = filename_problem(name)
    if problem:
        raise UploadProblem(problem)
    extension = extension_of(name)
    if extension in _ACTIVE_EXTENSIONS:
        raise UploadProblem(_active(name))
    if extension not in KINDS:
        raise UploadProblem(_wrong_type(name))
    limit = limit or max_upload_bytes()
    stored_name = secrets.token_hex(16)
    temp_path = upload_dir() / f".{stored_name}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(temp_path, "xb") as out:
            while chunk := storage.stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadProblem(too_large_message(limit), status=413)
                if len(head) < 2048:
                    head += chunk[: 2048 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadProblem(f"“{display_name(name)}” is empty (0 bytes). Check you chose the right file, "
                                "save it again if needed, and choose it again.")
        kind = content_kind(temp_path, head)
        if kind == "active":
            raise UploadProblem(_active(name))
        if kind != extension:
            raise UploadProblem(_mismatch(name, extension))
        words = file_word_count(temp_path, kind)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return StagedUpload(temp_path, stored_name, display_name(name), kind, size, digest.hexdigest(), words)


def stage_all(storages, limit: int | None = None) -> list[StagedUpload]:
    """Stage several files; if any is refused, none is kept and the problem is raised."""
    staged: list[StagedUpload] = []
    try:
        for storage in storages:
            staged.append(stage(storage, limit))
    except UploadProblem:
        discard(staged)
        raise
    return staged


def keep(staged: list[StagedUpload], session: Session) -> None:
    """Give staged files their final names (call after the rows are flushed).

    If the transaction later rolls back, the files are removed again.
    """
    for upload in staged:
        final = upload_dir() / upload.stored_name
        os.replace(upload.temp_path, final)
        session.info.setdefault(KEPT, []).append(final)


def discard(staged: list[StagedUpload]) -> None:
    """Remove staged files that will not be kept."""
    for upload in staged:
        upload.temp_path.unlink(missing_ok=True)


def remove_after_commit(stored_name: str) -> None:
    """Delete a kept file once the transaction that dropped its row has committed."""
    jobs.enqueue(delete_stored_file, stored_name)


def delete_stored_file(stored_name: str) -> None:
    """Delete a kept file (a background job)."""
    path_for(stored_name).unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _forget_kept(session):
    session.info.pop(KEPT, None)


@event.listens_for(Session, "after_rollback")
def _remove_kept(session):
    # The rows pointing at these files were never committed: take the files away too.
    for path in session.info.pop(KEPT, []):
        Path(path).unlink(missing_ok=True)
