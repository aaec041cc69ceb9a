"""Commands about the manifests themselves: validate, show, schema export."""
from __future__ import annotations

import enum
import json
import sys
from pathlib import Path

import typer
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler.changes.resources import ResourceType
from reconciler.cli.annotations import workflow_commands
from reconciler.cli.app import MANIFESTS_HELP, app, locate_project, user_errors
from reconciler.cli.conventions import Typer
from reconciler.destinations.capabilities import capabilities_of
from reconciler.manifests.diagnostics import Diagnostic, Severity, has_errors
from reconciler.manifests.loading import load_project
from reconciler.manifests.project import Project
from reconciler.manifests.projectfile import DEFAULT_MANIFESTS
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.schemas import all_schemas, export_schemas

DEFAULT_PATH = Path(DEFAULT_MANIFESTS)
PathArgument = typer.Argument(None, help=MANIFESTS_HELP, show_default=False)


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command()
def validate(
    path: Path | None = PathArgument,
    output: OutputFormat = typer.Option(OutputFormat.TEXT, "--format", help="text or json"),
) -> None:
    """Check the manifests (schema and references) and report every problem at once."""
    with user_errors():
        path = locate_project(path).manifests
    project, diagnostics = load_project(path)
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({
            "valid": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "documents": _counts(project),
            "diagnostics": [d.to_json() for d in diagnostics],
        }, indent=2))
    else:
        for diagnostic in diagnostics:
            typer.echo(str(diagnostic))
        for line in workflow_commands(diagnostics):
            typer.echo(line)
        counts = ", ".join(f"{n} {kind}" for kind, n in _counts(project).items())
        verdict = "valid" if errors == 0 else "invalid"
        typer.echo(f"{path}: {verdict} ({counts}); {errors} error(s), {warnings} warning(s)")
    raise typer.Exit(1 if errors else 0)


def _counts(project: Project) -> dict[str, int]:
    counts: dict[str, int] = {}
    for manifest in project.manifests:
        counts[manifest.kind] = counts.get(manifest.kind, 0) + 1
    return counts


show_app = Typer(no_args_is_help=True, help="Show resolved manifests.")
app.add_typer(show_app, name="show")


@show_app.command("activation")
def show_activation(
    name: str = typer.Argument(..., help="The activation (its metadata.name)."),
    path: Path | None = PathArgument,
) -> None:
    """Print an activation's effective settings, after its destination's defaults merge in."""
    with user_errors():
        project, diagnostics = load_project(locate_project(path).manifests)
        print_problems(diagnostics, only_errors=True)
        activations = effective_activations(project)
        if name not in activations:
            known = ", ".join(sorted(activations)) or "none"
            typer.echo(f"Error: no activation named {name!r} (defined: {known})", err=True)
            raise typer.Exit(1)
        YAML().dump(settings_as_yaml(activations[name]), sys.stdout)


def settings_as_yaml(settings: EffectiveActivation) -> CommentedMap:
    """The effective settings in manifest spelling, each line commented with its origin."""
    out = CommentedMap()
    out["activation"] = settings.name
    out["destination"] = f"{settings.destination} ({settings.destination_type})"
    out["audience"] = (
        f"segment {settings.segment}" if settings.segment else f"model {settings.model}"
    )
    out["audienceName"] = settings.audience_name
    declared = capabilities_of(settings.destination_type)
    if declared is not None and declared.list_type is ResourceType.SELLIGENT_SEGMENT:
        out["selligentApiName"] = settings.selligent_api_name
    simple = {
        "matchKey": settings.match_key,
        "schedule": settings.schedule,
        "deletionPolicy": settings.deletion_policy,
        "duplicateKeys": settings.duplicate_keys,
        "validityPeriod": settings.validity_period,
        "targetList": settings.target_list,
        "etlId": settings.etl_id,
    }
    for key, value in simple.items():
        if value is None and key in ("validityPeriod", "targetList", "etlId"):
            continue
        out[key] = _plain(value)
        out.yaml_add_eol_comment(f"from {settings.origins[key].describe()}", key)
    fields = CommentedSeq(_plain(f) for f in settings.fields)
    for number, mapping in enumerate(settings.fields):
        origin = settings.origins[f"fields.{mapping.destination}"]
        fields.yaml_add_eol_comment(f"from {origin.describe()}", number)
    out["fields"] = fields
    warnings = CommentedMap()
    for key, value in settings.warnings.model_dump(mode="json", by_alias=True).items():
        warnings[key] = value
        warnings.yaml_add_eol_comment(f"from {settings.origins['warnings.' + key].describe()}", key)
    out["warnings"] = warnings
    return out


def _plain(value: object) -> object:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def print_problems(diagnostics: list[Diagnostic], *, only_errors: bool = False) -> None:
    shown = [d for d in diagnostics if not only_errors or d.severity is Severity.ERROR]
    for diagnostic in shown:
        typer.echo(str(diagnostic), err=True)
    for line in workflow_commands(shown):
        typer.echo(line, err=True)
    if has_errors(diagnostics):
        typer.echo("The manifests have errors (see above); run `reconciler validate`.", err=True)


schema_app = Typer(no_args_is_help=True, help="The manifests' JSON Schemas.")
app.add_typer(schema_app, name="schema")


@schema_app.command("export")
def schema_export(
    out: Path = typer.Option(Path("schemas"), "--out", metavar="DIR",
                             help="Where to write the schemas."),
    check: bool = typer.Option(False, "--check", help="Only check that the files are current."),
) -> None:
    """Write one JSON Schema (Draft 2020-12) per manifest kind, generated from the models."""
    if check:
        stale = [name for name, text in all_schemas().items()
                 if not (out / name).is_file() or (out / name).read_text("utf-8") != text]
        for name in stale:
            typer.echo(f"{out / name}: out of date; run `reconciler schema export`")
        raise typer.Exit(1 if stale else 0)
    for written in export_schemas(out):
        typer.echo(f"wrote {written}")
