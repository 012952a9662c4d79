"""shared Stripe account: foreign ledger status, events' owner key, foreign objects, adoptions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-12

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('received', 'processed', 'ignored', 'failed')"
NEW_STATUSES = "status IN ('received', 'processed', 'ignored', 'failed', 'foreign')"


def upgrade():
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_constraint(op.f("ck_stripe_events_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_stripe_events_status_known"), NEW_STATUSES)
        batch.add_column(sa.Column("owner_key", sa.String(length=255), nullable=True))
        batch.create_index(batch.f("ix_stripe_events_owner_key"), ["owner_key"], unique=False)
    op.create_table(
        "foreign_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_foreign_objects_amount_not_negative")),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = lower(currency)",
            name=op.f("ck_foreign_objects_currency_iso"),
        ),
        sa.CheckConstraint(
            "kind IN ('subscription', 'payment')", name=op.f("ck_foreign_objects_kind_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreign_objects")),
        sa.UniqueConstraint("stripe_id", name=op.f("uq_foreign_objects_stripe_id")),
    )
    op.create_index("ix_foreign_objects_created", "foreign_objects", ["created"], unique=False)
    op.create_table(
        "adoptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_object_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("adopted_by_id", sa.Integer(), nullable=True),
        sa.Column("adopted_by_email", sa.String(length=320), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events_applied", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "events_applied >= 0", name=op.f("ck_adoptions_events_applied_not_negative")
        ),
        sa.CheckConstraint(
            "kind IN ('subscription', 'payment')", name=op.f("ck_adoptions_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["adopted_by_id"],
            ["users.id"],
            name=op.f("fk_adoptions_adopted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adoptions")),
        sa.UniqueConstraint("stripe_object_id", name=op.f("uq_adoptions_stripe_object_id")),
    )
    op.create_index(op.f("ix_adoptions_adopted_by_id"), "adoptions", ["adopted_by_id"])


def downgrade():
    op.drop_index(op.f("ix_adoptions_adopted_by_id"), table_name="adoptions")
    op.drop_table("adoptions")
    op.drop_index("ix_foreign_objects_created", table_name="foreign_objects")
    op.drop_table("foreign_objects")
    # The older schema has no foreign status: such events were stored as ignored there.
    op.execute("UPDATE stripe_events SET status = 'ignored' WHERE status = 'foreign'")
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_index(batch.f("ix_stripe_events_owner_key"))
        batch.drop_column("owner_key")
        batch.drop_constraint(op.f("ck_stripe_events_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_stripe_events_status_known"), OLD_STATUSES)
