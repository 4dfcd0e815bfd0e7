//! Timestamps as microseconds since the Unix epoch: one integer column that
//! SQLite and PostgreSQL store alike, and that PEP 700 formats exactly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_system(SystemTime::now())
    }

    pub fn from_system(t: SystemTime) -> Self {
        let micros = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Self(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.as_micros() as i64))
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the PEP 700 `upload-time` format.
    pub fn to_rfc3339_micros(self) -> String {
        let t = UNIX_EPOCH + Duration::from_micros(self.0.max(0) as u64);
        humantime::format_rfc3339_micros(t).to_string()
    }

    /// `YYYY-MM-DDTHH:MM:SS.fffZ`, as npm's `time` fields are written.
    pub fn to_rfc3339_millis(self) -> String {
        let t = UNIX_EPOCH + Duration::from_micros(self.0.max(0) as u64);
        humantime::format_rfc3339_millis(t).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_pep_700_wants() {
        assert_eq!(
            Timestamp(1_700_000_000_123_456).to_rfc3339_micros(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            Timestamp(0).to_rfc3339_micros(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            Timestamp(1_700_000_000_123_456).to_rfc3339_millis(),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
