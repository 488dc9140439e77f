//! Per-column statistics of a shard: zone map (min/max), null count, a bloom
//! filter over the canonical encodings of the distinct values and, for text
//! columns, a bloom filter over their lowercased trigrams.
//!
//! Blooms use a seed derived from the shard's content, so the same rows give
//! byte-identical filters on every node.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};

use bloomfilter::Bloom;

use super::encode::{cmp_sqlite, encode_into};
use super::ColumnStats;
use crate::error::{Error, Result};
use crate::types::{Datum, PgType, Storage};

/// False-positive rate the blooms are sized for.
const FP_RATE: f64 = 0.01;

/// A loaded bloom with more hash functions than this is not one we wrote;
/// refusing it keeps a hostile metadata blob from costing billions of hashes.
const MAX_HASHES: u32 = 64;

/// The distinct lowercased character trigrams of `text`. Lowercasing is per
/// character (no context rules such as Greek final sigma), so a substring of
/// a value always yields a subset of the value's trigrams.
pub fn trigrams(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    chars.windows(3).map(|w| w.iter().collect()).collect()
}

/// Add the trigrams of `text` (as `trigrams` defines them) to `out`, each
/// packed as three 21-bit characters.
fn add_trigrams(text: &str, out: &mut HashSet<u64, Mixed>) {
    let mut window = 0u64;
    let mut n = 0usize;
    // The window just inserted: a run of one character (padding) gives
    // the same window again and again, which is in the set already.
    let mut last = None;
    let mut push = |c: char| {
        window = ((window << 21) | c as u64) & ((1 << 63) - 1);
        n += 1;
        if n >= 3 && last != Some(window) {
            out.insert(window);
            last = Some(window);
        }
    };
    // ASCII lowercases byte by byte, as `char::to_lowercase` does it.
    if text.is_ascii() {
        text.bytes()
            .for_each(|b| push(b.to_ascii_lowercase() as char));
    } else {
        text.chars().flat_map(char::to_lowercase).for_each(push);
    }
}

fn unpack(g: u64) -> String {
    [(g >> 42) & 0x1f_ffff, (g >> 21) & 0x1f_ffff, g & 0x1f_ffff]
        .iter()
        .filter_map(|&c| char::from_u32(c as u32))
        .collect()
}

/// FNV-1a: a fast 64-bit hash of an encoded value.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Hashing for keys that are already well-mixed 64-bit values (a final
/// multiply spreads packed trigrams over the table's control bits).
#[derive(Default, Clone, Copy)]
struct MixHasher(u64);

impl std::hash::Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type Mixed = std::hash::BuildHasherDefault<MixHasher>;

/// Parse bloom bytes written by `column_stats`; `None` when they are not a
/// usable filter (a caller must then assume every item may be present).
pub fn load_bloom(bytes: &[u8]) -> Option<Bloom<[u8]>> {
    let bloom = Bloom::<[u8]>::from_slice(bytes).ok()?;
    // `check` takes the hash modulo the bit count: an empty bitmap would
    // panic. (`is_empty` means "no bit set", which is not this.)
    let bits = bloom.len();
    (bits >= 8 && bloom.number_of_hash_functions() <= MAX_HASHES).then_some(bloom)
}

/// A bloom filter's bytes decoded once, for as long as the metadata
/// holding them lives: `load_bloom` copies the whole bitmap, and pruning
/// asks the filter on every statement.
#[derive(Default)]
pub struct Decoded(std::sync::OnceLock<Option<Bloom<[u8]>>>);

impl Decoded {
    /// The filter `bytes` hold (`load_bloom`), decoded on first use.
    pub fn get(&self, bytes: &[u8]) -> Option<&Bloom<[u8]>> {
        self.0.get_or_init(|| load_bloom(bytes)).as_ref()
    }
}

/// A copy decodes again when first asked: cheaper than copying bitmaps
/// nobody may read.
impl Clone for Decoded {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.0.get().is_some() {
            "decoded"
        } else {
            "not decoded"
        };
        f.write_str(state)
    }
}

/// Statistics of each column over `rows` (already normalized to the
/// columns' storage classes).
pub(crate) fn column_stats<R: AsRef<[Datum]>>(
    columns: &[(String, PgType)],
    rows: &[R],
    seed: &[u8; 32],
) -> Result<Vec<ColumnStats>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let values = || {
                rows.iter()
                    .map(|r| r.as_ref().get(i).unwrap_or(&Datum::Null))
            };
            let mut stats = one_column(name, ty, values(), seed)?;
            match ty {
                PgType::Geometry(_) => stats.extent = crate::types::geometry::Extent::of(values()),
                PgType::Vector(_) => stats.vectors = common_dims(values()),
                _ => {}
            }
            Ok(stats)
        })
        .collect()
}

