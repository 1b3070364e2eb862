"""Every command of the `hoso` command line is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from api.cli import app

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
