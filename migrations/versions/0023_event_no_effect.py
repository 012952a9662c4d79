"""stripe_events.no_effect: why a processed event changed nothing (older, terminal, …)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stripe_events") as batch:
        batch.add_column(sa.Column("no_effect", sa.String(length=16), nullable=True))
        batch.create_check_constraint(
            op.f("ck_stripe_events_no_effect_known"),
            "no_effect IN ('older', 'terminal', 'not_membership')",
        )


def downgrade():
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_constraint(op.f("ck_stripe_events_no_effect_known"), type_="check")
        batch.drop_column("no_effect")
