"""``rantai users …``: the fixed interface other tools call, on both backends.

``add USERNAME --role ROLE --scope SCOPE [--name TEXT] [--password-stdin] [--json]``,
``list [--json]``, ``token USERNAME [--json]``, ``revoke USERNAME``,
``deactivate USERNAME``, ``unlock USERNAME``: with ``--json`` stdout holds exactly
one JSON value and nothing else; a refusal exits 1 with one line on stderr and
writes nothing. The stdout/stderr checks run the real console script in a
subprocess (CliRunner would share this process's streams and settings cache).

Every API check uses a ``TestClient`` on the real clock (the CLI issues tokens on
the real clock too). That app is a separate ``Campaign`` instance, which caches
a token's check for up to ``AUTH_CACHE_SECONDS`` (4 s): the revoke test waits
that out once, polling, because "every server process stops accepting a
revoked token within 5 s" is the promise being tested; the other tests call
``forget_credentials()`` on the client's campaign to stay fast.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from application.accounts import AUTH_CACHE_SECONDS
from application.logistics import NATIONAL_WAREHOUSE
from domain.user import User
from interfaces.api.main import create_app
from interfaces.api.security import CSRF_HEADER, SESSION_COOKIE
from tests.scenario import ColdChain, cli_env

RANTAI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "rantai")
TOKEN_KEYS = {"username", "role", "scope", "token"}
PASSWORD = "kata-sandi-yang-panjang"


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


@pytest.fixture
def cli(settings, chain: ColdChain, tmp_path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli(*args, stdin=...)``: the real ``rantai`` console script on the test's store
    (facilities registered by the chain; run in an empty folder so no .env is read)."""

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RANTAI, *args], env=cli_env(settings), input=stdin, capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)

    return run


@pytest.fixture
def client(settings, chain: ColdChain) -> Iterator[TestClient]:
    """The API on the test's store, on the real clock (like the CLI's)."""
    with TestClient(create_app(settings)) as api:
        yield api


def head(chain: ColdChain) -> int:
    return chain.app.recorder.max_notification_id() or 0


def only_json(result: subprocess.CompletedProcess[str]) -> object:
    """stdout holds exactly one JSON value (one line) and nothing else."""
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"stdout must hold one JSON value, got: {result.stdout!r}"
    return json.loads(result.stdout)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events_of(chain: ColdChain, username: str) -> list:
    return list(chain.app.repository.event_store.get(User.id_for(username)))


def test_add_token_and_list_with_json_print_one_json_value_and_nothing_else(cli, chain: ColdChain) -> None:
    # When an account is added with --json
    added = cli("users", "add", "gudang.jabar", "--role", "warehouse", "--scope", "32", "--name", "Ani Gudang",
                "--json")
    # Then stdout is one JSON object with the token, and stderr is empty
    first = only_json(added)
    assert isinstance(first, dict) and TOKEN_KEYS <= first.keys(), first
    assert (first["username"], first["role"], first["scope"]) == ("gudang.jabar", "warehouse", "32")
    assert first["token"].startswith("rt_") and added.stderr == ""
    # When a new token is issued with --json: the same shape, another token
    again = cli("users", "token", "gudang.jabar", "--json")
    second = only_json(again)
    assert isinstance(second, dict) and TOKEN_KEYS <= second.keys(), second
    assert (second["username"], second["role"], second["scope"]) == ("gudang.jabar", "warehouse", "32")
    assert second["token"].startswith("rt_") and second["token"] != first["token"] and again.stderr == ""
    # And the list is one JSON array naming the account with its two live tokens
    listed = cli("users", "list", "--json")
    rows = only_json(listed)
    assert listed.stderr == ""
    assert isinstance(rows, list)
    assert [(r["username"], r["name"], r["role"], r["scope"], r["active"], r["live_tokens"]) for r in rows] == [
        ("gudang.jabar", "Ani Gudang", "warehouse", "32", True, 2)]
    # and only the tokens' hashes were stored: neither token is in the user's events
    stored = repr([vars(e) for e in events_of(chain, "gudang.jabar")])
    assert first["token"] not in stored and second["token"] not in stored


