import os
ｅｖａｌ("__import__('os').system('true')")
