"""Command line: parse arguments, wire the stages, map outcomes to exit codes.

Exit codes (CONVENTIONS.md): 0 clean, 1 gate failure (a package at or
above the threshold, or unscanned without --allow-unscanned), 2 usage or
input error, 3 infrastructure error (index, network, models), 4 nothing
was scanned. Errors a user can cause are one line, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import shutil
import sys
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mphunter_gate import __version__
from mphunter_gate.errors import GateError, InputError
from mphunter_gate.types import Report, Verdict

if TYPE_CHECKING:
    from mphunter_gate.config import Config
    from mphunter_gate.gate import GateOptions
    from mphunter_gate.report.progress import Progress

log = logging.getLogger("mphunter_gate")
EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INFRA, EXIT_EMPTY = 0, 1, 2, 3, 4
FORMATS = ("text", "json", "sarif", "github", "markdown")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default=None, help="report format (default: text)")
    p.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    p.add_argument(
        "--threshold", type=float, help="fail at or above this score (default: the model's)"
    )
    p.add_argument(
        "--allow-unscanned",
        action="store_true",
        default=None,
        help="do not fail the gate for packages that could not be scanned",
    )
    p.add_argument(
        "--file-search-mode",
        choices=("setup_only", "all_files"),
        default=None,
        help="all_files (default): every file of each package, by stage; setup_only: setup.py",
    )
    p.add_argument(
        "--analyse-known",
        action="store_true",
        help="analyse files byte-identical to benign corpus files too (default: report them"
        " 'known' without analysis)",
    )
    p.add_argument(
        "--config", type=Path, help="a config file (the seed tool's config.ini is accepted)"
    )
    p.add_argument(
        "--github",
        action="store_true",
        help="also write GitHub annotations, job summary and step outputs",
    )
    p.add_argument("--models", type=Path, help=argparse.SUPPRESS)


def _add_check_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", type=Path, help="dependency files (default: discover in .)")
    p.add_argument("--index-url", help="base URL of the simple index (default: pip's, else PyPI)")
    p.add_argument("--extra-index-url", action="append", default=[], help="more indexes")
    p.add_argument("--offline", action="store_true", help="use only the local cache")
    p.add_argument(
        "--python-version",
        action="append",
        default=[],
        help="target Python, e.g. 3.12 (default: this interpreter); repeatable: the file pip "
        "installs on each is judged, the first one resolves",
    )
    p.add_argument(
        "--platform",
        action="append",
        default=[],
        help="target wheel platform tag, e.g. win_amd64 (default: this machine); repeatable",
    )
    p.add_argument(
        "--require-hashes",
        action="store_true",
        help="fail closed on a file whose sha256 neither the index nor the dependency file gives",
    )
    p.add_argument(
        "--audit-vulns",
        action="store_true",
        default=None,
        help="also report known vulnerabilities (pip-audit on the pins; runs no package code)",
    )
    p.add_argument(
        "--advisories",
        type=Path,
        metavar="PATH",
        help="OSV malware records: a tree of *.json (ossf/malicious-packages) or an OSV zip "
        "(default: the cache of `advisories update`, when present)",
    )
    p.add_argument(
        "--min-release-age",
        metavar="DURATION",
        help="fail releases uploaded more recently than this (36h, 7d, '7 days', P7D; default off)",
    )
    p.add_argument(
        "--index-deadline",
        metavar="DURATION",
        help="longest the whole run may wait on the index (90s, 15m, PT1H; default 15m); past "
        "it nothing more is fetched and the run stops with exit 3",
    )


EXIT_CODES = """exit codes:
  0  every package passed
  1  a package failed, or could not be scanned (unless --allow-unscanned)
  2  bad input (one line naming the file and line)
  3  the gate could not finish (index or network unreachable, models broken)
  4  nothing was scanned"""


def _add_verbose(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log each stage's progress (and the index's retries) to stderr",
    )


def _command(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A subcommand's parser; `-v` works after the command too (SUPPRESS keeps a -v
    given before it)."""
    p: argparse.ArgumentParser = sub.add_parser(
        name, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs
    )
    _add_verbose(p, default=argparse.SUPPRESS)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mphunter-gate",
        description="Statically check the install-time scripts of Python dependencies for malware, "
        "without running them.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_verbose(parser, default=False)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = _command(sub, "check", help="resolve, fetch and score a project's dependencies")
    _add_check_inputs(c)
    c.add_argument(
        "--changed-since",
        metavar="REF",
        help="check only dependencies added or changed since this git ref (e.g. origin/main)",
    )
    _add_output(c)

    i = _command(
        sub, "install", help="check, then pip install exactly the scanned files (nothing unscanned)"
    )
    _add_check_inputs(i)
    i.add_argument("--python", help="interpreter whose pip installs (default: this one)")
    i.add_argument("--no-build-isolation", action="store_true", help="passed to pip")
    i.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        metavar="OPT",
        help="extra pip option, written --pip-arg=--target=DIR (repeatable)",
    )
    i.add_argument(
        "--keep-requirements", type=Path, help="also write the hash-pinned requirements file here"
    )
    _add_output(i)

    s = _command(sub, "scan", help="score local sdists, wheels or unpacked folders (no network)")
    s.add_argument("paths", nargs="+", help="archives or folders")
    _add_output(s)

    b = _command(
        sub, "batch", help="judge a registry's uploads at scale on Dask (results in SQLite)"
    )
    _add_batch(b)

    k = _command(sub, "corpus", help="download the benign corpus's install-time files")
    k.add_argument("--top", type=int, default=8000, help="most downloaded names to take")
    k.add_argument("--random", type=int, default=3000, help="long-tail names to take")
    k.add_argument(
        "--history",
        type=int,
        default=1000,
        help="most downloaded names whose earlier release series are also taken",
    )
    k.add_argument("--dir", type=Path, help="corpus folder (default: in the user cache)")
    k.add_argument("--workers", type=int, default=12, help="parallel downloads (default: 12)")

    t = _command(sub, "train", help="train the models from the corpora")
    t.add_argument("--corpus", type=Path, help="benign corpus folder (default: in the user cache)")
    t.add_argument(
        "--malicious",
        type=Path,
        default=Path("../shared/corpus/malregistry-dev.tar.xz"),
        help="the known-malicious corpus, a .tar.xz read as text (its .jsonl beside it)",
    )
    t.add_argument(
        "--out", type=Path, default=Path("models"), help="models folder to write (default: models)"
    )
    t.add_argument("--config", type=Path, help="the seed's config.ini [train] section is honoured")
    t.add_argument(
        "--known-only",
        action="store_true",
        help="only (re)build the known-benign file set of the models in --out from the corpus",
    )

    e = _command(sub, "evaluate", help="recall, FPR, AUC of the models on labelled folders")
    e.add_argument(
        "--malicious", type=Path, required=True, help="folder of malicious packages (never run)"
    )
    e.add_argument("--benign", type=Path, required=True, help="folder of benign packages")
    e.add_argument("--plot", type=Path, help="write ROC and precision-recall PNGs here")
    e.add_argument("--models", type=Path, help="models folder (default: the bundled models)")
    e.add_argument(
        "--added",
        type=Path,
        help="a registry jsonl (sample, added): also report recall before and after --cut",
    )
    e.add_argument(
        "--cut",
        help="the temporal split's date (default: the models' temporal_cut); for malware "
        "newer than the training corpus, its last added date",
    )

    a = _command(sub, "advisories", help="manage the offline malware advisories")
    asub = a.add_subparsers(dest="advisories_command", required=True, parser_class=_Parser)
    u = _command(asub, "update", help="download the OSV malware advisories into the cache")
    u.add_argument(
        "--url",
        default=None,
        help="where to download the OSV zip from (default: osv.dev's PyPI all.zip; any mirror)",
    )
    u.add_argument("--dir", type=Path, help="cache folder (default: advisories/ in the user cache)")
    return parser


