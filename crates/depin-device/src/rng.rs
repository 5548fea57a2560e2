//! Draw reproducible pseudo-random numbers (xorshift64*) for the simulators: the same seed gives
//! the same values on every platform. Not for keys.

/// A xorshift64* generator.
#[derive(Clone, Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is mapped to a fixed non-zero state: xorshift never leaves 0).
    pub(crate) fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi` (`hi` when `lo > hi`). The modulo bias is below 2^-32 for the
    /// ranges the simulators use, which does not matter for plausible-looking metrics.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if lo >= hi {
            return hi;
        }
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.next_u64() % span,
            None => self.next_u64(),
        }
    }

    /// `whole × permille / 1000`, with `permille` drawn from `lo_permille..=hi_permille`.
    pub(crate) fn share(&mut self, whole: u64, lo_permille: u64, hi_permille: u64) -> u64 {
        let p = self.range(lo_permille, hi_permille.min(1_000));
        u64::try_from(u128::from(whole) * u128::from(p) / 1_000).expect("invariant: at most `whole`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_ranges_hold() {
        let a: Vec<u64> = (0..5).scan(XorShift::new(42), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..5).scan(XorShift::new(42), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        let mut r = XorShift::new(0);
        for _ in 0..10_000 {
            let x = r.range(3, 9);
            assert!((3..=9).contains(&x));
            assert!(r.share(1_000_000, 200, 900) <= 900_000);
        }
        assert_eq!(r.range(5, 5), 5);
        r.range(0, u64::MAX);
    }
}
