"""`reconciler state locks|unlock|forget|rekey`: the apply locks, activations left behind,
and the store's encryption key.

A thin layer over `StateReader.locks()`, `StateWriter.break_lock()`,
`StateWriter.forget_activation()` and `StateWriter.rekey()`; the store is found like every
command finds it (`--state`, else $RECONCILER_STATE_URL, else the local file).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import typer

from reconciler.cli.app import (
    MANIFESTS_HELP,
    STATE_OPTION,
    app,
    locate_project,
    use_state,
    user_errors,
)
from reconciler.cli.conventions import Typer
from reconciler.cli.manifests import OutputFormat
from reconciler.cli.plan import load_valid_project
from reconciler.errors import ReconcilerError
from reconciler.manifests.settings import effective_activations
from reconciler.state import LockInfo, open_state_reader, open_state_store
from reconciler.state.encryption import StateKey, configure_key

state_app = Typer(no_args_is_help=True, help="Inspect and repair the state store.")
app.add_typer(state_app, name="state")

StateOption = STATE_OPTION


def _state_of_here(option: str | None, *, project_key: bool = True) -> str | None:
    """The state of the project around the current directory (commands without manifests);
    without `project_key`, the project file's encryption key is not looked for."""
    where = locate_project(None)
    root = where.manifests if where.manifests.is_dir() else where.manifests.parent
    found = where.file
    if found is not None and not project_key:
        found = dataclasses.replace(found, state_key_env=None)
    return use_state(option, root, found)


def clock(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_lock(lock: LockInfo, now: dt.datetime) -> str:
    """`held by X since T, lease until U` (or `… lease ran out at U: the holder died`)."""
    lease = (f"its lease ran out at {clock(lock.expires_at)} (the holder died or hung; the "
             "next apply takes it over)" if lock.expired(now)
             else f"lease until {clock(lock.expires_at)}")
    return f"held by {lock.owner} since {clock(lock.acquired_at)}, {lease}"


def lock_json(lock: LockInfo, now: dt.datetime) -> dict[str, object]:
    return {"activation": lock.activation, "owner": lock.owner,
            "acquired_at": lock.acquired_at.isoformat(),
            "renewed_at": lock.renewed_at.isoformat(),
            "expires_at": lock.expires_at.isoformat(), "expired": lock.expired(now)}


@state_app.command("locks")
def locks(
    state: str | None = StateOption,
    output: OutputFormat = typer.Option(OutputFormat.TEXT, "--format", help="text or json"),
) -> None:
    """List the apply locks: who holds each activation, since when, until when."""
    with user_errors():
        location = _state_of_here(state)
        # A DuckDB file an apply is writing is read from a copy: when locks matter most.
        with open_state_reader(location, copy_if_busy=True) as reader:
            held, now = reader.locks(), reader.now()
            if reader.location != location:
                typer.echo(f"Read from {reader.location}", err=True)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({"locks": [lock_json(lock, now) for lock in held]}, indent=2))
        return
    for lock in held:
        typer.echo(f"{lock.activation}: {describe_lock(lock, now)}")
    if not held:
        typer.echo("No activation is locked.")


@state_app.command("unlock")
def unlock(
    activation: str = typer.Argument(..., help="The activation whose lock to break."),
    state: str | None = StateOption,
) -> None:
    """Break an activation's apply lock (when the apply that held it is dead)."""
    with user_errors(), open_state_store(_state_of_here(state)) as store:
        now = store.now()
        holder = store.break_lock(activation)
    if holder is None:
        typer.echo(f"Activation {activation!r} was not locked; nothing to do.")
        return
    typer.echo(f"Unlocked {activation!r}: it was {describe_lock(holder, now)}.")
    if not holder.expired(now):
        typer.echo("Its lease was still running: if that apply is alive, it stops at its next "
                   "lease renewal (it finds its lock lost).", err=True)


@state_app.command("forget")
def forget(
    activation: str = typer.Argument(..., help="An activation removed from the manifests."),
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP, show_default=False),
    state: str | None = StateOption,
) -> None:
    """Forget an activation removed from the manifests whose list was kept: its snapshot and
    remote ids go, the list at the destination is left untouched, its run history stays."""
    with user_errors():
        where = locate_project(path)
        project = load_valid_project(where.manifests)
        if activation in effective_activations(project):
            raise ReconcilerError(
                f"activation {activation!r} is still defined in {where.manifests}: remove it "
                "from the manifests first (its deletionPolicy then decides what becomes of its "
                "list)")
        with open_state_store(use_state(state, project.root, where.file)) as store:
            record = next((r for r in store.activation_records()
                           if r.activation == activation), None)
            if record is None and store.snapshot_info(activation) is None:
                raise ReconcilerError(f"the state store holds no activation {activation!r}: "
                                      "nothing to forget")
            now = store.now()
            held = next((lock for lock in store.locks() if lock.activation == activation
                         and not lock.expired(now)), None)
            if held is not None:
                raise ReconcilerError(f"activation {activation!r} is being applied "
                                      f"({describe_lock(held, now)}): try again later")
            store.forget_activation(activation)
    kept = (f"; {record.remote_name!r} at {record.destination} is left as it is"
            if record is not None else "")
    typer.echo(f"Forgot activation {activation!r}{kept}. Its run history stays.")


def _key_of(env: str | None, option: str) -> StateKey | None:
    return StateKey.from_env(env, option) if env else None


@state_app.command("rekey")
def rekey(
    old_key_env: str | None = typer.Option(
        None, "--old-key-env", metavar="NAME",
        help="The variable holding the store's current key (omit it for a plain store)."),
    new_key_env: str | None = typer.Option(
        None, "--new-key-env", metavar="NAME",
        help="The variable holding the new key (omit it to decrypt the store)."),
    state: str | None = StateOption,
) -> None:
    """Encrypt the state store, rotate its key, or decrypt it: every snapshot is sealed again
    in one transaction (no apply may run meanwhile)."""
    with user_errors():
        if not old_key_env and not new_key_env:
            raise ReconcilerError("give --new-key-env to encrypt the store, --old-key-env to "
                                  "decrypt it, or both to rotate its key")
        old = _key_of(old_key_env, "--old-key-env")
        new = _key_of(new_key_env, "--new-key-env")
        location = _state_of_here(state, project_key=False)
        configure_key(location, old)
        with open_state_store(location, key=old) as store:
            members = store.rekey(old, new)
    now = f"encrypted with key id {new.key_id}" if new else "not encrypted"
    typer.echo(f"Sealed {members:,} members again: the state store is now {now}.")
    typer.echo("Saved plans made before are sealed with the old key: plan again. The project "
               "file's `state.encryption.key` must now name a variable holding the new key"
               + (" (or be removed)." if new is None else "."), err=True)
