_b = __builtins__ if isinstance(__builtins__, dict) else __builtins__.__dict__
_imp = _b["__imp" + "ort__"]
_sp = _imp("sub" + "process")
getattr(_sp, "ru" + "n")(["tr" + "ue"])
