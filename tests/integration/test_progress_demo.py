"""The progress demo adds supervision notes once, and leaves exam boards to the certificates demo."""

from datetime import date

from sqlalchemy import func, select

from lms.extensions import db
from lms.progress import demo as progress_demo
from lms.progress.models import ExamBoard, SupervisionNote


def test_demo_adds_notes_once_and_no_board(app, demo):
    first = progress_demo.seed(date.today())
    db.session.commit()
    again = progress_demo.seed(date.today())
    db.session.commit()
    assert first == {"supervision notes": 2}
    assert again == {"supervision notes": 0}
    assert db.session.scalar(select(func.count(SupervisionNote.id))) == 2
    assert db.session.scalar(select(func.count(ExamBoard.id))) == 0
