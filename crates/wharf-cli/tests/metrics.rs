//! Prometheus metrics on their own listen address, never the public one.

mod support;

use support::*;

#[test]
fn metrics_are_served_only_on_the_metrics_address() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = free_addr();
    let server =
        Server::start_with_env(dir.path(), &[("WHARF_METRICS_LISTEN", metrics.to_string())]);
    assert_eq!(server.get("/simple/").0, 200);
    assert_eq!(server.get("/nothing-here").0, 404);
    assert_eq!(server.get("/metrics").0, 404, "not on the public address");
    let (status, body) = http(&metrics.to_string(), "GET", "/metrics");
    assert_eq!(status, 200);
    assert!(
        body.contains("wharf_http_responses_total{class=\"2xx\"} "),
        "{body}"
    );
    let count = |class: &str| -> u64 {
        let prefix = format!("wharf_http_responses_total{{class=\"{class}\"}} ");
        body.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(count("2xx") >= 2, "{body}");
    assert_eq!(count("4xx"), 2, "{body}");
    // The metrics address serves nothing else.
    assert_eq!(http(&metrics.to_string(), "GET", "/simple/").0, 404);
}
