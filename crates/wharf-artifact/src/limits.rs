//! Resource limits, and the running count that enforces them while bytes are decompressed.

/// Caps applied while reading an archive. Every size is counted on bytes actually produced by
/// decompression, never on the sizes an archive claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most members an archive may have (directories included).
    pub max_entries: usize,
    /// Most bytes the whole archive may decompress to.
    pub max_total_uncompressed: u64,
    /// Most bytes one member may decompress to.
    pub max_member_size: u64,
    /// Largest `METADATA` or `PKG-INFO` accepted; it is held in memory and served as-is.
    pub max_metadata_bytes: u64,
    /// Largest wheel `RECORD` accepted; it is held in memory while it is checked.
    pub max_record_bytes: u64,
    /// Uncompressed size above which the ratio rule applies.
    pub bomb_threshold: u64,
    /// Highest uncompressed/compressed ratio allowed above `bomb_threshold`.
    pub max_ratio: u64,
}

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    /// Limits that admit every real package we know of: the largest wheels on PyPI (CUDA
    /// builds) are a few hundred MiB; a 10,000-member wheel is already unusual.
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_total_uncompressed: 1024 * MIB,
            max_member_size: 512 * MIB,
            max_metadata_bytes: MIB,
            max_record_bytes: 16 * MIB,
            // Warehouse's zip-bomb rule: above 64 MiB uncompressed, a ratio over 50 is refused.
            bomb_threshold: 64 * MIB,
            max_ratio: 50,
        }
    }
}

/// Which archive-wide rule a charge broke; the caller names the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overrun {
    /// More than `max_total_uncompressed`.
    Total,
    /// Above `bomb_threshold` with a ratio over `max_ratio`.
    Bomb { uncompressed: u64, compressed: u64 },
}

/// The running total of decompressed bytes for one archive.
#[derive(Debug)]
pub(crate) struct Budget<'a> {
    limits: &'a Limits,
    uncompressed: u64,
}

impl<'a> Budget<'a> {
    pub(crate) fn new(limits: &'a Limits) -> Self {
        Self {
            limits,
            uncompressed: 0,
        }
    }

    pub(crate) fn limits(&self) -> &'a Limits {
        self.limits
    }

    /// Bytes decompressed so far.
    pub(crate) fn uncompressed(&self) -> u64 {
        self.uncompressed
    }

    /// Records `produced` more decompressed bytes, which came out of `compressed` input bytes
    /// in total. Called per chunk, so a bomb is stopped as soon as it shows.
    pub(crate) fn charge(&mut self, produced: u64, compressed: u64) -> Result<(), Overrun> {
        self.uncompressed = self.uncompressed.saturating_add(produced);
        if self.uncompressed > self.limits.max_total_uncompressed {
            return Err(Overrun::Total);
        }
        if self.uncompressed > self.limits.bomb_threshold
            && self.uncompressed > compressed.saturating_mul(self.limits.max_ratio)
        {
            return Err(Overrun::Bomb {
                uncompressed: self.uncompressed,
                compressed,
            });
        }
        Ok(())
    }
}

impl Overrun {
    /// Turns the overrun into the error a caller sees, naming the member being read.
    pub(crate) fn into_error(self, member: &str, limits: &Limits) -> crate::ArtifactError {
        match self {
            Self::Total => crate::ArtifactError::ArchiveTooLarge {
                member: member.to_owned(),
                limit: limits.max_total_uncompressed,
            },
            Self::Bomb {
                uncompressed,
                compressed,
            } => crate::ArtifactError::ZipBomb {
                member: member.to_owned(),
                uncompressed,
                compressed,
                max_ratio: limits.max_ratio,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_policy() {
        let limits = Limits::default();
        assert_eq!(limits.max_entries, 10_000);
        assert_eq!(limits.max_total_uncompressed, 1 << 30);
        assert_eq!(limits.max_member_size, 512 << 20);
        assert_eq!(limits.max_metadata_bytes, 1 << 20);
        assert_eq!(limits.bomb_threshold, 64 << 20);
        assert_eq!(limits.max_ratio, 50);
    }

    #[test]
    fn a_high_ratio_is_fine_below_the_threshold() {
        let limits = Limits::default();
        let mut budget = Budget::new(&limits);
        assert_eq!(budget.charge(limits.bomb_threshold, 1), Ok(()));
        assert!(matches!(
            budget.charge(1, 1),
            Err(Overrun::Bomb {
                uncompressed,
                compressed: 1
            }) if uncompressed == limits.bomb_threshold + 1
        ));
    }

    #[test]
    fn a_normal_ratio_passes_the_threshold() {
        let limits = Limits::default();
        let mut budget = Budget::new(&limits);
        let produced = limits.bomb_threshold * 2;
        assert_eq!(budget.charge(produced, produced / 10), Ok(()));
        assert_eq!(budget.uncompressed(), produced);
    }

    #[test]
    fn the_total_cap_applies_whatever_the_ratio() {
        let limits = Limits {
            max_total_uncompressed: 100,
            ..Limits::default()
        };
        let mut budget = Budget::new(&limits);
        assert_eq!(budget.charge(100, 100), Ok(()));
        assert_eq!(budget.charge(1, 101), Err(Overrun::Total));
    }
}
