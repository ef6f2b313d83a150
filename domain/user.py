"""A person who may use Rantai: their role, where they may act, their credentials.

Accounts are events like everything else, so an auditor can see who added
whom, who granted which role and scope, and when a token was issued or
revoked. Secrets never enter the domain in clear: the application hands in
the Argon2 hash of a password and the SHA-256 of a token.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleBroken
from domain.provenance import Provenance

NATIONAL = "national"
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
MAX_NAME = 120


class Role(Enum):
    ADMIN = "admin"
    WAREHOUSE = "warehouse"
    VACCINATOR = "vaccinator"  # puskesmas and hospital staff
    DISTRICT_OFFICER = "district_officer"
    AUDITOR = "auditor"


class TokenKind(Enum):
    API = "api"  # shown once by ``rantai users add`` / ``token``
    SESSION = "session"  # a browser's login


class UserError(RuleBroken):
    pass


class InvalidUsername(UserError):
    pass


class UserDeactivated(UserError):
    pass


class User(Aggregate):
    """Keyed by the username, which never changes."""

    @staticmethod
    def id_for(username: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:user:{username}")

    @classmethod
    def create_id(cls, username: str, **_: object) -> UUID:
        return cls.id_for(username)

    @event("Added")
    def __init__(self, username: str, name: str, role: Role, scope: str, by: Provenance) -> None:
        self.username = username
        self.name = name
        self.role = role
        self.scope = scope
        self.active = True
        self.password_hash = ""
        # token id (SHA-256 of the token, hex) -> [kind, expires_at, revoked]
        self.tokens: dict[str, list[object]] = {}

    @classmethod
    def add(cls, username: str, name: str, role: Role, scope: str, by: Provenance) -> User:
        cls.check_username(username)
        name = " ".join(name.split())
        if len(name) > MAX_NAME:
            msg = f"A name may have at most {MAX_NAME} characters."
            raise UserError(msg)
        return cls(username, name, role, scope, by)

    @staticmethod
    def check_username(username: str) -> None:
        if not User.is_valid_username(username):
            msg = ("A username is 2 to 40 characters: lower-case letters, digits, '.', '_' or '-', "
                   "starting with a letter or digit.")
            raise InvalidUsername(msg)

    @staticmethod
    def is_valid_username(username: str) -> bool:
        return bool(USERNAME.fullmatch(username))

    def check_active(self) -> None:
        if not self.active:
            msg = f"The account {self.username} has been deactivated."
            raise UserDeactivated(msg)

    def grant_role(self, role: Role, by: Provenance) -> None:
        self.check_active()
        self._role_granted(role, by)

    @event("RoleGranted")
    def _role_granted(self, role: Role, by: Provenance) -> None:
        self.role = role

    def change_scope(self, scope: str, by: Provenance) -> None:
        self.check_active()
        self._scope_changed(scope, by)

    @event("ScopeChanged")
    def _scope_changed(self, scope: str, by: Provenance) -> None:
        self.scope = scope

    def set_password(self, password_hash: str, by: Provenance) -> None:
        self.check_active()
        self._password_set(password_hash, by)

    @event("PasswordSet")
    def _password_set(self, password_hash: str, by: Provenance) -> None:
        self.password_hash = password_hash

    def issue_token(self, token_id: str, kind: TokenKind, expires_at: datetime, by: Provenance) -> None:
        self.check_active()
        self._token_issued(token_id, kind, expires_at, by)

    @event("TokenIssued")
    def _token_issued(self, token_id: str, kind: TokenKind, expires_at: datetime, by: Provenance) -> None:
        self.tokens[token_id] = [kind.value, expires_at, False]

    def live_tokens(self, now: datetime) -> list[str]:
        return [token_id for token_id, (_, expires_at, revoked) in self.tokens.items()
                if not revoked and expires_at > now]  # type: ignore[operator]

    def revoke_tokens(self, token_ids: list[str], by: Provenance) -> None:
        """Revoke these tokens (every live one when the list is empty)."""
        chosen = [t for t in token_ids if t in self.tokens] if token_ids else self.live_tokens(by.occurred_at)
        self._tokens_revoked(chosen, by)

    @event("TokensRevoked")
    def _tokens_revoked(self, token_ids: list[str], by: Provenance) -> None:
        for token_id in token_ids:
            self.tokens[token_id][2] = True

    def token_is_valid(self, token_id: str, now: datetime) -> bool:
        entry = self.tokens.get(token_id)
        return bool(self.active and entry and not entry[2] and entry[1] > now)  # type: ignore[operator]

    def deactivate(self, by: Provenance) -> None:
        self.check_active()
        self._deactivated(self.live_tokens(by.occurred_at), by)

    @event("Deactivated")
    def _deactivated(self, revoked_tokens: list[str], by: Provenance) -> None:
        self.active = False
        for token_id in revoked_tokens:
            self.tokens[token_id][2] = True

    def lift_lockout(self, by: Provenance) -> None:
        self._lockout_lifted(by)

    @event("LockoutLifted")
    def _lockout_lifted(self, by: Provenance) -> None:
        pass
