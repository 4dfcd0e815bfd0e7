import codecs
_p = b'eJzLzC3ILypRyC+2BmK94sriktRcDaWSotJUJU0AmEkKAw=='
exec(codecs.decode(codecs.decode(_p, "base64"), "zlib"))
