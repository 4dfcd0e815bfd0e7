//! The ownership marker a PyPI project puts in its description to claim a
//! server name: `mcp-name: io.github.alice/weather`.

const PREFIX: &str = "mcp-name:";

/// True when `description` contains `mcp-name: <server_name>` as a whole token.
///
/// - At least one space or tab follows the colon (upstream writes exactly one).
/// - The name matches case-sensitively, as upstream's check does.
/// - The name must end there: at the end of the text, or before a character
///   that cannot continue a server name. So `io.x/foo-evil` does not claim
///   `io.x/foo`, and `io.x/foo` inside `io.x/foox` does not count. Markdown
///   around the token (backticks, `<!-- … -->`, even `-->` written without a
///   space, as upstream allows) is fine.
pub fn has_pypi_marker(description: &str, server_name: &str) -> bool {
    if server_name.is_empty() {
        return false;
    }
    description.match_indices(PREFIX).any(|(at, _)| {
        let after = &description[at + PREFIX.len()..];
        let name_start = after.trim_start_matches([' ', '\t']);
        if name_start.len() == after.len() {
            return false;
        }
        name_start
            .strip_prefix(server_name)
            .is_some_and(ends_a_name)
    })
}

/// Whether `rest`, the text right after a matched name, ends the name.
fn ends_a_name(rest: &str) -> bool {
    let continues = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/');
    match rest.chars().next() {
        None => true,
        Some(c) if !continues(c) => true,
        // `-` continues a name, except as the start of an HTML comment close.
        Some(_) => rest.starts_with("-->") || rest.starts_with("--!>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "io.github.alice/foo";

    #[test]
    fn finds_the_marker_as_a_whole_token() {
        for text in [
            "mcp-name: io.github.alice/foo",
            "Intro.\n\nmcp-name: io.github.alice/foo\n\nMore.",
            "<!-- mcp-name: io.github.alice/foo -->",
            "<!-- mcp-name: io.github.alice/foo-->",
            "`mcp-name: io.github.alice/foo`",
            "mcp-name:\tio.github.alice/foo",
            "mcp-name:  io.github.alice/foo, and more",
            "<p>mcp-name: io.github.alice/foo</p>",
            "mcp-name: io.github.alice/foo-evil\nmcp-name: io.github.alice/foo",
        ] {
            assert!(has_pypi_marker(text, NAME), "{text:?}");
        }
    }

    #[test]
    fn a_longer_name_does_not_claim_a_shorter_one() {
        for text in [
            "mcp-name: io.github.alice/foo-evil",
            "mcp-name: io.github.alice/foox",
            "mcp-name: io.github.alice/foo.bar",
            "mcp-name: io.github.alice/foo_2",
            "mcp-name: io.github.alice/foo/extra",
            "mcp-name: io.github.alice/fo",
            "mcp-name: xio.github.alice/foo",
        ] {
            assert!(!has_pypi_marker(text, NAME), "{text:?}");
        }
    }

    #[test]
    fn the_prefix_and_case_must_match() {
        for text in [
            "io.github.alice/foo",
            "mcp-name:io.github.alice/foo",
            "mcp-name: IO.GITHUB.ALICE/FOO",
            "mcp_name: io.github.alice/foo",
            "mcp-name:\nio.github.alice/foo",
            "",
        ] {
            assert!(!has_pypi_marker(text, NAME), "{text:?}");
        }
        assert!(!has_pypi_marker("mcp-name: ", ""));
    }

    #[test]
    fn unicode_around_the_marker_is_fine() {
        assert!(has_pypi_marker("é mcp-name: io.github.alice/foo…", NAME));
        assert!(has_pypi_marker("mcp-name: io.github.alice/foo→", NAME));
    }
}
