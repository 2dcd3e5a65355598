//! Text statistics of a column: what a value alone decides (length, blanks, shape, date
//! family, plain decimal numbers, encoding findings), worked out once per distinct value of a
//! chunk, or once per dictionary entry of a dictionary-encoded chunk, and counted by its rows.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use arrow::array::{Array, ArrayRef, AsArray, GenericStringArray, Int32Array, OffsetSizeTrait};
use arrow::datatypes::{DataType, Int32Type};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::column::{ChunkContext, ColumnAcc, NULL_HASH};
use super::datefmt;
use super::distinct::{FastBuild, PassThrough};
use super::encoding;
use super::numeric::Moments;
use super::pattern::shape_into;
use crate::value::kind::{cmp_decimal_str, is_plain_decimal, Kind};

/// Cap on distinct shapes tracked per column; the rest are counted as `other`.
const MAX_SHAPES: usize = 1000;

/// Text-only statistics.
#[derive(Clone, Default)]
pub struct TextStats {
    /// Empty strings.
    pub empty: u64,
    /// Non-empty values made only of white space.
    pub whitespace_only: u64,
    /// Values with leading or trailing white space (not whitespace-only).
    pub padded: u64,
    /// Length in characters: min, max, sum, count.
    pub len_min: Option<u64>,
    /// Longest value, in characters.
    pub len_max: Option<u64>,
    /// Sum of lengths.
    pub len_sum: u64,
    /// Shapes and their counts.
    pub shapes: HashMap<String, u64, FastBuild>,
    /// Values whose shape was not tracked (past the cap).
    pub shape_other: u64,
    /// Date-format families and their counts.
    pub dates: HashMap<&'static str, u64>,
    /// Values that are plain decimal numbers.
    pub numeric_like: u64,
    /// MySQL zero dates (`0000-00-00…`), which no date type can hold.
    pub zero_dates: u64,
    /// Smallest plain-decimal value (exact).
    pub num_min: Option<String>,
    /// Largest plain-decimal value (exact).
    pub num_max: Option<String>,
    /// Moments of the plain-decimal values (through f64: mean and deviation are approximate).
    pub num_moments: Moments,
    /// Smallest and largest value in byte order.
    pub min: Option<String>,
    /// Largest value in byte order.
    pub max: Option<String>,
}

impl TextStats {
    /// Adds what a value alone decides, for `rows` rows holding it (its shape is `shape`).
    fn add_value(&mut self, v: &str, seen: &Seen, shape: &str, rows: u64) {
        if rows == 0 {
            return;
        }
        self.len_min = Some(self.len_min.map_or(seen.len, |m| m.min(seen.len)));
        self.len_max = Some(self.len_max.map_or(seen.len, |m| m.max(seen.len)));
        self.len_sum += seen.len * rows;
        match seen.blank {
            Blank::Empty => self.empty += rows,
            Blank::WhitespaceOnly => self.whitespace_only += rows,
            Blank::Padded => self.padded += rows,
            Blank::No => {}
        }
        if self.min.as_deref().is_none_or(|m| v < m) {
            self.min = Some(v.to_string());
        }
        if self.max.as_deref().is_none_or(|m| v > m) {
            self.max = Some(v.to_string());
        }
        if let Some(c) = self.shapes.get_mut(shape) {
            *c += rows;
        } else if self.shapes.len() < MAX_SHAPES {
            self.shapes.insert(shape.to_string(), rows);
        } else {
            self.shape_other += rows;
        }
        if let Some(f) = seen.date {
            *self.dates.entry(f).or_insert(0) += rows;
        }
        if v.starts_with("0000-00-00") {
            self.zero_dates += rows;
        }
        if seen.numeric {
            self.numeric_like += rows;
            if self
                .num_min
                .as_deref()
                .is_none_or(|m| by_number(v, m).is_lt())
            {
                self.num_min = Some(v.to_string());
            }
            if self
                .num_max
                .as_deref()
                .is_none_or(|m| by_number(v, m).is_gt())
            {
                self.num_max = Some(v.to_string());
            }
        }
    }

