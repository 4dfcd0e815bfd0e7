import builtins
vars(builtins).get("\x65xec")('import os; os.system("true")')
