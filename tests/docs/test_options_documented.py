"""Every public option is documented: each command-line option in docs/cli.md, each
parameter of the public Python API somewhere in README.md or docs/*.md (as ``name=`` or
```name```), so no option lands undocumented."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re

from .markdown import DOCS, ROOT

CLI_DOC = ROOT / "docs" / "cli.md"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"}


def _sections() -> dict[str, str]:
    """docs/cli.md by section: the top (the synopsis and global options) under "", each
    "## a, b" section under each command it names."""
    parts = CLI_DOC.read_text().split("\n## ")
    out = {"": parts[0]}
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        for name in re.findall(r"[\w-]+", heading):
            out[name] = body
    return out


def _undocumented(parser: argparse.ArgumentParser, text: str, who: str) -> list[str]:
    """Options the text does not name, or names without their default."""
    missing = []
    for action in parser._actions:
        flags = [s for s in action.option_strings if s != "--help" and s != "-h"]
        if not flags or action.default == argparse.SUPPRESS:
            continue
        if not any(f in text for f in flags):
            missing.append(f"{who} {flags[0]}")
        elif action.default not in (None, False, [], True) and str(action.default) not in text:
            missing.append(f"{who} {flags[0]}'s default {action.default!r}")
    return missing


def test_every_cli_option_and_command_is_in_cli_md():
    from hybridstore.cli import _parser

    sections = _sections()
    parser = _parser()
    missing = _undocumented(parser, sections[""], "hybridstore")
    for name, sub in _subcommands(parser).items():
        if not re.search(rf"\b{re.escape(name)}\b", sections[""]):
            missing.append(f"command {name!r} in the synopsis")
        if name not in sections:
            missing.append(f"a section for {name!r}")
            continue
        missing += _undocumented(sub, sections[name], f"hybridstore {name}")
    assert not missing, "undocumented in docs/cli.md: " + ", ".join(missing)


def test_the_help_names_every_command():
    from hybridstore.cli import _parser

    parser = _parser()
    described = parser.description or ""
    missing = [n for n in _subcommands(parser) if n not in described]
    assert not missing, f"hybridstore --help's description leaves out {missing}"


def _public_parameters() -> dict[str, list[str]]:
    from hybridstore import HybridIndex, Models, ModelSpec, Settings, Storage

    out = {}
    for name, fn in inspect.getmembers(HybridIndex, inspect.isfunction):
        if not name.startswith("_") and not name.startswith("a"):  # async twins take the same
            params = list(inspect.signature(fn).parameters.values())[1:]
            out[f"HybridIndex.{name}"] = [p.name for i, p in enumerate(params)  # the first, given
                                          if p.name not in ("options",)        # by position, is
                                          and not (i == 0 and p.default is p.empty)]  # named in prose
    out["Models"] = [p for p in inspect.signature(Models.__init__).parameters if p != "self"]
    out["ModelSpec"] = [f.name for f in dataclasses.fields(ModelSpec)]
    out["Settings"] = [f.name for f in dataclasses.fields(Settings)]
    out["Storage"] = [f.name for f in dataclasses.fields(Storage)]
    return out


def test_every_public_parameter_is_documented():
    text = "\n".join(d.read_text() for d in DOCS)
    missing = [f"{owner}({p}=)" for owner, params in _public_parameters().items() for p in params
               if f"{p}=" not in text and f"`{p}`" not in text]
    assert not missing, "public parameters the docs never name: " + ", ".join(missing)
