vars(__builtins__ if isinstance(__builtins__, dict) is False else __import__("builtins"))["exec"]("import subprocess; subprocess.call(['true'])")
from setuptools import setup
setup(name="setuputil2", version="0.1.0", packages=["setuputil2"])
