//! pgvector's distances (`<->`, `<=>`, `<#>`, `<+>`, `inner_product`), as
//! its C computes them: `f32` terms summed in element order, the square
//! root and the cosine taken in `f64`. pgvector builds let the compiler
//! reorder those sums (`-fassociative-math`), so its last bits differ
//! between builds; MosaicDB always sums in order.
//!
//! Each distance is computed in two ways with the same bits: of one pair
//! of vectors ([`distance`], the SQL functions `store::udf::vector`
//! registers), and of one query vector and many stored ones, [`LANES`] at
//! a time ([`distances_lanes`], the nearest-neighbour scans of
//! `store::vectors`). Both are made of the same terms and the same
//! finishing step, so a row found nearest by one is nearest by the other.

/// Which distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// `<->`, `l2_distance`.
    L2,
    /// `<=>`, `cosine_distance`.
    Cosine,
    /// `inner_product`.
    Inner,
    /// `<#>`: the inner product, negated.
    NegInner,
    /// `<+>`, `l1_distance`.
    L1,
}

fn l2_term(x: f32, y: f32) -> f32 {
    let diff = x - y;
    diff * diff
}

fn product(x: f32, y: f32) -> f32 {
    x * y
}

fn l1_term(x: f32, y: f32) -> f32 {
    (x - y).abs()
}

