"""Passwords never appear in clear: not in any database row, log line, mail or cookie."""

from __future__ import annotations

import logging
import re

from sqlalchemy import MetaData, select

from donations.extensions import db

SIGNUP_PASSWORD = "Quokka-Zebra-Lantern-7719"
WRONG_PASSWORD = "Wombat-Guess-Lantern-3308"
RESET_PASSWORD = "Heron-Maple-Lantern-5521"
STAFF_PASSWORD = "Otter-Basalt-Lantern-8846"
SECRETS = (SIGNUP_PASSWORD, WRONG_PASSWORD, RESET_PASSWORD, STAFF_PASSWORD)


def _every_stored_value(app) -> list[str]:
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)  # every table in the database, not just our models
        values = []
        with db.engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    values.extend(str(value) for value in row)
    return values


def test_passwords_are_never_stored_or_logged_in_clear(make_app, caplog):
    caplog.set_level(logging.DEBUG)
    app = make_app(APP_ENV="development")  # development: mail is written to the log
    client = app.test_client()
    email = "secret.keeper@example.org"
    assert (
        client.post("/signup", data={"email": email, "password": SIGNUP_PASSWORD}).status_code
        == 303
    )
    client.post("/logout")
    assert (
        client.post("/login", data={"email": email, "password": WRONG_PASSWORD}).status_code == 400
    )
    assert (
        client.post("/login", data={"email": email, "password": SIGNUP_PASSWORD}).status_code == 302
    )
    client.post("/logout")
    client.post("/password/forgot", data={"email": email}, follow_redirects=True)
    link = re.search(r"http://localhost(/password/reset/\S+)", caplog.text).group(1)
    reset = client.post(link, data={"password": RESET_PASSWORD}, follow_redirects=True)
    assert reset.status_code == 200
    client.post("/logout")
    assert (
        client.post("/login", data={"email": email, "password": RESET_PASSWORD}).status_code == 302
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-staff", "staff@example.org", "--password", STAFF_PASSWORD])
    assert result.exit_code == 0, result.output

    stored = _every_stored_value(app)
    assert any(value.startswith("scrypt:") for value in stored)  # the rows were really read
    mail = [r.getMessage() for r in caplog.records if r.name == "donations.mail"]
    assert len(mail) == 2 and "Reset your password" in mail[0]
    cookies = [cookie.value for cookie in client._cookies.values()]
    for secret in SECRETS:
        assert not any(secret in value for value in stored), secret
        assert secret not in caplog.text
        assert not any(secret in message for message in mail)
        assert secret not in result.output
        assert not any(secret in value for value in cookies)
