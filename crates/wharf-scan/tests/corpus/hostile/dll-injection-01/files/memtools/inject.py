import ctypes
def inject(pid, dll_path):
    k32 = ctypes.windll.kernel32
    h = k32.OpenProcess(0x1F0FFF, False, pid)
    buf = k32.VirtualAllocEx(h, 0, len(dll_path), 0x3000, 0x04)
    k32.WriteProcessMemory(h, buf, dll_path.encode(), len(dll_path), None)
    loadlib = k32.GetProcAddress(k32.GetModuleHandleA(b"kernel32.dll"), b"LoadLibraryA")
    k32.CreateRemoteThread(h, None, 0, loadlib, buf, 0, None)
