//! Deterministic randomness.
//!
//! Every random choice in the simulators comes from a ChaCha8 generator seeded from the
//! user's seed plus a *stream* of numbers naming what is being decided (the person, the
//! JST date, …). ChaCha8 with `seed_from_u64` is specified to give the same sequence on
//! every platform and every `rand_chacha` 0.3 release, unlike `StdRng`, so a seed names
//! the same hospital and the same day everywhere. Separate streams keep one decision from
//! shifting every later one: adding a login to a nurse's morning does not change which
//! doctor is on call.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator type used throughout the crate.
pub(crate) type Rng = ChaCha8Rng;

/// A generator for `seed` and the decision named by `stream`.
pub(crate) fn rng(seed: u64, stream: &[u64]) -> Rng {
    let mut h = splitmix(seed ^ 0x6d6f_6e62_616e_0001);
    for s in stream {
        h = splitmix(h ^ *s);
    }
    ChaCha8Rng::seed_from_u64(h)
}

/// SplitMix64's finaliser: a cheap, well-mixed 64-bit hash step.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    #[test]
    fn same_seed_and_stream_same_numbers() {
        let a: Vec<u32> = (0..4)
            .map(|_| 0)
            .scan(rng(7, &[1, 2]), |r, _: u32| Some(r.gen()))
            .collect();
        let b: Vec<u32> = (0..4)
            .map(|_| 0)
            .scan(rng(7, &[1, 2]), |r, _: u32| Some(r.gen()))
            .collect();
        let c: Vec<u32> = (0..4)
            .map(|_| 0)
            .scan(rng(7, &[2, 1]), |r, _: u32| Some(r.gen()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
