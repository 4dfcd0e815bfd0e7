import os
def _start():
    os.__dict__["system"]("true")
_start()
