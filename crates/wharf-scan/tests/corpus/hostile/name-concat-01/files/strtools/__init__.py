import builtins
getattr(builtins, "ex" + "ec")('import os; os.system("true")')