def _add_batch(p: argparse.ArgumentParser) -> None:
    """batch's own flags (`batch/command.py`) and the judging options it shares."""
    from mphunter_gate.batch.command import add_arguments

    add_arguments(p)
    p.add_argument("--threshold", type=float, help="fail at or above this score")
    p.add_argument(
        "--allow-unscanned",
        action="store_true",
        default=None,
        help="do not count packages that could not be scanned as failures",
    )
    p.add_argument(
        "--file-search-mode",
        choices=("setup_only", "all_files"),
        default=None,
        help="all_files (default): every file of each package, by stage; setup_only: setup.py",
    )
    p.add_argument("--analyse-known", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--config", type=Path, help="a config file (the seed's config.ini accepted)")
    p.add_argument("--models", type=Path, help=argparse.SUPPRESS)
    p.set_defaults(format=None)


def exit_code(report: Report) -> int:
    if not report.findings:
        return EXIT_EMPTY
    return EXIT_OK if report.verdict is Verdict.PASS else EXIT_FAIL


def _emit(report: Report, fmt: str, output: Path | None) -> None:
    from mphunter_gate.report import formatter_for

    text = formatter_for(fmt).format(report)
    if output is not None:
        try:
            output.write_text(text)
        except OSError as exc:
            raise InputError(f"cannot write report: {exc.strerror}", file=str(output)) from exc
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _config(args: argparse.Namespace) -> Config:
    """One merge of defaults < pyproject.toml < --config < environment < flags."""
    from mphunter_gate.config import load_config

    overrides: dict[str, object] = {
        "threshold": args.threshold,
        "allow_unscanned": args.allow_unscanned,
        "format": args.format,
        "file_search_mode": args.file_search_mode,
    }
    if args.command in ("check", "install"):
        overrides.update(
            audit_vulns=args.audit_vulns,
            advisories=args.advisories,
            min_release_age=args.min_release_age,
            index_deadline=args.index_deadline,
            index_url=args.index_url,
            extra_index_urls=tuple(args.extra_index_url) or None,
            offline=args.offline or None,
            python_version=args.python_version[0] if args.python_version else None,
        )
    return load_config(Path.cwd(), args.config, overrides)


def _options(config: Config, args: argparse.Namespace) -> GateOptions:
    from mphunter_gate.fetch.index import default_cache_dir
    from mphunter_gate.gate import GateOptions

    return GateOptions(
        cache_dir=usable_cache(config.cache_dir or default_cache_dir(), bool(config.offline)),
        threshold=config.threshold,
        allow_unscanned=config.allow_unscanned,
        file_search_mode=config.file_search_mode,
        graph_mode=config.graph_mode,
        python_versions=tuple(getattr(args, "python_version", None) or ())
        or ((config.python_version,) if config.python_version else ()),
        platforms=tuple(getattr(args, "platform", None) or ()),
        require_hashes=bool(getattr(args, "require_hashes", False)),
        known_files=not getattr(args, "analyse_known", False),
    )


def _finish(report: Report, config: Config, args: argparse.Namespace) -> int:
    from mphunter_gate.config import apply_allowlist

    report = apply_allowlist(report, config)
    _emit(report, config.format, args.output)
    if args.github:
        from mphunter_gate.report.github import publish

        sarif = str(args.output) if config.format == "sarif" and args.output else None
        publish(report, sarif_file=sarif)
    return exit_code(report)


_CACHE_PARTS = ("pages", "blobs", "metadata", "verdicts")


@cache
def usable_cache(path: Path, offline: bool = False) -> Path:
    """`path` if the cache's folders can be written there, else a fresh temporary
    folder (with one warning): an unwritable cache costs speed, never the run.
    Offline, a read-only cache is the point (a warm cache mounted read-only): it is
    read, and not written."""
    try:
        for part in _CACHE_PARTS:
            folder = path / part
            if offline and folder.is_dir():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        return path
    except OSError as exc:
        if offline and not any(
            (path / p).exists() and not (path / p).is_dir() for p in _CACHE_PARTS
        ):
            log.warning("cache %s is read-only (%s): read, not written", path, exc.strerror)
            return path
        spare = Path(tempfile.mkdtemp(prefix="mphunter-gate-cache-"))
        atexit.register(shutil.rmtree, spare, ignore_errors=True)
        log.warning("cache %s is not writable (%s); this run uses none", path, exc.strerror)
        return spare


def _progress() -> Progress:
    from mphunter_gate.report.progress import Progress

    return Progress()


def _cmd_scan(args: argparse.Namespace) -> int:
    from mphunter_gate import gate

    config = _config(args)
    progress = _progress()
    try:
        report = gate.scan(args.paths, _options(config, args), args.models, progress)
    finally:
        progress.close()
    return _finish(report, config, args)


def _check_report(
    args: argparse.Namespace, config: Config
) -> tuple[Report | None, str | None, list[str]]:
    """The check's report (None: nothing changed since --changed-since) and the indexes used."""
    from mphunter_gate import gate
    from mphunter_gate.fetch.index import Index, default_cache_dir, pip_index_urls

    files = list(args.files)
    if not files:
        from mphunter_gate.sources import discover

        files = discover(Path.cwd())
        if not files:
            raise InputError("no dependency file given and none found in the current directory")
    deps, bad, file_index, file_extra = gate.collect(files)
    ref = getattr(args, "changed_since", None)
    if ref:
        from mphunter_gate.changed import baseline, changed_dependencies, changed_unresolvable

        base = baseline(files, ref)
        deps = changed_dependencies(files, ref, deps, base=base)
        bad = changed_unresolvable(files, ref, bad, base=base)
        if not deps and not bad:
            return None, None, []
    pip_index, pip_extra = pip_index_urls()
    index_url = config.index_url or (file_index[0] if file_index else None) or pip_index
    extra = [*config.extra_index_urls, *file_extra] or list(pip_extra)
    options = _policy_options(_options(config, args), config)
    cache = usable_cache(config.cache_dir or default_cache_dir(), bool(config.offline))
    index = Index(
        index_url,
        extra,
        offline=config.offline,
        cache_dir=cache,
        deadline=config.index_deadline.total_seconds(),
    )
    progress = _progress()
    try:
        report = gate.check(deps, bad, index, options, args.models, progress)
    finally:
        progress.close()
    if config.audit_vulns:
        from mphunter_gate.vulns import audit

        if config.offline:
            raise InputError("--audit-vulns asks PyPI about vulnerabilities; not with --offline")
        report = audit(report)
    return report, index_url, extra


def _policy_options(options: GateOptions, config: Config) -> GateOptions:
    """`options` with the advisories loaded (the cache of `advisories update` unless a
    path is given) and the cooldown set; a bad advisory file stops here, exit 2."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from mphunter_gate.policy import advisories

    now = datetime.now(timezone.utc)
    path = config.advisories
    if path is None:
        cached = advisories.cache_file()
        path = cached if cached.is_file() else None
    db = advisories.load(path) if path is not None else None
    if db is not None:
        data = db.data(now)
        if data.stale:
            age = f"{data.age_days:.0f} days old" if data.age_days is not None else "of unknown age"
            log.warning(
                "advisory data %s is %s (older than %g days): run `mphunter-gate advisories "
                "update`",
                data.source,
                age,
                data.stale_after_days,
            )
    return replace(
        options,
        advisories=db,
        min_release_age=config.min_release_age,
        min_release_age_missing=config.min_release_age_missing,
        now=now,
    )


def _cmd_advisories(args: argparse.Namespace) -> int:
    from mphunter_gate.policy import advisories

    url = args.url or advisories.DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        raise InputError(f"--url: expected an http(s):// URL, got {url!r}")
    done = advisories.update(url, args.dir)
    print(
        f"{done.records} PyPI malware advisories from {url} in {done.path} "
        f"(fetched {done.fetched.isoformat(timespec='seconds')}, sha256 {done.sha256[:12]}…)"
    )
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    config = _config(args)
    report, _, _ = _check_report(args, config)
    if report is None:
        log.warning("no dependency added or changed since %s: nothing to check", args.changed_since)
        return EXIT_OK
    return _finish(report, config, args)


def _cmd_install(args: argparse.Namespace) -> int:
    from mphunter_gate.config import apply_allowlist
    from mphunter_gate.install import install

    config = _config(args)
    report, index_url, extra = _check_report(args, config)
    if report is None:  # install has no --changed-since
        raise InputError("nothing to install")
    report = apply_allowlist(report, config)
    _emit(report, config.format, args.output)
    code = exit_code(report)
    if code != EXIT_OK:
        return code
    return install(
        report,
        python=args.python,
        index_url=index_url,
        extra_index_urls=extra,
        no_build_isolation=args.no_build_isolation,
        pip_args=args.pip_arg,
        requirements_out=args.keep_requirements,
    )


def _cmd_batch(args: argparse.Namespace) -> int:
    from mphunter_gate.batch.command import run

    config = _config(args)
    return run(args, config, _options(config, args))


def _cmd_corpus(args: argparse.Namespace) -> int:
    from mphunter_gate.corpus import download
    from mphunter_gate.fetch.index import Index, default_cache_dir

    directory = args.dir or default_cache_dir() / "corpus"
    counts = download(directory, Index(), args.top, args.random, args.history, workers=args.workers)
    print(f"corpus in {directory}: {counts}")
    return EXIT_OK


def _cmd_train(args: argparse.Namespace) -> int:
    from mphunter_gate.training import run_training

    return run_training(args)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from mphunter_gate.training import run_evaluation

    return run_evaluation(args)


COMMANDS = {
    "check": _cmd_check,
    "install": _cmd_install,
    "scan": _cmd_scan,
    "batch": _cmd_batch,
    "corpus": _cmd_corpus,
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "advisories": _cmd_advisories,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="mphunter-gate: %(message)s"
    )
    # urllib3 warns once per retry ("Retrying (...) after connection broken"); the
    # failure that matters reaches the user as one error line, so its retries show
    # only with -v.
    logging.getLogger("urllib3").setLevel(logging.INFO if args.verbose else logging.ERROR)
    try:
        return COMMANDS[args.command](args)
    except GateError as exc:
        print(f"mphunter-gate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mphunter-gate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
