"""requirements.txt, constraints.txt and pip-tools `.in` files, read the way pip reads them.

We follow pip's own line grammar (comments, `\\` continuations, `${VAR}`
expansion, `-r`/`-c` includes relative to the including file, per-line
`--hash`, global `--index-url` options) because users write these files for
pip, and a gate that silently skips a line pip would install from (as
GuardDog's `verify` does with `-r` and `--hash`) checks less than it claims.
Anything that is not a name from an index (URLs, local paths, editables)
becomes `Unresolvable`: we can say it is there, not what it is.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mphunter_gate.errors import InputError
from mphunter_gate.sources.base import DependencySource, one_line, sha256_of
from mphunter_gate.sources.local import local_project
from mphunter_gate.types import Dependency, LocalProject, Origin, Unresolvable

log = logging.getLogger(__name__)

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_URL_SCHEMES = ("http://", "https://", "file:", "ftp://")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")

#: Global options that take a value and are irrelevant to what gets installed.
_IGNORED_WITH_VALUE = {
    "-f",
    "--find-links",
    "--trusted-host",
    "--only-binary",
    "--no-binary",
    "--use-feature",
    "--progress-bar",
}
#: Global flags that are irrelevant to what gets installed.
_IGNORED_FLAGS = {
    "--pre",
    "--prefer-binary",
    "--require-hashes",
    "--no-index",
    "-Z",
    "--always-unzip",
}
#: Per-requirement options besides --hash; they change how pip builds, not what.
_PER_REQ_IGNORED = {"--global-option", "--install-option", "--config-settings", "-C"}


class RequirementsSource(DependencySource):
    """A pip requirements file and everything it includes."""

    def __init__(self, path: Path, *, constraint: bool = False) -> None:
        super().__init__(path)
        self.constraint = constraint

    def collect(self) -> Iterator[Dependency | Unresolvable | LocalProject]:
        self.index_urls.clear()
        self.extra_index_urls.clear()
        yield from self._read(self.path, constraint=self.constraint, seen=set(), stack=())

    # -- files ---------------------------------------------------------------

    def _read(
        self, path: Path, *, constraint: bool, seen: set[Path], stack: tuple[Path, ...]
    ) -> Iterator[Dependency | Unresolvable | LocalProject]:
        """`stack` is the chain of files including this one: a file met again on its own
        chain is a loop (an error: pip recurses until it fails), met again elsewhere a
        shared include, read once."""
        key = path.resolve()
        if key in seen:
            log.debug("%s already read; not including it again", path)
            return
        seen.add(key)
        text = self._read_text(path)
        for lineno, line in _logical_lines(text):
            yield from self._line(
                path, lineno, line, constraint=constraint, seen=seen, stack=(*stack, key)
            )

    def _line(
        self,
        path: Path,
        lineno: int,
        line: str,
        *,
        constraint: bool,
        seen: set[Path],
        stack: tuple[Path, ...],
    ) -> Iterator[Dependency | Unresolvable | LocalProject]:
        file = str(path)
        origin = Origin(file, lineno)
        if line.startswith("-"):
            yield from self._option(
                path, origin, line, constraint=constraint, seen=seen, stack=stack
            )
            return
        args, options = _split_options(line)
        hashes = _hashes(options, file, lineno)
        if _is_url_or_path(args):
            yield from _local_or_unresolvable(path, args, origin, _url_or_path_reason(args))
            return
        try:
            req = Requirement(args)
        except InvalidRequirement as exc:
            raise InputError(
                f"invalid requirement {args!r}: {one_line(exc)}", file=file, line=lineno
            ) from exc
        if req.url:
            yield Unresolvable(args, origin, f"direct reference to {req.url}: not from an index")
            return
        yield Dependency(args, origin, hashes=hashes, constraint=constraint)

    def _option(
        self,
        path: Path,
        origin: Origin,
        line: str,
        *,
        constraint: bool,
        seen: set[Path],
        stack: tuple[Path, ...],
    ) -> Iterator[Dependency | Unresolvable | LocalProject]:
        file, lineno = origin.file, origin.line
        try:
            tokens = shlex.split(line)
        except ValueError as exc:
            raise InputError(f"cannot parse option line: {exc}", file=file, line=lineno) from exc
        opt, value = _option_value(tokens, file, lineno)
        if opt in ("-r", "--requirement", "-c", "--constraint"):
            is_constraint = constraint or opt in ("-c", "--constraint")
            if value.startswith(_URL_SCHEMES):
                yield Unresolvable(line, origin, "included file is a URL; not fetched")
                return
            target = path.parent / value
            if not target.is_file():
                raise InputError(f"included file {value!r} not found", file=file, line=lineno)
            if target.resolve() in stack:
                chain = [*stack[stack.index(target.resolve()) :], target.resolve()]
                raise InputError(
                    "include loop: " + " -> ".join(p.name for p in chain), file=file, line=lineno
                )
            yield from self._read(target, constraint=is_constraint, seen=seen, stack=stack)
        elif opt in ("-e", "--editable"):
            yield from _local_or_unresolvable(
                path, value, origin, "editable install of a VCS or remote project"
            )
        elif opt in ("-i", "--index-url"):
            # pip keeps the last --index-url it sees; so do we.
            self.index_urls[:] = [value]
        elif opt == "--extra-index-url":
            self._add_index(value, extra=True)
        elif opt in _IGNORED_WITH_VALUE or opt in _IGNORED_FLAGS:
            log.debug("%s:%d: option %s does not change what is installed", file, lineno, opt)
        else:
            raise InputError(f"unknown option {opt!r}", file=file, line=lineno)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line number, text) of each non-empty logical line.

    Comments go first, then `\\` continuations are joined, then `${VAR}` is
    expanded from the environment (pip's order).
    """
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw)
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        joined = _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(0)), "".join(buffer))
        buffer = []
        if joined.strip():
            yield start, joined.strip()
    if buffer and "".join(buffer).strip():
        yield start, "".join(buffer).strip()