fn one_column<'a>(
    name: &str,
    ty: &PgType,
    values: impl Iterator<Item = &'a Datum>,
    seed: &[u8; 32],
) -> Result<ColumnStats> {
    let wants_trigrams = ty.storage() == Storage::Text;
    let mut min: Option<&Datum> = None;
    let mut max: Option<&Datum> = None;
    let mut null_count = 0u64;
    // Distinct values, each encoded once, found by a 64-bit hash of
    // their encoding (a bloom does not depend on the order items go in, and
    // sealing is on the write path). Two values with one hash both go in:
    // one left out would make the bloom deny a value the shard holds.
    let mut distinct: HashMap<u64, usize, Mixed> = HashMap::default();
    // The distinct encodings, end to end in one buffer.
    let mut arena: Vec<u8> = Vec::new();
    let mut encoded: Vec<std::ops::Range<usize>> = Vec::new();
    let mut grams: HashSet<u64, Mixed> = HashSet::default();
    // A non-text value in a text column (a blob) would match LIKE through
    // SQLite's conversion; its trigrams are not known, so none are kept.
    let mut grams_complete = wants_trigrams;
    for v in values {
        match v {
            Datum::Null => {
                null_count += 1;
                continue;
            }
            Datum::Text(s) if wants_trigrams => add_trigrams(s, &mut grams),
            _ => grams_complete = false,
        }
        if min.is_none_or(|m| cmp_sqlite(v, m) == Ordering::Less) {
            min = Some(v);
        }
        if max.is_none_or(|m| cmp_sqlite(v, m) == Ordering::Greater) {
            max = Some(v);
        }
        let start = arena.len();
        encode_into(v, &mut arena);
        let span = start..arena.len();
        match distinct.entry(fnv1a(&arena[span.clone()])) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(encoded.len());
                encoded.push(span);
            }
            std::collections::hash_map::Entry::Occupied(seen) => {
                if arena[encoded[*seen.get()].clone()] == arena[span.clone()] {
                    arena.truncate(start);
                } else {
                    encoded.push(span);
                }
            }
        }
    }
    let bloom = build_bloom(
        encoded.iter().map(|r| &arena[r.clone()]),
        encoded.len(),
        seed,
    )?;
    let trigrams = if grams_complete {
        let texts: Vec<String> = grams.iter().map(|g| unpack(*g)).collect();
        Some(build_bloom(
            texts.iter().map(String::as_bytes),
            texts.len(),
            seed,
        )?)
    } else {
        None
    };
    Ok(ColumnStats {
        name: name.to_string(),
        ty: ty.clone(),
        min: min.cloned(),
        max: max.cloned(),
        null_count,
        bloom,
        trigrams,
        extent: None,
        vectors: None,
        bloom_decoded: Default::default(),
        trigrams_decoded: Default::default(),
    })
}

/// The dimensions every non-null vector among `values` has (stored as
/// little-endian `f32`s), if one number does, there is a value, and a
/// `vec0` index can hold them.
fn common_dims<'a>(values: impl Iterator<Item = &'a Datum>) -> Option<u32> {
    let mut dims = None;
    for v in values {
        let n = match v {
            Datum::Null => continue,
            Datum::Blob(b) if b.len() % 4 == 0 && !b.is_empty() => {
                u32::try_from(b.len() / 4).ok()?
            }
            _ => return None,
        };
        if dims.is_some_and(|d| d != n) {
            return None;
        }
        dims = Some(n);
    }
    dims.filter(|d| *d <= super::VEC_INDEX_MAX_DIMS)
}

fn build_bloom<'a>(
    items: impl Iterator<Item = &'a [u8]>,
    n: usize,
    seed: &[u8; 32],
) -> Result<Vec<u8>> {
    let mut bloom = Bloom::<[u8]>::new_for_fp_rate_with_seed(n.max(1), FP_RATE, seed)
        .map_err(|e| Error::Internal(format!("bloom filter: {e}")))?;
    for item in items {
        bloom.set(item);
    }
    Ok(bloom.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collected_trigrams_match_trigrams() {
        // Non-ASCII and ASCII text, runs of one character, short text.
        for text in [
            "AbÇdé",
            "ABCabc",
            "x     ",
            "aaaaaab",
            "      ",
            "Mixed CASE text   with  runs…",
            "ab",
            "",
        ] {
            let mut got = HashSet::default();
            add_trigrams(text, &mut got);
            let got: BTreeSet<String> = got.iter().map(|g| unpack(*g)).collect();
            assert_eq!(got, trigrams(text), "{text:?}");
        }
    }

    #[test]
    fn trigrams_are_lowercased_chars() {
        let t = trigrams("AbÇdé");
        let want: BTreeSet<String> = ["abç", "bçd", "çdé"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(t, want);
        assert!(trigrams("ab").is_empty());
        // Per-character lowercasing: a final capital sigma is not special.
        assert!(trigrams("ΑΒΣ").contains("αβσ"));
    }

    #[test]
    fn bad_bloom_bytes_are_refused() {
        assert!(load_bloom(&[]).is_none());
        assert!(load_bloom(&[1, 2, 3]).is_none());
        let mut header = vec![1u8];
        header.extend_from_slice(&0u64.to_le_bytes());
        header.extend_from_slice(&3u32.to_le_bytes());
        header.extend_from_slice(&[0; 32]);
        assert!(load_bloom(&header).is_none(), "empty bitmap");
    }
}
