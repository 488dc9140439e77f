//! PostgreSQL's pseudo-random numbers: `random()` draws from the session's
//! generator, `setseed(x)` seeds it, so that a seeded session gives the
//! same numbers PostgreSQL's does. The generator is PostgreSQL's own choice
//! (src/common/pg_prng.c): Blackman and Vigna's xoroshiro128** 1.0, its
//! state filled from a 64-bit seed by splitmix64, a double built from the
//! top 52 bits of a draw.

/// One session's generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prng {
    s0: u64,
    s1: u64,
}

impl Default for Prng {
    /// Seeded at random, as a PostgreSQL backend seeds itself.
    fn default() -> Self {
        Prng::seeded(rand::random())
    }
}

impl Prng {
    /// The state a 64-bit seed gives, never all zeroes (a fixed point).
    pub fn seeded(mut seed: u64) -> Prng {
        let mut p = Prng {
            s0: splitmix64(&mut seed),
            s1: splitmix64(&mut seed),
        };
        if p.s0 == 0 && p.s1 == 0 {
            // Knuth's LCG constants, as PostgreSQL puts there.
            p = Prng {
                s0: 0x5851_F42D_4C95_7F2D,
                s1: 0x1405_7B7E_F767_814F,
            };
        }
        p
    }

    /// `setseed(fraction)`, the fraction in [-1, 1] (checked by the caller):
    /// it scales to 52 bits and a sign, truncated toward zero.
    pub fn from_fraction(fraction: f64) -> Prng {
        let seed = (((1u64 << 52) - 1) as f64 * fraction) as i64;
        Prng::seeded(seed as u64)
    }

    fn next(&mut self) -> u64 {
        let s0 = self.s0;
        let sx = self.s1 ^ s0;
        let val = s0.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        self.s0 = s0.rotate_left(24) ^ sx ^ (sx << 16);
        self.s1 = sx.rotate_left(37);
        val
    }

    /// A double in [0, 1): the draw's top 52 bits over 2^52.
    pub fn next_double(&mut self) -> f64 {
        (self.next() >> 12) as f64 / (1u64 << 52) as f64
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut v = *state;
    v = (v ^ (v >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    v = (v ^ (v >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    v ^ (v >> 31)
}

#[cfg(test)]
mod tests {
    use super::Prng;

    /// What PostgreSQL 15 answers after `SELECT setseed(s)`, to the bit.
    #[test]
    fn seeded_draws_are_postgresqls() {
        let draws = |s: f64, n: usize| {
            let mut p = Prng::from_fraction(s);
            (0..n).map(|_| p.next_double()).collect::<Vec<_>>()
        };
        assert_eq!(draws(0.5, 2), [0.9851677175347999, 0.825301858027981]);
        assert_eq!(draws(-1.0, 1), [0.725656831544149]);
        assert_eq!(draws(0.0, 1), [0.8702553105818676]);
    }
}
