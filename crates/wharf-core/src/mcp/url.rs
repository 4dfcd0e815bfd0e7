//! URLs in a `server.json`: a strict parser for the `http(s)://host[:port]/…`
//! shape we accept, and the host policy.
//!
//! The parser is deliberately narrower than a browser's. Forms that parsers
//! disagree on (backslashes, `user@host`, percent-encoded or numeric-shorthand
//! hosts such as `0x7f.1`, non-ASCII) are refused rather than interpreted, so
//! the host we vet is the host a client will connect to. Names are vetted
//! literally; a public name that resolves to a private address is the
//! connecting code's concern (DNS can change after publishing anyway), which
//! [`classify_ip`] is for.

use super::UrlPolicy;
use crate::name::printable;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest URL accepted anywhere in a document.
pub const MAX_URL_LEN: usize = 2048;

/// What the URL is for, which decides the schemes and hosts it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UrlRole {
    /// Fetched or linked by people and tools: website, icon, repository,
    /// registry base URL, bundle download. https only.
    Site,
    /// A hosted server clients connect to. https; under [`UrlPolicy::Dev`]
    /// also plain http to a loopback host.
    Remote,
    /// Where a locally launched package listens: https, or http to loopback.
    PackageTransport,
}

/// How `{name}` placeholders are treated.
pub(super) enum Templates<'a> {
    /// Braces are not allowed.
    None,
    /// Each placeholder must name a declared variable. The map holds the
    /// literal values a variable may take (its value, default and choices),
    /// which is all we can vet a templated host by.
    Vars {
        declared: &'a BTreeMap<String, Vec<String>>,
        declare_hint: &'static str,
    },
}

/// Checks one URL for its role under `policy`; the error says what to change.
pub(super) fn check_url(
    raw: &str,
    role: UrlRole,
    policy: UrlPolicy,
    templates: &Templates<'_>,
) -> Result<(), String> {
    if role == UrlRole::Remote && raw.starts_with('{') {
        return check_templated_base(raw, policy, templates);
    }
    let url = parse(raw, templates)?;
    let is_https = url.scheme == "https";
    match (&url.host, role) {
        (_, _) if is_https => {}
        (Host::Literal(class), UrlRole::PackageTransport) if *class == HostClass::Loopback => {}
        (Host::Literal(class), UrlRole::Remote)
            if *class == HostClass::Loopback && policy == UrlPolicy::Dev => {}
        (_, UrlRole::Site) => return Err(format!("'{}' must use https", printable(raw))),
        (_, UrlRole::Remote) if policy == UrlPolicy::Dev => {
            return Err(format!(
                "'{}' must use https (plain http is allowed only to localhost or 127.0.0.1 in development)",
                printable(raw)
            ))
        }
        (_, UrlRole::Remote) => return Err(format!("'{}' must use https", printable(raw))),
        (_, UrlRole::PackageTransport) => {
            return Err(format!(
                "'{}' must use https (plain http is allowed only to a loopback host such as localhost)",
                printable(raw)
            ))
        }
    }
    if policy == UrlPolicy::Dev {
        return Ok(());
    }
    match &url.host {
        // A local package is expected to listen on loopback.
        Host::Literal(HostClass::Loopback) if role == UrlRole::PackageTransport => Ok(()),
        Host::Literal(class) => refuse_non_public(*class, url.host_text),
        Host::Templated(used) if role == UrlRole::Remote => {
            vet_templated_host(url.host_text, used, templates)
        }
        Host::Templated(_) => Ok(()),
    }
}

/// A remote URL whose scheme and host come from a variable (`{base_url}/mcp`,
/// allowed by the draft schema). The variable must be declared; each literal
/// value it may take (value, default, choices) must make a URL that passes as a
/// remote. A value the user supplies is vetted where it is used, as any URL.
fn check_templated_base(
    raw: &str,
    policy: UrlPolicy,
    templates: &Templates<'_>,
) -> Result<(), String> {
    let shown = printable(raw);
    check_plain(raw, &shown)?;
    let names = check_placeholders(raw, &shown, templates)?;
    let (Some(&base), Templates::Vars { declared, .. }) = (names.first(), templates) else {
        return Err(format!("'{shown}' must not contain {{placeholders}}"));
    };
    for candidate in declared.get(base).into_iter().flatten() {
        let concrete = raw.replacen(&format!("{{{base}}}"), candidate, 1);
        if concrete.starts_with('{') {
            return Err(format!(
                "the variable {{{base}}} may be '{}', which does not start an absolute URL",
                printable(candidate)
            ));
        }
        check_url(&concrete, UrlRole::Remote, policy, templates).map_err(|e| {
            format!(
                "the variable {{{base}}} may be '{}': {e}",
                printable(candidate)
            )
        })?;
    }
    Ok(())
}

