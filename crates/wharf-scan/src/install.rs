//! Code that runs without anyone importing the package: `.pth` lines that `site` executes.

use crate::excerpt::excerpt;
use crate::report::{Finding, Severity};

/// `site` executes every `.pth` line that starts with `import` followed by a space or tab.
pub fn pth_imports(name: &str, text: &str) -> Option<Finding> {
    let (number, line) = text
        .lines()
        .enumerate()
        .find(|(_, line)| line.starts_with("import ") || line.starts_with("import\t"))?;
    Some(Finding {
        rule: "install.pth-import".into(),
        severity: Severity::Quarantine,
        file: Some(name.to_owned()),
        line: Some(u32::try_from(number + 1).unwrap_or(u32::MAX)),
        evidence: Some(excerpt(line, 0)),
        explanation: "this .pth line is executed by every Python interpreter start once installed"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_site_would_execute_count() {
        assert!(pth_imports("a.pth", "/opt/lib\n# import os\n").is_none());
        assert!(
            pth_imports("a.pth", "  import os\n").is_none(),
            "site needs it at column 0"
        );
        let found = pth_imports("a.pth", "/opt/lib\nimport os; os.system('id')\n").unwrap();
        assert_eq!(found.line, Some(2));
        assert_eq!(
            found.evidence.as_deref(),
            Some("import os; os.system('id')")
        );
    }
}
