//! Recognizers for the *other* format a file might also be. An upload that two kinds of
//! reader both accept can show each a different package, so it is refused outright.

/// How much of the end of a file a ZIP reader searches for its end record.
pub(crate) const ZIP_TAIL_LEN: usize = 22 + 0xFFFF;

/// Whether a 512-byte block carries a valid tar header checksum, which is what tar readers
/// use to accept a header.
pub(crate) fn is_tar_header(block: &[u8]) -> bool {
    let Some(block) = block.get(..512) else {
        return false;
    };
    let field = &block[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let Some(stored) = digits.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(8)?.checked_add(u32::from(d - b'0'))
    }) else {
        return false;
    };
    let computed: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    stored == computed
}

/// Whether the bytes end with a ZIP end record whose comment reaches the end exactly, which
/// is what ZIP readers look for; such a file would also open as a ZIP.
pub(crate) fn looks_like_zip(tail: &[u8]) -> bool {
    let sig = 0x0605_4b50u32.to_le_bytes();
    tail.windows(4).enumerate().rev().any(|(at, w)| {
        w == sig
            && tail.get(at + 20..at + 22).is_some_and(|len| {
                at + 22 + usize::from(u16::from_le_bytes([len[0], len[1]])) == tail.len()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_checksums_are_recognized() {
        let mut block = vec![0u8; 512];
        block[..5].copy_from_slice(b"hello");
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * 32;
        let field = format!("{sum:06o}\0 ");
        block[148..156].copy_from_slice(field.as_bytes());
        assert!(is_tar_header(&block));
        block[0] = b'j';
        assert!(!is_tar_header(&block));
        assert!(!is_tar_header(&[0u8; 100]));
        assert!(!is_tar_header(&block[..300]));
    }

    #[test]
    fn zip_end_records_are_found_only_when_they_reach_the_end() {
        let mut tail = b"prefix".to_vec();
        tail.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        tail.extend_from_slice(&[0u8; 16]);
        tail.extend_from_slice(&3u16.to_le_bytes());
        tail.extend_from_slice(b"abc");
        assert!(looks_like_zip(&tail));
        tail.push(b'!');
        assert!(!looks_like_zip(&tail));
        assert!(!looks_like_zip(b""));
    }
}