/// Not too long, and plain ASCII without spaces or backslashes. Backslashes count as
/// '/' to browsers and as data to others; whitespace and non-ASCII hide what the URL
/// says. None belongs in a published URL.
fn check_plain(raw: &str, shown: &str) -> Result<(), String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("is longer than {MAX_URL_LEN} characters"));
    }
    if let Some(c) = raw.chars().find(|&c| !c.is_ascii_graphic() || c == '\\') {
        return Err(format!(
            "'{shown}' contains '{}'; URLs here are plain ASCII without spaces or backslashes",
            c.escape_debug()
        ));
    }
    Ok(())
}

/// The `{name}` placeholders of `text`, each declared when `templates` allows any.
fn check_placeholders<'t>(
    text: &'t str,
    shown: &str,
    templates: &Templates<'_>,
) -> Result<Vec<&'t str>, String> {
    let names = template_names(text).map_err(|e| format!("'{shown}' {e}"))?;
    match templates {
        Templates::None if !names.is_empty() => {
            return Err(format!("'{shown}' must not contain {{placeholders}}"));
        }
        Templates::None => {}
        Templates::Vars {
            declared,
            declare_hint,
        } => {
            let missing: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| !declared.contains_key(*n))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "'{shown}' uses {} but no such variable is declared; {declare_hint}",
                    missing
                        .iter()
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    Ok(names)
}

/// [`check_url`] for a [`UrlRole::Site`] URL without placeholders: https, and
/// under [`UrlPolicy::Production`] a public host. Identifiers use it for bundle
/// URLs and image registry hosts.
pub(super) fn check_network_url(raw: &str, policy: UrlPolicy) -> Result<(), String> {
    check_url(raw, UrlRole::Site, policy, &Templates::None)
}

/// The `{name}` placeholders in `raw`, in order, or why they are malformed.
pub(super) fn template_names(raw: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = raw;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has a '}' without a matching '{'".to_owned());
        }
        let after = &rest[open + 1..];
        let close = after
            .find(['{', '}'])
            .filter(|&i| after[i..].starts_with('}'))
            .ok_or("has a '{' without a matching '}'")?;
        let name = &after[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(format!(
                "has the placeholder '{{{}}}'; placeholder names use letters, digits, '_', '-' and '.'",
                printable(name)
            ));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// What a host reaches, as far as its text tells; under
/// [`UrlPolicy::Production`] a published URL must name a `Public` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostClass {
    /// `localhost`, `*.localhost`, 127.0.0.0/8 (also embedded in IPv6), ::1.
    Loopback,
    /// A private, shared, link-local, documentation, multicast or other
    /// special-purpose address that is not globally reachable.
    NonPublic,
    /// A name that resolves only inside a network, such as
    /// `metadata.google.internal` or a single label. [`classify_ip`] never
    /// returns it.
    InternalName,
    /// Anything else.
    Public,
}

enum Host<'a> {
    Literal(HostClass),
    /// The host contains these placeholders.
    Templated(Vec<&'a str>),
}

struct ParsedUrl<'a> {
    scheme: String,
    host_text: &'a str,
    host: Host<'a>,
}

fn parse<'a>(raw: &'a str, templates: &Templates<'_>) -> Result<ParsedUrl<'a>, String> {
    let shown = printable(raw);
    check_plain(raw, &shown)?;
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err(format!(
            "'{shown}' must be an absolute URL, e.g. https://example.com/"
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("'{shown}' must use https"));
    }

    check_placeholders(rest, &shown, templates)?;

    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(format!(
            "'{shown}' must not carry user credentials (user@host)"
        ));
    }
    let (host_text, port) = split_port(authority).map_err(|e| format!("'{shown}' {e}"))?;
    if let Some(port) = port {
        let is_placeholder = port.starts_with('{')
            && port.ends_with('}')
            && template_names(port).is_ok_and(|n| n.len() == 1);
        if !is_placeholder && !port.parse::<u16>().is_ok_and(|p| p != 0) {
            return Err(format!(
                "'{shown}' has an invalid port '{}'",
                printable(port)
            ));
        }
    }
    let host = if host_text.contains('{') {
        let outside = strip_placeholders(host_text);
        if !outside
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(format!(
                "'{shown}' has an invalid host '{}'",
                printable(host_text)
            ));
        }
        Host::Templated(template_names(host_text).unwrap_or_default())
    } else {
        Host::Literal(classify_host(host_text).map_err(|e| format!("'{shown}' {e}"))?)
    };
    Ok(ParsedUrl {
        scheme,
        host_text,
        host,
    })
}

