"""CFG walks: DFS vs BFS order, branch order by APIEM priority, unreachable code."""

from __future__ import annotations

from tests.analysis.analysis_support import apis, run

BRANCHES = """
import os, socket
if cond:
    socket.socket()
    os.getpid()
else:
    os.remove('x')
os.getcwd()
"""

SWAPPED = """
import os, socket
if not cond:
    os.remove('x')
else:
    socket.socket()
    os.getpid()
os.getcwd()
"""


def test_dfs_follows_a_branch_to_the_join_before_the_other_branch() -> None:
    a = run(BRANCHES)
    assert apis(a, 0) == ["socket.socket", "os.getpid", "os.getcwd", "os.remove"]


def test_bfs_visits_both_branches_before_the_join() -> None:
    a = run(BRANCHES)
    assert apis(a, 1) == ["socket.socket", "os.getpid", "os.remove", "os.getcwd"]


def test_without_priority_source_order_decides() -> None:
    assert apis(run(BRANCHES), 0) != apis(run(SWAPPED), 0)


def test_priority_makes_swapped_branches_equal() -> None:
    ranks = {"os.remove": 3.0, "socket.socket": 2.0}

    def prio(api: str) -> float:
        return ranks.get(api, 0.0)

    a, b = run(BRANCHES, priority=prio), run(SWAPPED, priority=prio)
    assert apis(a, 0) == apis(b, 0) == ["os.remove", "os.getcwd", "socket.socket", "os.getpid"]
    assert apis(a, 1) == apis(b, 1)


def test_loops_try_with_and_match_are_walked() -> None:
    src = """
    import os, shutil
    for f in os.listdir('.'):
        shutil.copy(f, 'x')
    while os.path.exists('y'):
        break
    try:
        os.chmod('z', 0o777)
    except OSError:
        os.unlink('z')
    finally:
        os.sync()
    with open('f') as fh:
        fh.write('x')
    match x:
        case 1:
            os.kill(1, 9)
    """
    assert apis(run(src), 0) == [
        "os.listdir",
        "shutil.copy",
        "os.path.exists",
        "os.chmod",
        "os.sync",
        "open",
        "write",
        "os.kill",
        "os.unlink",
    ]


def test_code_after_return_is_unreachable() -> None:
    src = """
    import os
    def f():
        return 1
        os.system('never')
    f()
    """
    assert apis(run(src)) == []


def test_class_body_runs_at_definition() -> None:
    src = """
    import os
    class Config:
        home = os.path.expanduser('~')
    """
    assert apis(run(src)) == ["os.path.expanduser"]
