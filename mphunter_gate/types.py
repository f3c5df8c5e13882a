"""The values that flow between stages.

Data moves one way: sources -> resolve -> index -> archive -> analysis ->
model -> gate -> report. Every arrow carries one of the frozen dataclasses
below, so a stage can be tested by building its input by hand and no stage
can reach back into an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Origin:
    """Where a dependency was declared: the manifest file and its 1-based line.

    Reports point annotations at this line; for a transitive dependency it is
    the line of the direct requirement that pulled it in.
    """

    file: str
    line: int


@dataclass(frozen=True)
class Dependency:
    """One requirement read from a dependency file, before resolution.

    `requirement` is a PEP 508 string (name, extras, specifier, marker).
    Lock files give exact pins (`name==version`) and, where they record
    them, the sha256 of the files they allow.
    """

    requirement: str
    origin: Origin
    hashes: frozenset[str] = frozenset()
    pinned: bool = False
    constraint: bool = False  # from a `-c` file: limits versions, never adds a package
    #: Extras whose `extra == "x"` markers hold for this line: a local project's own
    #: requirements, read from its metadata, with the extras `-e .[x]` asked for.
    extras: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LocalProject:
    """The user's own project named by a dependency file (`-e .`, `./lib[extra]`).

    It is the user's code, not a dependency: it gets a row saying so, and its
    requirements, read statically, are resolved and judged as their own rows.
    `complete` is False when they could not be read (declared dynamic): then the
    row is unscanned, since what it would install is unknown.
    """

    text: str
    origin: Origin
    name: str
    reason: str
    complete: bool = True


@dataclass(frozen=True)
class Unresolvable:
    """A declared dependency the gate cannot scan (a URL, a local path, an
    editable install). It is reported, never silently dropped."""

    text: str
    origin: Origin
    reason: str


class FileKind(str, Enum):
    SDIST = "sdist"
    WHEEL = "wheel"


@dataclass(frozen=True)
class DistFile:
    """A file of a release as the index lists it."""

    filename: str
    url: str
    sha256: str | None
    kind: FileKind
    size: int | None = None
    requires_python: str | None = None
    yanked: bool = False
    has_metadata: bool = False  # PEP 658: the index serves `<url>.metadata`
    metadata_sha256: str | None = None
    #: PEP 700 `upload-time` exactly as the index wrote it (ISO 8601), None when not given.
    upload_time: str | None = None
    #: PEP 592: the reason the index gave for yanking the file (None: none given).
    yanked_reason: str | None = None


@dataclass(frozen=True)
class Distribution:
    """A resolved, pinned distribution and the files the index offers for it.

    `origin` is the direct requirement that introduced it. `notes` records
    what resolution could not establish (e.g. dependencies left unresolved
    because an sdist declares them dynamically).
    """

    name: str
    version: str
    origin: Origin | None
    files: tuple[DistFile, ...]
    hashes: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()
    #: Every requirement that selected it pins it with `==` (no wildcard) or `===`:
    #: the one case in which pip installs a yanked release (PEP 592).
    exact: bool = False
    #: The version specifiers of every requirement that selected it, joined (`>=2,<3`):
    #: what a suggested older release must still satisfy.
    specifier: str = ""


@dataclass(frozen=True)
class Artifact:
    """Downloaded bytes of one distribution file, already hash-checked."""

    name: str
    version: str
    filename: str
    sha256: str
    kind: FileKind
    data: bytes = field(repr=False)


class ScriptKind(str, Enum):
    """Why a file runs without being asked to: at install or at import."""

    SETUP = "setup.py"
    INIT = "__init__.py"
    PTH = ".pth"
    BACKEND = "build-backend"
    MODULE = "module"


class Stage(str, Enum):
    """When a file of an installed package runs, earliest and least avoidable first.

    `install`: setup.py, build backends and what they import (runs on `pip
    install` of an sdist); `startup`: `.pth` files and top-level `sitecustomize`
    and `usercustomize` modules (every interpreter start); `import`: the import
    closure of the top-level packages and modules;
    `entry-point`: console scripts and plugin targets (when the command or the
    plugin host runs); `call`: any other file (when the victim's code calls it).
    """

    INSTALL = "install"
    STARTUP = "startup"
    IMPORT = "import"
    ENTRY_POINT = "entry-point"
    CALL = "call"


#: The stage a file of a kind runs at, where the selection does not say (training
#: scripts and local folders read before stages existed).
KIND_STAGE = {
    "setup.py": Stage.INSTALL,
    "build-backend": Stage.INSTALL,
    ".pth": Stage.STARTUP,
    "__init__.py": Stage.IMPORT,
    "module": Stage.IMPORT,
}


@dataclass(frozen=True)
class Script:
    """One file of a package, read as text and never run.

    `kind` is what the models see (they were trained on these five kinds);
    `stage` says when the file runs. A data file that code hands to `exec`
    is a Script too, its text the decoded bytes and `decoded_as` how.
    """

    path: str
    kind: ScriptKind
    text: str = field(repr=False)
    stage: Stage | None = None  # None: KIND_STAGE[kind]
    decoded_as: str | None = None

    def __post_init__(self) -> None:
        if self.stage is None:
            object.__setattr__(self, "stage", KIND_STAGE[self.kind.value])


@dataclass(frozen=True)
class ScriptSet:
    """The install-time files of one package.

    `source` is what the user named (a path for `scan`, a filename for
    `check`). An empty `scripts` with a `note` is a statement ("no
    install-time script"), not a failure.
    """

    name: str
    version: str
    source: str
    sha256: str | None
    scripts: tuple[Script, ...]
    note: str | None = None


@dataclass(frozen=True)
class ApiCall:
    """One API call in a canonical sequence, with where it came from.

    `api` is the fully resolved dotted name (`subprocess.Popen`); models see
    it shortened to its last `prefix_len` parts. `file`/`line` let a report
    point a reviewer at `setup.py:42`; calls found inside a statically
    decoded payload carry the line of the literal that held it.
    """

    api: str
    file: str
    line: int


@dataclass(frozen=True)
class Decoded:
    """A payload decoded statically from a string constant (never executed)."""

    file: str
    line: int
    method: str  # e.g. "base64", "hex", "zlib+base64", "chr-join", "chr-join+builtin-repr"
    preview: str  # the first characters of the decoded text, control chars stripped


@dataclass(frozen=True)
class Flow:
    """Data from a source (what a category of API returns) reaching a sink call.

    `source` is a behaviour category (`environment`, `network`, ...) or
    `<category>:all` for a whole mapping of secrets used whole (`dict(os.environ)`);
    `sink` is the category of the call that receives it, at `line`.
    """

    source: str
    sink: str
    file: str
    line: int


@dataclass(frozen=True)
class Indicator:
    """A string-indicator rule (data/indicators.toml) that fired on a script's text."""

    name: str
    file: str
    line: int
    excerpt: str  # the matching text, control characters stripped, cut short


class ParseMode(str, Enum):
    AST = "ast"
    TOKENS = "tokens"  # tolerant fallback when `ast` fails (py2 syntax, garbage)
    FAILED = "failed"
    #: Byte-identical to a file of the benign corpus (`model/known.py`): not analysed.
    KNOWN = "known"


@dataclass(frozen=True)
class ScriptAnalysis:
    """Canonical API-call sequences of one script.

    `sequences` are the DFS/BFS walks of the call graph and CFGs, each a
    tuple of ApiCall in order. A FAILED parse is an explicit result with an
    `error`, never an empty sequence that would look clean.
    """

    path: str
    kind: ScriptKind
    parse: ParseMode
    sequences: tuple[tuple[ApiCall, ...], ...]
    decoded: tuple[Decoded, ...] = ()
    error: str | None = None
    indicators: tuple[Indicator, ...] = ()
    #: A size cap or work budget cut the analysis (a walk, the token pass, the static
    #: evaluator, or the analysis of a decoded payload; for hostile input, the emergency
    #: time limit): the sequences are a prefix, or miss what was left undecoded.
    truncated: bool = False
    stage: Stage | None = None  # None: KIND_STAGE[kind]
    #: Source -> sink data flows found in the code (`analysis/flows.py`), one per pair.
    flows: tuple[Flow, ...] = ()

    def __post_init__(self) -> None:
        if self.stage is None:
            object.__setattr__(self, "stage", KIND_STAGE[self.kind.value])

    @property
    def calls(self) -> tuple[ApiCall, ...]:
        """Every distinct call site across the sequences, in first-seen order."""
        seen: dict[tuple[str, str, int], ApiCall] = {}
        for seq in self.sequences:
            for call in seq:
                seen.setdefault((call.api, call.file, call.line), call)
        return tuple(seen.values())


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    UNSCANNED = "unscanned"


class HitLevel(str, Enum):
    """What a policy hit does to its package's row: fail it, leave it unscanned, or warn."""

    FAIL = "fail"
    UNSCANNED = "unscanned"
    WARNING = "warning"


@dataclass(frozen=True)
class PolicyHit:
    """One fact known about a release before any analysis (`mphunter_gate/policy/`).

    `rule` is its kind (a SARIF rule id: `known-malware`, `release-age`,
    `yanked-release`, `lookalike-name`); `advisory` the advisory id of a
    `known-malware` hit, which is what an allowlist entry must name to pass it.
    `allowed_by` is set by the allowlist, never by the stage that found it.
    """

    rule: str
    level: HitLevel
    message: str
    advisory: str | None = None
    allowed_by: str | None = None

    @property
    def blocks(self) -> bool:
        """Whether it keeps its package from passing (a warning never does)."""
        return self.level is not HitLevel.WARNING and self.allowed_by is None


@dataclass(frozen=True)
class ScanResult:
    """The scan's own verdict on a row that policy hits changed: what the files said.

    Kept apart so that the allowlist can pass the scan's failure and still not
    pass an advisory, and reports can show both.
    """

    verdict: Verdict
    reason: str
    allowed_by: str | None = None


@dataclass(frozen=True)
class ScriptScore:
    """The model's judgement of one script.

    `score` is the calibrated risk in [0, 1] compared with the threshold.
    `outlierness` is the GLOSH outlier score against the benign index,
    `benign_distance` the distance to the nearest benign script, and
    `malicious_distance` the distance to the nearest known-malicious one
    (`nearest_malicious` names it). `score` combines those with what the
    script does (model/behaviour.py).
    """

    path: str
    score: float
    outlierness: float
    benign_distance: float
    malicious_distance: float
    nearest_malicious: str | None
    # The method's RScore alone (None when the script could not be embedded:
    # no API call, or none the model knows), and the behaviour categories
    # that fired (`process`, `network+process`, `decoded`, ...) for reports.
    rscore: float | None = None
    behaviours: tuple[str, ...] = ()


@dataclass(frozen=True)
class JudgedFile:
    """One distribution file a package's verdict covers.

    `installs_on` names the targets on which pip would install this very file
    (`py3.11`, `py3.12 win_amd64`); it is empty for the sdist judged for its
    own sake while wheels are what installs. `sha256` is the downloaded bytes'
    hash; `index_hash` says whether the index (or the dependency file) gave a
    hash that those bytes matched, since an unhashed download proves nothing
    about what pip will fetch later.
    """

    filename: str
    sha256: str | None
    kind: FileKind
    installs_on: tuple[str, ...]
    verdict: Verdict
    score: float | None
    reason: str
    index_hash: bool = True
    analyses: tuple[ScriptAnalysis, ...] = field(default=(), repr=False)
    scores: tuple[ScriptScore, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Finding:
    """The gate's result for one package: what a report row shows."""

    name: str
    version: str
    source: str
    verdict: Verdict
    score: float | None
    reason: str
    origin: Origin | None = None
    sha256: str | None = None
    analyses: tuple[ScriptAnalysis, ...] = ()
    scores: tuple[ScriptScore, ...] = ()
    # Policy (config.apply_allowlist): the allowlist entry's reason when one
    # turned a failing verdict into a pass, and notes such as an expired entry.
    allowed_by: str | None = None
    notes: tuple[str, ...] = ()
    # Known vulnerabilities (`--audit-vulns`), merged into the same report.
    vulnerabilities: tuple[Vulnerability, ...] = ()
    # Every file this verdict covers (`check`: the installer's pick on each target and
    # the sdist). `sha256` above is the first target's pick, the file `install` installs;
    # `analyses` and `scores` are those of the file that decided the verdict.
    files: tuple[JudgedFile, ...] = ()
    # Set for a release pip installs only into the isolated environment that builds
    # these releases' sdists (`[build-system] requires`, `setup_requires`).
    build_for: tuple[str, ...] = ()
    # What is known before analysis (advisories, release age, yanked, look-alike name).
    # With any hit, `scan` keeps the scan's own verdict and reason, and `verdict` and
    # `reason` above are those of the row (the worst of the scan and the blocking hits).
    policy: tuple[PolicyHit, ...] = ()
    scan: ScanResult | None = None


@dataclass(frozen=True)
class Vulnerability:
    """A known vulnerability of a pinned distribution (from pip-audit)."""

    id: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdvisoryData:
    """Which malware advisories a run matched against, and how old they were.

    `as_of` is when they were downloaded (`advisories update` records it) or,
    for a tree or zip given by hand, the newest record's `modified` time; None
    when neither is known. `age_days` is measured when the run started.
    """

    source: str
    records: int
    as_of: str | None
    basis: str  # "fetched" or "newest record"
    age_days: float | None
    stale_after_days: float = 7.0

    @property
    def stale(self) -> bool:
        """Older than the staleness limit, or of unknown age."""
        return self.age_days is None or self.age_days > self.stale_after_days


@dataclass(frozen=True)
class Report:
    """Everything a formatter needs; formatters only read it."""

    verdict: Verdict
    threshold: float
    model_version: str
    findings: tuple[Finding, ...]
    advisories: AdvisoryData | None = None
