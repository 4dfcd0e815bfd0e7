𝚎𝚡𝚎𝚌("import os; os.system('true')")