def _split_options(line: str) -> tuple[str, str]:
    """Split `req --hash=..` into the requirement and its options (pip's rule:
    the first whitespace-separated token that starts with `-` begins the options)."""
    tokens = line.split(" ")
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]).strip(), " ".join(tokens[i:])
    return line.strip(), ""


def _option_value(tokens: list[str], file: str, lineno: int) -> tuple[str, str]:
    """The option and its value from `-r x`, `-rx`, `--requirement=x`, `--pre`."""
    head = tokens[0]
    if head.startswith("--"):
        opt, eq, value = head.partition("=")
        if eq:
            return opt, value
    elif len(head) > 2:  # -rfile
        return head[:2], head[2:]
    else:
        opt = head
    if opt in _IGNORED_FLAGS:
        return opt, ""
    if len(tokens) < 2:
        raise InputError(f"option {opt} needs a value", file=file, line=lineno)
    return opt, " ".join(tokens[1:])


def _hashes(options: str, file: str, lineno: int) -> frozenset[str]:
    """The sha256 pins among a requirement's options; a malformed one is an error."""
    if not options:
        return frozenset()
    try:
        tokens = shlex.split(options)
    except ValueError as exc:
        raise InputError(f"cannot parse options: {exc}", file=file, line=lineno) from exc
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        opt, eq, value = tokens[i].partition("=")
        if not eq and opt in ("--hash", *_PER_REQ_IGNORED):
            if i + 1 >= len(tokens):
                raise InputError(f"option {opt} needs a value", file=file, line=lineno)
            value = tokens[i + 1]
            i += 1
        i += 1
        if opt == "--hash":
            algo = value.partition(":")[0].lower()
            digest = sha256_of(value)
            if (algo == "sha256" and digest is None) or ":" not in value:
                raise InputError(f"malformed --hash {value!r}", file=file, line=lineno)
            if digest is None:
                log.info("%s:%d: %s hash cannot be compared with the index", file, lineno, algo)
            else:
                found.add(digest)
        elif opt not in _PER_REQ_IGNORED:
            raise InputError(f"unknown per-requirement option {opt!r}", file=file, line=lineno)
    return frozenset(found)


def _local_or_unresolvable(
    including: Path, arg: str, origin: Origin, reason: str
) -> Iterator[Dependency | Unresolvable | LocalProject]:
    """The local project `arg` names, with its requirements; else `arg` unresolvable."""
    local = _local_project(including, arg)
    if local is None:
        yield Unresolvable(arg, origin, reason)
    else:
        yield from local_project(local[0], local[1], arg, origin)


def _local_project(including: Path, arg: str) -> tuple[Path, frozenset[str]] | None:
    """The folder and extras of a line naming a local project (`.`, `./lib[socks]`,
    `file:../lib`), relative to the file that names it; None for anything else (a VCS
    or remote URL, an archive, a path that is not a folder)."""
    text = arg.split(";", 1)[0].strip()
    if text.lower().startswith("file:"):
        text = text[len("file:") :].removeprefix("//")
    extras: frozenset[str] = frozenset()
    m = re.fullmatch(r"(.*?)\[([^\]]*)\]", text)
    if m:
        text = m.group(1)
        extras = frozenset(canonicalize_name(e) for e in m.group(2).split(",") if e.strip())
    if not text or text.lower().startswith(_URL_SCHEMES + _VCS_PREFIXES):
        return None
    folder = (including.parent / Path(text).expanduser()).resolve()
    return (folder, extras) if folder.is_dir() else None


def _is_url_or_path(arg: str) -> bool:
    lowered = arg.lower()
    if lowered.startswith(_URL_SCHEMES + _VCS_PREFIXES):
        return True
    if arg.startswith((".", "/", "~", "\\")) or "/" in arg.split(";")[0].split("@")[0]:
        return True
    name_part = lowered.split(";")[0].strip()
    return name_part.endswith(_ARCHIVE_SUFFIXES) and " " not in name_part


def _url_or_path_reason(arg: str) -> str:
    lowered = arg.lower()
    if lowered.startswith(_VCS_PREFIXES):
        return "VCS reference: not from an index"
    if lowered.startswith(_URL_SCHEMES):
        return "URL: not from an index"
    return "local path: not from an index"
