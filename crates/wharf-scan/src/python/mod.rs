//! Python read as code: parsed with ruff's parser, then walked by a small abstract
//! interpreter ([`eval`]) that folds constants, resolves names however they are
//! spelled, follows data from where it is read to where it is sent, and knows where
//! each piece of code runs. Comments and docstrings are never evidence.
//!
//! A finding holds a file only when it is a threat in the place its code runs
//! ([`eval::Strength`]): capabilities alone (a network client, a subprocess) are not
//! findings at all, and threats that ordinary clients share (sending host details)
//! hold only where code runs by itself: on import, on install, from a `.pth` file or
//! an entry point.

mod command;
mod eval;
mod known;
mod shape;
mod value;

use crate::excerpt::{excerpt, line_at};
use crate::report::{Context, Finding, Severity};
use eval::{Analyzer, Hit, Place, Strength};

/// A finding about Python code, with what an entry point would change.
#[derive(Debug, Clone)]
pub struct CodeFinding {
    pub finding: Finding,
    /// The function it is in (`Class.method` for methods).
    pub function: Option<String>,
    /// The severity it would have where code runs by itself.
    pub if_run: Severity,
}

/// What a Python file is to the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A module: its top level runs on import.
    Module,
    /// The sdist's `setup.py`: everything in it runs on install.
    Setup,
}

/// What one Python file does, as far as the analysis can tell.
pub struct Scanned {
    pub findings: Vec<CodeFinding>,
    /// Importing it (or running it, for `setup.py`) runs commands, executes code or
    /// uses the network.
    pub active_at_top: bool,
    /// Functions of other modules (`pkg.helper.run`) its top level calls.
    pub calls_at_top: std::collections::BTreeSet<String>,
}

/// The dotted package of a member as a wheel holds it (`pkg.sub` for
/// `pkg/sub/mod.py` and for `pkg/sub/__init__.py`).
pub fn package_of(member: &str) -> Option<String> {
    let mut parts: Vec<&str> = member.split('/').collect();
    parts.pop()?;
    let valid = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_');
    (!parts.is_empty() && parts.iter().all(valid)).then(|| parts.join("."))
}

/// Why a Python file was not analysed, and the line the parser stopped at.
#[derive(Debug)]
pub struct Unparsable {
    pub reason: String,
    pub line: Option<u32>,
}

impl Unparsable {
    fn whole_file(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            line: None,
        }
    }
}

/// Analyses one Python file. `Err` says why it could not be parsed (old Python 2
/// code, or a file meant to confuse parsers): the caller falls back to the text
/// heuristics.
pub fn scan(
    name: &str,
    text: &str,
    kind: Kind,
    package: Option<String>,
) -> Result<Scanned, Unparsable> {
    if let Some(reason) = shape::too_deep(text) {
        return Err(Unparsable::whole_file(reason));
    }
    on_deep_stack(|| {
        let parsed = ruff_python_parser::parse_module(text).map_err(|e| {
            let at = usize::from(e.location.start()).min(text.len());
            let line = text.as_bytes()[..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            Unparsable {
                reason: e.error.to_string(),
                line: u32::try_from(line).ok(),
            }
        })?;
        let top = match kind {
            Kind::Module => Place::Import,
            Kind::Setup => Place::Install,
        };
        let mut analyzer = Analyzer::new(text, top);
        analyzer.package = package;
        analyzer.module(&parsed.syntax().body);
        let mut hits = std::mem::take(&mut analyzer.hits);
        hits.extend(module_rules(&analyzer, top));
        Ok(Scanned {
            findings: findings(name, text, hits, 0),
            active_at_top: analyzer.active_at_top,
            calls_at_top: std::mem::take(&mut analyzer.calls_at_top),
        })
    })
}

/// The stack a file's parse and analysis run on. [`shape::MAX_DEPTH`] bounds their
/// recursion; this leaves room for it whatever thread the caller scans on (a tokio
/// blocking thread has 2 MiB). Untouched stack pages cost no memory.
const SCAN_STACK_BYTES: usize = 256 << 20;

fn on_deep_stack<T: Send>(
    work: impl FnOnce() -> Result<T, Unparsable> + Send,
) -> Result<T, Unparsable> {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("wharf-scan-python".into())
            .stack_size(SCAN_STACK_BYTES)
            .spawn_scoped(scope, work)
            .map_err(|e| Unparsable::whole_file(format!("no thread to parse it on: {e}")))?;
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The lines of a `.pth` file that `site` executes (those starting with `import`),
/// each analysed as code that runs at every interpreter start. Such a line is always
/// reported; it holds the file when it does more than import (a command, the network,
/// decoding, exec).
pub fn scan_pth(name: &str, text: &str) -> Vec<CodeFinding> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if !(line.starts_with("import ") || line.starts_with("import\t")) {
            continue;
        }
        let mut analyzer = Analyzer::new(line, Place::Pth);
        let active = match ruff_python_parser::parse_module(line) {
            Ok(parsed) => {
                analyzer.module(&parsed.syntax().body);
                let mut hits = std::mem::take(&mut analyzer.hits);
                hits.extend(module_rules(&analyzer, Place::Pth));
                let active = !hits.is_empty()
                    || analyzer.facts.runs_code.is_some()
                    || analyzer.facts.network.is_some()
                    || analyzer.facts.file_write.is_some();
                out.extend(findings(name, text, hits, start));
                active
            }
            // site would run it and fail; a line that does not parse hides something.
            Err(_) => true,
        };
        let severity = if active {
            Severity::Quarantine
        } else {
            Severity::Warn
        };
        let (number, _, content) = line_at(text, start);
        out.push(CodeFinding {
            finding: Finding {
                rule: "install.pth-import".into(),
                severity,
                file: Some(name.to_owned()),
                line: Some(number),
                evidence: Some(excerpt(content, 0)),
                explanation: if active {
                    "this .pth line runs commands, decodes, executes or uses the network at every interpreter start".into()
                } else {
                    "this .pth line imports a module at every interpreter start".into()
                },
                context: Some(Context::Pth),
                fingerprint: None,
                history: None,
            },
            function: None,
            if_run: severity,
        });
    }
    out
}

