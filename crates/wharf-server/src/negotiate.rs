//! Content negotiation for the simple API (PEP 691): q-values honoured,
//! `q=0` meaning "not acceptable", the most specific matching range winning.

/// A media type the simple API can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimpleType {
    V1Json,
    V1Html,
    TextHtml,
}

impl SimpleType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::V1Json => "application/vnd.pypi.simple.v1+json",
            Self::V1Html => "application/vnd.pypi.simple.v1+html",
            Self::TextHtml => "text/html; charset=utf-8",
        }
    }
}

/// Offered types with the names a client may ask for them by. `latest`
/// aliases are answered with the real versioned type.
const OFFERS: [(SimpleType, &[&str]); 3] = [
    (
        SimpleType::V1Json,
        &[
            "application/vnd.pypi.simple.v1+json",
            "application/vnd.pypi.simple.latest+json",
        ],
    ),
    (
        SimpleType::V1Html,
        &[
            "application/vnd.pypi.simple.v1+html",
            "application/vnd.pypi.simple.latest+html",
        ],
    ),
    (SimpleType::TextHtml, &["text/html"]),
];

/// Picks the response type for an `Accept` header; `None` means 406.
/// A missing header means `*/*`, which gets HTML, like PyPI.
pub fn choose(accept: Option<&str>) -> Option<SimpleType> {
    let accept = accept
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("*/*");
    let ranges: Vec<(String, f32)> = accept.split(',').filter_map(parse_range).collect();
    let mut best: Option<(f32, u8, u8, SimpleType)> = None;
    for (preference, (offer, names)) in OFFERS.iter().enumerate() {
        // The most specific range that matches this offer decides its q.
        let mut matched: Option<(u8, f32)> = None;
        for (range, q) in &ranges {
            let specificity = if names.contains(&range.as_str()) {
                3
            } else if range
                .strip_suffix("/*")
                .is_some_and(|major| names[0].starts_with(&format!("{major}/")))
            {
                2
            } else if range == "*/*" {
                1
            } else {
                continue;
            };
            if matched.is_none_or(|(s, _)| specificity > s) {
                matched = Some((specificity, *q));
            }
        }
        let Some((specificity, q)) = matched else {
            continue;
        };
        if q <= 0.0 {
            continue;
        }
        // Ties go to the more specific match, then to text/html for
        // wildcards (what browsers and old clients want) and to JSON for
        // explicit types (the richer format).
        let rank = if specificity == 3 {
            10 - preference as u8
        } else {
            preference as u8
        };
        let candidate = (q, specificity, rank, *offer);
        if best.is_none_or(|b| (candidate.0, candidate.1, candidate.2) > (b.0, b.1, b.2)) {
            best = Some(candidate);
        }
    }
    best.map(|b| b.3)
}

fn parse_range(part: &str) -> Option<(String, f32)> {
    let mut pieces = part.split(';');
    let media = pieces.next()?.trim().to_ascii_lowercase();
    if media.is_empty() {
        return None;
    }
    let mut q = 1.0;
    for param in pieces {
        if let Some((key, value)) = param.split_once('=') {
            if key.trim().eq_ignore_ascii_case("q") {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| (0.0..=1.0).contains(v))
                    .unwrap_or(0.0);
            }
        }
    }
    Some((media, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SimpleType::*;

    #[test]
    fn pip_gets_json() {
        let pip = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
        assert_eq!(choose(Some(pip)), Some(V1Json));
    }

    #[test]
    fn q_values_are_honoured() {
        assert_eq!(
            choose(Some("application/vnd.pypi.simple.v1+json;q=0.2, text/html")),
            Some(TextHtml)
        );
        assert_eq!(
            choose(Some("application/vnd.pypi.simple.v1+html")),
            Some(V1Html)
        );
        assert_eq!(
            choose(Some("application/vnd.pypi.simple.latest+json")),
            Some(V1Json)
        );
    }

    #[test]
    fn missing_or_wildcard_accept_gets_html() {
        assert_eq!(choose(None), Some(TextHtml));
        assert_eq!(choose(Some("*/*")), Some(TextHtml));
        assert_eq!(choose(Some("text/*")), Some(TextHtml));
    }

    #[test]
    fn q_zero_means_not_acceptable() {
        assert_eq!(
            choose(Some("text/html;q=0, application/vnd.pypi.simple.v1+json")),
            Some(V1Json)
        );
        assert_eq!(choose(Some("application/json")), None);
        assert_eq!(choose(Some("text/html;q=0")), None);
        assert_eq!(choose(Some("image/png, application/xml")), None);
    }

    #[test]
    fn a_more_specific_range_overrides_a_wildcard() {
        // */* would allow HTML, but the explicit q=0 forbids text/html.
        let chosen = choose(Some("*/*, text/html;q=0")).unwrap();
        assert_ne!(chosen, TextHtml);
    }
}
