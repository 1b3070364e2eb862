"""Every command of the `hoso` command line is in the README, and its options in docs/cli.md as `--help` shows them."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from api.cli import app
from api.cli_reference import commands, reference

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_paths(group: typer.main.TyperGroup | typer.main.click.Group, prefix: str = "hoso") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_command_is_in_the_readme() -> None:
    paths = command_paths(typer.main.get_command(app))  # type: ignore[arg-type]
    assert "hoso neo4j start" in paths
    missing = [p for p in paths if f"`{p}" not in README]
    assert missing == []


def test_the_command_reference_is_written_from_the_commands() -> None:
    """docs/cli.md is what `make docs` writes now: run it when a command or option changes."""
    written = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == reference(), "docs/cli.md is stale: run `make docs`"


def _documented(markdown: str) -> dict[str, set[str]]:
    """The options (`--x`) and arguments (`x`) each command's section of the reference documents."""
    sections: dict[str, set[str]] = {}
    for section in markdown.split("\n## `")[1:]:
        title, _, body = section.partition("`")
        rows = [line for line in body.splitlines() if line.startswith("| `")]
        sections[title] = {name for row in rows for name in re.findall(r"`(--[\w-]+|[a-z_]+)`", row.split("|")[1])}
    return sections


def test_every_option_help_shows_is_in_the_reference_and_nothing_else() -> None:
    documented = _documented(reference())
    root = typer.main.get_command(app)
    for path, command in commands(root):
        if hasattr(command, "list_commands"):
            continue
        shown = CliRunner().invoke(app, [*path[1:], "--help"], env={"COLUMNS": "240", "NO_COLOR": "1"}).output
        options = {match for line in shown.splitlines()
                   for match in re.findall(r"^[\s│*]*(--[\w-]+)", line)} - {"--help"}
        arguments = {match for line in shown.splitlines()
                     for match in re.findall(r"^[\s│*]*([a-z][a-z_]*)(?:\.\.\.)?\s+<", line)}
        assert options | arguments == documented[" ".join(path)], " ".join(path)
