"""Files people upload: checked by their content, kept under random names outside static/.

A file is first streamed to a temporary name in the upload store
(``.<name>.part``) while it is measured, hashed and checked, and written to
disk (fsync) before any row points at it. It gets its final name only after
the transaction recording it has committed (`keep`), and it is removed if that
transaction rolls back. Nothing is ever half-saved:

- a worker killed before the commit leaves only a ``.part`` file that no row
  names; `sweep` (``lms uploads sweep``, run daily) removes it once it is old;
- a worker killed between the commit and the rename leaves a row whose file is
  still under its temporary name: `path_for` finds it there, and `sweep` gives
  it its final name.

A disk that fills up (or any other failure to write) removes what was written
and raises UploadProblem with a plain message, like any other refused file.
"""

from __future__ import annotations

import errno
import hashlib
import html
import logging
import os
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms import jobs
from lms.coursework.rules import count_words
from lms.extensions import db

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
# The ways a write says "no room": the disk is full, or this user's quota is used up.
OUT_OF_SPACE = {errno.ENOSPC, errno.EDQUOT}
STAGED_NAME = re.compile(r"\.([0-9a-f]{32})\.part")
log = logging.getLogger("lms.coursework.uploads")
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
    """Where a kept file lives. Stored names are random hex, never a person's file name.

    A file whose row committed moments ago (or just before its worker died) may
    still carry its temporary name: it is found there until it is renamed.
    """
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise ValueError("Not a stored file name.")
    final = upload_dir() / stored_name
    if not final.exists():
        staged = staged_path(stored_name)
        if staged.exists():
            return staged
    return final


def staged_path(stored_name: str) -> Path:
    """The temporary name a file has while it is checked and until its row is committed."""
    return upload_dir() / f".{stored_name}.part"


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


def _storage_failed(name: str, error: OSError) -> UploadProblem:
    """The message for a file the server could not write: the disk is full, or another storage fault."""
    # The error number only: the file's name and contents may be personal.
    log.error("Could not write an upload to the store: %s", errno.errorcode.get(error.errno, error.errno))
    if error.errno in OUT_OF_SPACE:
        return UploadProblem(f"“{display_name(name)}” could not be saved because the server is out of space, "
                             "so nothing was changed. Please try again later, or tell your tutor "
                             "(staff: tell the LMS administrator) if it keeps happening.", status=507)
    return UploadProblem(f"“{display_name(name)}” could not be saved because of a problem with the server's file "
                         "storage, so nothing was changed. Please try again later, or tell your tutor "
                         "(staff: tell the LMS administrator) if it keeps happening.", status=503)


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

    Raises UploadProblem (status 413 for a file over the limit, 507 when the
    disk is full, 503 for another storage fault) with a plain message; nothing
    is left behind when it does.
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
    try:
        temp_path = staged_path(stored_name)
    except OSError as error:  # the store itself cannot be made
        raise _storage_failed(name, error) from None
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
            out.flush()
            # On disk before any row names it, so a committed row never outlives its file.
            os.fsync(out.fileno())
        if size == 0:
            raise UploadProblem(f"“{display_name(name)}” is empty (0 bytes). Check you chose the right file, "
                                "save it again if needed, and choose it again.")
        kind = content_kind(temp_path, head)
        if kind == "active":
            raise UploadProblem(_active(name))
        if kind != extension:
            raise UploadProblem(_mismatch(name, extension))
        words = file_word_count(temp_path, kind)
    except OSError as error:  # the disk filled up, or the store failed: take away what was written
        _remove_quietly(temp_path)
        raise _storage_failed(name, error) from None
    except BaseException:
        _remove_quietly(temp_path)
        raise
    return StagedUpload(temp_path, stored_name, display_name(name), kind, size, digest.hexdigest(), words)


def stage_all(storages, limit: int | None = None) -> list[StagedUpload]:
    """Stage several files; if any is refused, none is kept and the problem is raised."""
    staged: list[StagedUpload] = []
    try:
        for storage in storages:
            staged.append(stage(storage, limit))
    except BaseException:
        discard(staged)
        raise
    return staged


