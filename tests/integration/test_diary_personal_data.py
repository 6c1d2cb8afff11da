"""The diary in a person's data export and erasure, the entry count, and the demo."""

from datetime import date

from sqlalchemy import func, select

from lms.accounts.services import find_by_email
from lms.diary import demo as diary_demo
from lms.diary import services
from lms.diary.crypto import seal
from lms.diary.models import (DiaryComment, DiaryEntry, DiaryEntryVersion, DiaryShare, WellnessPlan,
                              WellnessPlanVersion)
from lms.diary.personal_data import erase_diary, export_diary
from lms.extensions import db
from lms.privacy import registry


def person(name):
    return find_by_email(f"{name}@example.org")


def entry_for(name, body, *, draft=False):
    fields = services.EntryFields(services.EntryContent(title=f"About {body}", body=body), date.today(), None)
    return services.create_entry(person(name), fields, draft=draft)


def test_export_has_the_persons_own_diary_and_plan_only(app, demo):
    mine = entry_for("trainee1", "my own words")
    entry_for("trainee2", "someone else's words")
    comment = DiaryComment(entry_id=mine.id, trainee_id=mine.trainee_id, author_id=person("academic1").id)
    db.session.add(comment)
    seal(comment, {"body": "A kind comment"})
    services.save_plan(person("trainee1"), {"well": "Curious and chatty"})
    db.session.commit()

    sections = {section.key: section for section in export_diary(person("trainee1"))}
    entries = sections["diary_entries"].records
    assert [e["body"] for e in entries] == ["my own words"]
    assert entries[0]["comments"][0]["comment"] == "A kind comment"
    assert entries[0]["history"][0]["content"]["body"] == "my own words"
    assert sections["wellness_plan"].records[0]["sections"]["well"] == "Curious and chatty"
    written = {s.key: s for s in export_diary(person("academic1"))}["diary_comments_written"].records
    assert written[0]["comment"] == "A kind comment"
    assert export_diary in registry.EXPORTERS and erase_diary in registry.ERASERS


def test_erasure_removes_the_diary_and_plan_and_nothing_of_anyone_else(app, demo):
    mine = entry_for("trainee1", "to be erased")
    theirs = entry_for("trainee2", "stays")
    db.session.add(DiaryShare(entry_id=mine.id, trainee_id=mine.trainee_id, supervisor_id=person("academic1").id,
                              relationship_to_trainee="academic_supervisor"))
    by_academic = DiaryComment(entry_id=theirs.id, trainee_id=theirs.trainee_id, author_id=person("academic1").id)
    db.session.add(by_academic)
    seal(by_academic, {"body": "Well done"})
    services.save_plan(person("trainee1"), {"well": "Plan"})
    db.session.commit()

    erase_diary(person("trainee1"))
    db.session.commit()
    for model in (DiaryEntry, DiaryEntryVersion, DiaryShare, WellnessPlan, WellnessPlanVersion):
        assert db.session.execute(select(func.count()).select_from(model)
                                  .where(model.trainee_id == person("trainee1").id)).scalar_one() == 0
    assert services.entry_content(db.session.get(DiaryEntry, theirs.id)).body == "stays"

    # A supervisor's erasure keeps their comment with the trainee, no longer naming them.
    erase_diary(person("academic1"))
    db.session.commit()
    kept = db.session.get(DiaryComment, by_academic.id)
    assert kept is not None and kept.author_id is None


def test_entry_count_counts_saved_entries_without_reading_them(app, demo, count_queries):
    entry_for("trainee1", "one")
    entry_for("trainee1", "two")
    entry_for("trainee1", "draft", draft=True)
    db.session.commit()
    trainee_id = person("trainee1").id
    with count_queries() as statements:
        assert services.entry_count(trainee_id) == 2
    assert len(statements) == 1 and "sealed" not in statements[0]


def test_the_demo_adds_shared_entries_and_a_shared_plan_once(app, demo, today):
    added = diary_demo.seed(today)
    db.session.commit()
    assert added == {"diary entries": 3, "wellness plans": 1}
    trainee = person("trainee1")
    shares = db.session.execute(select(DiaryShare)).scalars().all()
    assert [(s.supervisor_id, s.relationship_to_trainee) for s in shares] == [
        (person("academic1").id, "academic_supervisor")]
    assert db.session.execute(select(func.count(DiaryComment.id))).scalar_one() == 1
    plan = db.session.execute(select(WellnessPlan)).scalar_one()
    assert plan.trainee_id == trainee.id and plan.shared_with_id == person("supervisor1").id
    assert services.entry_count(trainee.id) == 3
    assert diary_demo.seed(today) == {"diary entries": 0, "wellness plans": 0}
    db.session.commit()
    assert services.entry_count(trainee.id) == 3


def test_the_privacy_export_and_approved_erasure_include_the_diary(app, demo):
    import io
    import json
    import zipfile

    from lms.privacy import services as privacy

    entry_for("trainee1", "Words for my export only")
    services.save_plan(person("trainee1"), {"daily_tools": "Walking"})
    db.session.commit()
    trainee = person("trainee1")
    with app.test_request_context():
        archive = zipfile.ZipFile(io.BytesIO(privacy.export_zip(trainee, trainee)))
    document = json.loads(archive.read("personal-data.json"))
    assert document["sections"]["diary_entries"]["records"][0]["body"] == "Words for my export only"
    assert "Walking" in archive.read("wellness_plan.html").decode()

    with app.test_request_context():
        privacy.erase_person(person("admin"), trainee)
    db.session.commit()
    assert db.session.execute(select(func.count(DiaryEntry.id))).scalar_one() == 0
    assert db.session.execute(select(func.count(WellnessPlanVersion.id))).scalar_one() == 0
