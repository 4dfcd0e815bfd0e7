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
    scan_each(files, |i, result| {
        let path = &files[i];
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
        // A reader sees each file as soon as those before it are done.
        out.flush()?;
        Ok(())
    })?;
    if held > 0 {
        // Distinct from an error (which also exits 1 but prints "error:").
        std::process::exit(1);
    }
    Ok(())
}

/// One file's report and its size in bytes.
type Scanned = anyhow::Result<(Report, u64)>;

/// Scans every file, one per core at a time, largest first (so that one big file
/// started last does not keep a core busy after the others are done), and hands
/// each result to `emit` in the order the files were given, as soon as those
/// before it are done. The first error `emit` returns stops the scan and is returned.
fn scan_each(
    files: &[PathBuf],
    mut emit: impl FnMut(usize, Scanned) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len().max(1));
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(std::fs::metadata(&files[i]).map_or(0, |m| m.len())));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (done, results) = std::sync::mpsc::channel::<(usize, Scanned)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done = done.clone();
            let (next, stop, order) = (&next, &stop, &order);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        return;
                    };
                    let path = &files[i];
                    if done.send((i, scan_one(path))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done);
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (i, result) in results {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&due) {
                if let Err(e) = emit(due, result) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                due += 1;
            }
        }
        Ok(())
    })
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
        let mut seen = Vec::new();
        scan_each(&files, |i, result| {
            seen.push(i);
            let error = result.expect_err("neither file can be scanned").to_string();
            assert!(
                error.starts_with(&files[i].display().to_string()),
                "{i}: {error}"
            );
            let expected = if i % 2 == 0 {
                "cannot open"
            } else {
                "only .whl and .tar.gz"
            };
            assert!(error.contains(expected), "{i}: {error}");
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn larger_files_run_first_but_results_keep_the_given_order() {
        let dir = tempfile::tempdir().unwrap();
        // Growing sizes: the last file given is the first one scanned.
        let files: Vec<PathBuf> = (0..6)
            .map(|i| {
                let path = dir.path().join(format!("notes-{i}.txt"));
                std::fs::write(&path, vec![b'x'; 1000 * (i + 1)]).unwrap();
                path
            })
            .collect();
        let mut seen = Vec::new();
        scan_each(&files, |i, result| {
            seen.push(i);
            assert!(result.is_err(), "a .txt cannot be scanned");
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_stops_the_scan_and_is_returned() {
        let files: Vec<PathBuf> = (0..50)
            .map(|i| PathBuf::from(format!("notes-{i}.txt")))
            .collect();
        let mut seen = 0;
        let error = scan_each(&files, |_, result| {
            seen += 1;
            result.map(|_| ())
        })
        .expect_err("the first file fails");
        assert!(error.to_string().contains("notes-0.txt"), "{error}");
        assert_eq!(seen, 1);
    }
}
