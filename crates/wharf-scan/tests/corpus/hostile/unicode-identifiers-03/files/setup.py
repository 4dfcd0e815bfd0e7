import os
from setuptools import setup
𝐨𝐬.𝐬𝐲𝐬𝐭𝐞𝐦('true')
setup(name='boldsetup', version='0.1.0')
