//! The checks a configured master key must pass before it is used.
//!
//! These catch the keys people actually ship by mistake (a copied example, a
//! keyboard run, one character repeated), not every low-entropy key: nothing
//! can tell a random string from a well-disguised guessable one. The
//! thresholds are far from anything random bytes or a random base64 or hex
//! string hit, so a freshly generated key is never refused.

/// The fewest bytes of key material accepted (and the AEAD key size).
pub(crate) const MIN_KEY_BYTES: usize = 32;

/// The fewest distinct byte values accepted. Random 32 bytes have about 30.
const MIN_DISTINCT_BYTES: usize = 8;

/// Words from documentation, `.env.example` files and tutorials, compared
/// after lowercasing and dropping everything but letters and digits (so
/// `Change-Me` and `change_me` match too). Each is at least 6 characters long,
/// so a random base64 key contains one by chance about once in a million.
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "changeit",
    "changethis",
    "replaceme",
    "replacethis",
    "example",
    "placeholder",
    "yoursecret",
    "yourkey",
    "mysecret",
    "supersecret",
    "password",
    "passw0rd",
    "insecure",
    "notsecret",
    "notasecret",
    "donotuse",
    "dontuse",
    "devonly",
    "testkey",
    "testsecret",
    "sample",
    "qwerty",
    "letmein",
    "loremipsum",
    "foobar",
];

/// Refuses `material` (the bytes the key is derived from) or `value` (the
/// configured text it came from) if either looks like a guessable key. The
/// error names the problem and never the value.
pub(crate) fn check(value: &str, material: &[u8]) -> Result<(), String> {
    for bytes in [value.as_bytes(), material] {
        if distinct_bytes(bytes) < MIN_DISTINCT_BYTES {
            return Err(format!(
                "it has fewer than {MIN_DISTINCT_BYTES} distinct byte values"
            ));
        }
        if contains_placeholder_word(bytes) {
            return Err("it contains a placeholder word from an example or template".to_owned());
        }
        if has_short_period(bytes) {
            return Err("it repeats a short pattern".to_owned());
        }
        if is_mostly_sequential(bytes) {
            return Err("it is mostly a run of neighbouring characters, such as consecutive digits or letters".to_owned());
        }
    }
    Ok(())
}

fn distinct_bytes(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    for &b in bytes {
        seen[usize::from(b)] = true;
    }
    seen.iter().filter(|&&s| s).count()
}

/// True if `bytes` is at least two copies of one unit (a partial last copy
/// allowed): `abcabcab`, `0123456789abcdef0123456789abcdef`. The smallest
/// period comes from the prefix function (Knuth–Morris–Pratt), in linear time.
fn has_short_period(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n < 2 {
        return false;
    }
    let mut prefix = vec![0usize; n];
    for i in 1..n {
        let mut k = prefix[i - 1];
        while k > 0 && bytes[i] != bytes[k] {
            k = prefix[k - 1];
        }
        if bytes[i] == bytes[k] {
            k += 1;
        }
        prefix[i] = k;
    }
    let period = n - prefix[n - 1];
    period <= n / 2
}

/// True if more than half of the neighbouring pairs differ by at most one
/// (`0123…`, `abcd…`, `zyxw…`, `aabbcc…`). Random bytes do so 3 times in 256,
/// random alphanumerics about 3 times in 62.
fn is_mostly_sequential(bytes: &[u8]) -> bool {
    let pairs = bytes.len().saturating_sub(1);
    if pairs == 0 {
        return false;
    }
    let close = bytes
        .windows(2)
        .filter(|w| w[0].abs_diff(w[1]) <= 1)
        .count();
    close * 2 > pairs
}

fn contains_placeholder_word(bytes: &[u8]) -> bool {
    let folded: Vec<u8> = bytes
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    PLACEHOLDER_WORDS.iter().any(|word| {
        folded
            .windows(word.len())
            .any(|window| window == word.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_periods_are_found() {
        assert!(has_short_period(b"abcabcab"));
        assert!(has_short_period(b"0123456789abcdef0123456789abcdef"));
        assert!(has_short_period(b"aa"));
        assert!(!has_short_period(b"abcabcx"));
        assert!(!has_short_period(b"a"));
        assert!(!has_short_period(b"k3J9xQ2mP7vL0wR5"));
    }

    #[test]
    fn sequences_are_found_in_either_direction() {
        assert!(is_mostly_sequential(b"0123456789abcdefghijklmnopqrstuv"));
        assert!(is_mostly_sequential(b"zyxwvutsrqponmlkjihgfedcba987654"));
        assert!(is_mostly_sequential(b"aabbccddeeffgghhiijjkkllmmnnoopp"));
        assert!(!is_mostly_sequential(b"k3J9xQ2mP7vL0wR5"));
        assert!(!is_mostly_sequential(b""));
    }

    #[test]
    fn placeholder_words_match_across_case_and_separators() {
        assert!(contains_placeholder_word(b"Change-Me-Before-Deploying"));
        assert!(contains_placeholder_word(b"x_EXAMPLE_x"));
        assert!(!contains_placeholder_word(b"k3J9xQ2mP7vL0wR5"));
    }

    #[test]
    fn distinct_bytes_are_counted() {
        assert_eq!(distinct_bytes(b""), 0);
        assert_eq!(distinct_bytes(b"abcabc"), 3);
        assert_eq!(distinct_bytes(&[0, 255, 0]), 2);
    }
}
