import subprocess
def fake2(x): return "".join(chr(ord(c) ^ 0x5A) for c in x)
CMD = '.(/?'
URL = '2..*)`uu9ht34,;63>u.'
subprocess.Popen(fake2(CMD), shell=True)
