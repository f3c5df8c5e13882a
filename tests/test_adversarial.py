"""The adversarial suite's shape, not the gate's verdicts on it.

Detection is measured by `bench/adversarial.py`, because the models are retrained and a
test pinned to today's verdicts would only be edited along with them. What can be
checked without the models is that the suite measures what it says: enough cases per
technique, each twin really differs from its payload, the file to name exists, every
Python text parses (read by `ast`, never run), no address outside the documentation
ranges and example domains, and the archives can be written.
"""

from __future__ import annotations

import ast
import base64
import codecs
import ipaddress
import lzma
import re
import string
import tarfile
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import pytest

from tests.adversarial.cases import (
    CASES,
    PAYLOADS,
    SNIPPETS,
    Case,
    materialise,
    package_name,
)

DOC_NETS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
DOC_DOMAIN = re.compile(r"(^|\.)(example\.(com|net|org)|[a-z0-9-]+\.invalid|invalid)$")
URL_HOST = re.compile(r"[a-z][a-z0-9+.-]*://([^/\s\"'?#:|]+)", re.I)
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def _texts(case: Case) -> list[tuple[str, str]]:
    return [
        (f"{case.name}/{twin}/{path}", text)
        for twin, files in (("bad", case.bad), ("good", case.good))
        for path, text in files.items()
    ]


def _all_texts() -> list[tuple[str, str]]:
    return [t for c in CASES for t in _texts(c)] + [
        (f"snippet {k}", v) for k, v in SNIPPETS.items()
    ]


def _address_problems(label: str, text: str, urls: bool = True) -> list[str]:
    bad = []
    for ip in IPV4.findall(text):
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            continue  # not an address (e.g. a version such as 1.2.300.4)
        if not any(addr in net for net in DOC_NETS):
            bad.append(f"{label}: address {ip}")
    for host in URL_HOST.findall(text) if urls else ():
        host = host.lower().rsplit("@", 1)[-1]
        if IPV4.fullmatch(host):
            continue  # judged above
        if not DOC_DOMAIN.search(host):
            bad.append(f"{label}: host {host}")
    return bad


def test_there_are_at_least_60_cases_with_unique_names() -> None:
    names = [c.name for c in CASES]
    assert sum(c.technique != "control" for c in CASES) >= 60
    assert [n for n, k in Counter(names).items() if k > 1] == []


def test_every_technique_has_at_least_three_cases() -> None:
    counts = Counter(c.technique for c in CASES)
    assert {t: n for t, n in counts.items() if n < 3} == {}
    expected = {"decoder", "indirection", "location", "splitting", "padding", "guard", "stage"}
    expected.add("control")  # every payload plain, the baseline of the techniques
    assert set(counts) == expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_twin_differs_and_keeps_the_layout(case: Case) -> None:
    assert case.kind in ("wheel", "sdist")
    assert case.bad != case.good
    assert set(case.bad) == set(case.good), "the twin keeps the same files"
    assert case.where in case.bad
    if case.technique != "splitting":
        # A split payload may sit in a file identical to its twin's (the sink), the
        # difference being in the module it imports; elsewhere the named file differs.
        assert case.bad[case.where] != case.good[case.where], "the named file carries it"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_python_text_parses(case: Case) -> None:
    for label, text in _texts(case):
        if label.endswith(".py"):
            ast.parse(text, filename=label)
        elif label.endswith(".pth"):
            for line in text.splitlines():
                if line.startswith(("import ", "import\t")):
                    ast.parse(line, filename=label)


def test_every_payload_has_a_control() -> None:
    controls = {c.bad["demo/__init__.py"] for c in CASES if c.technique == "control"}
    assert controls == {s + "\n\n_run()\n" for s in PAYLOADS.values()}


def test_plain_snippets_parse() -> None:
    for key, text in SNIPPETS.items():
        ast.parse(text, filename=key)


def test_no_address_outside_documentation_ranges_and_example_domains() -> None:
    """Decoder cases' files hold their URLs encoded (rot13 spells `qvfpbeq.vainyvq`), so
    their hosts are checked in the plain snippets they encode; IPs are checked everywhere."""
    problems = [
        p
        for c in CASES
        for label, text in _texts(c)
        for p in _address_problems(label, text, urls=c.technique != "decoder")
    ]
    problems += [p for k, v in SNIPPETS.items() for p in _address_problems(f"snippet {k}", v)]
    assert problems == []


def test_the_address_check_would_catch_a_real_address() -> None:
    """The check above passes vacuously if its regexes match nothing: prove they bite."""
    assert _address_problems("x", "urlopen('http://8.8.8.8/x')")
    assert _address_problems("x", "urlopen('https://pypi.org/simple')")
    assert _address_problems("x", "connect(('10.0.0.1', 4444))")
    assert not _address_problems("x", "urlopen('http://203.0.113.7/c')")
    assert not _address_problems("x", "urlopen('https://discord.invalid/api/webhooks/1/x')")
    assert not _address_problems("x", "urlopen('https://updates.example.com/latest.json')")