    /// Merges the statistics of another part of the same column.
    pub fn merge(&mut self, o: &TextStats) {
        let (t, u) = (self, o);
        t.empty += u.empty;
        t.whitespace_only += u.whitespace_only;
        t.padded += u.padded;
        if let Some(v) = u.len_min {
            t.len_min = Some(t.len_min.map_or(v, |m| m.min(v)));
        }
        if let Some(v) = u.len_max {
            t.len_max = Some(t.len_max.map_or(v, |m| m.max(v)));
        }
        t.len_sum += u.len_sum;
        let mut shapes: Vec<(&String, &u64)> = u.shapes.iter().collect();
        shapes.sort();
        for (s, c) in shapes {
            if let Some(x) = t.shapes.get_mut(s) {
                *x += c;
            } else if t.shapes.len() < MAX_SHAPES {
                t.shapes.insert(s.clone(), *c);
            } else {
                t.shape_other += c;
            }
        }
        t.shape_other += u.shape_other;
        for (f, c) in &u.dates {
            *t.dates.entry(f).or_insert(0) += c;
        }
        t.numeric_like += u.numeric_like;
        t.zero_dates += u.zero_dates;
        for v in [&u.num_min, &u.num_max].into_iter().flatten() {
            if t.num_min.as_deref().is_none_or(|m| by_number(v, m).is_lt()) {
                t.num_min = Some(v.clone());
            }
            if t.num_max.as_deref().is_none_or(|m| by_number(v, m).is_gt()) {
                t.num_max = Some(v.clone());
            }
        }
        t.num_moments.merge(&u.num_moments);
        for v in [&u.min, &u.max].into_iter().flatten() {
            if t.min.as_deref().is_none_or(|m| v.as_str() < m) {
                t.min = Some(v.clone());
            }
            if t.max.as_deref().is_none_or(|m| v.as_str() > m) {
                t.max = Some(v.clone());
            }
        }
    }
}

/// Plain decimal texts by value, and equal values (`1.5`, `1.50`) by their bytes: the smallest
/// and largest are the same whatever order the values come in.
fn by_number(a: &str, b: &str) -> std::cmp::Ordering {
    cmp_decimal_str(a, b).then_with(|| a.cmp(b))
}

impl ColumnAcc {
    /// The text part of [`ColumnAcc::update`], for either offset size.
    // The loop walks the array and the hash vector in step, by row index.
    #[allow(clippy::needless_range_loop)]
    pub(super) fn update_text<O: OffsetSizeTrait>(
        &mut self,
        a: &GenericStringArray<O>,
        hashes: &mut [u64],
        seen_hashes: &mut Vec<(u32, u64)>,
        seed: u64,
        ctx: &ChunkContext<'_>,
    ) {
        let n = a.len();
        let lim_f = ctx.opts.frequency_limit;
        let mut invalid = ctx.invalid_utf8_rows.iter().peekable();
        let mut shape_buf = String::with_capacity(48);
        // What depends on the value alone is worked out once per distinct value of the
        // chunk (checked byte for byte, never trusted to the hash) and counted; it is
        // added to the column once per value, times its rows, after the chunk. What
        // needs the row (samples, averages in row order) is done row by row.
        let mut cache: Option<HashMap<u64, usize, BuildHasherDefault<PassThrough>>> =
            if self.uncached_chunks > 0 {
                self.uncached_chunks -= 1;
                None
            } else {
                Some(HashMap::with_capacity_and_hasher(1024, Default::default()))
            };
        let mut values: Vec<Cached> = Vec::new();
        let mut looked = 0usize;
        for i in 0..n {
            if a.is_null(i) {
                continue;
            }
            let v = a.value(i);
            let h = xxh3_64_with_seed(v.as_bytes(), seed);
            hashes[i] = h;
            seen_hashes.push((i as u32, h));
            let hit = match cache.as_mut() {
                Some(c) => match c.get(&h) {
                    Some(&e) if a.value(values[e].first) == v => Some(e),
                    // Another value with the same hash: worked out on its own.
                    Some(_) => None,
                    None => {
                        let seen = Seen::of(v, &mut shape_buf);
                        c.insert(h, values.len());
                        values.push(Cached {
                            first: i,
                            seen,
                            shape: shape_buf.clone(),
                            rows: 0,
                        });
                        Some(values.len() - 1)
                    }
                },
                None => None,
            };
            looked += 1;
            // A column of mostly new values gains nothing from the cache: stop caching
            // (the values cached so far are still added after the chunk).
            if looked == 4096 && cache.as_ref().is_some_and(|c| c.len() > 2048) {
                cache = None;
                self.uncached_chunks = 7;
            }
            let own;
            let seen = match hit {
                Some(e) => {
                    values[e].rows += 1;
                    &values[e].seen
                }
                None => {
                    own = Seen::of(v, &mut shape_buf);
                    self.text.add_value(v, &own, &shape_buf, 1);
                    &own
                }
            };
            if let Some(x) = seen.number {
                self.text.num_moments.add(x);
            }
            let is_invalid = invalid.peek() == Some(&&i);
            if is_invalid {
                invalid.next();
                self.record_encoding(encoding::INVALID_UTF8, i, ctx);
                continue;
            }
            if seen.hits.contains(&true) {
                let hits = seen.hits;
                for (k, hit) in hits.iter().enumerate() {
                    if *hit {
                        self.record_encoding(k, i, ctx);
                    }
                }
            }
        }
        for c in &values {
            self.text
                .add_value(a.value(c.first), &c.seen, &c.shape, c.rows);
        }
        self.freq
            .add_chunk(seen_hashes, |r| a.value(r as usize).as_bytes(), lim_f);
    }

