"""Telling people things: in the LMS and by e-mail.

E-mail goes over SMTP when LMS_SMTP_URL is set (``smtp://user:pass@host:port``,
``smtps://`` for implicit TLS, ``?starttls=1`` to upgrade); otherwise it is
written to the log and kept in the outbox that admins can read. Once an e-mail
has gone over SMTP its text is dropped: it may carry a single-use sign-in link
(an invitation or a password reset), which nobody but its recipient should be
able to read, from the outbox page or from a copy of the database. Diary and
wellness-plan content is never put in an e-mail: messages say that something
happened and link to it.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import func, select, update

from lms import jobs
from lms.accounts.models import User
from lms.accounts.rules import EMAIL_DAILY, EMAIL_IMMEDIATELY, EMAIL_NEVER, email_choice
from lms.database import utcnow
from lms.extensions import db
from lms.notify.models import Notification, OutboxEmail

log = logging.getLogger("lms.mail")


def notify(user: User, subject: str, body: str = "", link: str | None = None, email: bool = True,
           required: bool = False) -> Notification:
    """Give ``user`` an in-app notification and, with ``email``, an e-mail as they chose in their profile:
    straight away, in tomorrow's daily digest, or never. ``required`` e-mails (a submission's receipt) go
    straight away whatever the choice."""
    notification = Notification(user_id=user.id, subject=subject, body=body, link=link)
    db.session.add(notification)
    choice = email_choice(user.notification_email)
    if email and (required or choice == EMAIL_IMMEDIATELY):
        send_email(user.email, subject, _with_link(body, link))
    elif email and choice == EMAIL_DAILY:
        notification.email_pending = True
    db.session.flush()
    return notification


def _with_link(body: str, link: str | None) -> str:
    if not link:
        return body
    return f"{body}\n\n{current_app.config['LMS_BASE_URL']}{link}" if link.startswith("/") else f"{body}\n\n{link}"


def send_notification_digests() -> int:
    """The daily job: one e-mail to each person with notifications waiting for their digest, listing
    them with links (what they say is in the LMS). Returns how many e-mails were sent; commits."""
    waiting = list(db.session.execute(
        select(Notification).where(Notification.email_pending.is_(True))
        .order_by(Notification.user_id, Notification.id)).scalars())
    by_user: dict[int, list[Notification]] = {}
    for notification in waiting:
        by_user.setdefault(notification.user_id, []).append(notification)
    people = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(list(by_user)))).scalars()}
    sent = 0
    for user_id, notifications in by_user.items():
        user = people.get(user_id)
        if user is not None and user.active and email_choice(user.notification_email) != EMAIL_NEVER:
            count = len(notifications)
            lines = [f"Hello {user.display_name},", "",
                     f"You have {'1 notification' if count == 1 else f'{count} notifications'} from the last day:"]
            for notification in notifications:
                lines += ["", f"- {notification.subject}"]
                if notification.link:
                    lines.append("  " + _with_link("", notification.link).strip())
            lines += ["", "You get this e-mail once a day because you chose it. You can change how often we "
                          "e-mail you in your account settings."]
            send_email(user.email, "Your daily summary from the course", "\n".join(lines))
            sent += 1
        for notification in notifications:
            notification.email_pending = False
    db.session.commit()
    return sent


def send_email(to: str, subject: str, body: str) -> OutboxEmail:
    """Record an e-mail and deliver it after the request commits."""
    message = OutboxEmail(to_address=to, subject=subject, body=body)
    db.session.add(message)
    db.session.flush()
    jobs.enqueue(deliver, message.id)
    return message


def deliver(message_id: int) -> None:
    """Send one recorded e-mail (over SMTP, or to the log when SMTP is not configured)."""
    with jobs.job_session() as session:
        message = session.get(OutboxEmail, message_id)
        if message is None or message.sent_at is not None:
            return
        send(message)
        session.commit()


RETRY_FOR = timedelta(days=3)  # after this an e-mail that never went is given up (it stays in the outbox)


def retry_unsent(older_than: timedelta, limit: int = 500) -> tuple[int, int, int]:
    """Send again the e-mails that have not gone: their delivery failed (SMTP away), or the worker that
    was to send them stopped before it did. Only those older than ``older_than`` (a newer one may
    still be on its way) and younger than RETRY_FOR. Returns (sent, still failing, given up)."""
    now = utcnow()
    unsent = OutboxEmail.sent_at.is_(None)
    # Those given up are counted, never fetched: however many there are, they cannot crowd out the rest.
    given_up = db.session.execute(select(func.count(OutboxEmail.id)).where(
        unsent, OutboxEmail.created_at < now - RETRY_FOR)).scalar_one()
    waiting = list(db.session.execute(
        select(OutboxEmail).where(unsent, OutboxEmail.created_at <= now - older_than,
                                  OutboxEmail.created_at >= now - RETRY_FOR)
        .order_by(OutboxEmail.id).limit(limit)).scalars())
    sent = failing = 0
    for message in waiting:
        send(message)
        db.session.commit()  # each recorded as soon as it has gone
        if message.sent_at is not None:
            sent += 1
        else:
            failing += 1
    return sent, failing, given_up


def send(message: OutboxEmail) -> None:
    smtp_url = current_app.config.get("LMS_SMTP_URL")
    if not smtp_url:
        log.info("E-mail to %s: %s\n%s", message.to_address, message.subject, message.body)
        message.sent_at = utcnow()
        return
    email = EmailMessage()
    email["From"] = current_app.config["LMS_MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    try:
        with smtp_connection(smtp_url) as smtp:
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as error:
        message.error = f"{type(error).__name__}: {error}"
        log.warning("Could not send e-mail %s: %s", message.id, message.error)
    else:
        message.sent_at = utcnow()
        message.error = None
        message.body = ""


def smtp_connection(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    smtp = (smtplib.SMTP_SSL if secure else smtplib.SMTP)(parts.hostname or "localhost", port, timeout=15)
    if options.get("starttls") == ["1"]:
        smtp.starttls()
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp


def unread_count(user: User) -> int:
    return db.session.execute(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).scalar_one()


def notifications_for(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.execute(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ).scalars())


def mark_all_read(user: User) -> None:
    db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))


def outbox_shows_text() -> bool:
    """The outbox shows what e-mails say only while e-mail is not delivered (a development setup)."""
    return not current_app.config.get("LMS_SMTP_URL")


def outbox(limit: int = 100) -> list[OutboxEmail]:
    return list(db.session.execute(
        select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)).scalars())