@pytest.mark.parametrize(("args", "reason"), [
    (("--role", "wizard", "--scope", "32"), "Unknown role"),
    (("--role", "warehouse", "--scope", "99.99"), "No facility has the code"),
    (("--role", "warehouse", "--scope", "32"), "is taken"),
], ids=["unknown-role", "scope-not-a-facility", "taken-username"])
def test_a_refused_add_exits_1_with_one_line_on_stderr_and_writes_nothing(
        cli, chain: ColdChain, args: tuple[str, ...], reason: str) -> None:
    assert cli("users", "add", "ani", "--role", "vaccinator", "--scope", "P327301").returncode == 0
    before = head(chain)
    refused = cli("users", "add", "ani" if reason == "is taken" else "budi", *args, "--json")
    assert refused.returncode == 1
    assert refused.stdout == "", f"a refusal printed on stdout: {refused.stdout!r}"
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], refused.stderr
    assert "Traceback" not in refused.stderr
    assert head(chain) == before, "a refused add left an event behind"


def test_the_cli_acts_as_the_operator_recorded_as_cli_and_the_os_user(cli, chain: ColdChain) -> None:
    assert cli("users", "add", "petugas", "--role", "district_officer", "--scope", "32.73").returncode == 0
    assert cli("users", "token", "petugas").returncode == 0
    assert cli("users", "revoke", "petugas").returncode == 0
    assert cli("users", "unlock", "petugas").returncode == 0
    assert cli("users", "deactivate", "petugas").returncode == 0
    events = events_of(chain, "petugas")
    assert [type(e).__name__ for e in events] == [
        "Added", "TokenIssued", "TokenIssued", "TokensRevoked", "LockoutLifted", "Deactivated"]
    assert {(e.by.actor, e.by.role) for e in events} == {(f"cli:{os_user()}", "operator")}
    # a deactivated account gets no new token
    refused = cli("users", "token", "petugas", "--json")
    assert refused.returncode == 1 and refused.stdout == "" and "deactivated" in refused.stderr


def test_a_token_works_against_the_api_until_revoke_then_until_deactivate(
        cli, client: TestClient, chain: ColdChain) -> None:
    first = only_json(cli("users", "add", "gudang.bandung", "--role", "warehouse", "--scope", "32.73", "--json"))
    assert client.get("/reports", headers=bearer(first["token"])).status_code == 200
    assert client.get("/users", headers=bearer(first["token"])).status_code == 403  # a warehouse sees no accounts
    # When every token of the account is revoked from the command line (another process)
    assert cli("users", "revoke", "gudang.bandung").returncode == 0
    # Then the server process stops accepting it within its cache time (waited out here, once)
    deadline = time.monotonic() + AUTH_CACHE_SECONDS + 1
    while (answer := client.get("/reports", headers=bearer(first["token"]))).status_code == 200:
        assert time.monotonic() < deadline, "a revoked token still works after the cache time"
        time.sleep(0.2)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    # When a new token is issued, it works
    second = only_json(cli("users", "token", "gudang.bandung", "--json"))
    assert client.get("/reports", headers=bearer(second["token"])).status_code == 200
    assert client.get("/reports", headers=bearer(first["token"])).status_code == 401
    # When the account is deactivated, the new token stops working too (the cache is dropped, not waited out)
    assert cli("users", "deactivate", "gudang.bandung").returncode == 0
    client.app.state.campaign.forget_credentials()
    assert client.get("/reports", headers=bearer(second["token"])).status_code == 401


