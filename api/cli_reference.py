"""The command line's reference, written from the commands themselves: `docs/cli.md`.

    python -m api.cli_reference > docs/cli.md        (or `make docs`)

A test regenerates it and compares, and checks that every option `--help` shows is in it, so the
reference never drifts from the program (as sqlite-utils keeps its CLI reference).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import typer

from api.cli import app

HEADER = """# `hoso` command reference

Written by `make docs` (`python -m api.cli_reference`) from the commands themselves; a test keeps it
equal to them. Every command also answers `--help`.
"""


# Typer carries its own copy of click: its commands and parameters are read by what they have, not by class.
Command = Any
Param = Any


def is_group(command: Command) -> bool:
    return hasattr(command, "list_commands")


def is_option(param: Param) -> bool:
    return bool(param.param_type_name == "option")


def subcommands(group: Command) -> list[str]:
    return sorted(group.list_commands(group.context_class(group)))


def commands(group: Command, path: tuple[str, ...] = ("hoso",)) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command under `group` with its full path, groups before their commands, alphabetically."""
    ctx = group.context_class(group, info_name=path[-1])
    for name in subcommands(group):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        yield (*path, name), command
        if is_group(command):
            yield from commands(command, (*path, name))


_NAMES = {str: "text", int: "integer", float: "number", bool: "flag", Path: "path"}


def _kind(param: Param) -> str:
    """What the parameter takes: its choices, `flag`, or the name of its type (`path ...` for several)."""
    annotation = param.type_descriptor.annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    several = get_origin(annotation) is list
    if args and (several or len(args) == 1):
        annotation = args[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    name = _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)).lower())
    return f"{name} ..." if several else name


def _default(param: Param) -> str:
    default = param.default
    if default in (None, "") or (is_option(param) and param.is_flag and not default) or param.required:
        return ""
    if isinstance(default, Enum):
        default = default.value
    if isinstance(default, list | tuple):
        default = " ".join(map(str, default))
    return f"`{default}`"


def _help(param: Param) -> str:
    text = getattr(param, "help", None) or ""
    return " ".join(text.split()).replace("|", "\\|")


def names(param: Param) -> list[str]:
    """How the parameter is written on the command line: its option names, or an argument's metavar."""
    if is_option(param):
        return [*param.opts, *param.secondary_opts]
    return [param.name]


def reference() -> str:
    """The whole reference as Markdown."""
    root = typer.main.get_command(app)
    out = [HEADER]
    for path, command in commands(root):
        out.append(f"## `{' '.join(path)}`\n")
        summary = " ".join((command.help or "").split())
        if summary:
            out.append(f"{summary}\n")
        params = [p for p in command.params if not (is_option(p) and "--help" in p.opts)]
        if is_group(command):
            out.append("Commands: " + ", ".join(f"`{name}`" for name in subcommands(command)) + ".\n")
        if params:
            out.append("| argument or option | values | default | meaning |\n| --- | --- | --- | --- |")
            for param in params:
                required = " (required)" if param.required else ""
                out.append(f"| {', '.join(f'`{n}`' for n in names(param))}{required} | {_kind(param)} | "
                           f"{_default(param)} | {_help(param)} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    sys.stdout.write(reference())


if __name__ == "__main__":
    main()
