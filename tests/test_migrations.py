"""`flask db upgrade` builds the full schema, and the migrations agree with the models."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from donations import create_app
from donations.extensions import db
from tests import conftest
from tests.conftest import ON_POSTGRES, base_config


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database: a SQLite file, or a PostgreSQL database made for this test."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(conftest.SERVER_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield (
        make_url(conftest.SERVER_DATABASE_URL)
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_builds_every_table_and_matches_the_models(tmp_path, empty_database_url):
    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_nothing_and_back_works(tmp_path, empty_database_url):
    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            counter = conn.execute(text("SELECT id, members FROM member_counter")).all()
        db.engine.dispose()
    assert counter == [(1, 0)]


def test_upgrading_a_database_with_records_keeps_and_completes_them(tmp_path, empty_database_url):
    """Records written before 0005 come through: links, disputes, periods, totals, grace."""
    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_database_url})
    t = "'2026-11-01 10:00:00'"
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            for sql in (
                "INSERT INTO users (id, name, is_staff, stripe_customer_id, created_at) "
                f"VALUES (1, '', false, 'cus_1', {t})",
                "INSERT INTO memberships (id, user_id, stripe_subscription_id, status, interval, "
                "amount, currency, cancel_at_period_end, created_at, updated_at) VALUES "
                f"(1, 1, 'sub_1', 'past_due', 'month', 800, 'usd', false, {t}, {t})",
                "INSERT INTO recurring_totals (currency, interval, amount, memberships) "
                "VALUES ('usd', 'month', 800, 1)",
                "INSERT INTO donations (stripe_payment_intent_id, stripe_invoice_id, kind, amount,"
                " fee_amount, currency, paid_at, created_at) VALUES "
                f"('pi_1', 'in_1', 'membership_first', 800, 0, 'usd', {t}, {t}), "
                f"('pi_2', NULL, 'gift', 2500, 0, 'usd', {t}, {t})",
                "INSERT INTO payment_adjustments (stripe_payment_intent_id, amount_refunded, "
                f"disputed, dispute_status, updated_at) VALUES ('pi_1', 300, false, NULL, {t}), "
                f"('pi_2', 0, true, 'lost', {t})",
            ):
                conn.execute(text(sql))
        upgrade()
        with db.engine.connect() as conn:
            links = conn.execute(
                text("SELECT stripe_invoice_id, stripe_payment_intent_id FROM invoice_payments")
            ).all()
            adjustments = conn.execute(
                text(
                    "SELECT stripe_payment_intent_id, amount_refunded, charge_amount_refunded,"
                    " amount_disputed FROM payment_adjustments ORDER BY stripe_payment_intent_id"
                )
            ).all()
            membership = conn.execute(
                text(
                    "SELECT interval_count, grace_ends_at, grace_expired, past_due_since "
                    "FROM memberships"
                )
            ).one()
            totals = conn.execute(
                text(
                    "SELECT currency, interval, interval_count, amount, memberships FROM "
                    "recurring_totals"
                )
            ).all()
        db.engine.dispose()
    assert links == [("in_1", "pi_1")]
    assert adjustments == [("pi_1", 300, 300, 0), ("pi_2", 0, None, 2500)]
    assert (membership[0], membership[1], bool(membership[2]), membership[3]) == (
        1,
        None,
        False,
        None,
    )
    assert totals == [("usd", "month", 1, 800, 1)]


def test_foreign_events_go_back_to_ignored_on_downgrade_and_return(tmp_path, empty_database_url):
    """0018 adds the `foreign` ledger status; the schema before it stores them as ignored."""
    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_database_url})
    insert = (
        "INSERT INTO stripe_events (stripe_event_id, type, created, livemode, payload, status,"
        " attempts, received_at) VALUES ('evt_{n}', 'charge.succeeded', '2026-12-01 10:00:00',"
        " false, '{{}}', '{status}', 1, '2026-12-01 10:00:00')"
    )
    with app.app_context():
        upgrade(revision="0017")
        with db.engine.begin() as conn:
            conn.execute(text(insert.format(n=1, status="processed")))
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text(insert.format(n=2, status="foreign")))
            conn.execute(text("UPDATE stripe_events SET owner_key = 'pi_1' WHERE id = 2"))
        downgrade(revision="0017")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT stripe_event_id, status FROM stripe_events")).all()
        with pytest.raises(IntegrityError, match=r"(?i)check"), db.engine.begin() as conn:
            conn.execute(text(insert.format(n=3, status="foreign")))
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text(insert.format(n=4, status="foreign")))
            with pytest.raises(IntegrityError, match=r"(?i)check"), conn.begin_nested():
                conn.execute(text(insert.format(n=5, status="lost")))
        db.engine.dispose()
    assert sorted(rows) == [("evt_1", "processed"), ("evt_2", "ignored")]
