"""Boards, attendance and certificates in a person's export and erasure: their own words go out with the
export and are removed by an erasure; what accreditation needs (marks on the register, the certificate
register) stays."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.attendance.models import RegisterMark
from lms.boards import search
from lms.boards.models import Post, PostReport, Thread
from lms.certificates.models import Certificate, CertificateName
from lms.extensions import db
from lms.privacy import services as privacy
from lms.privacy.registry import load_plugins
from tests.web.certificates_fixtures import certificate_of, issued, ready  # noqa: F401 (fixtures)
from tests.web.test_coursework_support import person


def sections_of(email: str) -> dict:
    load_plugins()
    return {section.key: section for section in privacy.export_sections(person(email))}


def a_word_from(body: str) -> str:
    return max(re.findall(r"[A-Za-z]{6,}", body), key=len)


def test_board_posts_go_out_in_the_export_and_an_erasure_removes_them_from_threads_and_search(app, demo, today):
    from lms.boards import demo as boards_demo

    boards_demo.seed(today)
    db.session.commit()
    author = db.session.execute(select(Post.author_id).where(Post.status == "published")
                                .group_by(Post.author_id).order_by(Post.author_id)).scalars().first()
    trainee = db.session.get(type(person("trainee1@example.org")), author)
    email = trainee.email
    posts = db.session.execute(select(Post).where(Post.author_id == trainee.id, Post.status == "published")
                               .order_by(Post.id)).scalars().all()
    assert posts, "the demo has posts"
    post = posts[0]
    other = db.session.execute(select(Post).where(Post.author_id != trainee.id)).scalars().first()
    db.session.add(PostReport(post_id=other.id, reporter_id=trainee.id, reason="This worried me for Sam."))
    db.session.commit()
    word = a_word_from(post.body)
    assert post.id in search.matching_post_ids(word, [post.board_id], 50, 0)[0]

    exported = sections_of(email)
    assert post.body in [record["text"] for record in exported["board_posts"].records]
    assert exported["board_reports"].records[0]["reason"] == "This worried me for Sam."

    privacy.erase_person(None, trainee)
    db.session.commit()
    db.session.expire_all()
    erased = db.session.get(Post, post.id)
    assert erased.status == "removed" and erased.body == "[removed at the person's request]"
    assert erased.thread_id == post.thread_id  # the thread keeps its shape, so replies keep their context
    assert post.id not in search.matching_post_ids(word, [post.board_id], 50, 0)[0]
    report = db.session.execute(select(PostReport).where(PostReport.post_id == other.id)).scalar_one()
    assert report.reason == "[removed at the person's request]"
    titles = db.session.execute(select(Thread.title).where(Thread.author_id == trainee.id)).scalars().all()
    assert all(title == "[removed at the person's request]" for title in titles)


def test_register_marks_stay_after_an_erasure_but_their_reasons_and_notes_go(app, demo, today):
    from lms.attendance import demo as attendance_demo

    attendance_demo.seed(today)
    db.session.commit()
    trainee = person("trainee1@example.org")
    mark = db.session.execute(select(RegisterMark).where(RegisterMark.trainee_id == trainee.id)
                              .order_by(RegisterMark.id)).scalars().first()
    assert mark is not None, "the demo has registers for trainee1"
    mark.status, mark.absence_reason, mark.note = "authorised_absence", "In hospital that week.", "Sent the notes."
    db.session.commit()
    records = sections_of("trainee1@example.org")["attendance"].records
    mine = next(r for r in records if r["absence_reason"] == "In hospital that week.")
    assert mine["status"] == "authorised_absence" and mine["note"] == "Sent the notes."

    privacy.erase_person(None, trainee)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(RegisterMark, mark.id)
    assert kept.status == "authorised_absence"  # the award rests on it
    assert kept.absence_reason == kept.note == "[removed at the person's request]"


def test_the_confirmed_name_goes_with_an_erasure_and_the_certificate_can_still_be_verified(app, client, ready,
                                                                                           issued):
    certificate = certificate_of("trainee13@example.org")
    exported = sections_of("trainee13@example.org")
    assert exported["certificate_name"].records[0]["name"] == "Maya Patel"
    assert exported["certificates"].records[0]["serial"] == certificate.serial

    from lms.certificates import services as certificate_services

    certificate_services.pdf_bytes(certificate)  # the PDF has been downloaded, so it is stored
    db.session.commit()
    stored = certificate_services._pdf_dir() / certificate.pdf_file
    assert stored.is_file()
    privacy.erase_person(None, person("trainee13@example.org"))
    db.session.commit()
    assert not stored.exists()
    assert db.session.execute(select(CertificateName).where(
        CertificateName.user_id == certificate.trainee_id)).first() is None
    kept = db.session.get(Certificate, certificate.id)
    assert kept.status == "valid" and kept.serial == certificate.serial and kept.award == certificate.award
    # Only what verifying needs is kept: no mark, no flags, no stored PDF.
    assert (kept.recorded_mark, kept.flags, kept.pdf_file) == (None, "", None)
    from lms.certificates.codes import format_code

    page = client.get(f"/verify/{format_code(certificate.code)}")
    assert page.status_code == 200 and certificate.serial in page.get_data(as_text=True)
