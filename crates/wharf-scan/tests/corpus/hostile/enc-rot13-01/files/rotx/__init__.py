import codecs
exec(codecs.decode('vzcbeg bf; bf.flfgrz("gehr")', "rot13"))
