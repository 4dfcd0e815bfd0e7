//! `wharf scan`: the verification rules over files on disk, with no server.
//! The name check compares with the bundled popular list only, since there
//! is no registry to compare with.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use wharf_core::DistKind;
use wharf_scan::names::Ecosystem;
use wharf_scan::{NameContext, PopularNames, Report, Verdict};

pub fn run(files: &[PathBuf], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut held = 0usize;
    for path in files {
        let (report, bytes) = scan_one(path)?;
        let verdict = report.verdict();
        if verdict != Verdict::Pass {
            held += 1;
        }
        if json {
            let line = serde_json::json!({
                "file": path.display().to_string(),
                "bytes": bytes,
                "verdict": verdict.as_str(),
                "files_scanned": report.files_scanned,
                "findings": report.findings,
            });
            writeln!(out, "{line}")?;
        } else {
            write_text(&mut out, path, &report)?;
        }
    }
    out.flush()?;
    if held > 0 {
        // Distinct from an error (which also exits 1 but prints "error:").
        std::process::exit(1);
    }
    Ok(())
}

fn scan_one(path: &Path) -> anyhow::Result<(Report, u64)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("{}: not a file name", path.display()))?;
    let (kind, project) = if let Some(stem) = name.strip_suffix(".whl") {
        (DistKind::BdistWheel, stem.split('-').next().unwrap_or(stem))
    } else if let Some(stem) = name.strip_suffix(".tar.gz") {
        (
            DistKind::Sdist,
            stem.rsplit_once('-').map_or(stem, |(n, _)| n),
        )
    } else {
        anyhow::bail!(
            "{}: only .whl and .tar.gz files can be scanned",
            path.display()
        );
    };
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot open: {e}", path.display()))?;
    let bytes = file.metadata()?.len();
    let mut report = wharf_scan::scan_archive(
        BufReader::new(file),
        kind,
        &wharf_artifact::Limits::default(),
    )?;
    let context = NameContext {
        popular: PopularNames::bundled(Ecosystem::Pypi),
        local: &[],
    };
    let project = wharf_core::name::normalize(project);
    report
        .findings
        .extend(wharf_scan::scan_name(&project, &context));
    Ok((report, bytes))
}

fn write_text(out: &mut impl Write, path: &Path, report: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} ({} members, {} findings)",
        path.display(),
        report.verdict().as_str(),
        report.files_scanned,
        report.findings.len()
    )?;
    for f in &report.findings {
        let place = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" {file}:{line}"),
            (Some(file), None) => format!(" {file}"),
            _ => String::new(),
        };
        writeln!(out, "  {:<10} {}{place}", f.severity.as_str(), f.rule)?;
        if let Some(evidence) = &f.evidence {
            writeln!(out, "             {evidence}")?;
        }
        writeln!(out, "             {}", f.explanation)?;
    }
    Ok(())
}
