//! SplitMix64, a tiny deterministic generator: the demo's sample answers and the tests' random
//! respondents are the same at every run. Never for anything secret (tokens use the OS).

pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn draw(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.draw() % n
    }

    /// `N` bytes, eight from each number drawn; the last number is mixed with `salt` first, so
    /// callers drawing ids from one sequence can keep them apart.
    pub fn bytes<const N: usize>(&mut self, salt: u64) -> [u8; N] {
        let mut bytes = [0u8; N];
        let chunks = N.div_ceil(8);
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let number = if i + 1 == chunks { self.draw() ^ salt } else { self.draw() };
            chunk.copy_from_slice(&number.to_le_bytes()[..chunk.len()]);
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix;

    #[test]
    fn the_sequence_is_splitmix64() {
        // The reference sequence for seed 0 (Vigna's splitmix64.c).
        let mut random = SplitMix(0);
        assert_eq!(random.draw(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(random.draw(), 0x6E78_9E6A_A1B9_65F4);
        assert!((0..1000).all(|_| random.below(7) < 7));
        // bytes: eight per number, the salt on the last number only
        let (mut a, mut b) = (SplitMix(9), SplitMix(9));
        let (first, last) = (b.draw().to_le_bytes(), (b.draw() ^ 5).to_le_bytes());
        assert_eq!(a.bytes::<16>(5)[..], [first, last].concat()[..]);
        let (first, last) = (b.draw().to_le_bytes(), (b.draw() ^ 5).to_le_bytes());
        assert_eq!(a.bytes::<10>(5)[..], [&first[..], &last[..2]].concat()[..]);
    }
}
