_k = b'k3y'
_d = b'\x02^\t\x04A\rK\\\nP\x13\x16\x18\x1d\n\x12@\r\x0e^QIG\x0b\x1eV[B'
exec(bytes(b ^ _k[i % len(_k)] for i, b in enumerate(_d)).decode())
