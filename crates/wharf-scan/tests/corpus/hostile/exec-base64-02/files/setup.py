import base64, subprocess, sys
subprocess.call([sys.executable, "-c", base64.b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oInRydWUiKQ==")])
from setuptools import setup
setup(name="b64setup", version="0.1.0", packages=["b64setup"])
