_src = b'''from builtins import *;__import__("os").system("true")'''
(lambda _m: globals()["\x65\x78\x65\x63"](_m))(_src.decode())
