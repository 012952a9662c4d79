"""webhook_workers: each queue worker's heartbeat, read by /healthz and /metrics

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-18

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_workers",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("pid > 0", name=op.f("ck_webhook_workers_pid_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_workers")),
    )
    op.create_index(op.f("ix_webhook_workers_beat_at"), "webhook_workers", ["beat_at"])


def downgrade():
    op.drop_index(op.f("ix_webhook_workers_beat_at"), table_name="webhook_workers")
    op.drop_table("webhook_workers")
