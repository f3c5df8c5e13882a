"""What legitimate builds and packages do, as synthetic sdists and wheels.

Real projects run compilers and build tools from setup.py, ask git for their
version, download pinned prebuilt libraries with a checksum, phone home on
import unless told not to, send tokens to their own API, write a config under
~/.config and ship .pth startup hooks. Each of those looks, to a reader of API
calls, like something malware does too, so each is a place the gate can raise a
false positive. The fixtures below are written here in the style of such
projects (no third-party file is copied) and are only ever written into
archives as text and read by the gate: nothing in them is run, imported or
installed. Every URL is on an example domain (RFC 2606) so that nothing here
names a real host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import make_sdist, make_wheel

#: The dist-info folder a wheel fixture writes its entry points to; renamed to the
#: wheel's real one on writing, as tests/test_gate_stages.py does.
PLACEHOLDER_DIST_INFO = "demo-1.0.dist-info"
VERSION = "1.0"


@dataclass(frozen=True)
class Build:
    """One synthetic legitimate package: what it does (`pattern`) and its files."""

    name: str
    pattern: str
    kind: str  # "wheel" | "sdist"
    files: Mapping[str, str]


def materialise_build(build: Build, root: Path) -> Path:
    """Write `build` as an archive in its own folder under `root` and return its path.

    Only text goes into the archive (tests.conftest's writers); nothing is built.
    """
    folder = root / build.name
    folder.mkdir(parents=True, exist_ok=True)
    if build.kind == "wheel":
        dist_info = f"{build.name.replace('-', '_')}-{VERSION}.dist-info"
        files = {k.replace(PLACEHOLDER_DIST_INFO, dist_info): v for k, v in build.files.items()}
        return make_wheel(folder, build.name, VERSION, files)
    if build.kind == "sdist":
        return make_sdist(folder, build.name, VERSION, dict(build.files))
    raise ValueError(f"{build.name}: unknown kind {build.kind!r}")


def _pyproject(name: str, backend: str = "setuptools.build_meta", extra: str = "") -> str:
    return (
        "[build-system]\n"
        f'requires = ["setuptools>=61", "wheel"{extra}]\n'
        f'build-backend = "{backend}"\n\n'
        "[project]\n"
        f'name = "{name}"\n'
        'dynamic = ["version"]\n'
    )


def _readme(name: str, what: str) -> str:
    return f"# {name}\n\n{what}\n\nDocumentation: https://{name}.example.org/docs/\n"


# -- setup.py driving native build tools ----------------------------------------

CMAKE_SETUP = '''\
"""Build the pyvoxel extension with CMake (the C++ core lives in src/)."""
import os
import re
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PLAT_TO_CMAKE = {"win32": "Win32", "win-amd64": "x64", "win-arm64": "ARM64"}


class CMakeExtension(Extension):
    def __init__(self, name, sourcedir=""):
        super().__init__(name, sources=[])
        self.sourcedir = os.fspath(Path(sourcedir).resolve())


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        ext_fullpath = Path.cwd() / self.get_ext_fullpath(ext.name)
        extdir = ext_fullpath.parent.resolve()
        debug = int(os.environ.get("DEBUG", 0)) if self.debug is None else self.debug
        cfg = "Debug" if debug else "Release"
        cmake_args = [
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={extdir}{os.sep}",
            f"-DPYTHON_EXECUTABLE={sys.executable}",
            f"-DCMAKE_BUILD_TYPE={cfg}",
        ]
        build_args = []
        if "CMAKE_ARGS" in os.environ:
            cmake_args += [item for item in os.environ["CMAKE_ARGS"].split(" ") if item]
        if self.compiler.compiler_type == "msvc":
            cmake_args += ["-A", PLAT_TO_CMAKE[self.plat_name]]
            build_args += ["--config", cfg]
        if sys.platform.startswith("darwin"):
            archs = re.findall(r"-arch (\\S+)", os.environ.get("ARCHFLAGS", ""))
            if archs:
                cmake_args += ["-DCMAKE_OSX_ARCHITECTURES={}".format(";".join(archs))]
        if "CMAKE_BUILD_PARALLEL_LEVEL" not in os.environ and hasattr(self, "parallel"):
            if self.parallel:
                build_args += [f"-j{self.parallel}"]
        build_temp = Path(self.build_temp) / ext.name
        build_temp.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cmake", ext.sourcedir, *cmake_args], cwd=build_temp, check=True)
        subprocess.run(["cmake", "--build", ".", *build_args], cwd=build_temp, check=True)


setup(
    name="pyvoxel",
    version="1.0",
    packages=["pyvoxel"],
    ext_modules=[CMakeExtension("pyvoxel._core")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
    python_requires=">=3.8",
)
'''

MAKE_SETUP = '''\
"""setup.py for tinyfft: the C library is built by its own Makefile first."""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
LIBDIR = os.path.join(HERE, "csrc")


class BuildWithMake(build_py):
    """Run `make` in csrc/ and copy the shared library next to the package."""

    def run(self):
        make = os.environ.get("MAKE", "make")
        if shutil.which(make) is None:
            sys.exit("tinyfft needs GNU make to build its C library")
        jobs = str(os.cpu_count() or 1)
        subprocess.check_call([make, "-C", LIBDIR, "-j", jobs, "libtinyfft.so"])
        target = os.path.join(self.build_lib, "tinyfft")
        os.makedirs(target, exist_ok=True)
        shutil.copy2(os.path.join(LIBDIR, "libtinyfft.so"), target)
        super().run()


setup(
    name="tinyfft",
    version="1.0",
    packages=["tinyfft"],
    cmdclass={"build_py": BuildWithMake},
    package_data={"tinyfft": ["*.so"]},
)
'''

NINJA_SETUP = '''\
import os
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _ninja():
    try:
        out = subprocess.run(["ninja", "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return tuple(int(p) for p in out.stdout.strip().split(".")[:2])


class NinjaBuild(build_ext):
    """Generate build.ninja from the template and let ninja compile the kernels."""

    def build_extension(self, ext):
        if _ninja() is None or _ninja() < (1, 10):
            print("ninja >= 1.10 not found, falling back to the distutils compiler")
            return super().build_extension(ext)
        build_dir = os.path.abspath(self.build_temp)
        os.makedirs(build_dir, exist_ok=True)
        include = sysconfig.get_paths()["include"]
        with open("build.ninja.in") as fh:
            template = fh.read()
        out = self.get_ext_fullpath(ext.name)
        text = template.replace("@PYINCLUDE@", include).replace("@OUT@", out)
        with open(os.path.join(build_dir, "build.ninja"), "w") as fh:
            fh.write(text)
        subprocess.check_call(["ninja", "-C", build_dir, "-v"])


setup(
    name="raykern",
    version="1.0",
    packages=["raykern"],
    ext_modules=[Extension("raykern._kern", sources=["src/kern.c"])],
    cmdclass={"build_ext": NinjaBuild},
)
'''

MESON_SETUP = '''\
"""Legacy setup.py for people who cannot use meson-python yet: runs meson itself."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.extension import Extension


class MesonBuildExt(build_ext):
    def run(self):
        meson = shutil.which("meson")
        if meson is None:
            raise RuntimeError("meson is required: pip install meson ninja")
        builddir = os.path.join(self.build_temp, "meson")
        if not os.path.exists(os.path.join(builddir, "build.ninja")):
            subprocess.check_call(
                [meson, "setup", builddir, "--buildtype=release", "-Db_ndebug=if-release"]
            )
        subprocess.check_call([meson, "compile", "-C", builddir])
        for ext in self.extensions:
            built = os.path.join(builddir, os.path.basename(self.get_ext_filename(ext.name)))
            dest = self.get_ext_fullpath(ext.name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            self.copy_file(built, dest)


setup(
    name="geomesh",
    version="1.0",
    packages=["geomesh"],
    ext_modules=[Extension("geomesh._mesh", sources=[])],
    cmdclass={"build_ext": MesonBuildExt},
)
'''

PKGCONFIG_SETUP = '''\
import shlex
import subprocess
import sys

from setuptools import Extension, setup


def pkgconfig(*packages):
    """include_dirs, library_dirs and libraries of `packages` as pkg-config reports them."""
    flags = {"-I": "include_dirs", "-L": "library_dirs", "-l": "libraries"}
    config = {"include_dirs": [], "library_dirs": [], "libraries": []}
    try:
        out = subprocess.check_output(
            ["pkg-config", "--cflags", "--libs", *packages], universal_newlines=True
        )
    except (OSError, subprocess.CalledProcessError):
        sys.stderr.write("pkg-config failed for %s; using defaults\\n" % " ".join(packages))
        config["libraries"] = ["png", "z"]
        return config
    for token in shlex.split(out):
        key = flags.get(token[:2])
        if key:
            config[key].append(token[2:])
    return config


ext = Extension("pngquick._png", sources=["src/_png.c"], **pkgconfig("libpng", "zlib"))

setup(name="pngquick", version="1.0", packages=["pngquick"], ext_modules=[ext])
'''

GIT_DESCRIBE_SETUP = '''\
"""The version comes from the latest git tag; sdists carry it in PKG-INFO."""
import os
import re
import subprocess

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def git_version():
    try:
        out = subprocess.check_output(
            ["git", "describe", "--tags", "--dirty", "--always"],
            cwd=HERE,
            stderr=subprocess.DEVNULL,
        ).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.match(r"v?(\\d+\\.\\d+(?:\\.\\d+)?)(?:-(\\d+)-g([0-9a-f]+))?(-dirty)?", out)
    if not m:
        return None
    version = m.group(1)
    if m.group(2):
        version += ".post%s+g%s" % (m.group(2), m.group(3))
    if m.group(4):
        version += ".dirty"
    return version


def pkg_info_version():
    path = os.path.join(HERE, "PKG-INFO")
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    return "0.0.0"


setup(name="tagver", version=git_version() or pkg_info_version(), packages=["tagver"])
'''

GIT_REV_PARSE_SETUP = '''\
import os
import subprocess
from datetime import datetime, timezone

from setuptools import setup
from setuptools.command.build_py import build_py


def git(*args):
    try:
        return subprocess.check_output(["git", *args], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


class BuildPyWithInfo(build_py):
    """Record the commit and build date in buildinfo/_build.py for bug reports."""

    def run(self):
        super().run()
        commit = git("rev-parse", "HEAD") or "unknown"
        branch = git("rev-parse", "--abbrev-ref", "HEAD") or "unknown"
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        target = os.path.join(self.build_lib, "buildinfo", "_build.py")
        with open(target, "w") as fh:
            fh.write(f"COMMIT = {commit!r}\\nBRANCH = {branch!r}\\nBUILT = {stamp!r}\\n")


setup(
    name="buildinfo",
    version="1.0",
    packages=["buildinfo"],
    cmdclass={"build_py": BuildPyWithInfo},
)
'''

NVCC_SETUP = '''\
"""Builds the CUDA kernels when a CUDA toolkit is found, the CPU version otherwise."""
import glob
import os
import re
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def find_cuda_home():
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home is None:
        nvcc = shutil.which("nvcc")
        if nvcc is not None:
            home = os.path.dirname(os.path.dirname(nvcc))
        elif os.path.exists("/usr/local/cuda"):
            home = "/usr/local/cuda"
    return home


def cuda_version(cuda_home):
    nvcc = os.path.join(cuda_home, "bin", "nvcc")
    try:
        out = subprocess.check_output([nvcc, "--version"], universal_newlines=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"release (\\d+)\\.(\\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


class CudaBuild(build_ext):
    def build_extensions(self):
        self.compiler.src_extensions.append(".cu")
        default_compile = self.compiler._compile

        def _compile(obj, src, ext, cc_args, postargs, pp_opts):
            if src.endswith(".cu"):
                nvcc = os.path.join(CUDA_HOME, "bin", "nvcc")
                self.spawn([nvcc, "-c", src, "-o", obj, "-Xcompiler", "-fPIC", "-O3", *pp_opts])
            else:
                default_compile(obj, src, ext, cc_args, postargs, pp_opts)

        self.compiler._compile = _compile
        super().build_extensions()


CUDA_HOME = find_cuda_home()
VERSION = cuda_version(CUDA_HOME) if CUDA_HOME else None
if VERSION and VERSION >= (11, 0) and os.environ.get("SPARSEGRAD_CPU_ONLY") != "1":
    print("building with CUDA %d.%d from %s" % (VERSION + (CUDA_HOME,)))
    sources = glob.glob("csrc/*.cpp") + glob.glob("csrc/cuda/*.cu")
    ext = Extension(
        "sparsegrad._C",
        sources=sources,
        include_dirs=[os.path.join(CUDA_HOME, "include")],
        library_dirs=[os.path.join(CUDA_HOME, "lib64")],
        libraries=["cudart"],
        define_macros=[("WITH_CUDA", None)],
    )
else:
    print("CUDA not found: building the CPU-only extension")
    ext = Extension("sparsegrad._C", sources=glob.glob("csrc/*.cpp"))

setup(
    name="sparsegrad",
    version="1.0",
    packages=["sparsegrad"],
    ext_modules=[ext],
    cmdclass={"build_ext": CudaBuild},
)
'''

F2PY_SETUP = '''\
"""Compiles the Fortran solvers with f2py; needs gfortran (or FC pointing at another)."""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCES = ["src/lsode.f90", "src/dgesv_wrap.f90"]


class F2PyBuild(build_py):
    def run(self):
        fc = os.environ.get("FC", "gfortran")
        if shutil.which(fc) is None:
            raise SystemExit("odepack-lite needs a Fortran compiler (gfortran)")
        version = subprocess.run([fc, "--version"], capture_output=True, text=True).stdout
        print("using", version.splitlines()[0] if version else fc)
        out = os.path.join(self.build_lib, "odepack_lite")
        os.makedirs(out, exist_ok=True)
        cmd = [sys.executable, "-m", "numpy.f2py", "-c", "-m", "_solvers", *SOURCES]
        env = dict(os.environ, FC=fc)
        subprocess.check_call(cmd, cwd=out if os.path.isabs(out) else None, env=env)
        super().run()


setup(
    name="odepack-lite",
    version="1.0",
    packages=["odepack_lite"],
    cmdclass={"build_py": F2PyBuild},
    install_requires=["numpy"],
)
'''

SWIG_SETUP = '''\
import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


def check_swig():
    try:
        out = subprocess.check_output(["swig", "-version"], universal_newlines=True)
    except OSError:
        sys.exit("SWIG is required to build pygraphlib: https://swig.example.org/")
    for line in out.splitlines():
        if line.startswith("SWIG Version"):
            return line.split()[-1]
    return "unknown"


class BuildPyAfterExt(build_py):
    """SWIG writes graphlib.py while building the extension, so build it first."""

    def run(self):
        self.run_command("build_ext")
        super().run()


print("SWIG", check_swig())
graph = Extension(
    "pygraphlib._graphlib",
    sources=["swig/graphlib.i", "src/graph.cpp", "src/search.cpp"],
    swig_opts=["-c++", "-py3", "-Isrc", "-outdir", "pygraphlib"],
    include_dirs=["src"],
    extra_compile_args=["-std=c++14"] if os.name != "nt" else [],
)

setup(
    name="pygraphlib",
    version="1.0",
    packages=["pygraphlib"],
    ext_modules=[graph],
    cmdclass={"build_py": BuildPyAfterExt},
)
'''

CYTHON_SETUP = """\
import os

from setuptools import Extension, find_packages, setup

try:
    from Cython.Build import cythonize
except ImportError:
    cythonize = None

USE_CYTHON = cythonize is not None and os.environ.get("FASTSTATS_NO_CYTHON") != "1"
suffix = ".pyx" if USE_CYTHON else ".c"

extensions = [
    Extension("faststats._moments", ["faststats/_moments" + suffix]),
    Extension("faststats._rolling", ["faststats/_rolling" + suffix]),
]

if USE_CYTHON:
    extensions = cythonize(
        extensions,
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
        annotate=bool(os.environ.get("FASTSTATS_ANNOTATE")),
    )

setup(
    name="faststats",
    version="1.0",
    packages=find_packages(exclude=["tests"]),
    ext_modules=extensions,
    python_requires=">=3.8",
)
"""

NUMPY_DISTUTILS_SETUP = '''\
#!/usr/bin/env python
"""numpy.distutils build of the spline routines (Fortran and C)."""


def configuration(parent_package="", top_path=None):
    from numpy.distutils.misc_util import Configuration
    from numpy.distutils.system_info import get_info

    config = Configuration(None, parent_package, top_path)
    config.set_options(
        ignore_setup_xxx_py=True,
        assume_default_configuration=True,
        delegate_options_to_subpackages=True,
        quiet=True,
    )
    lapack = get_info("lapack_opt", 0)
    config.add_subpackage("splinekit")
    config.add_library("fitpack_core", sources=["splinekit/src/*.f"])
    config.add_extension(
        "splinekit._fitpack",
        sources=["splinekit/src/_fitpackmodule.c"],
        libraries=["fitpack_core"],
        extra_info=lapack,
    )
    config.add_data_files(("splinekit", "LICENSE.txt"))
    return config


if __name__ == "__main__":
    from numpy.distutils.core import setup

    setup(
        name="splinekit",
        version="1.0",
        configuration=configuration,
        install_requires=["numpy<1.26"],
    )
'''

PREBUILT_DOWNLOAD_SETUP = '''\
"""Fetch the pinned prebuilt libsodium-compatible archive unless one is installed."""
import hashlib
import os
import platform
import shutil
import tarfile
import urllib.request

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

LIB_VERSION = "1.0.19"
BASE = "https://downloads.cryptobox.example.org/prebuilt"
SHA256 = {
    "linux-x86_64": "5f1d2c7b3a9e0c4d8b6a2f1e0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170",
    "linux-aarch64": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "darwin-arm64": "9f8e7d6c5b4a39281706f5e4d3c2b1a0918273645f4e3d2c1b0a998877665544",
}


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_prebuilt(dest):
    key = "%s-%s" % (platform.system().lower(), platform.machine().lower())
    if key not in SHA256:
        raise RuntimeError("no prebuilt library for %s; set CRYPTOBOX_LIBDIR" % key)
    name = "libcryptobox-%s-%s.tar.gz" % (LIB_VERSION, key)
    archive = os.path.join(dest, name)
    if not os.path.exists(archive):
        os.makedirs(dest, exist_ok=True)
        with urllib.request.urlopen("%s/%s/%s" % (BASE, LIB_VERSION, name), timeout=60) as r:
            with open(archive + ".part", "wb") as out:
                shutil.copyfileobj(r, out)
        os.replace(archive + ".part", archive)
    got = _sha256(archive)
    if got != SHA256[key]:
        os.remove(archive)
        raise RuntimeError("checksum mismatch for %s: %s" % (name, got))
    with tarfile.open(archive) as tf:
        tf.extractall(dest, filter="data")
    return os.path.join(dest, "libcryptobox-" + LIB_VERSION)


class BuildExt(build_ext):
    def run(self):
        libdir = os.environ.get("CRYPTOBOX_LIBDIR")
        if not libdir:
            libdir = fetch_prebuilt(os.path.join(self.build_temp, "prebuilt"))
        for ext in self.extensions:
            ext.include_dirs.append(os.path.join(libdir, "include"))
            ext.library_dirs.append(os.path.join(libdir, "lib"))
        super().run()


setup(
    name="cryptobox",
    version="1.0",
    packages=["cryptobox"],
    ext_modules=[Extension("cryptobox._box", ["src/_box.c"], libraries=["cryptobox"])],
    cmdclass={"build_ext": BuildExt},
)
'''

DATASET_MODULE = '''\
"""Example datasets, downloaded on first use into the user cache and checked by sha256."""
from __future__ import annotations

import csv
import hashlib
import os
import urllib.request
from pathlib import Path

BASE_URL = "https://data.quakecat.example.org/v2/"
REGISTRY = {
    "usgs-2020.csv": "3b7d8e0f5c1a2b9d4e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5",
    "stations.csv": "aa0c5e2d6b4f1e3a7c9d8b0f2e4a6c8d0b2f4e6a8c0d2b4f6e8a0c2d4b6f8e0a",
}


def cache_dir() -> Path:
    root = os.environ.get("QUAKECAT_DATA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "quakecat"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch(name: str) -> Path:
    """Path of dataset `name`, downloading it the first time."""
    if name not in REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}")
    target = cache_dir() / name
    if not target.exists():
        tmp = target.with_suffix(".part")
        with urllib.request.urlopen(BASE_URL + name, timeout=30) as response:
            tmp.write_bytes(response.read())
        tmp.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if digest != REGISTRY[name]:
        target.unlink()
        raise OSError(f"{name}: sha256 {digest} does not match the registry")
    return target


def load_events(name: str = "usgs-2020.csv") -> list[dict[str, str]]:
    with fetch(name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
'''

TELEMETRY_MODULE = '''\
"""Anonymous usage statistics, documented at https://skyplot.example.org/privacy.

Sent once per process on import: the skyplot and Python versions and the OS name,
nothing else. Off with SKYPLOT_NO_TELEMETRY=1 or DO_NOT_TRACK=1, and always off in CI.
"""
import json
import os
import platform
import threading
import urllib.request
import uuid

ENDPOINT = "https://telemetry.skyplot.example.org/v1/events"
_OPT_OUT = ("SKYPLOT_NO_TELEMETRY", "DO_NOT_TRACK", "CI")


def enabled():
    return not any(os.environ.get(var, "").lower() in ("1", "true", "yes") for var in _OPT_OUT)


def _post(payload):
    request = urllib.request.Request(
        ENDPOINT,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "skyplot-telemetry"},
        method="POST",
    )
    try:
        urllib.request.urlopen(request, timeout=2).close()
    except OSError:
        pass  # telemetry must never break an import


def report_import(version):
    if not enabled():
        return
    payload = {
        "event": "import",
        "session": uuid.uuid4().hex,
        "skyplot": version,
        "python": platform.python_version(),
        "os": platform.system(),
    }
    threading.Thread(target=_post, args=(payload,), daemon=True).start()
'''

TELEMETRY_INIT = '''\
"""skyplot: sky charts for amateur astronomers."""
__version__ = "1.0"

from ._telemetry import report_import as _report_import
from .charts import Chart, plot_constellation

_report_import(__version__)

__all__ = ["Chart", "plot_constellation", "__version__"]
'''

CHARTS_MODULE = """\
from dataclasses import dataclass, field


@dataclass
class Chart:
    title: str
    stars: list = field(default_factory=list)

    def add(self, name, ra, dec, magnitude):
        self.stars.append((name, ra, dec, magnitude))
        return self


def plot_constellation(name, stars):
    chart = Chart(title=name)
    for star in stars:
        chart.add(*star)
    return chart
"""

POST_INSTALL_SETUP = '''\
from setuptools import setup
from setuptools.command.develop import develop
from setuptools.command.install import install

MESSAGE = """
  Thanks for installing lintkit!

  Run `lintkit init` in your project to write a starter .lintkit.toml,
  and see https://lintkit.example.org/docs/quickstart for the rules.
"""


class PostInstall(install):
    def run(self):
        install.run(self)
        print(MESSAGE)


class PostDevelop(develop):
    def run(self):
        develop.run(self)
        print(MESSAGE)


with open("README.md", encoding="utf-8") as fh:
    long_description = fh.read()

setup(
    name="lintkit",
    version="1.0",
    description="A small, configurable linter",
    long_description=long_description,
    long_description_content_type="text/markdown",
    packages=["lintkit"],
    cmdclass={"install": PostInstall, "develop": PostDevelop},
    entry_points={"console_scripts": ["lintkit=lintkit.cli:main"]},
)
'''

LAZY_INIT = '''\
"""astrotab: tables for astronomy. Submodules are imported on first attribute access
(PEP 562) so that `import astrotab` stays fast."""
import importlib
from typing import TYPE_CHECKING

__version__ = "1.0"

_SUBMODULES = {"io", "coordinates", "units", "time", "visualization"}
_ATTRS = {"Table": "astrotab.table", "Column": "astrotab.table", "Quantity": "astrotab.units"}

if TYPE_CHECKING:
    from . import coordinates, io, time, units, visualization
    from .table import Column, Table
    from .units import Quantity


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    if name in _ATTRS:
        value = getattr(importlib.import_module(_ATTRS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_ATTRS))
'''

TABLE_MODULE = """\
class Column(list):
    def __init__(self, name, data=(), unit=None):
        super().__init__(data)
        self.name = name
        self.unit = unit


class Table:
    def __init__(self, columns=()):
        self.columns = {c.name: c for c in columns}

    def __getitem__(self, name):
        return self.columns[name]

    def __len__(self):
        return max((len(c) for c in self.columns.values()), default=0)
"""

VERSIONEER_VERSION = '''\
# This file helps to compute a version number in source trees obtained from
# git-archive tarball (such as those provided by GitHub's download-from-tag
# feature). Distribution tarballs contain a pre-generated copy of this file.
"""Git implementation of _version.py (versioneer style, written for hydrotools)."""

import errno
import os
import re
import subprocess
import sys


def get_keywords():
    git_refnames = "$Format:%d$"
    git_full = "$Format:%H$"
    git_date = "$Format:%ci$"
    return {"refnames": git_refnames, "full": git_full, "date": git_date}


class NotThisMethod(Exception):
    """Exception raised if a method is not valid for the current scenario."""


def run_command(commands, args, cwd=None, verbose=False, hide_stderr=False, env=None):
    """Call the given command(s)."""
    assert isinstance(commands, list)
    process = None
    for command in commands:
        try:
            process = subprocess.Popen(
                [command] + args,
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=(subprocess.PIPE if hide_stderr else None),
            )
            break
        except OSError:
            e = sys.exc_info()[1]
            if e.errno == errno.ENOENT:
                continue
            if verbose:
                print("unable to run %s" % command)
            return None, None
    else:
        if verbose:
            print("unable to find command, tried %s" % (commands,))
        return None, None
    stdout = process.communicate()[0].strip().decode()
    if process.returncode != 0:
        return None, process.returncode
    return stdout, process.returncode


def git_pieces_from_vcs(tag_prefix, root, verbose):
    GITS = ["git.cmd", "git.exe"] if sys.platform == "win32" else ["git"]
    env = os.environ.copy()
    env.pop("GIT_DIR", None)
    _, rc = run_command(GITS, ["rev-parse", "--git-dir"], cwd=root, hide_stderr=True, env=env)
    if rc != 0:
        raise NotThisMethod("'git rev-parse --git-dir' returned error")
    describe_out, rc = run_command(
        GITS,
        ["describe", "--tags", "--dirty", "--always", "--long",
         "--match", f"{tag_prefix}[[:digit:]]*"],
        cwd=root,
        env=env,
    )
    if describe_out is None:
        raise NotThisMethod("'git describe' failed")
    full_out, rc = run_command(GITS, ["rev-parse", "HEAD"], cwd=root, env=env)
    pieces = {"long": full_out, "short": full_out[:7], "error": None}
    pieces["dirty"] = describe_out.endswith("-dirty")
    git_describe = describe_out
    if pieces["dirty"]:
        git_describe = git_describe[: git_describe.rindex("-dirty")]
    mo = re.search(r"^(.+)-(\\d+)-g([0-9a-f]+)$", git_describe)
    if not mo:
        pieces["closest-tag"] = None
        pieces["distance"] = 0
        return pieces
    pieces["closest-tag"] = mo.group(1)[len(tag_prefix):]
    pieces["distance"] = int(mo.group(2))
    return pieces


def render(pieces):
    if pieces["closest-tag"]:
        rendered = pieces["closest-tag"]
        if pieces["distance"] or pieces["dirty"]:
            rendered += "+%d.g%s" % (pieces["distance"], pieces["short"])
            if pieces["dirty"]:
                rendered += ".dirty"
    else:
        rendered = "0+untagged.%d.g%s" % (pieces["distance"], pieces["short"])
    return rendered


def get_versions():
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    try:
        return {"version": render(git_pieces_from_vcs("v", root, False)), "error": None}
    except NotThisMethod:
        return {"version": "0+unknown", "error": "unable to compute version"}
'''

VERSIONEER_SETUP = '''\
import os
import sys

from setuptools import setup
from setuptools.command.sdist import sdist as _sdist

sys.path.insert(0, os.path.dirname(__file__))
import versioneer  # noqa: E402  (the project's own copy, beside setup.py)


class sdist(_sdist):
    """Freeze the computed version into the sdist's _version.py."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        target = os.path.join(base_dir, "hydrotools", "_version.py")
        versioneer.write_to_version_file(target, versioneer.get_versions())


cmdclass = versioneer.get_cmdclass()
cmdclass["sdist"] = sdist

setup(
    name="hydrotools",
    version=versioneer.get_version(),
    cmdclass=cmdclass,
    packages=["hydrotools"],
)
'''

VERSIONEER_HELPER = '''\
"""The build-time half of the version machinery: runs hydrotools/_version.py's logic."""
import json
import os

SHORT_VERSION_PY = """
# This file was generated by versioneer.py from revision-control system data.
import json

version_json = %r  # END VERSION_JSON


def get_versions():
    return json.loads(version_json)
"""


def _load_version_module():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "hydrotools", "_version.py")
    namespace = {"__file__": path}
    with open(path) as fh:
        exec(compile(fh.read(), path, "exec"), namespace)
    return namespace


def get_versions():
    return _load_version_module()["get_versions"]()


def get_version():
    return get_versions()["version"]


def write_to_version_file(filename, versions):
    os.unlink(filename)
    contents = json.dumps(versions, sort_keys=True, indent=1, separators=(",", ": "))
    with open(filename, "w") as fh:
        fh.write(SHORT_VERSION_PY % contents)


def get_cmdclass():
    return {}
'''

HYDRO_INIT = """\
from ._version import get_versions

__version__ = get_versions()["version"]
del get_versions
"""

EXEC_VERSION_SETUP = """\
import io
import os

from setuptools import find_packages, setup

here = os.path.abspath(os.path.dirname(__file__))

about = {}
with open(os.path.join(here, "mdtables", "__about__.py"), encoding="utf-8") as f:
    exec(f.read(), about)

with io.open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    long_description = "\\n" + f.read()

with open(os.path.join(here, "requirements.txt")) as f:
    install_requires = [line.strip() for line in f if line.strip() and not line.startswith("#")]

setup(
    name=about["__title__"],
    version=about["__version__"],
    description=about["__description__"],
    long_description=long_description,
    long_description_content_type="text/markdown",
    author=about["__author__"],
    author_email=about["__author_email__"],
    url=about["__url__"],
    license=about["__license__"],
    packages=find_packages(exclude=("tests",)),
    install_requires=install_requires,
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
    ],
)
"""

ABOUT = """\
__title__ = "mdtables"
__description__ = "Render Markdown tables from lists of dicts."
__url__ = "https://mdtables.example.org"
__version__ = "1.0"
__author__ = "Ada Example"
__author_email__ = "ada@example.org"
__license__ = "MIT"
"""

IN_TREE_BACKEND = '''\
"""In-tree build backend: setuptools, plus Cython only when building from a git checkout.

Released sdists ship the generated C files, so installing one never needs Cython;
building from a checkout does. pyproject.toml points `backend-path` at this folder.
"""
import os

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _from_checkout():
    return os.path.isdir(os.path.join(HERE, ".git"))


def get_requires_for_build_wheel(config_settings=None):
    extra = ["Cython>=3.0"] if _from_checkout() else []
    return _orig.get_requires_for_build_wheel(config_settings) + extra


def get_requires_for_build_editable(config_settings=None):
    extra = ["Cython>=3.0"] if _from_checkout() else []
    return _orig.get_requires_for_build_editable(config_settings) + extra


def build_sdist(sdist_directory, config_settings=None):
    os.environ.setdefault("PYRLE_CYTHONIZE", "1")
    return _orig.build_sdist(sdist_directory, config_settings)
'''

IN_TREE_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "backend"
backend-path = ["_custom_build"]

[project]
name = "pyrle"
version = "1.0"
requires-python = ">=3.9"
"""

IN_TREE_SETUP = """\
import os

from setuptools import Extension, setup

cythonize_now = os.environ.get("PYRLE_CYTHONIZE") == "1"
if cythonize_now:
    from Cython.Build import cythonize

    ext_modules = cythonize([Extension("pyrle._rle", ["pyrle/_rle.pyx"])])
else:
    ext_modules = [Extension("pyrle._rle", ["pyrle/_rle.c"])]

setup(ext_modules=ext_modules)
"""

PTH_PATH_ONLY = "./vendored_libs\n"

NSPKG_PTH = (
    "import sys, types, os;has_mfs = sys.version_info > (3, 5);"
    "p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('acmecorp',));"
    "importlib = has_mfs and __import__('importlib.util');"
    "has_mfs and __import__('importlib.machinery');"
    "m = has_mfs and sys.modules.setdefault('acmecorp', "
    "importlib.util.module_from_spec("
    "importlib.machinery.PathFinder.find_spec('acmecorp', [os.path.dirname(p)])));"
    "m = m or sys.modules.setdefault('acmecorp', types.ModuleType('acmecorp'));"
    "mp = (m or []) and m.__dict__.setdefault('__path__',[]);"
    "(p not in mp) and mp.append(p)\n"
)

COVERAGE_HOOK_PTH = "import covhook; covhook.process_startup()\n"

COVERAGE_HOOK_INIT = '''\
"""Measure coverage in subprocesses: a .pth file calls process_startup() at start-up.

It does nothing unless COVHOOK_PROCESS_START names a config file, so installing the
package costs one environment lookup per interpreter start.
"""
import atexit
import os

__version__ = "1.0"
_started = None


def process_startup():
    global _started
    config = os.environ.get("COVHOOK_PROCESS_START")
    if not config or _started is not None:
        return None
    from .tracer import Collector

    _started = Collector(config_file=config, data_suffix=True)
    _started.start()
    atexit.register(_started.stop_and_save)
    return _started
'''

COVERAGE_TRACER = """\
import os
import sys
import threading


class Collector:
    def __init__(self, config_file, data_suffix=False):
        self.config_file = config_file
        self.data_suffix = data_suffix
        self.lines = {}

    def _trace(self, frame, event, arg):
        if event == "line":
            self.lines.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
        return self._trace

    def start(self):
        sys.settrace(self._trace)
        threading.settrace(self._trace)

    def stop_and_save(self):
        sys.settrace(None)
        suffix = ".%s.%d" % (os.uname().nodename, os.getpid()) if self.data_suffix else ""
        path = os.path.join(os.path.dirname(self.config_file), ".covhook" + suffix)
        with open(path, "w") as fh:
            for filename, lines in sorted(self.lines.items()):
                fh.write("%s:%s\\n" % (filename, ",".join(map(str, sorted(lines)))))
"""

PRECEDENCE_PTH = (
    "import os; var = 'BUILDKIT_USE_VENDORED'; "
    "enabled = os.environ.get(var, 'yes') == 'yes'; "
    "enabled and __import__('_buildkit_shim').install()\n"
)

PRECEDENCE_SHIM = '''\
"""Make `import distutils` find buildkit's vendored copy (Python 3.12 removed the stdlib one)."""
import importlib
import importlib.abc
import sys


class _DistutilsFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "distutils" or path is not None:
            return None
        return importlib.util.find_spec("buildkit._distutils")


_FINDER = _DistutilsFinder()


def install():
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall():
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
'''

VENV_PTH = "import _vendenv\n"

VENV_HOOK = '''\
"""Patches applied on start-up inside environments created by vendenv.

Keeps distutils' install scheme pointing at the virtual environment instead of the
base interpreter, which setuptools would otherwise pick up from the system config.
"""
import os
import sys

VIRTUALENV_PATCH_FILE = os.path.join(__file__)


def patch_dist(dist):
    old_parse_config_files = dist.Distribution.parse_config_files

    def parse_config_files(self, *args, **kwargs):
        result = old_parse_config_files(self, *args, **kwargs)
        install = self.get_option_dict("install")
        if "prefix" in install:
            install["prefix"] = VIRTUALENV_PATCH_FILE, os.path.abspath(sys.prefix)
        for base in ("purelib", "platlib", "headers", "scripts", "data"):
            key = "install_{}".format(base)
            if key in install:
                install.pop(key, None)
        return result

    dist.Distribution.parse_config_files = parse_config_files


_DISTUTILS_PATCH = "distutils.dist", "setuptools.dist"


class _Finder:
    fullname = None
    lock = []

    def find_spec(self, fullname, path, target=None):
        if fullname in _DISTUTILS_PATCH and self.fullname is None:
            if len(self.lock) == 0:
                import threading

                self.lock.append(threading.Lock())
            from importlib.util import find_spec

            with self.lock[0]:
                self.fullname = fullname
                try:
                    spec = find_spec(fullname, path)
                    if spec is not None:
                        old = spec.loader.exec_module

                        def exec_module(module):
                            old(module)
                            patch_dist(module)

                        spec.loader.exec_module = exec_module
                        return spec
                finally:
                    self.fullname = None
        return None


sys.meta_path.insert(0, _Finder())
'''

PLUGIN_REGISTRY = '''\
"""Exporters are plugins: any installed distribution can add one under the
`reportgen.exporters` entry-point group."""
import sys
from functools import lru_cache

if sys.version_info >= (3, 10):
    from importlib.metadata import entry_points
else:
    from importlib_metadata import entry_points

GROUP = "reportgen.exporters"


@lru_cache(maxsize=None)
def available():
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def get_exporter(name):
    try:
        ep = available()[name]
    except KeyError:
        known = ", ".join(sorted(available())) or "none installed"
        raise LookupError(f"no exporter {name!r} (known: {known})") from None
    return ep.load()()
'''

PLUGIN_EXPORTERS = """\
import csv
import io
import json


class JSONExporter:
    suffix = ".json"

    def export(self, rows):
        return json.dumps(list(rows), indent=2, sort_keys=True)


class CSVExporter:
    suffix = ".csv"

    def export(self, rows):
        rows = list(rows)
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=sorted(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return buf.getvalue()
"""

PLUGIN_PYTEST = '''\
"""pytest plugin: `--report-json PATH` writes the session's outcomes with reportgen."""
import pytest

from .registry import get_exporter


def pytest_addoption(parser):
    group = parser.getgroup("reportgen")
    group.addoption("--report-json", metavar="PATH", default=None, help="write a JSON report")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("report_json")
    if not path:
        return
    rows = getattr(session.config, "_reportgen_rows", [])
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(get_exporter("json").export(rows))


def pytest_runtest_logreport(report):
    if report.when == "call":
        config = report.config if hasattr(report, "config") else None
        if config is not None:
            config.__dict__.setdefault("_reportgen_rows", []).append(
                {"test": report.nodeid, "outcome": report.outcome, "seconds": report.duration}
            )
'''

GIT_CLI = '''\
"""git-changelog: a changelog from the commits since the last tag."""
import argparse
import subprocess
import sys
from collections import defaultdict

KINDS = {"feat": "Features", "fix": "Bug fixes", "docs": "Documentation", "perf": "Performance"}


def git(*args, cwd=None):
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def last_tag(cwd=None):
    try:
        return git("describe", "--tags", "--abbrev=0", cwd=cwd).strip()
    except SystemExit:
        return None


def commits_since(tag, cwd=None):
    rev = f"{tag}..HEAD" if tag else "HEAD"
    out = git("log", rev, "--no-merges", "--format=%h%x09%s", cwd=cwd)
    for line in out.splitlines():
        sha, _, subject = line.partition("\\t")
        yield sha, subject


def render(commits):
    groups = defaultdict(list)
    for sha, subject in commits:
        kind, sep, rest = subject.partition(":")
        title = KINDS.get(kind.split("(")[0].strip(), "Other") if sep else "Other"
        groups[title].append(f"- {(rest or subject).strip()} ({sha})")
    return "\\n\\n".join(f"## {t}\\n" + "\\n".join(items) for t, items in groups.items())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="git-changelog")
    parser.add_argument("--since", help="tag to start from (default: the latest tag)")
    parser.add_argument("-C", dest="cwd", default=None, help="run in this repository")
    args = parser.parse_args(argv)
    tag = args.since or last_tag(args.cwd)
    sys.stdout.write(render(commits_since(tag, args.cwd)) + "\\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

API_CLIENT = '''\
"""Client for the Ledgerly REST API (https://api.ledgerly.example.com/v1).

The token is read from SERVICE_API_TOKEN unless one is passed in, and sent as a
bearer token to the API's own host only.
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import requests

DEFAULT_BASE_URL = "https://api.ledgerly.example.com/v1"


class LedgerlyError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class Client:
    def __init__(
        self, token: str | None = None, base_url: str = DEFAULT_BASE_URL, timeout: float = 30
    ) -> None:
        token = token or os.environ["SERVICE_API_TOKEN"]
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": "ledgerly-python/1.0",
            }
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise LedgerlyError(response.status_code, message)
        return response.json() if response.content else None

    def list_invoices(self, status: str = "open") -> Iterator[dict]:
        page = 1
        while True:
            data = self._request("GET", "/invoices", params={"status": status, "page": page})
            yield from data["items"]
            if not data.get("next_page"):
                return
            page = data["next_page"]

    def create_invoice(self, customer_id: str, lines: list[dict]) -> dict:
        return self._request("POST", "/invoices", json={"customer": customer_id, "lines": lines})

    def delete_invoice(self, invoice_id: str) -> None:
        self._request("DELETE", f"/invoices/{invoice_id}")
'''

KEYRING_CLI = '''\
"""vaultpush: upload build artifacts; the password lives in the system keyring."""
import argparse
import getpass
import sys

import keyring
import requests

SERVICE = "vaultpush"
DEFAULT_URL = "https://artifacts.example.com/upload"


def get_password(username, prompt=True):
    password = keyring.get_password(SERVICE, username)
    if password is None and prompt:
        password = getpass.getpass(f"Password for {username} at {SERVICE}: ")
        if password and input("Save it in the keyring? [y/N] ").lower().startswith("y"):
            keyring.set_password(SERVICE, username, password)
    return password


def upload(path, username, url=DEFAULT_URL):
    password = get_password(username)
    with open(path, "rb") as fh:
        response = requests.post(url, auth=(username, password), files={"file": fh}, timeout=120)
    response.raise_for_status()
    return response.json()["id"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="vaultpush")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload")
    up.add_argument("files", nargs="+")
    up.add_argument("-u", "--username", default=getpass.getuser())
    forget = sub.add_parser("forget", help="remove the saved password")
    forget.add_argument("-u", "--username", default=getpass.getuser())
    args = parser.parse_args(argv)
    if args.command == "forget":
        keyring.delete_password(SERVICE, args.username)
        return 0
    for path in args.files:
        print(path, "->", upload(path, args.username))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

CONFIG_WRITER = '''\
"""Settings for pomo, stored in $XDG_CONFIG_HOME/pomo/config.toml (~/.config/pomo)."""
from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

APP = "pomo"


def config_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / APP


@dataclass
class Settings:
    work_minutes: int = 25
    break_minutes: int = 5
    long_break_minutes: int = 15
    sound: bool = True

    @classmethod
    def load(cls) -> "Settings":
        path = config_dir() / "config.toml"
        if not path.exists():
            return cls()
        with path.open("rb") as fh:
            data = tomllib.load(fh).get("pomo", {})
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self) -> Path:
        folder = config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "config.toml"
        lines = ["[pomo]"]
        for key, value in asdict(self).items():
            lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\\n".join(lines) + "\\n", encoding="utf-8")
        os.replace(tmp, path)
        return path
'''

CONFIG_CLI = """\
import argparse

from .config import Settings, config_dir


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pomo")
    parser.add_argument("--init", action="store_true", help="write the default config")
    parser.add_argument("--work", type=int)
    args = parser.parse_args(argv)
    settings = Settings.load()
    if args.work:
        settings.work_minutes = args.work
    if args.init or args.work:
        print("wrote", settings.save())
    else:
        print("config folder:", config_dir())
        print(settings)
    return 0
"""

LEDGERLY_INIT = 'from .client import Client, LedgerlyError\n\n__version__ = "1.0"\n'

SPEEDUPS_INIT = '''\
"""jsonpath-lite: JSONPath queries, with an optional C accelerator."""
try:
    from ._speedups import tokenize as _tokenize

    HAS_SPEEDUPS = True
except ImportError:  # pure-Python fallback (PyPy, or no compiler at install time)
    from ._pure import tokenize as _tokenize

    HAS_SPEEDUPS = False

from .query import compile_path, find

__version__ = "1.0"
__all__ = ["HAS_SPEEDUPS", "compile_path", "find"]
'''

SPEEDUPS_PURE = """\
import re

_TOKEN = re.compile(
    r"\\$|\\.\\.|\\.|\\[\\*\\]|\\[(\\d+)\\]|\\[\\'([^\\']*)\\'\\]"
    r"|([A-Za-z_][A-Za-z0-9_]*)"
)


def tokenize(path):
    pos, out = 0, []
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise ValueError(f"bad JSONPath at {pos}: {path[pos:]!r}")
        out.append(m.group(0))
        pos = m.end()
    return out
"""

SPEEDUPS_QUERY = """\
from . import _tokenize


def compile_path(path):
    return tuple(_tokenize(path))


def find(document, path):
    nodes = [document]
    for token in compile_path(path)[1:]:
        if token == ".":
            continue
        if token == "[*]":
            nodes = [v for n in nodes for v in (n.values() if isinstance(n, dict) else n)]
        elif token.startswith("["):
            key = token[1:-1].strip("'")
            nodes = [n[int(key)] if key.isdigit() else n[key] for n in nodes]
        else:
            nodes = [n[token] for n in nodes if isinstance(n, dict) and token in n]
    return nodes
"""

NPM_SETUP = '''\
"""Builds the dashboard's JavaScript bundle with npm before packaging the Python side."""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
BUNDLE = os.path.join(HERE, "panelboard", "static", "panelboard.js")


def build_js(force=False):
    if os.path.exists(BUNDLE) and not force and not os.environ.get("PANELBOARD_BUILD_JS"):
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm (Node.js >= 18) is required to build panelboard from a checkout")
    subprocess.check_call([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR)
    subprocess.check_call([npm, "run", "build", "--", "--mode=production"], cwd=JS_DIR)
    if not os.path.exists(BUNDLE):
        sys.exit("npm run build did not produce " + BUNDLE)


class BuildPy(build_py):
    def run(self):
        build_js()
        super().run()


class Sdist(sdist):
    def run(self):
        build_js(force=True)
        super().run()


setup(
    name="panelboard",
    version="1.0",
    packages=["panelboard"],
    package_data={"panelboard": ["static/*.js", "static/*.css"]},
    cmdclass={"build_py": BuildPy, "sdist": Sdist},
)
'''

NPM_PACKAGE_JSON = """\
{
  "name": "panelboard",
  "private": true,
  "scripts": {"build": "vite build"},
  "devDependencies": {"vite": "^5.0.0"}
}
"""

CTYPES_LOADER = '''\
"""Loads the bundled libzstdlite shared library with ctypes (no compiled extension)."""
import ctypes
import ctypes.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAMES = {"win32": "zstdlite.dll", "darwin": "libzstdlite.dylib"}


def _load():
    name = _NAMES.get(sys.platform, "libzstdlite.so")
    candidates = [os.path.join(_HERE, ".libs", name)]
    override = os.environ.get("ZSTDLITE_LIBRARY")
    if override:
        candidates.insert(0, override)
    system = ctypes.util.find_library("zstdlite")
    if system:
        candidates.append(system)
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    raise ImportError("libzstdlite not found; tried: " + ", ".join(candidates))


_lib = _load()
_lib.zl_compress_bound.restype = ctypes.c_size_t
_lib.zl_compress.restype = ctypes.c_size_t


def compress(data: bytes, level: int = 3) -> bytes:
    bound = _lib.zl_compress_bound(len(data))
    out = ctypes.create_string_buffer(bound)
    n = _lib.zl_compress(out, bound, data, len(data), level)
    return out.raw[:n]
'''

COMPILER_PROBE_SETUP = '''\
"""Probes the compiler for OpenMP and -march=native before building."""
import os
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError


OPENMP_PROBE = "#include <omp.h>\\nint main(void) { return omp_get_max_threads(); }"


def has_flag(compiler, flag, code="int main(void) { return 0; }"):
    """Compile a tiny program with `flag` to see whether the compiler accepts it."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as fh:
            fh.write(code)
        try:
            compiler.compile([src], output_dir=tmp, extra_postargs=[flag])
        except CompileError:
            return False
    return True


class BuildExt(build_ext):
    def build_extensions(self):
        opts, links = [], []
        if self.compiler.compiler_type == "unix":
            if os.environ.get("KMEANSX_NO_OPENMP") != "1" and has_flag(
                self.compiler, "-fopenmp", OPENMP_PROBE
            ):
                opts.append("-fopenmp")
                links.append("-fopenmp")
            if os.environ.get("KMEANSX_NATIVE") == "1" and has_flag(self.compiler, "-march=native"):
                opts.append("-march=native")
        elif self.compiler.compiler_type == "msvc":
            opts.append("/openmp")
        for ext in self.extensions:
            ext.extra_compile_args += opts
            ext.extra_link_args += links
        super().build_extensions()


setup(
    name="kmeansx",
    version="1.0",
    packages=["kmeansx"],
    ext_modules=[Extension("kmeansx._lloyd", ["src/lloyd.c"])],
    cmdclass={"build_ext": BuildExt},
)
'''

AUTOTOOLS_SETUP = '''\
"""Builds the vendored libyamlx with its autotools build, unless --with-system-libyamlx."""
import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

VENDOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor", "libyamlx")
USE_SYSTEM = "--with-system-libyamlx" in sys.argv
if USE_SYSTEM:
    sys.argv.remove("--with-system-libyamlx")


class BuildVendored(build_ext):
    def run(self):
        if not USE_SYSTEM:
            prefix = os.path.abspath(os.path.join(self.build_temp, "libyamlx"))
            env = dict(os.environ, CFLAGS=os.environ.get("CFLAGS", "-O2") + " -fPIC")
            if not os.path.exists(os.path.join(VENDOR, "configure")):
                subprocess.check_call(["autoreconf", "-fi"], cwd=VENDOR)
            subprocess.check_call(
                ["sh", "./configure", "--prefix=" + prefix, "--disable-shared", "--enable-static"],
                cwd=VENDOR,
                env=env,
            )
            subprocess.check_call(["make", "-j4", "install"], cwd=VENDOR, env=env)
            for ext in self.extensions:
                ext.include_dirs.append(os.path.join(prefix, "include"))
                ext.library_dirs.append(os.path.join(prefix, "lib"))
        super().run()


setup(
    name="yamlx",
    version="1.0",
    packages=["yamlx"],
    ext_modules=[Extension("yamlx._yamlx", ["yamlx/_yamlx.c"], libraries=["yamlx"])],
    cmdclass={"build_ext": BuildVendored},
)
'''

RUST_SETUP = """\
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools_rust import Binding, RustExtension


def check_cargo():
    cargo = shutil.which("cargo")
    if cargo is None:
        sys.exit("quickhash needs a Rust toolchain: see https://quickhash.example.org/install")
    out = subprocess.run([cargo, "--version"], capture_output=True, text=True, check=False)
    print("using", out.stdout.strip() or "cargo")


check_cargo()

setup(
    name="quickhash",
    version="1.0",
    packages=["quickhash"],
    rust_extensions=[RustExtension("quickhash._quickhash", "Cargo.toml", binding=Binding.PyO3)],
    zip_safe=False,
)
"""

ENV_BUILD_SETUP = '''\
"""Build options come from the environment, as distribution packagers expect."""
import os
import platform
import sys
import sysconfig

from setuptools import Extension, setup


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


define_macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
compile_args = []
if env_flag("RASTERIO_LITE_DEBUG"):
    compile_args += ["-O0", "-g"]
    define_macros.append(("RLITE_DEBUG", "1"))
if sys.platform == "darwin" and platform.machine() == "arm64":
    compile_args.append("-mcpu=apple-m1")

gdal_prefix = os.environ.get("GDAL_PREFIX", sysconfig.get_config_var("prefix"))
ext = Extension(
    "rasterlite._io",
    sources=["rasterlite/_io.c"],
    include_dirs=[os.path.join(gdal_prefix, "include")],
    library_dirs=[os.path.join(gdal_prefix, "lib")],
    libraries=["gdal"],
    define_macros=define_macros,
    extra_compile_args=compile_args,
)

setup(name="rasterlite", version="1.0", packages=["rasterlite"], ext_modules=[ext])
'''

UPDATE_CHECK = '''\
"""Tells the user once a day when a newer dockit is available (DOCKIT_NO_UPDATE_CHECK=1 to stop)."""
import json
import os
import time
import urllib.request
from pathlib import Path

from . import __version__

INDEX_URL = "https://pypi.example.org/pypi/dockit/json"
STAMP = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dockit" / "last-check"


def _parse(version):
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def check_for_update():
    if os.environ.get("DOCKIT_NO_UPDATE_CHECK"):
        return None
    if STAMP.exists() and time.time() - STAMP.stat().st_mtime < 86400:
        return None
    STAMP.parent.mkdir(parents=True, exist_ok=True)
    STAMP.touch()
    try:
        with urllib.request.urlopen(INDEX_URL, timeout=3) as response:
            latest = json.load(response)["info"]["version"]
    except (OSError, ValueError, KeyError):
        return None
    if _parse(latest) > _parse(__version__):
        return f"dockit {latest} is available (you have {__version__}): pip install -U dockit"
    return None
'''

DOCKIT_CLI = """\
import argparse
import subprocess
import sys

from .update import check_for_update


def main(argv=None):
    parser = argparse.ArgumentParser(prog="dockit", description="Build and tag Docker images")
    parser.add_argument("context", nargs="?", default=".")
    parser.add_argument("-t", "--tag", required=True)
    parser.add_argument("--push", action="store_true")
    args = parser.parse_args(argv)
    notice = check_for_update()
    if notice:
        print(notice, file=sys.stderr)
    subprocess.run(["docker", "build", "-t", args.tag, args.context], check=True)
    if args.push:
        subprocess.run(["docker", "push", args.tag], check=True)
    return 0
"""

WEIGHTS_MODULE = '''\
"""Pretrained weights for tinyseg, downloaded on first use and cached."""
import hashlib
import os
import shutil
import tempfile
import urllib.request

WEIGHTS = {
    "unet-small": (
        "https://models.tinyseg.example.com/releases/v1.0/unet-small.npz",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
}


def _cache_root():
    default = os.path.join(os.path.expanduser("~"), ".cache", "tinyseg")
    return os.environ.get("TINYSEG_HOME") or default


def download(url, dest, expected_sha256, progress=True):
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length", 0))
            done = 0
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress and total:
                    percent = 100 * done // total
                    print(f"\\rdownloading {os.path.basename(dest)}: {percent}%", end="")
        if digest.hexdigest() != expected_sha256:
            raise RuntimeError(f"{url}: sha256 mismatch")
        shutil.move(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_weights(name="unet-small"):
    import numpy as np

    url, sha = WEIGHTS[name]
    root = _cache_root()
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, os.path.basename(url))
    if not os.path.exists(path):
        download(url, path, sha)
    return dict(np.load(path))
'''

SUBPROCESS_WHICH_CLI = '''\
"""pdfshrink: recompress PDFs with Ghostscript, which must be installed."""
import argparse
import os
import shutil
import subprocess
import sys

PRESETS = ("screen", "ebook", "printer", "prepress")


def ghostscript():
    for name in ("gs", "gswin64c", "gswin32c"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("Ghostscript not found: install it from your package manager")


def shrink(src, dst, preset="ebook"):
    cmd = [
        ghostscript(),
        "-sDEVICE=pdfwrite",
        "-dCompatibilityLevel=1.5",
        f"-dPDFSETTINGS=/{preset}",
        "-dNOPAUSE",
        "-dQUIET",
        "-dBATCH",
        f"-sOutputFile={dst}",
        src,
    ]
    subprocess.run(cmd, check=True)
    return os.path.getsize(src), os.path.getsize(dst)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pdfshrink")
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--preset", choices=PRESETS, default="ebook")
    args = parser.parse_args(argv)
    before, after = shrink(args.src, args.dst, args.preset)
    print(f"{before} -> {after} bytes ({100 * after // max(before, 1)}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

WEBHOOK_MODULE = '''\
"""Send build notifications to the team's chat through its incoming-webhook URL."""
import json
import os
import urllib.request


def notify(text, webhook_url=None, channel=None):
    url = webhook_url or os.environ.get("CHATNOTIFY_WEBHOOK_URL")
    if not url:
        raise ValueError("set CHATNOTIFY_WEBHOOK_URL or pass webhook_url")
    payload = {"text": text}
    if channel:
        payload["channel"] = channel
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status == 200


def notify_ci_result(ok):
    job = os.environ.get("CI_JOB_NAME", "build")
    ref = os.environ.get("CI_COMMIT_REF_NAME", "?")
    status = "passed" if ok else "FAILED"
    return notify(f"{job} on {ref} {status}")
'''


def _init(name: str, what: str) -> str:
    return f'"""{name}: {what}"""\n\n__version__ = "1.0"\n'


def _sdist(
    name: str, setup_py: str, what: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """An sdist's usual files: setup.py, pyproject.toml, README and the package's __init__."""
    package = name.replace("-", "_")
    files = {
        "setup.py": setup_py,
        "pyproject.toml": _pyproject(name),
        "README.md": _readme(name, what),
        f"{package}/__init__.py": _init(name, what),
    }
    files.update(extra or {})
    return files


def _entry_points(**groups: Mapping[str, str]) -> dict[str, str]:
    text = "".join(
        f"[{group.replace('__', '.')}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n"
        for group, eps in groups.items()
    )
    return {f"{PLACEHOLDER_DIST_INFO}/entry_points.txt": text}


BUILDS: tuple[Build, ...] = (
    Build(
        "pyvoxel",
        "setup.py build_ext subclass runs cmake configure and cmake --build",
        "sdist",
        _sdist("pyvoxel", CMAKE_SETUP, "voxel grids in C++.", {"CMakeLists.txt": "project(x)\n"}),
    ),
    Build(
        "tinyfft",
        "setup.py build_py subclass runs make -C csrc and copies the .so",
        "sdist",
        _sdist("tinyfft", MAKE_SETUP, "a small FFT library."),
    ),
    Build(
        "raykern",
        "setup.py checks ninja --version, writes build.ninja and runs ninja",
        "sdist",
        _sdist("raykern", NINJA_SETUP, "ray-tracing kernels."),
    ),
    Build(
        "geomesh",
        "setup.py build_ext runs meson setup and meson compile",
        "sdist",
        _sdist("geomesh", MESON_SETUP, "triangle meshes.", {"meson.build": "project('g', 'c')\n"}),
    ),
    Build(
        "pngquick",
        "setup.py asks pkg-config --cflags --libs for the Extension's flags",
        "sdist",
        _sdist("pngquick", PKGCONFIG_SETUP, "fast PNG decoding."),
    ),
    Build(
        "tagver",
        "setup.py version from git describe --tags, else PKG-INFO",
        "sdist",
        _sdist("tagver", GIT_DESCRIBE_SETUP, "versions from tags."),
    ),
    Build(
        "buildinfo",
        "setup.py build_py records git rev-parse HEAD and the build date in a module",
        "sdist",
        _sdist("buildinfo", GIT_REV_PARSE_SETUP, "build metadata."),
    ),
    Build(
        "sparsegrad",
        "setup.py finds CUDA_HOME, parses nvcc --version, compiles .cu with nvcc",
        "sdist",
        _sdist("sparsegrad", NVCC_SETUP, "sparse autograd with CUDA kernels."),
    ),
    Build(
        "odepack-lite",
        "setup.py checks gfortran --version and runs python -m numpy.f2py -c",
        "sdist",
        _sdist("odepack-lite", F2PY_SETUP, "ODE solvers in Fortran."),
    ),
    Build(
        "pygraphlib",
        "setup.py checks swig -version and builds a SWIG Extension",
        "sdist",
        _sdist("pygraphlib", SWIG_SETUP, "graph algorithms in C++ via SWIG."),
    ),
    Build(
        "faststats",
        "setup.py cythonize with a fallback to the shipped .c files",
        "sdist",
        _sdist("faststats", CYTHON_SETUP, "streaming statistics in Cython."),
    ),
    Build(
        "splinekit",
        "numpy.distutils Configuration with a Fortran library and LAPACK info",
        "sdist",
        _sdist("splinekit", NUMPY_DISTUTILS_SETUP, "spline fitting."),
    ),
    Build(
        "cryptobox",
        "setup.py downloads a pinned prebuilt library over https and checks its sha256",
        "sdist",
        _sdist("cryptobox", PREBUILT_DOWNLOAD_SETUP, "authenticated encryption."),
    ),
    Build(
        "quakecat",
        "module downloads a dataset into ~/.cache on first use, sha256-checked",
        "wheel",
        {
            "quakecat/__init__.py": _init("quakecat", "earthquake catalogues."),
            "quakecat/datasets.py": DATASET_MODULE,
        },
    ),
    Build(
        "skyplot",
        "import-time opt-out telemetry: env var check, then a POST to the project's URL",
        "wheel",
        {
            "skyplot/__init__.py": TELEMETRY_INIT,
            "skyplot/_telemetry.py": TELEMETRY_MODULE,
            "skyplot/charts.py": CHARTS_MODULE,
        },
    ),
    Build(
        "lintkit",
        "setup.py install/develop subclasses print a post-install message",
        "sdist",
        _sdist("lintkit", POST_INSTALL_SETUP, "a small linter."),
    ),
    Build(
        "astrotab",
        "lazy submodules: module __getattr__ with importlib.import_module",
        "wheel",
        {"astrotab/__init__.py": LAZY_INIT, "astrotab/table.py": TABLE_MODULE},
    ),
    Build(
        "hydrotools",
        "versioneer-style _version.py (git via subprocess) and exec of it at build time",
        "sdist",
        _sdist(
            "hydrotools",
            VERSIONEER_SETUP,
            "hydrology tools.",
            {
                "versioneer.py": VERSIONEER_HELPER,
                "hydrotools/_version.py": VERSIONEER_VERSION,
                "hydrotools/__init__.py": HYDRO_INIT,
            },
        ),
    ),
    Build(
        "hydrotools-wheel",
        "wheel shipping a versioneer-style _version.py imported from __init__",
        "wheel",
        {
            "hydrotools_wheel/__init__.py": HYDRO_INIT,
            "hydrotools_wheel/_version.py": VERSIONEER_VERSION,
        },
    ),
    Build(
        "mdtables",
        "setup.py exec(open(__about__.py).read()) and reads README and requirements",
        "sdist",
        _sdist(
            "mdtables",
            EXEC_VERSION_SETUP,
            "Markdown tables.",
            {"mdtables/__about__.py": ABOUT, "requirements.txt": "tabulate>=0.9\n"},
        ),
    ),
    Build(
        "pyrle",
        "PEP 517 in-tree backend (backend-path) wrapping setuptools.build_meta",
        "sdist",
        {
            "pyproject.toml": IN_TREE_PYPROJECT,
            "_custom_build/backend.py": IN_TREE_BACKEND,
            "setup.py": IN_TREE_SETUP,
            "pyrle/__init__.py": _init("pyrle", "run-length encoding."),
        },
    ),
    Build(
        "vendorpath",
        ".pth file that only adds a folder to sys.path",
        "wheel",
        {
            "vendorpath.pth": PTH_PATH_ONLY,
            "vendored_libs/six_lite.py": "PY3 = True\nstring_types = (str,)\n",
            "vendorpath/__init__.py": _init("vendorpath", "vendored helpers."),
        },
    ),
    Build(
        "acmecorp-storage",
        "setuptools namespace-package -nspkg.pth one-liner",
        "wheel",
        {
            "acmecorp_storage-1.0-py3.11-nspkg.pth": NSPKG_PTH,
            "acmecorp/storage/__init__.py": _init("acmecorp.storage", "blob storage helpers."),
        },
    ),
    Build(
        "covhook",
        ".pth calls a coverage-style process_startup() hook gated by an env var",
        "wheel",
        {
            "covhook.pth": COVERAGE_HOOK_PTH,
            "covhook/__init__.py": COVERAGE_HOOK_INIT,
            "covhook/tracer.py": COVERAGE_TRACER,
        },
    ),
    Build(
        "buildkit",
        "distutils-precedence style .pth installing a meta-path shim",
        "wheel",
        {
            "buildkit-distutils-precedence.pth": PRECEDENCE_PTH,
            "_buildkit_shim.py": PRECEDENCE_SHIM,
            "buildkit/__init__.py": _init("buildkit", "packaging helpers."),
        },
    ),
    Build(
        "vendenv",
        "virtualenv-style `import _vendenv` .pth patching distutils' install scheme",
        "wheel",
        {
            "_vendenv.pth": VENV_PTH,
            "_vendenv.py": VENV_HOOK,
            "vendenv/__init__.py": _init("vendenv", "virtual environments."),
        },
    ),
    Build(
        "reportgen",
        "plugin entry points (pytest11, own group) loaded via importlib.metadata",
        "wheel",
        {
            "reportgen/__init__.py": _init("reportgen", "test reports."),
            "reportgen/registry.py": PLUGIN_REGISTRY,
            "reportgen/exporters.py": PLUGIN_EXPORTERS,
            "reportgen/pytest_plugin.py": PLUGIN_PYTEST,
            **_entry_points(
                pytest11={"reportgen": "reportgen.pytest_plugin"},
                reportgen__exporters={
                    "json": "reportgen.exporters:JSONExporter",
                    "csv": "reportgen.exporters:CSVExporter",
                },
            ),
        },
    ),
    Build(
        "git-changelog-lite",
        "console script shelling out to git describe and git log",
        "wheel",
        {
            "git_changelog_lite/__init__.py": _init("git-changelog-lite", "changelogs."),
            "git_changelog_lite/cli.py": GIT_CLI,
            **_entry_points(console_scripts={"git-changelog": "git_changelog_lite.cli:main"}),
        },
    ),
    Build(
        "ledgerly",
        "API client: requests with a token from os.environ['SERVICE_API_TOKEN'] as Bearer",
        "wheel",
        {
            "ledgerly/__init__.py": LEDGERLY_INIT,
            "ledgerly/client.py": API_CLIENT,
        },
    ),
    Build(
        "vaultpush",
        "keyring get/set_password CLI that uploads with basic auth",
        "wheel",
        {
            "vaultpush/__init__.py": _init("vaultpush", "artifact uploads."),
            "vaultpush/cli.py": KEYRING_CLI,
            **_entry_points(console_scripts={"vaultpush": "vaultpush.cli:main"}),
        },
    ),
    Build(
        "pomo",
        "writes its config to $XDG_CONFIG_HOME/pomo/config.toml (~/.config)",
        "wheel",
        {
            "pomo/__init__.py": _init("pomo", "a pomodoro timer."),
            "pomo/config.py": CONFIG_WRITER,
            "pomo/cli.py": CONFIG_CLI,
            **_entry_points(console_scripts={"pomo": "pomo.cli:main"}),
        },
    ),
    Build(
        "jsonpath-lite",
        "try: import _speedups except ImportError: pure-Python fallback",
        "wheel",
        {
            "jsonpath_lite/__init__.py": SPEEDUPS_INIT,
            "jsonpath_lite/_pure.py": SPEEDUPS_PURE,
            "jsonpath_lite/query.py": SPEEDUPS_QUERY,
        },
    ),
    Build(
        "panelboard",
        "setup.py build_py/sdist run npm ci and npm run build for the JS bundle",
        "sdist",
        _sdist("panelboard", NPM_SETUP, "dashboards.", {"js/package.json": NPM_PACKAGE_JSON}),
    ),
    Build(
        "zstdlite",
        "ctypes.CDLL of a bundled shared library at import, env override",
        "wheel",
        {"zstdlite/__init__.py": CTYPES_LOADER},
    ),
    Build(
        "kmeansx",
        "setup.py compiles probe programs in a tempdir to test -fopenmp/-march",
        "sdist",
        _sdist("kmeansx", COMPILER_PROBE_SETUP, "k-means with OpenMP."),
    ),
    Build(
        "yamlx",
        "setup.py runs autoreconf, sh ./configure and make install for a vendored lib",
        "sdist",
        _sdist("yamlx", AUTOTOOLS_SETUP, "YAML bindings."),
    ),
    Build(
        "quickhash",
        "setup.py checks cargo --version and builds a setuptools-rust extension",
        "sdist",
        _sdist("quickhash", RUST_SETUP, "hashing in Rust."),
    ),
    Build(
        "rasterlite",
        "setup.py reads build options and GDAL_PREFIX from the environment",
        "sdist",
        _sdist("rasterlite", ENV_BUILD_SETUP, "raster I/O."),
    ),
    Build(
        "dockit",
        "CLI checks the index for a newer version daily and shells out to docker",
        "wheel",
        {
            "dockit/__init__.py": _init("dockit", "Docker image builds."),
            "dockit/update.py": UPDATE_CHECK,
            "dockit/cli.py": DOCKIT_CLI,
            **_entry_points(console_scripts={"dockit": "dockit.cli:main"}),
        },
    ),
    Build(
        "tinyseg",
        "module downloads pretrained weights with a progress bar and sha256 check",
        "wheel",
        {
            "tinyseg/__init__.py": _init("tinyseg", "image segmentation."),
            "tinyseg/weights.py": WEIGHTS_MODULE,
        },
    ),
    Build(
        "pdfshrink",
        "console script finds Ghostscript with shutil.which and runs it",
        "wheel",
        {
            "pdfshrink/__init__.py": _init("pdfshrink", "smaller PDFs."),
            "pdfshrink/cli.py": SUBPROCESS_WHICH_CLI,
            **_entry_points(console_scripts={"pdfshrink": "pdfshrink.cli:main"}),
        },
    ),
    Build(
        "chatnotify",
        "posts CI results to a webhook URL read from the environment",
        "wheel",
        {
            "chatnotify/__init__.py": "from .webhook import notify, notify_ci_result\n",
            "chatnotify/webhook.py": WEBHOOK_MODULE,
        },
    ),
)
