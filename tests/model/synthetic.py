"""Synthetic token lists shaped like setup.py sequences; nothing from any corpus.

Benign documents draw from packaging and metadata APIs; malicious ones
mix a few of those with process, network and decoding APIs. Families are
explicit so split properties can be checked.
"""

from __future__ import annotations

import random

from mphunter_gate.model import BENIGN, MALICIOUS, TrainingDoc, TrainParams
from mphunter_gate.model.behaviour import token_analysis
from mphunter_gate.types import ScriptAnalysis

BENIGN_APIS = [
    "path.join",
    "path.dirname",
    "path.abspath",
    "io.open",
    "codecs.open",
    "re.search",
    "re.compile",
    "setuptools.find_packages",
    "os.environ.get",
    "sys.version_info",
    "platform.system",
    "glob.glob",
    "Extension.__init__",
    "build_ext.run",
    "json.load",
    "pathlib.Path",
    "Path.read_text",
    "version.parse",
    "numpy.get_include",
    "str.strip",
]
MALICIOUS_APIS = [
    "base64.b64decode",
    "os.system",
    "subprocess.Popen",
    "request.urlopen",
    "requests.get",
    "builtins.exec",
    "builtins.eval",
    "socket.socket",
    "os.getenv",
    "shutil.copy",
    "zlib.decompress",
    "install.run",
    "os.remove",
    "tempfile.gettempdir",
    "platform.node",
]


def _template(rng: random.Random, pool: list[str], length: int) -> list[str]:
    return [rng.choice(pool) for _ in range(length)]


def _vary(rng: random.Random, base: list[str], pool: list[str], changes: int) -> tuple[str, ...]:
    toks = list(base)
    for _ in range(changes):
        toks[rng.randrange(len(toks))] = rng.choice(pool)
    return tuple(toks)


def make_corpus(seed: int = 7, n_benign_pkgs: int = 150, n_mal_families: int = 12):
    """Benign packages follow a few setup.py "styles"; each malware family is
    one payload pattern with small per-copy variations. The first half of the
    families were added before the default temporal cut (2024-07-01), the rest after."""
    rng = random.Random(seed)
    styles = [_template(rng, BENIGN_APIS, rng.randint(6, 12)) for _ in range(5)]
    benign = []
    for p in range(n_benign_pkgs):
        toks = _vary(rng, rng.choice(styles), BENIGN_APIS, rng.randint(0, 2))
        benign.append(TrainingDoc(f"b{p}-1.0/setup.py", toks, f"pkg:b{p}", BENIGN))
    malicious = []
    for f in range(n_mal_families):
        payload = _template(rng, MALICIOUS_APIS, rng.randint(5, 10))
        payload[rng.randrange(len(payload))] = rng.choice(BENIGN_APIS)
        for k in range(rng.randint(1, 5)):
            toks = _vary(rng, payload, MALICIOUS_APIS, rng.randint(0, 1))
            added = "2024-03-01T00:00:00Z" if f < n_mal_families // 2 else "2024-08-01T00:00:00Z"
            malicious.append(
                TrainingDoc(f"m{f}_{k}/setup.py", toks, f"fam{f}", MALICIOUS, added=added)
            )
    return benign, malicious


FAST = TrainParams(
    vector_size=16,
    epochs=100,
    apiem_vector_size=8,
    apiem_epochs=30,
    apiem_bucket=500,
    min_samples=3,
    calibration_fraction=0.3,
    validation_fraction=0.3,
    combiner_min_leaf=3,
    combiner_iterations=100,
)


def analysed(path: str, tokens: list[str] | tuple[str, ...]) -> ScriptAnalysis:
    """A token-only analysis for hand-built token lists (see behaviour.token_analysis)."""
    return token_analysis(path, tuple(tokens))
