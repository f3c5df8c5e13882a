"""Work sources: names files (with file:line errors) and the PEP 691 change feed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mphunter_gate.batch.work import WorkItem, changed_since, from_names_file, tree_digest
from mphunter_gate.errors import InputError, PackageIndexError
from tests.policy.conftest import JSON_TYPE, Served


def test_names_file(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("# new uploads\nRequests\n\nfoo.bar==1.0  # pinned\n")
    assert list(from_names_file(names)) == [
        WorkItem("project", "requests"),
        WorkItem("project", "foo-bar", "1.0"),
    ]


def test_names_file_bad_line_names_file_and_line(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("ok\nnot a name!\n")
    with pytest.raises(InputError, match=r"names.txt:2: "):
        list(from_names_file(names))


def _project_list(served: Served, serials: dict[str, int]) -> None:
    doc = {
        "meta": {"api-version": "1.1", "_last-serial": max(serials.values())},
        "projects": [{"name": n, "_last-serial": s} for n, s in serials.items()],
    }
    served.add("/simple/", json.dumps(doc).encode(), JSON_TYPE)


def test_change_feed(served: Served) -> None:
    _project_list(served, {"Old-Pkg": 3, "new_pkg": 7, "newer": 12})
    changes = changed_since(served.simple, 5)
    assert [i.target for i in changes.items] == ["new-pkg", "newer"]
    assert changes.serial == 12
    assert changed_since(served.simple, 12).items == ()


def test_index_without_serials_has_no_feed(served: Served) -> None:
    served.add("/simple/", json.dumps({"projects": [{"name": "a"}]}).encode(), JSON_TYPE)
    with pytest.raises(PackageIndexError, match="_last-serial"):
        changed_since(served.simple, 0)


def test_folder_key_follows_its_content(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "setup.py").write_text("print(1)\n")
    first = tree_digest(tmp_path / "pkg")
    assert tree_digest(tmp_path / "pkg") == first
    (tmp_path / "pkg" / "setup.py").write_text("print(2)\n")
    assert tree_digest(tmp_path / "pkg") != first
