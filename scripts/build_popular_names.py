"""Build mphunter_gate/data/popular_names.tsv: the names look-alike checks compare with.

Reads the env entry's `packages/pypi.tsv` (columns: name, version, month,
rank_among_15000_most_downloaded, summary), keeps every ranked project with
its PEP 503 name and rank, and writes them most downloaded first under a
header that records where they came from (the source's sha256 and row
count), so the data file can be reviewed and diffed like code.

    python scripts/build_popular_names.py /work/.library/env/packages/pypi.tsv

It reads a list of names only; nothing is fetched or installed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "mphunter_gate" / "data" / "popular_names.tsv"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="packages/pypi.tsv of the env entry")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = args.source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    csv.field_size_limit(sys.maxsize)
    rows = csv.reader(data.decode("utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(rows)
    column = header.index("rank_among_15000_most_downloaded")
    ranked: dict[str, int] = {}
    total = 0
    months: set[str] = set()
    for row in rows:
        total += 1
        if len(row) <= column or not row[column].strip():
            continue
        name, rank = canonical(row[0]), int(row[column])
        if row[2]:
            months.add(row[2])
        if name not in ranked or rank < ranked[name]:
            ranked[name] = rank
    lines = [
        "# Most downloaded PyPI projects, for look-alike name checks",
        "# (mphunter_gate/policy/lookalike.py).",
        "# Columns: name (PEP 503 normalised), download rank (1 = most downloaded).",
        f"# Source: the env entry's packages/pypi.tsv ({total} rows,",
        f"# sha256 {digest}),",
        f"# its column rank_among_15000_most_downloaded: {len(ranked)} ranked names; newest",
        f"# release month in the list {max(months) if months else 'unknown'}.",
        "# Regenerate with: python scripts/build_popular_names.py <path to packages/pypi.tsv>",
    ]
    lines += [f"{n}\t{r}" for n, r in sorted(ranked.items(), key=lambda nr: (nr[1], nr[0]))]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(ranked)} names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
