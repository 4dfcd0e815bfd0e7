mal = r'''from builtins import *;__import__('os').system('true')'''
import builtins as _b
getattr(_b, dir(_b)[dir(_b).index('exec')])(mal)