    /// A dictionary-encoded text chunk (as Parquet stores text of few distinct values, read with
    /// its dictionary kept): what depends on the value alone is worked out once per dictionary
    /// entry that some row uses, and counted by the rows' keys, with no per-row hashing or
    /// copying. Entries are taken in the order of their first row, so the column ends exactly
    /// as if the same values had been read plain (the test compares both), with one exception:
    /// past 1,000 shapes, which are kept by name depends on arrival order, and a plain chunk of
    /// mostly new values adds them row by row. Returns false, having
    /// done nothing, for any other array, and for a dictionary whose values hold NULL or whose
    /// rows hold invalid UTF-8: those take the plain path.
    pub(super) fn update_dictionary(
        &mut self,
        array: &ArrayRef,
        ctx: &ChunkContext<'_>,
        hashes: &mut Vec<u64>,
    ) -> bool {
        let DataType::Dictionary(key, value) = array.data_type() else {
            return false;
        };
        if key.as_ref() != &DataType::Int32 || !ctx.invalid_utf8_rows.is_empty() {
            return false;
        }
        let dict = array.as_dictionary::<Int32Type>();
        if dict.values().null_count() > 0 {
            return false;
        }
        // Checked, not trusted to the type: a reader may label other values as text.
        match value.as_ref() {
            DataType::Utf8 => match dict.values().as_string_opt::<i32>() {
                Some(v) => self.dictionary_text(dict.keys(), v, ctx, hashes),
                None => return false,
            },
            DataType::LargeUtf8 => match dict.values().as_string_opt::<i64>() {
                Some(v) => self.dictionary_text(dict.keys(), v, ctx, hashes),
                None => return false,
            },
            _ => return false,
        }
        true
    }

