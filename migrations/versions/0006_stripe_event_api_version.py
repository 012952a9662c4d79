"""stripe events: the API version each arrived in

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: events stored before this migration did not record their version.
    op.add_column("stripe_events", sa.Column("api_version", sa.String(length=40), nullable=True))
    op.create_index(
        op.f("ix_stripe_events_received_at_api_version"),
        "stripe_events",
        ["received_at", "api_version"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_stripe_events_received_at_api_version"), table_name="stripe_events")
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_column("api_version")