/// Splits `host[:port]`, keeping the brackets of an IPv6 literal on the host.
fn split_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.is_empty() {
        return Err("has no host".to_owned());
    }
    if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or("has an unclosed '[' in its host")?;
        return match &authority[end + 1..] {
            "" => Ok((&authority[..=end], None)),
            rest => match rest.strip_prefix(':') {
                Some(port) => Ok((&authority[..=end], Some(port))),
                None => Err("has text after its IPv6 host".to_owned()),
            },
        };
    }
    Ok(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

fn strip_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut depth = false;
    for c in text.chars() {
        match c {
            '{' => depth = true,
            '}' => depth = false,
            c if !depth => out.push(c),
            _ => {}
        }
    }
    out
}

fn classify_host(host: &str) -> Result<HostClass, String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner
            .parse()
            .map_err(|_| format!("has an invalid IPv6 host '{}'", printable(host)))?;
        return Ok(classify_ip(IpAddr::V6(ip)));
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if name.len() > 253 || !labels.iter().all(label_ok) {
        return Err(format!("has an invalid host '{}'", printable(host)));
    }
    // Browsers read a host whose last label is a number (or 0x-hex) as IPv4,
    // including shorthand like `127.1` or `2130706433`. Only the canonical
    // dotted quad is accepted, so such a host can't slip past as a "name".
    let last = labels.last().copied().unwrap_or_default();
    let numeric = last.chars().all(|c| c.is_ascii_digit())
        || (last.starts_with("0x") && last[2..].chars().all(|c| c.is_ascii_hexdigit()));
    if numeric {
        let ip: Ipv4Addr = name.parse().map_err(|_| {
            format!(
                "has the numeric host '{}'; write an IPv4 address as four decimal numbers",
                printable(host)
            )
        })?;
        return Ok(classify_ip(IpAddr::V4(ip)));
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Ok(HostClass::Loopback);
    }
    // A single label is completed from the resolver's search domains, so it
    // names a host inside the network (`metadata` is Google Cloud's metadata
    // server).
    let is_internal_domain = |domain: &str| {
        name.strip_suffix(domain)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
    };
    if labels.len() == 1 || INTERNAL_DOMAINS.into_iter().any(is_internal_domain) {
        return Ok(HostClass::InternalName);
    }
    Ok(HostClass::Public)
}

/// Domains whose names resolve only inside a network: cloud metadata and
/// internal zones (`.internal`), mDNS (`.local`), home networks (`.home.arpa`)
/// and the names RFC 6762 found in private use.
const INTERNAL_DOMAINS: [&str; 9] = [
    "internal",
    "local",
    "localdomain",
    "home.arpa",
    "intranet",
    "lan",
    "corp",
    "home",
    "private",
];

/// IPv4 ranges that are not public (the IANA special-purpose registry's
/// ranges that are not globally reachable, plus multicast); anything else is.
#[rustfmt::skip]
const V4_RANGES: [(Ipv4Addr, u8, HostClass); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0),       8, HostClass::NonPublic), // "this network"
    (Ipv4Addr::new(10, 0, 0, 0),      8, HostClass::NonPublic), // private
    (Ipv4Addr::new(100, 64, 0, 0),   10, HostClass::NonPublic), // shared (carrier-grade NAT)
    (Ipv4Addr::new(127, 0, 0, 0),     8, HostClass::Loopback),
    (Ipv4Addr::new(169, 254, 0, 0),  16, HostClass::NonPublic), // link-local, cloud metadata
    (Ipv4Addr::new(172, 16, 0, 0),   12, HostClass::NonPublic), // private
    // IETF protocol assignments. 192.0.0.9 and 192.0.0.10 are global anycast,
    // but no published URL needs them, so the whole /24 is refused.
    (Ipv4Addr::new(192, 0, 0, 0),    24, HostClass::NonPublic),
    (Ipv4Addr::new(192, 0, 2, 0),    24, HostClass::NonPublic), // documentation
    (Ipv4Addr::new(192, 88, 99, 0),  24, HostClass::NonPublic), // 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0),  16, HostClass::NonPublic), // private
    (Ipv4Addr::new(198, 18, 0, 0),   15, HostClass::NonPublic), // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24, HostClass::NonPublic), // documentation
    (Ipv4Addr::new(203, 0, 113, 0),  24, HostClass::NonPublic), // documentation
    (Ipv4Addr::new(224, 0, 0, 0),     4, HostClass::NonPublic), // multicast
    (Ipv4Addr::new(240, 0, 0, 0),     4, HostClass::NonPublic), // reserved, and broadcast
];

