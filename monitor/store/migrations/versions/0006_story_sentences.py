"""story_sentences: each distinct sentence a story holds, so novelty need not re-read every version; an index
on articles.url

Revision ID: 0006
Revises: 0005

The backfill splits the stories already stored with today's sentence rules, one story at a time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.core import text as textmod

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "story_sentences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("story_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_sentences_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_sentences")),
    )
    op.create_index("ix_story_sentences_story", "story_sentences", ["story_id", "seq"], unique=False)
    op.create_index("ix_articles_url", "articles", ["url"], unique=False, postgresql_using="hash")
    _backfill(table)


def _backfill(table: sa.Table) -> None:
    conn = op.get_bind()
    query = sa.text(
        "SELECT v.story_id, v.seq, a.title, a.text FROM versions v JOIN articles a ON a.id = v.article_id"
        " ORDER BY v.story_id, v.seq"
    )
    story: str | None = None
    seen: set[str] = set()
    rows: list[dict[str, object]] = []
    for r in conn.execute(query):
        if r.story_id != story:
            story, seen = r.story_id, set()
        for s in (r.title, *textmod.news_sentences(r.text)):
            if s not in seen:  # the same rule as ``KnownText.unseen``: each distinct sentence once
                seen.add(s)
                rows.append({"story_id": r.story_id, "seq": r.seq, "text": s})
        if len(rows) >= 5000:
            conn.execute(table.insert(), rows)
            rows = []
    if rows:
        conn.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_articles_url", table_name="articles")
    op.drop_index("ix_story_sentences_story", table_name="story_sentences")
    op.drop_table("story_sentences")
