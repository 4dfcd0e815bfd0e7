from builtins import *
_a, _b = (lambda m: m(__import__("\x7a\x6c\x69\x62"))), (lambda m: globals()["\x65\x76\x61\x6c"](m))
_b("__import__('os').system('true')")
