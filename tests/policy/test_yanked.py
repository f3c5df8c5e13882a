"""Yanked releases: pip's rule, the yank reason, and how the index reports it."""

from __future__ import annotations

from mphunter_gate.fetch.index import Index
from mphunter_gate.policy.yanked import check
from mphunter_gate.types import DistFile, FileKind, HitLevel


def _f(name: str, yanked: bool = False, reason: str | None = None) -> DistFile:
    return DistFile(name, "u", None, FileKind.SDIST, yanked=yanked, yanked_reason=reason)


def test_pinned_exactly_a_yanked_release_is_a_warning_with_its_reason() -> None:
    hit = check([_f("demo-0.9.tar.gz", True, "broken build")], exact=True)
    assert hit is not None and hit.level is HitLevel.WARNING and hit.rule == "yanked-release"
    assert hit.message.startswith("release is yanked (reason: broken build)")


def test_otherwise_a_yanked_release_fails() -> None:
    hit = check([_f("demo-0.9.tar.gz", True)], exact=False)
    assert hit is not None and hit.level is HitLevel.FAIL and "no reason given" in hit.message
    mixed = check([_f("demo-1.0.tar.gz"), _f("demo-1.0-py3-none-any.whl", True, "x")], exact=False)
    assert mixed is not None and mixed.message.startswith("demo-1.0-py3-none-any.whl is yanked")


def test_a_release_that_is_not_yanked_has_no_hit() -> None:
    assert check([_f("demo-1.0.tar.gz")], exact=False) is None
    assert check([], exact=False) is None


def test_the_index_keeps_the_yank_reason_and_upload_time() -> None:
    files = Index._parse_json(
        {
            "files": [
                {
                    "filename": "demo-0.9.tar.gz",
                    "url": "demo-0.9.tar.gz",
                    "hashes": {},
                    "yanked": "broken build",
                    "upload-time": "2026-11-01T10:00:00.000000Z",
                },
                {
                    "filename": "demo-1.0.tar.gz",
                    "url": "demo-1.0.tar.gz",
                    "hashes": {},
                    "yanked": True,
                },
            ]
        },
        "http://127.0.0.1:1/simple/demo/",
    )
    assert files[0].yanked_reason == "broken build"
    assert files[0].upload_time == "2026-11-01T10:00:00.000000Z"
    assert files[1].yanked and files[1].yanked_reason is None and files[1].upload_time is None
    html = Index._parse_html(
        '<a href="demo-0.8.tar.gz" data-yanked="bad metadata">demo-0.8.tar.gz</a>',
        "http://127.0.0.1:1/simple/demo/",
    )
    assert html[0].yanked and html[0].yanked_reason == "bad metadata"
