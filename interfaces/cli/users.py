"""``rantai users …``: accounts, from the server's own command line (full rights,
recorded as ``cli:<os user>``).

The interface is fixed (other tools call it): ``add USERNAME --role ROLE
--scope SCOPE [--name TEXT] [--password-stdin] [--json]``, ``list [--json]``,
``token USERNAME [--json]``, ``revoke USERNAME``, ``deactivate USERNAME``.
With ``--json`` stdout holds exactly one JSON value; a refusal exits 1 with
one line on stderr.
"""

from __future__ import annotations

import json
import secrets
import sys
from datetime import datetime

import typer
from rich.table import Table

from domain.user import Role
from interfaces.cli.terminal import campaign, console, errors, operator

users = typer.Typer(help="Accounts: roles, scopes, tokens.", no_args_is_help=True)
ROLES = ", ".join(role.value for role in Role)
DEMO_ACCOUNTS = [  # one per role, for a newcomer to try the system (make run)
    ("demo.admin", Role.ADMIN, "national", "Demo admin"),
    ("demo.gudang", Role.WAREHOUSE, "32", "Demo petugas gudang Jawa Barat"),
    ("demo.vaksinator", Role.VACCINATOR, "P327301", "Demo vaksinator Puskesmas Sukasari"),
    ("demo.petugas", Role.DISTRICT_OFFICER, "32.73", "Demo petugas lapangan Kota Bandung"),
    ("demo.auditor", Role.AUDITOR, "national", "Demo auditor"),
]


def fail(message: str) -> None:
    errors.print(message, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(1)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        fail(f"Unknown role: choose one of {ROLES}.")
        raise  # unreachable: fail exits


def token_json(username: str, role: str, scope: str, token: str, expires_at: datetime) -> str:
    return json.dumps({"username": username, "role": role, "scope": scope, "token": token,
                       "expires_at": expires_at.isoformat()})


@users.command("add")
def add(
    username: str,
    role: str = typer.Option(..., help=f"One of: {ROLES}"),
    scope: str = typer.Option(..., help="national, BIOFARMA, a province (32), a district (32.73) or a puskesmas"),
    name: str = typer.Option("", help="The person's name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read a login password from stdin"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (with the token) and nothing else"),
) -> None:
    """Add an account and issue its first API token (shown once; only its hash is kept)."""
    chosen = parse_role(role)
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with campaign() as app:
        _, token, expires = app.add_user(username, chosen, scope, operator(), name, password)
    if as_json:
        typer.echo(token_json(username, chosen.value, scope, token, expires))
        return
    console.print(f"Account {username} ({chosen.value}, scope {scope}) added. Its token (shown once, "
                  f"valid until {expires:%Y-%m-%d}):")
    typer.echo(token)


@users.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="Print a JSON array")) -> None:
    """Every account: role, scope, active or not, live tokens."""
    with campaign() as app:
        now = app.clock()
        rows = [{"username": u.username, "name": u.name, "role": u.role.value, "scope": u.scope,
                 "active": u.active, "live_tokens": len(u.live_tokens(now))} for u in app.users()]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("username", "name", "role", "scope", "active", "live tokens")
    for row in rows:
        table.add_row(row["username"], row["name"], row["role"], row["scope"], "yes" if row["active"] else "no",
                      str(row["live_tokens"]))
    console.print(table)


@users.command("token")
def token(username: str, as_json: bool = typer.Option(False, "--json", help="Print one JSON object")) -> None:
    """Issue a new API token for an account (the old ones stay valid until revoked)."""
    with campaign() as app:
        new, expires = app.issue_token(username, operator())
        user = app.get_user(username)
    if as_json:
        typer.echo(token_json(username, user.role.value, user.scope, new, expires))
        return
    typer.echo(new)


@users.command("revoke")
def revoke(username: str) -> None:
    """Revoke every token and session of an account (every server process stops accepting them within 5 s)."""
    with campaign() as app:
        app.revoke_tokens(username, operator())
    console.print(f"Every token of {username} is revoked.")


@users.command("deactivate")
def deactivate(username: str) -> None:
    """Deactivate an account: it can no longer log in, and its tokens are revoked."""
    with campaign() as app:
        app.deactivate_user(username, operator())
    console.print(f"{username} is deactivated.")


@users.command("unlock")
def unlock(username: str) -> None:
    """Lift a login lockout after too many failed passwords."""
    from interfaces.bootstrap import default_settings, limits, open_throttle

    with campaign() as app:
        app.lift_lockout(username, operator())
    settings = default_settings()
    throttle = open_throttle(settings)
    try:
        throttle.clear(limits(settings).login_user, username)
    finally:
        throttle.close()
    console.print(f"{username} may try to log in again.")


@users.command("demo")
def demo() -> None:
    """One DEMO account per role with a fresh random password (printed): for trying Rantai, never production."""
    with campaign() as app:
        console.print("[bold yellow]DEMO accounts (for trying Rantai only; deactivate them on a real server):[/bold yellow]")
        table = Table("username", "password", "role", "scope")
        for username, role, scope, name in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(9)
            if any(u.username == username for u in app.users()):
                app.set_password(username, password, operator())
            else:
                app.add_user(username, role, scope, operator(), name, password)
            table.add_row(username, password, role.value, scope)
        console.print(table)
