//! Names and filenames as URL path segments: the one set of characters Wharf
//! leaves unescaped, so every link and request path is spelled the same way.
//! Query strings are built and parsed with `form_urlencoded` instead.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters is escaped, except `+`
/// and `!`, which appear in local versions and epochs and mean nothing
/// special in a path.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'+')
    .remove(b'!');

/// `raw` percent-encoded as one path segment: `/`, `?`, `#`, `%`, spaces and
/// non-ASCII bytes are escaped.
pub fn encode_path_segment(raw: &str) -> String {
    utf8_percent_encode(raw, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_plus_and_bang_stay_and_the_rest_is_escaped() {
        assert_eq!(
            encode_path_segment("demo-1.0+local.whl"),
            "demo-1.0+local.whl"
        );
        assert_eq!(encode_path_segment("1!2.0~rc"), "1!2.0~rc");
        assert_eq!(encode_path_segment("a b#?.whl"), "a%20b%23%3F.whl");
        assert_eq!(
            encode_path_segment("io.github.alice/weather"),
            "io.github.alice%2Fweather"
        );
        assert_eq!(encode_path_segment("100%é&="), "100%25%C3%A9%26%3D");
    }
}