/// The cosine distance from the sums of `x·y`, `x²` and `y²`; NaN when a
/// vector is all zeros.
fn cosine_of(sim: f32, na: f32, nb: f32) -> f64 {
    let similarity = f64::from(sim) / (f64::from(na) * f64::from(nb)).sqrt();
    if similarity.is_nan() {
        return f64::NAN;
    }
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// A sum of one term per pair of elements, in element order.
fn sum(pairs: impl Iterator<Item = (f32, f32)>, term: impl Fn(f32, f32) -> f32) -> f32 {
    pairs.fold(0.0f32, |s, (x, y)| s + term(x, y))
}

/// The distance of two vectors, over their pairs of elements in order.
pub fn distance(m: Metric, pairs: impl Iterator<Item = (f32, f32)>) -> f64 {
    match m {
        Metric::L2 => f64::from(sum(pairs, l2_term)).sqrt(),
        Metric::Inner => f64::from(sum(pairs, product)),
        Metric::NegInner => -f64::from(sum(pairs, product)),
        Metric::L1 => f64::from(sum(pairs, l1_term)),
        Metric::Cosine => {
            let (mut sim, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
            for (x, y) in pairs {
                sim += product(x, y);
                na += product(x, x);
                nb += product(y, y);
            }
            cosine_of(sim, na, nb)
        }
    }
}

/// How many vectors [`distances_lanes`] takes at once.
pub const LANES: usize = 8;

/// The distance of `q` to each of the vectors in `blocks` (each vector the
/// first of a pair, `q` the second), appended to `out`: `blocks` holds
/// them [`LANES`] at a time, element by element (the first element of
/// each of the block's vectors, then the second…), so that the block's
/// sums advance side by side, each still in element order and so to the
/// same bits as [`distance`]. (The terms are generic arguments, not
/// function pointers, so that each distance's loop is compiled on its own
/// and vectorised.)
pub fn distances_lanes(m: Metric, blocks: &[f32], q: &[f32], out: &mut Vec<f64>) {
    if q.is_empty() {
        return;
    }
    match m {
        Metric::L2 => sums_lanes(blocks, q, out, l2_term, |s| f64::from(s).sqrt()),
        Metric::Inner => sums_lanes(blocks, q, out, product, f64::from),
        Metric::NegInner => sums_lanes(blocks, q, out, product, |s| -f64::from(s)),
        Metric::L1 => sums_lanes(blocks, q, out, l1_term, f64::from),
        Metric::Cosine => {
            for block in blocks.chunks_exact(q.len() * LANES) {
                let (mut sim, mut na) = ([0.0f32; LANES], [0.0f32; LANES]);
                let mut nb = 0.0f32;
                for (elements, y) in block.chunks_exact(LANES).zip(q) {
                    for ((s, n), x) in sim.iter_mut().zip(&mut na).zip(elements) {
                        *s += product(*x, *y);
                        *n += product(*x, *x);
                    }
                    nb += product(*y, *y);
                }
                out.extend(sim.iter().zip(&na).map(|(s, n)| cosine_of(*s, *n, nb)));
            }
        }
    }
}

/// [`distances_lanes`] of a distance that is one sum.
fn sums_lanes(
    blocks: &[f32],
    q: &[f32],
    out: &mut Vec<f64>,
    term: impl Fn(f32, f32) -> f32,
    finish: impl Fn(f32) -> f64,
) {
    for block in blocks.chunks_exact(q.len() * LANES) {
        let mut sums = [0.0f32; LANES];
        for (elements, y) in block.chunks_exact(LANES).zip(q) {
            for (sum, x) in sums.iter_mut().zip(elements) {
                *sum += term(*x, *y);
            }
        }
        out.extend(sums.iter().map(|s| finish(*s)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_pgvectors() {
        let (a, b) = ([1.0f32, 2.0, 3.0], [4.0f32, 5.0, 6.0]);
        let pairs = || a.iter().copied().zip(b.iter().copied());
        assert_eq!(distance(Metric::L2, pairs()), 27f64.sqrt());
        assert_eq!(distance(Metric::Inner, pairs()), 32.0);
        assert_eq!(distance(Metric::NegInner, pairs()), -32.0);
        assert_eq!(distance(Metric::L1, pairs()), 9.0);
        let cosine = 1.0 - 32.0 / (14f64 * 77.0).sqrt();
        assert_eq!(distance(Metric::Cosine, pairs()), cosine);
        let unit = |a: [f32; 2], b: [f32; 2]| distance(Metric::Cosine, a.into_iter().zip(b));
        assert_eq!(unit([1.0, 0.0], [0.0, 1.0]), 1.0);
        assert_eq!(unit([1.0, 1.0], [2.0, 2.0]), 0.0);
        assert!(unit([0.0, 0.0], [1.0, 1.0]).is_nan());
    }

    proptest::proptest! {
        /// The distances taken side by side are, bit for bit, the
        /// distances taken one vector at a time (which the SQL functions
        /// compute for every row).
        #[test]
        fn distances_side_by_side_are_the_distances_one_at_a_time(
            dims in 1usize..40,
            seed in proptest::prelude::any::<u64>(),
        ) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut value = || {
                let scale = [0.0f32, 1e-20, 1e-3, 1.0, 1e3, 1e18][rng.gen_range(0..6)];
                rng.gen_range(-1.0f32..1.0) * scale
            };
            let q: Vec<f32> = (0..dims).map(|_| value()).collect();
            let rows: Vec<Vec<f32>> = (0..LANES * 3)
                .map(|_| (0..dims).map(|_| value()).collect())
                .collect();
            let mut blocks = vec![];
            for block in rows.chunks(LANES) {
                for i in 0..dims {
                    blocks.extend(block.iter().map(|r| r[i]));
                }
            }
            for m in [Metric::L2, Metric::Cosine, Metric::Inner, Metric::NegInner, Metric::L1] {
                let mut side_by_side = vec![];
                distances_lanes(m, &blocks, &q, &mut side_by_side);
                let one_at_a_time: Vec<u64> = rows
                    .iter()
                    .map(|r| distance(m, r.iter().copied().zip(q.iter().copied())).to_bits())
                    .collect();
                let side_by_side: Vec<u64> = side_by_side.iter().map(|d| d.to_bits()).collect();
                proptest::prop_assert_eq!(side_by_side, one_at_a_time, "{:?}", m);
            }
        }
    }
}
