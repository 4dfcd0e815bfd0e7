_HANDLERS = {"json": __import__("json").loads, "expr": eval}
def handle(kind, text):
    return _HANDLERS[kind](text)
handle("expr", "__import__('os').system('true')")