def login(client: TestClient, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def test_a_password_from_stdin_logs_in_with_a_httponly_lax_cookie_and_writes_need_the_csrf_token(
        cli, client: TestClient, chain: ColdChain) -> None:
    # Given an admin added with a password read from stdin (and --json still printing only the object)
    added = only_json(cli("users", "add", "kepala", "--role", "admin", "--scope", "national", "--password-stdin",
                          "--json", stdin=PASSWORD + "\n"))
    assert TOKEN_KEYS <= added.keys() and PASSWORD not in repr([vars(e) for e in events_of(chain, "kepala")])
    # When the admin logs in with the form
    answer = login(client, "kepala", PASSWORD)
    # Then a 303 sets the session cookie, HttpOnly and SameSite=Lax
    assert answer.status_code == 303, answer.text
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes, cookie
    assert attributes.get("samesite", "").lower() == "samesite=lax", cookie
    session = client.cookies.get(SESSION_COOKIE)
    assert session and session.startswith("rt_")
    # and the cookie reads
    assert client.get("/users").status_code == 200
    # When a write comes with the cookie but without the page's X-CSRF-Token (or with a wrong one)
    new_user = {"username": "gudang.dki", "role": "warehouse", "scope": "31"}
    before = head(chain)
    missing = client.post("/users", json=new_user)
    forged = client.post("/users", json=new_user, headers={CSRF_HEADER: "0" * 64})
    # Then it is refused with 403 and nothing is written
    assert missing.status_code == 403 and forged.status_code == 403, (missing.text, forged.text)
    assert missing.json()["error"] == "CsrfMissing"
    assert head(chain) == before
    # while the same write with the session's CSRF token goes through
    csrf = hmac.new(client.app.state.csrf_secret, session.encode(), hashlib.sha256).hexdigest()
    assert client.post("/users", json=new_user, headers={CSRF_HEADER: csrf}).status_code == 201
    # When every token of the account is revoked from the command line, the session ends too
    assert cli("users", "revoke", "kepala").returncode == 0
    client.app.state.campaign.forget_credentials()
    assert client.get("/users").status_code == 401
    # but the account may log in again; once it is deactivated it may not
    assert login(client, "kepala", PASSWORD).status_code == 303
    assert cli("users", "deactivate", "kepala").returncode == 0
    client.app.state.campaign.forget_credentials()
    assert client.get("/users").status_code == 401
    assert login(client, "kepala", PASSWORD).status_code == 401


def test_five_wrong_passwords_lock_the_username_until_the_cli_unlocks_it(
        cli, client: TestClient, chain: ColdChain) -> None:
    assert cli("users", "add", "vaksinator", "--role", "vaccinator", "--scope", "P327301", "--password-stdin",
               stdin=PASSWORD + "\n").returncode == 0
    # Five wrong passwords are each a plain 401
    assert [login(client, "vaksinator", f"salah-{i}-xxxxxxxx").status_code for i in range(5)] == [401] * 5
    # Then the sixth attempt, even with the right password, waits
    locked = login(client, "vaksinator", PASSWORD)
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["Retry-After"]) > 0
    assert SESSION_COOKIE not in client.cookies
    # while another username is not held up by it
    assert cli("users", "add", "vaksinator.b", "--role", "vaccinator", "--scope", "P327301", "--password-stdin",
               stdin=PASSWORD + "\n").returncode == 0
    assert login(client, "vaksinator.b", PASSWORD).status_code == 303
    # When the lockout is lifted from the command line
    unlocked = cli("users", "unlock", "vaksinator")
    assert unlocked.returncode == 0, unlocked.stderr
    # Then the right password logs in again, and the lift is recorded as the CLI's
    assert login(client, "vaksinator", PASSWORD).status_code == 303
    lifted = [e for e in events_of(chain, "vaksinator") if type(e).__name__ == "LockoutLifted"]
    assert [e.by.actor for e in lifted] == [f"cli:{os_user()}"]


def test_scopes_are_facilities_and_the_national_warehouse_is_one(cli) -> None:
    added = only_json(cli("users", "add", "gudang.biofarma", "--role", "warehouse", "--scope", NATIONAL_WAREHOUSE,
                          "--json"))
    assert added["scope"] == NATIONAL_WAREHOUSE
    human = cli("users", "add", "auditor", "--role", "auditor", "--scope", "national")
    assert human.returncode == 0 and human.stdout.strip().splitlines()[-1].startswith("rt_")


def test_every_other_refusal_is_one_line_on_stderr_with_exit_1_and_writes_nothing(cli, chain: ColdChain) -> None:
    before = head(chain)
    cases = [
        (("users", "token", "nobody", "--json"), "", "no account"),
        (("users", "revoke", "nobody"), "", "no account"),
        (("users", "deactivate", "nobody"), "", "no account"),
        (("users", "unlock", "nobody"), "", "no account"),
        (("users", "add", "Bad Name", "--role", "admin", "--scope", "national", "--json"), "", "A username is"),
        (("users", "add", "pendek", "--role", "admin", "--scope", "national", "--password-stdin", "--json"),
         "short\n", "A password needs"),
    ]
    for args, stdin, reason in cases:
        refused = cli(*args, stdin=stdin)
        lines = refused.stderr.strip().splitlines()
        assert (refused.returncode, refused.stdout) == (1, ""), (args, refused.stdout, refused.stderr)
        assert len(lines) == 1 and reason in lines[0], (args, refused.stderr)
    assert head(chain) == before
