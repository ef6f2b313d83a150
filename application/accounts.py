"""Accounts: adding users, their roles and scopes, passwords, tokens and logins.

A token is ``rt_<user id>_<secret>``: the user id says whose it is (one
aggregate to load), the 256-bit secret is known only to its holder, and the
store keeps only its SHA-256. Passwords are hashed with Argon2 (pwdlib).

``authenticate`` keeps what it learned about a token for a few seconds per
process, so a busy scanner is not a database round trip per request, and a
revoked token stops working on every process within ``AUTH_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from functools import cache
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from pwdlib import PasswordHash

from application.access import CAMPAIGN, Caller
from application.errors import AlreadyExists, ApplicationError, NotAuthenticated, NotFound
from application.handling import CommandHandling, Decision, Outcome
from domain.calendar import WIB
from domain.provenance import Provenance
from domain.user import NATIONAL, Role, TokenKind, User

AUTH_CACHE_SECONDS = 4.0
API_TOKEN_DAYS = 90
SESSION_HOURS = 12
MAX_PASSWORD = 256
MIN_PASSWORD = 10
_hasher = PasswordHash.recommended()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong username costs the same time as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class UserNotFound(NotFound):
    pass


class WeakPassword(ApplicationError):
    """A password too short or too long."""


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(user_id: UUID) -> str:
    return f"rt_{user_id.hex}_{secrets.token_urlsafe(32)}"


class Accounts(CommandHandling):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._auth_cache: dict[str, tuple[float, Caller | None]] = {}
        self._auth_lock = threading.Lock()

    def get_user(self, username: str) -> User:
        found = self.find(User, User.id_for(username)) if len(username) <= 40 else None
        if found is None:
            raise UserNotFound("There is no account with that username.")
        return found

    def _where(self, scope: str) -> str:
        """Where an account command acts: the account's scope (the campaign for national)."""
        return CAMPAIGN if scope == NATIONAL else self.get_facility(scope).code  # type: ignore[attr-defined]

    def add_user(
        self, username: str, role: Role, scope: str, caller: Caller, name: str = "",
        password: str | None = None,
    ) -> tuple[Outcome, str, datetime]:
        """Add an account and issue its first API token (shown once)."""
        User.check_username(username)
        password_hash = self.hash_password(password) if password is not None else ""
        token = new_token(User.id_for(username))

        def decide() -> Decision:
            by = self.acting("manage_users", caller, self._where(scope))
            if self.find(User, User.id_for(username)) is not None:
                raise AlreadyExists(f"The username {username} is taken.")
            user = User.add(username, name, role, scope, by)
            if password_hash:
                user.set_password(password_hash, by)
            user.issue_token(token_id(token), TokenKind.API, self._expiry(by.occurred_at, TokenKind.API), by)
            return {"username": username}, [user], by

        outcome = self.handle("manage_users", caller, decide)
        return outcome, token, self.get_user(username).tokens[token_id(token)][1]  # type: ignore[return-value]

    def issue_token(self, username: str, caller: Caller, kind: TokenKind = TokenKind.API) -> tuple[str, datetime]:
        self.check_role(caller, "manage_users")
        token = new_token(User.id_for(username))

        def decide() -> Decision:
            user = self.get_user(username)
            by = self.acting("manage_users", caller, self._where(user.scope))
            user.issue_token(token_id(token), kind, self._expiry(by.occurred_at, kind), by)
            return {"username": username}, [user], by

        self.handle("manage_users", caller, decide)
        return token, self.get_user(username).tokens[token_id(token)][1]  # type: ignore[return-value]

    def _expiry(self, now: datetime, kind: TokenKind) -> datetime:
        return now + (timedelta(days=API_TOKEN_DAYS) if kind is TokenKind.API else timedelta(hours=SESSION_HOURS))

    def revoke_tokens(self, username: str, caller: Caller, token_ids: list[str] | None = None) -> Outcome:
        return self._change_user(username, caller, lambda user, by: user.revoke_tokens(token_ids or [], by))

    def deactivate_user(self, username: str, caller: Caller) -> Outcome:
        return self._change_user(username, caller, lambda user, by: user.deactivate(by))

    def grant_role(self, username: str, role: Role, caller: Caller) -> Outcome:
        return self._change_user(username, caller, lambda user, by: user.grant_role(role, by))

    def change_scope(self, username: str, scope: str, caller: Caller) -> Outcome:
        self._where(scope)  # the new scope must be a facility (or national)
        return self._change_user(username, caller, lambda user, by: user.change_scope(scope, by))

    def set_password(self, username: str, password: str, caller: Caller) -> Outcome:
        password_hash = self.hash_password(password)
        return self._change_user(username, caller, lambda user, by: user.set_password(password_hash, by))

    def lift_lockout(self, username: str, caller: Caller) -> Outcome:
        return self._change_user(username, caller, lambda user, by: user.lift_lockout(by))

    def _change_user(self, username: str, caller: Caller, change: Any) -> Outcome:
        self.check_role(caller, "manage_users")
        def decide() -> Decision:
            user = self.get_user(username)
            by = self.acting("manage_users", caller, self._where(user.scope))
            change(user, by)
            return {"username": username}, [user], by

        outcome = self.handle("manage_users", caller, decide)
        self.forget_credentials()
        return outcome

    def users(self) -> list[User]:
        """Every account, in the order they were added."""
        topics = [get_topic(User.Added)]
        ids, start = [], 1
        while page := self.recorder.select_notifications(start, 1000, topics=topics):
            ids += [n.originator_id for n in page]
            start = page[-1].id + 1
        return [self.find(User, i) for i in ids]

    # Passwords

    @staticmethod
    def hash_password(password: str) -> str:
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            msg = f"A password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters."
            raise WeakPassword(msg)
        return _hasher.hash(password)

    def login(self, username: str, password: str, device: str) -> tuple[str, Caller]:
        """Check a username and password; a session token for the browser (the
        login is recorded as the session token's issue)."""
        user = self.find(User, User.id_for(username)) if User.is_valid_username(username) else None
        known = user is not None and user.active and bool(user.password_hash)
        stored = user.password_hash if known else _dummy_hash()  # type: ignore[union-attr]
        valid = len(password) <= MAX_PASSWORD and _hasher.verify(password, stored)
        if user is None or not known or not valid:
            raise NotAuthenticated("Wrong username or password.")
        token = new_token(user.id)

        def issue(fresh: User, by: Provenance) -> None:
            fresh.issue_token(token_id(token), TokenKind.SESSION, self._expiry(by.occurred_at, TokenKind.SESSION), by)

        self._own_account(username, device, issue)
        return token, Caller(username, user.role, user.scope, device)

    def logout(self, token: str) -> None:
        """End a browser session: its token is revoked (by its own user)."""
        caller = self.authenticate(token)
        self._own_account(caller.username, "browser", lambda user, by: user.revoke_tokens([token_id(token)], by))
        self.forget_credentials()

    def _own_account(self, username: str, device: str, change: Any) -> None:
        """A change users make to their own account (logging in or out): recorded
        as theirs, at their scope; not a command of the authorization table."""

        def decide() -> Decision:
            user = self.get_user(username)
            where = self._where(user.scope)
            zone = self.facility_node(where)[2] if where != CAMPAIGN else WIB
            by = Provenance(username, where, device[:64] or "browser", self.clock(), zone, user.role.value)
            change(user, by)
            return {"username": username}, [user], by

        self.handle("own_account", Caller.operator(username), decide)

    # Tokens

    def authenticate(self, token: str, device: str = "unknown") -> Caller:
        """The caller a bearer token (or session cookie) stands for, or NotAuthenticated."""
        known = token_id(token)
        found = self._recently_checked(known)
        if found is None:
            now = time.monotonic()
            caller = self._check_token(token, known)
            with self._auth_lock:
                if len(self._auth_cache) > 10_000:
                    self._auth_cache.clear()
                self._auth_cache[known] = (now, caller)
            found = (caller,)
        return self._as_caller(found[0], device)

    def authenticate_known(self, token: str, device: str = "unknown") -> Caller | None:
        """As ``authenticate`` for a token checked in the last few seconds (no store
        lookup, so an async server can answer it on its event loop); else None."""
        found = self._recently_checked(token_id(token))
        return None if found is None else self._as_caller(found[0], device)

    def _recently_checked(self, known: str) -> tuple[Caller | None] | None:
        cached = self._auth_cache.get(known)
        if cached is not None and time.monotonic() - cached[0] < AUTH_CACHE_SECONDS:
            return (cached[1],)
        return None

    @staticmethod
    def _as_caller(caller: Caller | None, device: str) -> Caller:
        if caller is None:
            raise NotAuthenticated("The token is not valid (unknown, expired or revoked): log in again.")
        return Caller(caller.username, caller.role, caller.scope, device[:64] or "unknown")

    def _check_token(self, token: str, known: str) -> Caller | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "rt" or len(parts[1]) != 32:
            return None
        try:
            user = self.find(User, UUID(hex=parts[1]))
        except ValueError:
            return None
        if user is None or not user.token_is_valid(known, self.clock()):
            return None
        return Caller(user.username, user.role, user.scope)

    def forget_credentials(self) -> None:
        """Drop this process's cache (after a revocation made here)."""
        with self._auth_lock:
            self._auth_cache.clear()
