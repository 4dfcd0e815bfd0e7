def pyarmor_runtime(*a):
    import builtins
    builtins.__pyarmor__ = lambda *b: None
