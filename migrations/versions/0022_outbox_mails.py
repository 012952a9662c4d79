"""outbox_mails: every mail is a row, written with the change it is about, sent by a sender

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_mails_attempts_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_mails")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_mails_dedup_key")),
    )
    op.create_index(
        "ix_outbox_mails_sent_at_next_attempt_at",
        "outbox_mails",
        ["sent_at", "next_attempt_at"],
    )


def downgrade():
    op.drop_index("ix_outbox_mails_sent_at_next_attempt_at", table_name="outbox_mails")
    op.drop_table("outbox_mails")
