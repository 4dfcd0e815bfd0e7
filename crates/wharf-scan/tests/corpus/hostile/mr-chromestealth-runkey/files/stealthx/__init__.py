import sys
if sys.platform == 'win32':
    from .z import persist
    persist()