/// What an IPv6 range in [`V6_RANGES`] means.
#[derive(Clone, Copy)]
enum V6Rule {
    Is(HostClass),
    /// The range carries an IPv4 address, in the four bytes from this index,
    /// and that address decides.
    EmbedsIpv4(usize),
}

/// IPv6 ranges with a meaning of their own (the IANA special-purpose
/// registry's ranges that are not globally reachable, the forms that embed an
/// IPv4 address, and multicast); the first match decides, anything else is
/// public.
#[rustfmt::skip]
const V6_RANGES: [(Ipv6Addr, u8, V6Rule); 17] = [
    (Ipv6Addr::UNSPECIFIED,                         128, V6Rule::Is(HostClass::NonPublic)),
    (Ipv6Addr::LOCALHOST,                           128, V6Rule::Is(HostClass::Loopback)),
    // IPv4-compatible (deprecated), IPv4-mapped, IPv4-translated, NAT64.
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),          96, V6Rule::EmbedsIpv4(12)),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),     96, V6Rule::EmbedsIpv4(12)),
    (Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, 0, 0),     96, V6Rule::EmbedsIpv4(12)),
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),  96, V6Rule::EmbedsIpv4(12)),
    // Local-use NAT64: the operator's own translator, to wherever it leads.
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),  48, V6Rule::Is(HostClass::NonPublic)),
    // Discard-only.
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),      64, V6Rule::Is(HostClass::NonPublic)),
    // IETF protocol assignments, among them Teredo (2001::/32) and
    // benchmarking (2001:2::/48). A few blocks inside are global (2001:1::1,
    // 2001:3::/32, 2001:4:112::/48, 2001:20::/28, 2001:30::/28), but no
    // published URL needs them, so the whole /23 is refused.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),     23, V6Rule::Is(HostClass::NonPublic)),
    // Documentation.
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, V6Rule::Is(HostClass::NonPublic)),
    // 6to4, whose IPv4 address is bits 16..48.
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),     16, V6Rule::EmbedsIpv4(2)),
    // Documentation.
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),     20, V6Rule::Is(HostClass::NonPublic)),
    // SRv6 segment identifiers.
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),     16, V6Rule::Is(HostClass::NonPublic)),
    // Unique local, link-local, site-local (deprecated), multicast.
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),      7, V6Rule::Is(HostClass::NonPublic)),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),     10, V6Rule::Is(HostClass::NonPublic)),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),     10, V6Rule::Is(HostClass::NonPublic)),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),      8, V6Rule::Is(HostClass::NonPublic)),
];

/// Classifies an address, including an IPv4 address carried in IPv6, so that
/// code can refuse to connect to anything but a public host.
pub fn classify_ip(ip: IpAddr) -> HostClass {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let within = |net: Ipv4Addr, len: u8| {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                (bits & mask) == u32::from(net)
            };
            V4_RANGES
                .into_iter()
                .find(|&(net, len, _)| within(net, len))
                .map_or(HostClass::Public, |(_, _, class)| class)
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let within = |net: Ipv6Addr, len: u8| {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                (bits & mask) == u128::from(net)
            };
            let rule = V6_RANGES
                .into_iter()
                .find(|&(net, len, _)| within(net, len))
                .map(|(_, _, rule)| rule);
            match rule {
                None => HostClass::Public,
                Some(V6Rule::Is(class)) => class,
                Some(V6Rule::EmbedsIpv4(at)) => {
                    let o = v6.octets();
                    classify_ip(IpAddr::from([o[at], o[at + 1], o[at + 2], o[at + 3]]))
                }
            }
        }
    }
}