/// Rules over the whole module: two facts that together are an attack.
fn module_rules(a: &Analyzer<'_>, top: Place) -> Vec<Hit> {
    let facts = &a.facts;
    let mut out = Vec::new();
    let mut add = |rule, offset, strength, why: &str| {
        out.push(Hit {
            rule,
            offset,
            why: why.to_owned(),
            place: top,
            function: None,
            strength,
        });
    };
    if let Some(hook) = facts.key_hook {
        if facts.network.is_some() || facts.file_write.is_some() {
            add(
                "code.spyware",
                hook,
                Strength::Always,
                "a keyboard hook is installed in code that sends data or writes files: a keylogger",
            );
        } else {
            add(
                "code.spyware",
                hook,
                Strength::Info,
                "a keyboard hook is installed",
            );
        }
    }
    if let (Some(read), Some(_)) = (facts.clipboard_read, facts.clipboard_write) {
        add("code.clipboard-hijack", read, Strength::Always, "the clipboard is read and replaced with a fixed value, as address-swapping malware does");
    } else if let Some(read) = facts.clipboard_read {
        add(
            "code.clipboard",
            read,
            Strength::Info,
            "the clipboard is read",
        );
    }
    let injection: Vec<&str> = facts
        .injection
        .iter()
        .map(|(api, _)| api.as_str())
        .filter(|api| !matches!(*api, "MiniDumpWriteDump" | "ReadProcessMemory"))
        .collect();
    let mut distinct = injection.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() >= 2 {
        add(
            "code.process-injection",
            facts.injection[0].1,
            Strength::Always,
            "memory is written into another process and a thread started there",
        );
    }
    if let (Some(at), Some(_)) = (facts.ld_preload, facts.runs_code) {
        add(
            "code.process-injection",
            at,
            Strength::WhenRun,
            "a process is started with LD_PRELOAD, which loads a library into it",
        );
    }
    if let Some((_, at)) = facts
        .injection
        .iter()
        .find(|(api, _)| api == "MiniDumpWriteDump")
    {
        add(
            "code.process-memory",
            *at,
            Strength::Always,
            "another process's memory is dumped (credential theft from lsass works this way)",
        );
    }
    out
}

fn findings(name: &str, text: &str, hits: Vec<Hit>, base: usize) -> Vec<CodeFinding> {
    hits.into_iter()
        .map(|hit| {
            let context = match hit.place {
                Place::Import => Context::Import,
                Place::Install => Context::Install,
                Place::Pth => Context::Pth,
                Place::Call => Context::Call,
            };
            let if_run = match hit.strength {
                Strength::Always | Strength::WhenRun => Severity::Quarantine,
                Strength::Info => Severity::Warn,
            };
            let severity = match hit.strength {
                Strength::WhenRun if !context.runs_by_itself() => Severity::Warn,
                _ => if_run,
            };
            let offset = (base + hit.offset).min(text.len());
            let offset = (0..=offset)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            let (line, start, content) = line_at(text, offset);
            CodeFinding {
                finding: Finding {
                    rule: hit.rule.to_owned(),
                    severity,
                    file: Some(name.to_owned()),
                    line: Some(line),
                    evidence: Some(excerpt(content, offset - start)),
                    explanation: format!("{}{}", hit.why, where_it_runs(context)),
                    context: Some(context),
                    fingerprint: None,
                    history: None,
                },
                function: hit.function,
                if_run,
            }
        })
        .collect()
}

fn where_it_runs(context: Context) -> &'static str {
    match context {
        Context::Import => ", when the module is imported",
        Context::Install => ", when the package is installed from source",
        Context::Pth => ", at every interpreter start",
        Context::EntryPoint => ", when the installed command runs",
        Context::Call => ", in a function",
    }
}

#[cfg(test)]
mod tests;
