import string
_t = str.maketrans(string.ascii_lowercase + string.ascii_uppercase,
                   string.ascii_lowercase[13:] + string.ascii_lowercase[:13] + string.ascii_uppercase[13:] + string.ascii_uppercase[:13])
exec(compile('vzcbeg bf; bf.flfgrz("gehr")'.translate(_t), "<c>", "exec"))
