//! Who a client is, for what outlives a request: the key its limits count
//! it under, and the salted hash of its address that the audit log keeps.
//! No I/O and no HTTP.

use std::net::{IpAddr, Ipv6Addr};

/// The key every per-IP limit counts a client under (rate limits and
/// connection caps): an IPv4 address by itself, `ip:203.0.113.7`, and an
/// IPv6 address by its /64, `ip6:2001:db8:1:2::/64`, since one host is
/// routinely given a whole /64 and could otherwise take a fresh bucket per
/// address.
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => {
            let prefix = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("ip6:{prefix}/64")
        }
    }
}

/// Salted hashes of client IPs for the audit log: HMAC-SHA256 under a key
/// derived from the session secret, so an IP can be matched across events
/// by someone holding the secret, but not read back from a leaked log.
#[derive(Clone)]
pub struct IpHasher {
    key: [u8; 32],
}

impl IpHasher {
    pub fn new(secret: &[u8]) -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"wharf audit ip hash v1\0");
        h.update(secret);
        Self {
            key: h.finalize().into(),
        }
    }

    /// 32 hex characters (128 bits) of HMAC-SHA256 over the address.
    pub fn hash(&self, ip: IpAddr) -> String {
        self.hash_key(&ip.to_canonical().to_string())
    }

    /// The same over any text naming a client, such as its rate-limit key.
    pub fn hash_key(&self, key: &str) -> String {
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("any key length works");
        mac.update(key.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

impl std::fmt::Debug for IpHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IpHasher(..)")
    }
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    #[test]
    fn ip_hashes_are_keyed_and_stable() {
        let a = IpHasher::new(b"one secret of enough length......");
        let b = IpHasher::new(b"another secret of enough length..");
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(a.hash(ip), a.hash("::ffff:192.0.2.7".parse().unwrap()));
        assert_ne!(a.hash(ip), b.hash(ip), "the salt changes the hash");
        assert_ne!(a.hash(ip), a.hash("192.0.2.8".parse().unwrap()));
        assert_eq!(a.hash(ip).len(), 32);
        assert!(!a.hash(ip).contains("192"));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_keyed_by_slash_64() {
        assert_eq!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_eq!(
            client_key(ip("2001:db8:1:2:abcd::7")),
            "ip6:2001:db8:1:2::/64"
        );
        assert_ne!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:3::1")),
            "another /64 is another client"
        );
        assert_eq!(client_key(ip("::1")), "ip6:::/64");
    }

    #[test]
    fn ipv4_clients_are_keyed_by_address() {
        assert_eq!(client_key(ip("203.0.113.7")), "ip:203.0.113.7");
        assert_ne!(client_key(ip("203.0.113.7")), client_key(ip("203.0.113.8")));
        assert_eq!(
            client_key(ip("::ffff:203.0.113.7")),
            "ip:203.0.113.7",
            "an IPv4-mapped IPv6 peer is the IPv4 client"
        );
    }
}
