//! Choosing between the PEP 691 JSON and the PEP 503 HTML form from an `Accept` header.

/// The PEP 691 JSON form's media type.
pub(super) const JSON: &str = "application/vnd.pypi.simple.v1+json";
/// The HTML form under its PEP 691 name.
pub(super) const HTML_V1: &str = "application/vnd.pypi.simple.v1+html";
/// The HTML form under its PEP 503 name.
pub(super) const TEXT_HTML: &str = "text/html";

const JSON_LATEST: &str = "application/vnd.pypi.simple.latest+json";
const HTML_LATEST: &str = "application/vnd.pypi.simple.latest+html";

/// The form of a simple page, with the `Content-Type` it is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Html(&'static str),
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON,
            Format::Html(content_type) => content_type,
        }
    }
}

/// The form to answer `accept` with, or `None` for a 406.
///
/// JSON when the header names a JSON type with a q-value at least the HTML form's; HTML
/// otherwise, as PEP 691 advises for clients that did not ask (no header, or only
/// wildcards); JSON again if only it is acceptable. `latest` answers as `v1`.
pub(super) fn negotiate(accept: Option<&str>) -> Option<Format> {
    let ranges = parse(accept.filter(|a| !a.trim().is_empty()).unwrap_or("*/*"));
    // A wildcard already matches the `v1` names; `latest` counts only where it is named.
    let json_q = quality(&ranges, JSON).max(named_quality(&ranges, JSON_LATEST));
    let html_v1_q = quality(&ranges, HTML_V1).max(named_quality(&ranges, HTML_LATEST));
    let text_html_q = quality(&ranges, TEXT_HTML);
    let html_q = html_v1_q.max(text_html_q);
    let names_json = ranges
        .iter()
        .any(|range| range.q > 0.0 && (range.media == JSON || range.media == JSON_LATEST));
    let html = Format::Html(if html_v1_q > text_html_q {
        HTML_V1
    } else {
        TEXT_HTML
    });
    if names_json && json_q >= html_q {
        Some(Format::Json)
    } else if html_q > 0.0 {
        Some(html)
    } else if json_q > 0.0 {
        Some(Format::Json)
    } else {
        None
    }
}

struct MediaRange {
    media: String,
    q: f32,
}

fn parse(accept: &str) -> Vec<MediaRange> {
    accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            if media.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|param| param.split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, value)| value.trim().parse().unwrap_or(0.0));
            Some(MediaRange {
                media,
                q: f32::clamp(q, 0.0, 1.0),
            })
        })
        .collect()
}

/// The q-value of the most specific range that matches `offer` (0 if none does).
fn quality(ranges: &[MediaRange], offer: &str) -> f32 {
    let offer_type = offer.split('/').next().unwrap_or(offer);
    let specificity = |media: &str| {
        if media == offer {
            Some(3)
        } else if media.strip_suffix("/*") == Some(offer_type) {
            Some(2)
        } else if media == "*/*" {
            Some(1)
        } else {
            None
        }
    };
    ranges
        .iter()
        .filter_map(|range| Some((specificity(&range.media)?, range.q)))
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map_or(0.0, |(_, q)| q)
}

/// The q-value of the range that names `offer` exactly (0 if none does).
fn named_quality(ranges: &[MediaRange], offer: &str) -> f32 {
    ranges
        .iter()
        .filter(|range| range.media == offer)
        .map(|range| range.q)
        .fold(0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_what_clients_ask_for() {
        let pip = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
        assert_eq!(negotiate(Some(pip)), Some(Format::Json));
        assert_eq!(negotiate(None), Some(Format::Html(TEXT_HTML)));
        assert_eq!(negotiate(Some("*/*")), Some(Format::Html(TEXT_HTML)));
        assert_eq!(negotiate(Some(JSON_LATEST)), Some(Format::Json));
        assert_eq!(negotiate(Some(HTML_V1)), Some(Format::Html(HTML_V1)));
    }

    #[test]
    fn honours_q_values() {
        let prefers_html = "application/vnd.pypi.simple.v1+json; q=0.5, text/html";
        assert_eq!(negotiate(Some(prefers_html)), Some(Format::Html(TEXT_HTML)));
        let equal = "application/vnd.pypi.simple.v1+json; q=0.5, text/html; q=0.5";
        assert_eq!(negotiate(Some(equal)), Some(Format::Json));
        let refuses_html = "text/html; q=0, application/vnd.pypi.simple.v1+html; q=0, */*";
        assert_eq!(negotiate(Some(refuses_html)), Some(Format::Json));
        assert_eq!(negotiate(Some("application/json")), None);
        assert_eq!(negotiate(Some("*/*; q=0")), None);
    }
}