    /// [`ColumnAcc::update_dictionary`] for either offset size.
    fn dictionary_text<O: OffsetSizeTrait>(
        &mut self,
        keys: &Int32Array,
        values: &GenericStringArray<O>,
        ctx: &ChunkContext<'_>,
        hashes: &mut Vec<u64>,
    ) {
        if self.kind.is_none() {
            self.kind = Some(Kind::Text);
        }
        self.ascent.breaks();
        let seed = Kind::Text.seed();
        let n = keys.len();
        debug_assert!(u32::try_from(n).is_ok(), "a chunk of {n} rows");
        self.rows += n as u64;
        self.nulls += keys.null_count() as u64;
        self.sample_nulls(keys, ctx);
        hashes.clear();
        hashes.resize(n, NULL_HASH);
        // Per dictionary entry: its first row (u32::MAX: no row uses it), rows and hash.
        let d = values.len();
        let mut first = vec![u32::MAX; d];
        let mut rows = vec![0u64; d];
        let mut hash = vec![0u64; d];
        // The entries used, in the order of their first row.
        let mut order: Vec<usize> = Vec::new();
        for (i, k) in keys.values().iter().enumerate() {
            if keys.is_null(i) {
                continue;
            }
            // A valid dictionary array's keys index its values.
            let k = *k as usize;
            if first[k] == u32::MAX {
                first[k] = i as u32;
                hash[k] = xxh3_64_with_seed(values.value(k).as_bytes(), seed);
                order.push(k);
            }
            rows[k] += 1;
            hashes[i] = hash[k];
        }
        let mut shape_buf = String::with_capacity(48);
        let mut seen: Vec<Option<Seen>> = vec![None; d];
        let (mut numbers, mut hits) = (false, false);
        for &k in &order {
            let v = values.value(k);
            let s = Seen::of(v, &mut shape_buf);
            self.text.add_value(v, &s, &shape_buf, rows[k]);
            numbers |= s.number.is_some();
            hits |= s.hits.contains(&true);
            seen[k] = Some(s);
        }
        // What needs the row: averages in row order, and the rows of encoding findings.
        if numbers || hits {
            for (i, k) in keys.values().iter().enumerate() {
                if keys.is_null(i) {
                    continue;
                }
                let Some(s) = seen[*k as usize].as_ref() else {
                    continue;
                };
                if let Some(x) = s.number {
                    self.text.num_moments.add(x);
                }
                if s.hits.contains(&true) {
                    let found = s.hits;
                    for (kind, hit) in found.iter().enumerate() {
                        if *hit {
                            self.record_encoding(kind, i, ctx);
                        }
                    }
                }
            }
        }
        let lim_f = ctx.opts.frequency_limit;
        let counted: Vec<(u64, u64, &[u8])> = order
            .iter()
            .map(|&k| (hash[k], rows[k], values.value(k).as_bytes()))
            .collect();
        if !self.freq.add_counts(&counted, lim_f) {
            // Counts that could turn approximate within the chunk go row by row, as ever.
            let batch: Vec<(u32, u64)> = (0..n)
                .filter(|&i| keys.is_valid(i))
                .map(|i| (i as u32, hashes[i]))
                .collect();
            self.freq.add_chunk(
                &batch,
                |r| values.value(keys.value(r as usize) as usize).as_bytes(),
                lim_f,
            );
        }
        let distinct: Vec<(u32, u64)> = order.iter().map(|&k| (first[k], hash[k])).collect();
        self.distinct
            .add_batch(&distinct, ctx.opts.exact_distinct_limit);
    }
}

/// Whether a text is empty, blank or padded.
#[derive(Clone, Copy)]
enum Blank {
    No,
    Empty,
    WhitespaceOnly,
    Padded,
}

/// What the profile learns from a text value alone (the same for every row holding it); its
/// shape goes to the caller's buffer.
#[derive(Clone)]
struct Seen {
    len: u64,
    blank: Blank,
    date: Option<&'static str>,
    numeric: bool,
    /// The value as a number, when it is a plain decimal that parses.
    number: Option<f64>,
    hits: [bool; 7],
}

/// A distinct text value of a chunk: its first row, what it decides, its shape, and the rows
/// holding it.
struct Cached {
    first: usize,
    seen: Seen,
    shape: String,
    rows: u64,
}

impl Seen {
    fn of(v: &str, shape_buf: &mut String) -> Seen {
        let len = if v.is_ascii() {
            v.len()
        } else {
            v.chars().count()
        } as u64;
        let blank = if v.is_empty() {
            Blank::Empty
        } else {
            let trimmed = v.trim();
            if trimmed.is_empty() {
                Blank::WhitespaceOnly
            } else if trimmed.len() != v.len() {
                Blank::Padded
            } else {
                Blank::No
            }
        };
        shape_into(v, shape_buf);
        let mut hits = [false; 7];
        encoding::scan(v, &mut hits);
        let numeric = is_plain_decimal(v);
        Seen {
            len,
            blank,
            date: datefmt::family(v),
            numeric,
            number: if numeric { v.parse::<f64>().ok() } else { None },
            hits,
        }
    }
}
