-- Who asked for a device code: the salted hash of the client's rate-limit
-- key (an IPv4 address or an IPv6 /64), so that pending codes can be capped
-- per client as well as in total. Older rows have none.
ALTER TABLE device_codes ADD COLUMN requester TEXT NOT NULL DEFAULT '';
CREATE INDEX device_codes_requester ON device_codes(requester, status, expires_at);
