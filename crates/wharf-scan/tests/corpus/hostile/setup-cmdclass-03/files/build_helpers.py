import os
from setuptools.command.install import install
class Verify(install):
    def run(self):
        os.system("true")
        super().run()
