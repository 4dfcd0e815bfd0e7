//! Archive refusals from the checked reader, as `block` findings.

use crate::report::{Finding, Severity};
use crate::rules;
use wharf_artifact::ArtifactError;

/// The finding for a refusal; its rule ID is the reader's error code.
pub fn finding(e: &ArtifactError) -> Finding {
    let rule = e.code();
    Finding {
        rule: rule.to_owned(),
        severity: Severity::Block,
        file: None,
        line: None,
        evidence: Some(e.to_string()),
        explanation: rules::lookup(rule)
            .map_or("the archive was refused", |r| r.explanation)
            .to_owned(),
        context: None,
        fingerprint: None,
        history: None,
    }
}
