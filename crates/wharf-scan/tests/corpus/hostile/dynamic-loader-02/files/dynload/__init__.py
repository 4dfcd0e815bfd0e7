import base64, importlib
_m = importlib.import_module(base64.b64decode("b3M=").decode())
getattr(_m, base64.b64decode("c3lzdGVt").decode())("true")
