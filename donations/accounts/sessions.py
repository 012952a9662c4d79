"""Server-side login sessions: a cookie names a row here, so ending the row ends the session.

A session id is "<user id>:<key>". The browser keeps the key (inside the signed session
cookie, and the remember-me cookie); we keep only its SHA-256. Logging out deletes the row,
so a copy of the cookie made before is refused afterwards; a new password deletes them all.
"Log out everywhere" and a new password also end every emailed link of the person (reset,
claim): they move its token generation on (models.User.token_fingerprint).
Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, inspect, update

from donations.accounts.login_read import password_hash_of, read_login, user_from_row
from donations.extensions import db
from donations.models import LoginSession, User, utcnow

# Flask's signed session cookie is good for 31 days (PERMANENT_SESSION_LIFETIME) and the
# remember-me cookie for 30; a row never outlives them.
SESSION_LIFETIME = timedelta(days=31)
ROW_ID_MAX = 2**31 - 1


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _split(session_id: str | None) -> tuple[int, str] | None:
    row_id, _, key = (session_id or "").partition(":")
    if not row_id.isdigit() or not key or len(key) > 100 or not 0 < int(row_id) <= ROW_ID_MAX:
        return None
    return int(row_id), key


def open_session(user: User) -> str:
    """Record a new login session of `user` (dropping its expired ones); returns its id."""
    now = utcnow()
    db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at <= now)
    )
    key = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(user_id=user.id, key_hash=_hash(key), expires_at=now + SESSION_LIFETIME)
    )
    db.session.flush()
    user.session_id = f"{user.id}:{key}"
    return user.session_id


def user_for_session(session_id: str | None) -> User | None:
    """The user whose live session this is (one query), or None when it ended or expired.

    The same statement reads whether they are a member (`user.membership_state`).
    """
    parts = _split(session_id)
    if parts is None:
        return None
    user_id, key = parts
    row = read_login(user_id, _hash(key), utcnow())
    if row is None or password_hash_of(row) is None:  # a supporter without a login
        return None
    user = user_from_row(row)
    # Another object for this person already in this request's session (a test, or a view
    # that loaded them first) would clash with this one: use that one.
    if db.session.registry.has():  # only then may it hold anyone
        known = db.session.identity_map.get(inspect(user).key)
        if known is not None:
            user = known
    user.session_id = session_id
    return user


def close_session(session_id: str | None) -> None:
    """End one login session (logout)."""
    parts = _split(session_id)
    if parts is not None:
        user_id, key = parts
        db.session.execute(
            delete(LoginSession).where(
                LoginSession.user_id == user_id, LoginSession.key_hash == _hash(key)
            )
        )


def close_other_sessions(user: User, keep: str | None) -> int:
    """End every session of `user` but `keep` ("log out everywhere else"), and every link
    mailed to them; returns how many sessions."""
    parts = _split(keep)
    condition = [LoginSession.user_id == user.id]
    if parts is not None:
        condition.append(LoginSession.key_hash != _hash(parts[1]))
    ended = db.session.execute(delete(LoginSession).where(*condition)).rowcount or 0
    end_emailed_links(user)
    return ended


def close_all_sessions(user: User) -> None:
    """End every session of `user` (a new password), and every link mailed to them."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    end_emailed_links(user)
    user.session_id = None


def end_emailed_links(user: User) -> None:
    """Make every reset or claim link made for `user` so far stop working."""
    # In SQL, so two requests doing this at once both count; the ORM reloads the value.
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(token_generation=User.token_generation + 1)
        .execution_options(synchronize_session="fetch")
    )
