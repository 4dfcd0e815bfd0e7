//! Runs the name policy over names read one per line from stdin, against the
//! bundled popular list of the ecosystem named first (`npm` or `pypi`), and
//! prints each finding and a summary. `bench/names` feeds it popular names
//! just below the bundled cut, to measure how often real packages are flagged.

// Printing the findings is what this example is for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::BufRead;
use std::time::Instant;
use wharf_scan::names::{check, Ecosystem, NameContext, PopularNames};

fn main() {
    let ecosystem = match std::env::args().nth(1).as_deref() {
        Some("npm") => Ecosystem::Npm,
        Some("pypi") => Ecosystem::Pypi,
        _ => {
            eprintln!("usage: name_check npm|pypi < names.txt");
            std::process::exit(2);
        }
    };
    let context = NameContext {
        popular: PopularNames::bundled(ecosystem),
        local: &[],
    };
    let names: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let started = Instant::now();
    let mut flagged = 0;
    for name in &names {
        if let Some(finding) = check(name, &context).first() {
            flagged += 1;
            println!("{}", finding.evidence.as_deref().unwrap_or_default());
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{flagged} of {} names flagged ({:.1}%); {:.1} µs per name",
        names.len(),
        100.0 * flagged as f64 / names.len().max(1) as f64,
        elapsed.as_secs_f64() * 1e6 / names.len().max(1) as f64
    );
}
