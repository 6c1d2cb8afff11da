"""Full-text search of board posts: SQLite FTS5 or PostgreSQL text search.

SQLite: ``board_posts_fts`` is an external-content FTS5 table over
``board_posts.body``. It holds exactly the published posts: the service code
adds a post when it is published, replaces it when it is edited, and takes it
out when it is hidden or removed (``index_post``, ``reindex_post``,
``unindex_post``). It is created, and filled from the published posts, the
first time it is needed.

PostgreSQL: a GIN expression index on ``to_tsvector('english', body)`` that
the database keeps up to date by itself; queries use ``websearch_to_tsquery``.

Either way the query also filters on the boards the person may read and on
the post being published, so the index is never the only guard.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text

from lms.boards import rules
from lms.extensions import db

FTS_TABLE = "board_posts_fts"
PG_INDEX = "ix_board_posts_body_fts"


def dialect() -> str:
    """The name of the database in use (sqlite or postgresql)."""
    return db.session.get_bind().dialect.name


def ensure_index() -> bool:
    """Create the search index if it does not exist yet (idempotent).

    Returns True when it was created just now: on SQLite it is then filled
    from the posts as they stand in the database, so callers that were about
    to add or remove one post have nothing left to do.
    """
    if dialect() == "sqlite":
        exists = db.session.execute(text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": FTS_TABLE}).first()
        if exists:
            return False
        db.session.execute(text(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "body, content='board_posts', content_rowid='id', tokenize='porter unicode61')"))
        db.session.execute(text(
            f"INSERT INTO {FTS_TABLE} (rowid, body) SELECT id, body FROM board_posts WHERE status = :published"),
            {"published": rules.PostStatus.PUBLISHED.value})
        return True
    if dialect() == "postgresql":
        exists = db.session.execute(text("SELECT to_regclass(:name)"), {"name": PG_INDEX}).scalar()
        if exists is None:
            db.session.execute(text(
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON board_posts "
                "USING gin (to_tsvector('english', body))"))
            return True
    return False


def index_post(post_id: int, body: str) -> None:
    """A post has been published (and flushed): add it to the index (SQLite; PostgreSQL needs nothing)."""
    if dialect() != "sqlite" or ensure_index():
        return
    db.session.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, body) VALUES (:id, :body)"),
                       {"id": post_id, "body": body})


def unindex_post(post_id: int, old_body: str) -> None:
    """A published post has been hidden or removed (and flushed): take it out.

    An external-content FTS5 table needs the text that was indexed to remove it.
    """
    if dialect() != "sqlite" or ensure_index():
        return
    db.session.execute(text(
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, body) VALUES ('delete', :id, :body)"),
        {"id": post_id, "body": old_body})


def reindex_post(post_id: int, old_body: str, new_body: str) -> None:
    """A published post has been edited (and flushed)."""
    if dialect() != "sqlite" or ensure_index():
        return
    unindex_post(post_id, old_body)
    index_post(post_id, new_body)


def rebuild_index() -> int:
    """Rebuild the whole index from the published posts; returns how many were indexed."""
    ensure_index()
    if dialect() == "sqlite":
        db.session.execute(text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')"))
        db.session.execute(text(
            f"INSERT INTO {FTS_TABLE} (rowid, body) SELECT id, body FROM board_posts WHERE status = :published"),
            {"published": rules.PostStatus.PUBLISHED.value})
    return db.session.execute(text("SELECT count(*) FROM board_posts WHERE status = :published"),
                              {"published": rules.PostStatus.PUBLISHED.value}).scalar_one()


def matching_post_ids(query: str, board_ids: list[int], limit: int, offset: int) -> tuple[list[int], int]:
    """Ids of published posts on ``board_ids`` (in visible threads) that match ``query``, best first,
    and how many match in all."""
    if not board_ids:
        return [], 0
    ensure_index()
    published = rules.PostStatus.PUBLISHED.value
    if dialect() == "sqlite":
        match = rules.fts5_query(query)
        if match is None:
            return [], 0
        where = (f"FROM {FTS_TABLE} f JOIN board_posts p ON p.id = f.rowid "
                 "JOIN board_threads t ON t.id = p.thread_id "
                 f"WHERE {FTS_TABLE} MATCH :match AND p.board_id IN :boards AND p.status = :published "
                 "AND t.approved")
        order = "ORDER BY f.rank, p.id DESC"
        params = {"match": match}
    else:
        if not rules.search_terms(query):
            return [], 0
        where = ("FROM board_posts p JOIN board_threads t ON t.id = p.thread_id "
                 "WHERE to_tsvector('english', p.body) @@ websearch_to_tsquery('english', :query) "
                 "AND p.board_id IN :boards AND p.status = :published AND t.approved")
        order = ("ORDER BY ts_rank(to_tsvector('english', p.body), websearch_to_tsquery('english', :query)) DESC, "
                 "p.id DESC")
        params = {"query": query}
    params.update({"boards": list(board_ids), "published": published})
    boards = bindparam("boards", expanding=True)
    total = db.session.execute(text(f"SELECT count(*) {where}").bindparams(boards), params).scalar_one()
    ids = list(db.session.execute(
        text(f"SELECT p.id {where} {order} LIMIT :limit OFFSET :offset").bindparams(boards),
        {**params, "limit": limit, "offset": offset}).scalars())
    return ids, total


def matching_thread_ids(query: str, board_ids: list[int], limit: int) -> list[int]:
    """Ids of approved threads on ``board_ids`` whose title holds every word of ``query`` (case does not
    matter), with at least one published post, most recently active first. Titles are short, so a
    plain LIKE per word does on both databases."""
    terms = rules.search_terms(query)
    if not board_ids or not terms:
        return []
    from sqlalchemy import exists, func, select

    from lms.boards.models import Post, Thread

    conditions = [Thread.board_id.in_(list(board_ids)), Thread.approved.is_(True),
                  exists().where(Post.thread_id == Thread.id, Post.status == rules.PostStatus.PUBLISHED.value)]
    for term in terms:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(func.lower(Thread.title).like(f"%{escaped}%", escape="\\"))
    return list(db.session.execute(select(Thread.id).where(*conditions)
                                   .order_by(Thread.last_post_at.desc(), Thread.id.desc()).limit(limit)).scalars())