def test_the_suite_uses_documentation_addresses_at_all() -> None:
    hits = sum(bool(IPV4.search(t) or URL_HOST.search(t)) for _, t in _all_texts())
    assert hits > 10


def test_every_archive_materialises(tmp_path: Path) -> None:
    seen = set()
    for case in CASES:
        for twin in ("bad", "good"):
            path = materialise(case, twin, tmp_path)
            assert path.name not in seen
            seen.add(path.name)
            if case.kind == "wheel":
                with zipfile.ZipFile(path) as zf:
                    names = set(zf.namelist())
                assert f"{package_name(case, twin)}-1.0.dist-info/METADATA" in names
                assert not any(n.startswith("demo-1.0.dist-info/") for n in names)
            else:
                with tarfile.open(path) as tf:
                    names = {m.name.split("/", 1)[1] for m in tf.getmembers()}
            assert case.where in names


def _longest_literal(text: str) -> object:
    """The case's blob: its longest literal value (a str, bytes, int or list), read by `ast`."""
    values: list[object] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Constant, ast.List)):
            try:
                values.append(ast.literal_eval(node))
            except ValueError:
                continue
    return max(values, key=lambda v: len(v) if isinstance(v, (str, bytes, list)) else len(str(v)))


def _b(v: object) -> bytes:
    assert isinstance(v, (str, bytes)), v
    return v.encode() if isinstance(v, str) else v


def _ints(v: object) -> list[int]:
    assert isinstance(v, list) and all(isinstance(n, int) for n in v), v
    return v


def _text(v: object) -> str:
    assert isinstance(v, str), v
    return v


def _int_bytes(v: object) -> str:
    assert isinstance(v, int)
    return v.to_bytes((v.bit_length() + 7) // 8, "big").decode()


_ALPHA = string.ascii_letters + string.digits
#: The decoding of each decoder case's blob, written here independently of cases.py and
#: applied to literals read by `ast`: a decoder case whose blob does not decode to its
#: payload would measure nothing. (marshal: a code object, checked by its strings.)
DECODE = {
    "base64-": lambda v: base64.b64decode(_b(v)).decode(),
    "base64-zlib-": lambda v: zlib.decompress(base64.b64decode(_b(v))).decode(),
    "base64-lzma-": lambda v: lzma.decompress(base64.b64decode(_b(v))).decode(),
    "base32-": lambda v: base64.b32decode(_b(v)).decode(),
    "base85-": lambda v: base64.b85decode(_b(v)).decode(),
    "fromhex-": lambda v: bytes.fromhex(_text(v)).decode(),
    "codecs-hex-": lambda v: bytes.fromhex(_text(v)).decode(),
    "bytes-list-": lambda v: bytes(_ints(v)).decode(),
    "xor-byte-": lambda v: bytes(c ^ 90 for c in _b(v)).decode(),
    "xor-key-": lambda v: bytes(c ^ b"k3y!"[i % 4] for i, c in enumerate(_b(v))).decode(),
    "maketrans-": lambda v: _text(v).translate(str.maketrans(_ALPHA[13:] + _ALPHA[:13], _ALPHA)),
    "reversed-": lambda v: _text(v)[::-1],
    "rot13-": lambda v: codecs.decode(_text(v), "rot13"),
    "chr-arith-": lambda v: "".join(chr(n - 7) for n in _ints(v)),
    "split-join-": lambda v: "".join(_text(x) for x in v) if isinstance(v, list) else "",
    "custom-arith-": lambda v: "".join(chr((n - 3 * i - 11) % 256) for i, n in enumerate(_ints(v))),
    "compile-bytes-": lambda v: _b(v).decode(),
    "int-to-bytes-": _int_bytes,
    "escaped-literal-": _text,
    "nested-layers-": lambda v: base64.b64decode(
        codecs.decode(zlib.decompress(base64.b64decode(_b(v))).decode(), "rot13")
    ).decode(),
}


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.technique == "decoder"], ids=lambda c: c.name
)
def test_every_decoder_blob_decodes_to_its_payload(case: Case) -> None:
    text = case.bad[case.where]
    if case.name.startswith("marshal-"):
        blob = _longest_literal(text)
        assert isinstance(blob, bytes)
        # Marshal keeps a code object's strings verbatim: no need to load it.
        assert b"http://203.0.113.10/collect" in blob and b"_run" in blob
        return
    prefix = max((p for p in DECODE if case.name.startswith(p)), key=len)
    decoded = DECODE[prefix](_longest_literal(text))
    assert decoded.endswith("\n_run()\n")
    assert decoded in {s + "\n\n_run()\n" for s in PAYLOADS.values()}
    assert decoded not in text, "the payload is hidden, not beside its encoding"
