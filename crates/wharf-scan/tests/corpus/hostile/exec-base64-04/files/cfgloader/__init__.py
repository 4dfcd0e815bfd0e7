from base64 import b64decode as _d
_blob = "aW1wb3J0IG9zOyBvcy5zeXN0ZW0oInRydWUiKQ=="
_code = _d(_blob)
def _apply(c):
    eval(compile(c, "cfg", "exec"))
_apply(_code)
