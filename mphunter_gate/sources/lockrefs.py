"""What a lock file's non-index sources become: rows that say what they are.

A lock records a git dependency by its repository and the commit it
resolved to, a path dependency by its folder, and the dependencies of
both as locked packages of their own. So:

- a git source is unscanned (the gate reads index files only), and its row
  is the PEP 508 reference pip would install, pinned to the locked commit
  (`name @ git+https://host/repo@<commit>`): the allowlist's `url` key
  names exactly that commit, so a new commit needs a new review;
- a folder (uv's `editable`, `virtual` and `directory`, Poetry's
  `directory`) is the user's own code: a "local project" row, passed,
  whose locked dependencies are judged in their own rows, as for `-e .`
  in a requirements file;
- a local archive or a direct URL is unscanned, with its path or URL.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit

from mphunter_gate.types import LocalProject, Origin, Unresolvable


def git_row(
    name: str,
    repo: str,
    commit: str | None,
    ref: str | None,
    subdirectory: str | None,
    version: str | None,
    origin: Origin,
) -> Unresolvable:
    """The unscanned row of a locked git dependency; `commit` is the resolved one
    (None when the lock gives only a branch or tag: then the row says so)."""
    url = repo if repo.startswith("git+") else f"git+{repo}"
    pin = commit or ref
    text = f"{name} @ {url}" + (f"@{pin}" if pin else "")
    if subdirectory:
        text += f"#subdirectory={subdirectory}"
    at = f"commit {commit}" if commit else f"{ref or 'its default branch'} (no commit locked)"
    locked = f" {version}" if version else ""
    return Unresolvable(
        text,
        origin,
        f"git source: {name}{locked} from {repo} at {at}, not from an index, so its files "
        "were not scanned",
    )


def uv_git_row(name: str, spec: str, version: str | None, origin: Origin) -> Unresolvable:
    """uv writes `https://host/repo?rev=main&subdirectory=x#<commit>`."""
    parts = urlsplit(spec)
    query = parse_qs(parts.query)
    ref = next((query[k][0] for k in ("rev", "tag", "branch") if query.get(k)), None)
    sub = query["subdirectory"][0] if query.get("subdirectory") else None
    repo = urlunsplit(parts._replace(query="", fragment=""))
    return git_row(name, repo, parts.fragment or None, ref, sub, version, origin)


def local_row(name: str, kind: str, folder: str, lock: str, origin: Origin) -> LocalProject:
    """The row of a folder the lock installs from: the user's own code."""
    return LocalProject(
        f"{name} ({kind} = {folder})",
        origin,
        name,
        f"local project (your own code, not judged): {kind} source {folder}; its dependencies "
        f"are locked in {lock} and judged in their own rows",
    )


def archive_row(name: str, kind: str, where: str, origin: Origin) -> Unresolvable:
    """A local archive or a direct URL: named as pip would install it, unscanned."""
    if kind in ("path", "file"):
        why = (
            f"local archive {where}: not from an index, so not scanned here (`mphunter-gate "
            "scan` reads it)"
        )
    else:
        why = f"direct URL {where}: not from an index, so not scanned"
    return Unresolvable(f"{name} @ {where}", origin, why)
