//! `wharf scan`: the verification rules over files on disk, with no server.
//! The name check compares with the bundled popular list only, since there
//! is no registry to compare with.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use wharf_core::DistKind;
use wharf_scan::names::Ecosystem;
use wharf_scan::{NameContext, PopularNames, Report, Verdict};

pub fn run(files: &[PathBuf], json: bool) -> anyhow::Result<()> {
    let results = scan_all(files);
    let mut out = std::io::stdout().lock();
    let mut held = 0usize;
    for (path, result) in files.iter().zip(results) {
        let (report, bytes) = result?;
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

/// One file's report and its size in bytes.
type Scanned = anyhow::Result<(Report, u64)>;

/// Scans every file, one per core at a time; the results are in the order given.
fn scan_all(files: &[PathBuf]) -> Vec<Scanned> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Scanned>>> = files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else {
                    return;
                };
                let result = scan_one(path);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err(anyhow::anyhow!("the scan did not finish")))
        })
        .collect()
}

fn scan_one(path: &Path) -> Scanned {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_order_the_files_were_given() {
        let files: Vec<PathBuf> = (0..7)
            .map(|i| match i % 2 {
                0 => PathBuf::from(format!("/nonexistent/missing-{i}.whl")),
                _ => PathBuf::from(format!("notes-{i}.txt")),
            })
            .collect();
        let results = scan_all(&files);
        assert_eq!(results.len(), files.len());
        for (i, (path, result)) in files.iter().zip(results).enumerate() {
            let error = result.expect_err("neither file can be scanned").to_string();
            assert!(
                error.starts_with(&path.display().to_string()),
                "{i}: {error}"
            );
            let expected = if i % 2 == 0 {
                "cannot open"
            } else {
                "only .whl and .tar.gz"
            };
            assert!(error.contains(expected), "{i}: {error}");
        }
    }
}
