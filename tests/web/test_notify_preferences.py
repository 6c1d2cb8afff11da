"""The e-mail choice in a person's profile holds for every notification, not only the boards':
straight away, a daily summary, or never; a submission's receipt is e-mailed whatever the choice."""

from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail
from lms.notify.services import notify


def person(email) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def emails_to(address) -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxEmail).where(OutboxEmail.to_address == address)
                                   .order_by(OutboxEmail.id)).scalars())


def test_each_choice_is_kept_and_the_daily_summary_lists_what_waited(app, demo, runner):
    now, daily, never = (person(f"trainee{n}@example.org") for n in (1, 2, 3))
    now.notification_email, daily.notification_email, never.notification_email = "immediately", "daily", "never"
    db.session.commit()
    for user in (now, daily, never):
        notify(user, "Day 7 has moved to Thursday", "The venue is the same.", link="/home")
        notify(user, "Your extension was approved", "Seven working days.", link="/assignment")
    db.session.commit()
    assert len(emails_to(now.email)) == 2
    assert emails_to(daily.email) == [] and emails_to(never.email) == []
    # Everyone has both notifications in the LMS.
    for user in (now, daily, never):
        assert db.session.execute(select(Notification).where(Notification.user_id == user.id)).scalars().all()

    result = runner.invoke(args=["mail", "digest"])
    assert result.exit_code == 0 and "Sent 1 daily summary." in result.output, result.output
    [summary] = emails_to(daily.email)
    assert summary.subject == "Your daily summary from the course"
    assert "You have 2 notifications" in summary.body
    assert "Day 7 has moved to Thursday" in summary.body and "/assignment" in summary.body
    assert emails_to(never.email) == []
    # Nothing is sent twice.
    assert "Sent 0 daily summaries." in runner.invoke(args=["mail", "digest"]).output
    assert len(emails_to(daily.email)) == 1


def test_a_receipt_is_e_mailed_even_to_someone_who_chose_never(app, demo):
    never = person("trainee3@example.org")
    never.notification_email = "never"
    db.session.commit()
    notify(never, "Receipt: Accredited assignment", "SHA-256 ...", link="/home", required=True)
    notify(never, "Something else", "x", link="/home")
    db.session.commit()
    assert [e.subject for e in emails_to(never.email)] == ["Receipt: Accredited assignment"]
