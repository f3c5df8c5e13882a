"""The select stage: which files of a package to read, and at which stage each runs.

A package's payload can sit in any file pip installs. This stage lists
them from a `Tree` (never running anything) and labels each with when it
runs: `install` (setup.py, build backends), `startup` (`.pth`), `import`
(the import closure of the top-level packages), `entry-point` (console
scripts and plugin targets) or `call` (the rest).
"""

from mphunter_gate.select.files import SELECTION_VERSION, select

__all__ = ["SELECTION_VERSION", "select"]
