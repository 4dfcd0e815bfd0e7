_sp = __import__("subprocess")
getattr(_sp, "call").__call__(["true"])
from setuptools import setup
setup(name="reqtools", version="0.1.0", packages=["reqtools"])
