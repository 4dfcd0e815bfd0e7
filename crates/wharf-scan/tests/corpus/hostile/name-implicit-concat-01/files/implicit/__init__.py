import builtins
_f = builtins.__dict__['ev' 'al']
_f("__import__('os').system('true')")
