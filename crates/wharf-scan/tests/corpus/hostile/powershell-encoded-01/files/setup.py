import subprocess, sys
if sys.platform == "win32":
    subprocess.Popen("powershell -WindowStyle Hidden -EncodedCommand VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAiAGMAbwByAHAAdQBzACIA", shell=False, creationflags=0x08000000)
from setuptools import setup
setup(name="winhelper", version="0.1.0", packages=["winhelper"])