def keep(staged: list[StagedUpload], session: Session) -> None:
    """Keep staged files whose rows have been flushed: they get their final names once the session commits.

    If the transaction rolls back instead, the files are removed.
    """
    session.info.setdefault(KEPT, []).extend(upload.temp_path for upload in staged)


def discard(staged: list[StagedUpload]) -> None:
    """Remove staged files that will not be kept."""
    for upload in staged:
        _remove_quietly(upload.temp_path)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:  # a broken store must not hide the first problem; the sweep retries
        log.warning("Could not remove a staged upload: %s", errno.errorcode.get(error.errno, error.errno))


def _promote(temp_path: Path) -> bool:
    """Give a staged file its final name; False (and a log line) if the rename fails."""
    match = STAGED_NAME.fullmatch(temp_path.name)
    try:
        os.replace(temp_path, temp_path.with_name(match.group(1)))
        return True
    except OSError as error:
        log.warning("Could not rename a kept upload (%s); `lms uploads sweep` will.",
                    errno.errorcode.get(error.errno, error.errno))
        return False


def remove_after_commit(stored_name: str) -> None:
    """Delete a kept file once the transaction that dropped its row has committed."""
    jobs.enqueue(delete_stored_file, stored_name)


def delete_stored_file(stored_name: str) -> None:
    """Delete a kept file (a background job), under whichever name it has."""
    path_for(stored_name).unlink(missing_ok=True)
    staged_path(stored_name).unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _promote_kept(session):
    # The rows naming these files are committed: the files may take their final names.
    for path in session.info.pop(KEPT, []):
        _promote(Path(path))


@event.listens_for(Session, "after_rollback")
def _remove_kept(session):
    # The rows pointing at these files were never committed: take the files away too.
    for path in session.info.pop(KEPT, []):
        _remove_quietly(Path(path))


@dataclass
class SweepReport:
    """What `sweep` found in the coursework store."""

    removed: list[str] = field(default_factory=list)  # staged files no row names: left by a failed request
    renamed: list[str] = field(default_factory=list)  # staged files whose row committed: given their final name
    unreferenced: list[str] = field(default_factory=list)  # final-named files no row names
    unreferenced_removed: bool = False


def sweep(older_than_hours: float = 24, *, apply: bool = True, remove_unreferenced: bool = False,
          now: float | None = None) -> SweepReport:
    """Tidy the coursework store after workers that died mid-request.

    Looks only at files older than ``older_than_hours`` (a request still
    running is never touched). A ``.part`` file that a committed row names is
    renamed into place; one that no row names is removed. Final-named files
    that no row names (left by an older version, or a removal that failed) are
    listed, and removed only with ``remove_unreferenced``: a store shared with
    the wrong database would otherwise be emptied. With ``apply=False``
    nothing changes (a dry run).
    """
    from lms.coursework.models import StoredFile

    cutoff = (now or time.time()) - older_than_hours * 3600
    folder = upload_dir()
    staged: dict[str, Path] = {}
    final: dict[str, Path] = {}
    for path in folder.iterdir():
        try:
            if not path.is_file() or path.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:  # renamed or removed by a request meanwhile
            continue
        match = STAGED_NAME.fullmatch(path.name)
        if match:
            staged[match.group(1)] = path
        elif re.fullmatch(r"[0-9a-f]{32}", path.name):
            final[path.name] = path
    wanted = list(staged) + list(final)
    named: set[str] = set()
    for start in range(0, len(wanted), 500):
        named.update(db.session.execute(select(StoredFile.stored_name)
                                        .where(StoredFile.stored_name.in_(wanted[start:start + 500]))).scalars())
    report = SweepReport()
    for name, path in sorted(staged.items()):
        if name in named:
            if not apply or _promote(path):
                report.renamed.append(name)
        else:
            if apply:
                _remove_quietly(path)
            report.removed.append(name)
    report.unreferenced = sorted(name for name in final if name not in named)
    if apply and remove_unreferenced:
        for name in report.unreferenced:
            _remove_quietly(final[name])
        report.unreferenced_removed = True
    return report
