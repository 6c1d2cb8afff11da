"""E-mails that did not go are sent again by `lms mail retry`: after the SMTP server was away, over real SMTP."""

from __future__ import annotations

import socket
from datetime import timedelta

from sqlalchemy import select

from lms.database import utcnow
from lms.extensions import db
from lms.notify.models import OutboxEmail
from lms.notify.services import send_email


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the probe is closed


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxEmail).order_by(OutboxEmail.id)).scalars())


def test_mail_that_failed_while_smtp_was_away_is_sent_when_it_is_back(app, runner, smtp_server):
    working = app.config["LMS_SMTP_URL"]
    app.config["LMS_SMTP_URL"] = f"smtp://127.0.0.1:{closed_port()}"
    send_email("trainee1@example.org", "Your feedback is ready", "Read it in the LMS.")
    db.session.commit()  # delivered (and failing) straight after the commit, no Redis here
    [message] = outbox()
    assert message.sent_at is None and "ConnectionRefusedError" in message.error

    # Still away: retried, still failing, said so, exit 1; nothing lost.
    failing = runner.invoke(args=["mail", "retry", "--older-than", "0"])
    assert failing.exit_code == 1 and "0 e-mail(s) sent, 1 still failing" in failing.output
    assert outbox()[0].sent_at is None and smtp_server == []

    # A newer message is left for its own delivery; an old one is given up.
    app.config["LMS_SMTP_URL"] = working
    ancient = OutboxEmail(to_address="trainee2@example.org", subject="Old", body="x",
                          created_at=utcnow() - timedelta(days=4))
    db.session.add(ancient)
    db.session.commit()
    waiting = runner.invoke(args=["mail", "retry"])  # default: only those waiting 10 minutes or more
    assert waiting.exit_code == 0 and "0 e-mail(s) sent" in waiting.output and "1 waiting over 3 days" in waiting.output

    first = outbox()[0]
    first.created_at = utcnow() - timedelta(minutes=15)
    db.session.commit()
    sent = runner.invoke(args=["mail", "retry"])
    assert sent.exit_code == 0 and "1 e-mail(s) sent, 0 still failing" in sent.output, sent.output
    assert [m["Subject"] for m in smtp_server] == ["Your feedback is ready"]
    assert outbox()[0].sent_at is not None and outbox()[0].error is None
    # Sent once only.
    runner.invoke(args=["mail", "retry", "--older-than", "0"])
    assert len(smtp_server) == 1