fn refuse_non_public(class: HostClass, host: &str) -> Result<(), String> {
    match class {
        HostClass::Public => Ok(()),
        HostClass::Loopback => Err(format!(
            "the host '{}' is loopback (localhost); a published URL must name a public host",
            printable(host)
        )),
        HostClass::NonPublic => Err(format!(
            "the host '{}' is a private or special-purpose address; a published URL must name a public host",
            printable(host)
        )),
        HostClass::InternalName => Err(format!(
            "the host '{}' is an internal-only name; a published URL must name a public host",
            printable(host)
        )),
    }
}

/// A remote's host built from variables is checked against every literal
/// value those variables declare; undeclared values are the client's choice.
fn vet_templated_host(host: &str, used: &[&str], templates: &Templates<'_>) -> Result<(), String> {
    let Templates::Vars { declared, .. } = templates else {
        return Ok(());
    };
    for name in used {
        for candidate in declared.get(*name).into_iter().flatten() {
            let mut concrete = host.replace(&format!("{{{name}}}"), candidate);
            for other in used {
                concrete = concrete.replace(&format!("{{{other}}}"), "a");
            }
            let class = classify_host(&concrete).map_err(|e| {
                format!(
                    "the variable {{{name}}} may be '{}', which {e}",
                    printable(candidate)
                )
            })?;
            refuse_non_public(class, &concrete).map_err(|e| {
                format!(
                    "the variable {{{name}}} may be '{}': {e}",
                    printable(candidate)
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use UrlPolicy::{Dev, Production};
    use UrlRole::{PackageTransport, Remote, Site};

    fn site(raw: &str, policy: UrlPolicy) -> Result<(), String> {
        check_url(raw, Site, policy, &Templates::None)
    }

    #[test]
    fn a_remote_url_may_start_with_a_declared_variable() {
        let mut declared = BTreeMap::new();
        declared.insert("base_url".to_owned(), Vec::new());
        let vars = Templates::Vars {
            declared: &declared,
            declare_hint: "declare it",
        };
        assert_eq!(
            check_url("{base_url}/mcp", Remote, Production, &vars),
            Ok(())
        );
        let err = check_url("{other}/mcp", Remote, Production, &vars).unwrap_err();
        assert!(err.contains("{other}"), "{err}");
        assert!(check_url("{base_url}/mcp", Site, Production, &vars).is_err());
        assert!(check_url("{base_url}/m cp", Remote, Production, &vars).is_err());

        // Literal values it may take are vetted like any remote.
        declared.insert(
            "base_url".to_owned(),
            vec![
                "https://mcp.example.com".to_owned(),
                "http://10.0.0.1".to_owned(),
            ],
        );
        let vars = Templates::Vars {
            declared: &declared,
            declare_hint: "declare it",
        };
        let err = check_url("{base_url}/mcp", Remote, Production, &vars).unwrap_err();
        assert!(err.contains("10.0.0.1"), "{err}");
    }

    #[test]
    fn site_urls_are_https_to_public_hosts() {
        for ok in [
            "https://example.com",
            "https://example.com/",
            "https://EXAMPLE.com:8443/a?b=c#d",
            "https://93.184.216.34/x",
            "https://[2606:2800:220:1::]/x",
            "https://example.com./",
        ] {
            assert_eq!(site(ok, Production), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("http://example.com", "https"),
            ("ftp://example.com", "https"),
            ("example.com/x", "absolute"),
            ("https://", "no host"),
            ("https://user:pw@example.com/", "credentials"),
            ("https://example.com:0/", "port"),
            ("https://example.com:99999/", "port"),
            ("https://exa mple.com/", "' '"),
            ("https://example.com\\@evil.com/", "backslash"),
            ("https://exämple.com/", "ASCII"),
            ("https://%6c%6fcalhost/", "invalid host"),
            ("https://ex..ample.com/", "invalid host"),
            ("https://example.com/{x}", "placeholders"),
        ] {
            let err = site(bad, Dev).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn production_refuses_loopback_private_and_link_local_hosts() {
        for (bad, says) in [
            ("https://localhost/", "loopback"),
            ("https://LOCALHOST./", "loopback"),
            ("https://api.localhost/", "loopback"),
            ("https://127.0.0.1/", "loopback"),
            ("https://127.8.9.10:8443/", "loopback"),
            ("https://[::1]/", "loopback"),
            ("https://[::ffff:127.0.0.1]/", "loopback"),
            ("https://10.1.2.3/", "private"),
            ("https://172.16.0.1/", "private"),
            ("https://172.31.255.255/", "private"),
            ("https://192.168.1.1/", "private"),
            ("https://169.254.169.254/latest/meta-data", "private"),
            ("https://0.0.0.0/", "private"),
            ("https://100.64.0.1/", "private"),
            ("https://[fc00::1]/", "private"),
            ("https://[fd12:3456::1]/", "private"),
            ("https://[fe80::1]/", "private"),
            ("https://[::ffff:10.0.0.1]/", "private"),
            ("https://[::]/", "private"),
        ] {
            let err = site(bad, Production).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
            assert_eq!(site(bad, Dev), Ok(()), "{bad} under Dev");
        }
        // Just outside the private ranges.
        for ok in [
            "https://172.32.0.1/",
            "https://11.0.0.1/",
            "https://192.169.0.1/",
        ] {
            assert_eq!(site(ok, Production), Ok(()), "{ok}");
        }
    }

    #[test]
    fn classify_ip_decides_at_each_range_boundary() {
        use HostClass::{Loopback, NonPublic, Public};
        for (ip, want) in [
            ("198.17.255.255", Public),
            ("198.18.0.0", NonPublic),
            ("198.19.255.255", NonPublic),
            ("198.20.0.0", Public),
            ("100.63.255.255", Public),
            ("100.64.0.0", NonPublic),
            ("100.127.255.255", NonPublic),
            ("100.128.0.0", Public),
            ("126.255.255.255", Public),
            ("127.0.0.0", Loopback),
            ("127.255.255.255", Loopback),
            ("128.0.0.0", Public),
            ("191.255.255.255", Public),
            ("192.0.0.0", NonPublic),
            ("192.0.0.255", NonPublic),
            ("192.0.1.0", Public),
            ("223.255.255.255", Public),
            ("224.0.0.0", NonPublic),
            ("255.255.255.255", NonPublic),
            ("::", NonPublic),
            ("::1", Loopback),
            ("::2", NonPublic),
            ("::808:808", Public),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:808:808", Public),
            ("::ffff:0:a00:1", NonPublic),
            ("::ffff:0:808:808", Public),
            ("64:ff9b::", NonPublic),
            ("64:ff9b::808:808", Public),
            ("64:ff9b::ffff:ffff", NonPublic),
            ("64:ff9b:1::", NonPublic),
            ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", NonPublic),
            ("100::", NonPublic),
            ("100::ffff:ffff:ffff:ffff", NonPublic),
            ("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Public),
            ("2001::", NonPublic),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", NonPublic),
            ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", NonPublic),
            ("2001:200::", Public),
            ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", Public),
            ("2001:db8::", NonPublic),
            ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", NonPublic),
            ("2001:db9::", Public),
            ("2002:5db8:d822::", Public),
            ("2002:c0a8:101::", NonPublic),
            ("2002:7f00:1::", Loopback),
            ("2606:4700::1111", Public),
            ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Public),
            ("3fff::", NonPublic),
            ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", NonPublic),
            ("3fff:1000::", Public),
            ("5f00::1", NonPublic),
            ("fc00::", NonPublic),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NonPublic),
            ("fe80::", NonPublic),
            ("fecf::1", NonPublic),
            ("ff02::1", NonPublic),
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(classify_ip(parsed), want, "{ip}");
        }
    }

    #[test]
    fn production_refuses_internal_only_names() {
        for bad in [
            "metadata.google.internal",
            "METADATA.GOOGLE.INTERNAL.",
            "metadata",
            "intranet",
            "printer.local",
            "nas.lan",
            "router.home.arpa",
            "box.localdomain",
            "wiki.intranet",
            "git.corp",
            "media.home",
            "db.private",
        ] {
            let url = format!("https://{bad}/mcp");
            let err = check_url(&url, Remote, Production, &Templates::None).unwrap_err();
            assert!(
                err.contains(bad) && err.contains("internal-only"),
                "{bad}: {err}"
            );
            assert_eq!(site(&url, Dev), Ok(()), "{bad} under Dev");
        }
        for ok in [
            "example.com",
            "api.acme.io",
            "internal.example.com",
            "local.example.com",
            "example.notinternal",
            "corp.example.lan.io",
        ] {
            let url = format!("https://{ok}/mcp");
            assert_eq!(
                check_url(&url, Remote, Production, &Templates::None),
                Ok(()),
                "{ok}"
            );
        }
    }

    #[test]
    fn numeric_shorthand_hosts_are_refused_not_interpreted() {
        for bad in [
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f.0.0.1/",
            "https://0x7f000001/",
            "https://017700000001/",
            "https://127.0.0.01/",
        ] {
            let err = site(bad, Dev).unwrap_err();
            assert!(err.contains("numeric host"), "{bad}: {err}");
        }
    }

    #[test]
    fn remotes_may_use_plain_http_to_loopback_only_in_dev() {
        let none = &Templates::None;
        for raw in [
            "http://localhost:8080/mcp",
            "http://127.0.0.1/mcp",
            "http://[::1]:3000/",
        ] {
            assert_eq!(check_url(raw, Remote, Dev, none), Ok(()), "{raw}");
            assert!(check_url(raw, Remote, Production, none).is_err(), "{raw}");
        }
        let err = check_url("http://example.com/mcp", Remote, Dev, none).unwrap_err();
        assert!(err.contains("https"), "{err}");
        let err = check_url("http://10.0.0.1/mcp", Remote, Dev, none).unwrap_err();
        assert!(err.contains("https"), "{err}");
        assert_eq!(check_url("https://10.0.0.1/mcp", Remote, Dev, none), Ok(()));
    }

    #[test]
    fn package_transports_listen_on_loopback_under_either_policy() {
        let declared = BTreeMap::from([("--port".to_owned(), vec!["3000".to_owned()])]);
        let vars = Templates::Vars {
            declared: &declared,
            declare_hint: "declare it",
        };
        for policy in [Production, Dev] {
            assert_eq!(
                check_url(
                    "http://localhost:{--port}/mcp",
                    PackageTransport,
                    policy,
                    &vars
                ),
                Ok(())
            );
            assert_eq!(
                check_url("http://127.0.0.1:8080/mcp", PackageTransport, policy, &vars),
                Ok(())
            );
            assert!(check_url("http://example.com/mcp", PackageTransport, policy, &vars).is_err());
        }
        let err =
            check_url("https://10.0.0.5/mcp", PackageTransport, Production, &vars).unwrap_err();
        assert!(err.contains("private"), "{err}");
        assert_eq!(
            check_url("https://10.0.0.5/mcp", PackageTransport, Dev, &vars),
            Ok(())
        );
    }

    #[test]
    fn placeholders_must_be_declared() {
        let declared = BTreeMap::from([("tenant_id".to_owned(), vec![])]);
        let vars = Templates::Vars {
            declared: &declared,
            declare_hint: "add it to variables",
        };
        assert_eq!(
            check_url(
                "https://{tenant_id}.api.example.com/mcp",
                Remote,
                Production,
                &vars
            ),
            Ok(())
        );
        let err = check_url(
            "https://api.example.com/{tenant}/{x}",
            Remote,
            Production,
            &vars,
        )
        .unwrap_err();
        assert!(
            err.contains("{tenant}, {x}") && err.contains("add it to variables"),
            "{err}"
        );
        for (bad, says) in [
            ("https://a.com/{tenant_id", "without a matching '}'"),
            ("https://a.com/tenant_id}", "without a matching '{'"),
            ("https://a.com/{}", "placeholder"),
            ("https://a.com/{a b}", "' '"),
            ("https://a.com/{{tenant_id}}", "matching"),
        ] {
            let err = check_url(bad, Remote, Dev, &vars).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_templated_remote_host_is_vetted_by_its_declared_values() {
        let declared = BTreeMap::from([(
            "host".to_owned(),
            vec!["api.example.com".to_owned(), "127.0.0.1".to_owned()],
        )]);
        let vars = Templates::Vars {
            declared: &declared,
            declare_hint: "",
        };
        let err = check_url("https://{host}/mcp", Remote, Production, &vars).unwrap_err();
        assert!(
            err.contains("{host} may be '127.0.0.1'") && err.contains("loopback"),
            "{err}"
        );
        assert_eq!(check_url("https://{host}/mcp", Remote, Dev, &vars), Ok(()));
        let err = check_url("http://{host}/mcp", Remote, Dev, &vars).unwrap_err();
        assert!(err.contains("https"), "{err}");
    }
}
