//! The per-column accumulator: everything the profile learns about one column, updated chunk by
//! chunk and mergeable (so chunks or partitions can be profiled apart and combined).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int64Type, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use xxhash_rust::xxh3::xxh3_64_with_seed;

pub use super::ascent::Ascent;
use super::distinct::Distinct;
use super::encoding::KINDS;
use super::frequency::Frequencies;
use super::numeric::{float_key, Histogram, Moments};
pub use super::text::TextStats;
use super::ProfileOptions;
use crate::value::kind::{infinity_bounds, normalize, Kind};

/// The hash of NULL in row hashes (distinct from every value's hash by construction of the seed).
pub const NULL_HASH: u64 = 0x9e37_79b9_7f4a_7c15;

/// Everything learned about one column.
#[derive(Clone, Default)]
pub struct ColumnAcc {
    /// The kind, known after the first chunk.
    pub kind: Option<Kind>,
    /// Rows seen.
    pub rows: u64,
    /// NULLs seen.
    pub nulls: u64,
    /// Distinct non-null values.
    pub distinct: Distinct,
    /// Value frequencies.
    pub freq: Frequencies,
    /// Moments of numeric/temporal values (in the kind's unit).
    pub moments: Moments,
    /// Quantile histogram.
    pub hist: Histogram,
    /// Min and max of integer-like kinds (ints, decimals unscaled, dates, timestamps, times).
    pub min_i: Option<i128>,
    /// Max of integer-like kinds.
    pub max_i: Option<i128>,
    /// Min of floats (NaN excluded).
    pub min_f: Option<f64>,
    /// Max of floats (NaN excluded).
    pub max_f: Option<f64>,
    /// NaN values.
    pub nan: u64,
    /// ±Infinity values.
    pub infinite: u64,
    /// true / false counts.
    pub bools: [u64; 2],
    /// Text statistics (text and bytes kinds).
    pub text: TextStats,
    /// Encoding finding counts, by [`KINDS`] index.
    pub encoding: [u64; 7],
    /// Sample row keys per encoding kind.
    pub encoding_samples: [Vec<String>; 7],
    /// Keys of some rows holding NULL.
    pub null_samples: Vec<String>,
    /// Chunks of text still to profile without the per-chunk cache of distinct values (after
    /// a chunk of mostly new values; tried again every few chunks).
    pub(super) uncached_chunks: u8,
    /// Whether the column has ascended strictly, with no NULL, from its first row.
    pub ascent: Ascent,
}

/// What the column update needs to know about the chunk.
pub struct ChunkContext<'a> {
    /// Profile options.
    pub opts: &'a ProfileOptions,
    /// Rows of this column whose text was not valid UTF-8 (sorted).
    pub invalid_utf8_rows: &'a [usize],
    /// Renders the key of a row in this chunk (for samples).
    pub key_of: &'a (dyn Fn(usize) -> String + Sync),
}

fn minmax_i(acc: &mut ColumnAcc, v: i128) {
    acc.min_i = Some(acc.min_i.map_or(v, |m| m.min(v)));
    acc.max_i = Some(acc.max_i.map_or(v, |m| m.max(v)));
}

impl ColumnAcc {
    /// Profiles one chunk of this column; returns the per-row value hashes (NULL → [`NULL_HASH`]).
    pub fn update(&mut self, array: &ArrayRef, ctx: &ChunkContext<'_>) -> Vec<u64> {
        let mut hashes = Vec::new();
        self.update_into(array, ctx, &mut hashes);
        hashes
    }

    /// [`ColumnAcc::update`], writing the hashes into `hashes`.
    // The loops walk an Arrow array and the hash vector in step, by row index.
    #[allow(clippy::needless_range_loop)]
    pub fn update_into(&mut self, array: &ArrayRef, ctx: &ChunkContext<'_>, hashes: &mut Vec<u64>) {
        if self.update_dictionary(array, ctx, hashes) {
            return;
        }
        let (kind, arr) = if array.data_type() == &DataType::LargeUtf8 {
            (Kind::Text, array.clone())
        } else {
            normalize(array)
        };
        if self.kind.is_none() {
            self.kind = Some(kind.clone());
        }
        let seed = kind.seed();
        let n = arr.len();
        self.rows += n as u64;
        self.nulls += arr.null_count() as u64;
        let lim_d = ctx.opts.exact_distinct_limit;
        let lim_f = ctx.opts.frequency_limit;
        // Row positions within a chunk are kept as u32 (chunks are CHUNK_ROWS long).
        debug_assert!(u32::try_from(n).is_ok(), "a chunk of {n} rows");
        hashes.clear();
        hashes.resize(n, NULL_HASH);
        // Non-null rows and their hashes, for the distinct set (filled a chunk at a time).
        let mut seen_hashes: Vec<(u32, u64)> = Vec::with_capacity(n - arr.null_count());
        let inf = infinity_bounds(&kind);
        self.sample_nulls(arr.as_ref(), ctx);
        macro_rules! ints {
            ($ty:ty, $f:expr) => {{
                let a = arr.as_primitive::<$ty>();
                if a.null_count() > 0 {
                    self.ascent.breaks();
                } else {
                    self.ascent.add(a.values().iter().map(|&v| v as i128));
                }
                // Averages, quantiles and range are taken over the chunk at once.
                let (mut xs, mut keys) = (Vec::with_capacity(n), Vec::with_capacity(n));
                let (mut lo, mut hi) = (i128::MAX, i128::MIN);
                for i in 0..n {
                    if a.is_null(i) {
                        continue;
                    }
                    let v = a.value(i);
                    let bytes = v.to_le_bytes();
                    let h = xxh3_64_with_seed(&bytes, seed);
                    hashes[i] = h;
                    seen_hashes.push((i as u32, h));
                    let (x, key): (f64, i64) = $f(v);
                    if inf.is_some_and(|(hi, lo)| key == hi || key == lo) {
                        // ±infinity: counted and shown by name, kept out of range and averages.
                        self.infinite += 1;
                        continue;
                    }
                    xs.push(x);
                    keys.push(key);
                    lo = lo.min(v as i128);
                    hi = hi.max(v as i128);
                }
                self.moments.add_slice(&xs);
                self.hist.add_keys(&keys);
                if !keys.is_empty() {
                    minmax_i(self, lo);
                    minmax_i(self, hi);
                }
                self.freq
                    .add_chunk(&seen_hashes, |r| a.value(r as usize).to_le_bytes(), lim_f);
            }};
        }
        if !matches!(
            kind,
            Kind::Int
                | Kind::Date
                | Kind::Timestamp { .. }
                | Kind::Time { .. }
                | Kind::Decimal { .. }
        ) {
            self.ascent.breaks();
        }
        match &kind {
            Kind::Int => ints!(Int64Type, |v: i64| (v as f64, v)),
            Kind::Date => ints!(Date32Type, |v: i32| (v as f64, v as i64)),
            Kind::Timestamp { unit, .. } => match unit {
                TimeUnit::Second => ints!(TimestampSecondType, |v: i64| (v as f64, v)),
                TimeUnit::Millisecond => ints!(TimestampMillisecondType, |v: i64| (v as f64, v)),
                TimeUnit::Microsecond => ints!(TimestampMicrosecondType, |v: i64| (v as f64, v)),
                TimeUnit::Nanosecond => ints!(TimestampNanosecondType, |v: i64| (v as f64, v)),
            },
            Kind::Time { unit } => match unit {
                TimeUnit::Nanosecond => ints!(Time64NanosecondType, |v: i64| (v as f64, v)),
                _ => ints!(Time64MicrosecondType, |v: i64| (v as f64, v)),
            },
            Kind::Decimal { scale, .. } => {
                let div = 10f64.powi(i32::from(*scale));
                ints!(Decimal128Type, |v: i128| {
                    let x = v as f64 / div;
                    (x, float_key(x))
                })
            }
            Kind::Float => {
                let a = arr.as_primitive::<Float64Type>();
                let (mut xs, mut keys) = (Vec::with_capacity(n), Vec::with_capacity(n));
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for i in 0..n {
                    if a.is_null(i) {
                        continue;
                    }
                    let v = a.value(i);
                    let bytes = v.to_bits().to_le_bytes();
                    let h = xxh3_64_with_seed(&bytes, seed);
                    hashes[i] = h;
                    seen_hashes.push((i as u32, h));
                    if v.is_nan() {
                        self.nan += 1;
                        continue;
                    }
                    if v.is_infinite() {
                        self.infinite += 1;
                    }
                    xs.push(v);
                    keys.push(float_key(v));
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                // Infinities are in the range and the quantiles; `add_slice` leaves them out
                // of the averages.
                self.moments.add_slice(&xs);
                self.hist.add_keys(&keys);
                if !xs.is_empty() {
                    self.min_f = Some(self.min_f.map_or(lo, |m| m.min(lo)));
                    self.max_f = Some(self.max_f.map_or(hi, |m| m.max(hi)));
                }
                self.freq.add_chunk(
                    &seen_hashes,
                    |r| a.value(r as usize).to_bits().to_le_bytes(),
                    lim_f,
                );
            }
            Kind::Bool => {
                let a = arr.as_boolean();
                for i in 0..n {
                    if a.is_null(i) {
                        continue;
                    }
                    let v = a.value(i);
                    let bytes = [u8::from(v)];
                    let h = xxh3_64_with_seed(&bytes, seed);
                    hashes[i] = h;
                    seen_hashes.push((i as u32, h));
                    self.bools[usize::from(v)] += 1;
                }
                self.freq
                    .add_chunk(&seen_hashes, |r| [u8::from(a.value(r as usize))], lim_f);
            }
            Kind::Bytes => {
                let a = arr.as_binary::<i32>();
                for i in 0..n {
                    if a.is_null(i) {
                        continue;
                    }
                    let v = a.value(i);
                    let h = xxh3_64_with_seed(v, seed);
                    hashes[i] = h;
                    seen_hashes.push((i as u32, h));
                    self.lengths(v.len() as u64);
                }
                self.freq
                    .add_chunk(&seen_hashes, |r| a.value(r as usize), lim_f);
            }
            // Large strings (as polars writes them) are read in place, not copied to small ones.
            Kind::Text => match arr.as_string_opt::<i32>() {
                Some(a) => self.update_text(a, hashes, &mut seen_hashes, seed, ctx),
                None => {
                    self.update_text(arr.as_string::<i64>(), hashes, &mut seen_hashes, seed, ctx)
                }
            },
        }
        self.distinct.add_batch(&seen_hashes, lim_d);
    }

    /// Keeps the keys of the first rows holding NULL.
    pub(super) fn sample_nulls(&mut self, arr: &dyn Array, ctx: &ChunkContext<'_>) {
        if arr.null_count() == 0 || self.null_samples.len() >= ctx.opts.sample_keys {
            return;
        }
        for i in 0..arr.len() {
            if self.null_samples.len() >= ctx.opts.sample_keys {
                break;
            }
            if arr.is_null(i) {
                self.null_samples.push((ctx.key_of)(i));
            }
        }
    }

    fn lengths(&mut self, len: u64) {
        let t = &mut self.text;
        t.len_min = Some(t.len_min.map_or(len, |m| m.min(len)));
        t.len_max = Some(t.len_max.map_or(len, |m| m.max(len)));
        t.len_sum += len;
    }

    pub(super) fn record_encoding(&mut self, k: usize, row: usize, ctx: &ChunkContext<'_>) {
        self.encoding[k] += 1;
        if self.encoding_samples[k].len() < ctx.opts.sample_keys {
            self.encoding_samples[k].push((ctx.key_of)(row));
        }
    }

    /// A column profiled from one chunk alone (for tests): sample keys are `row N`.
    #[cfg(test)]
    pub(crate) fn of_chunk(array: &ArrayRef, opts: &ProfileOptions) -> ColumnAcc {
        let mut acc = ColumnAcc::default();
        let key_of = |r: usize| format!("row {r}");
        let ctx = ChunkContext {
            opts,
            invalid_utf8_rows: &[],
            key_of: &key_of,
        };
        acc.update(array, &ctx);
        acc
    }

    /// Distinct non-null values, and whether the count is exact: values that rose strictly with
    /// no NULL are as many as the rows, exactly, past the distinct set's limit too.
    pub fn distinct_count(&self) -> (u64, bool) {
        match self.ascent.holds() {
            true => (self.rows, true),
            false => self.distinct.count(),
        }
    }

    /// Whether every value is distinct and none is NULL, known exactly.
    pub fn unique(&self) -> bool {
        let (d, exact) = self.distinct_count();
        exact && self.nulls == 0 && self.rows > 0 && d == self.rows
    }

    /// Merges another accumulator of the same column (e.g. from another partition).
    pub fn merge(&mut self, o: &ColumnAcc, opts: &ProfileOptions) {
        if self.kind.is_none() {
            self.kind = o.kind.clone();
        }
        self.rows += o.rows;
        self.nulls += o.nulls;
        self.distinct.merge(&o.distinct, opts.exact_distinct_limit);
        self.freq.merge(&o.freq, opts.frequency_limit);
        self.moments.merge(&o.moments);
        self.hist.merge(&o.hist);
        if let (Some(a), Some(b)) = (o.min_i, o.max_i) {
            minmax_i(self, a);
            minmax_i(self, b);
        }
        if let Some(v) = o.min_f {
            self.min_f = Some(self.min_f.map_or(v, |m| m.min(v)));
        }
        if let Some(v) = o.max_f {
            self.max_f = Some(self.max_f.map_or(v, |m| m.max(v)));
        }
        self.ascent.merge(&o.ascent);
        self.nan += o.nan;
        self.infinite += o.infinite;
        self.bools[0] += o.bools[0];
        self.bools[1] += o.bools[1];
        self.text.merge(&o.text);
        for s in &o.null_samples {
            if self.null_samples.len() < opts.sample_keys {
                self.null_samples.push(s.clone());
            }
        }
        for k in 0..KINDS.len() {
            self.encoding[k] += o.encoding[k];
            for s in &o.encoding_samples[k] {
                if self.encoding_samples[k].len() < opts.sample_keys {
                    self.encoding_samples[k].push(s.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int32Array, Int64Array, StringArray};

    use super::*;
    use crate::profile::summary::summarize;
    use crate::source::ColumnMeta;

    /// A small deterministic generator (no extra dependency).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    fn profile_of(chunks: &[ArrayRef], opts: &ProfileOptions) -> String {
        let meta = ColumnMeta {
            name: "c".into(),
            declared_type: "x".into(),
            nullable: None,
            storage_classes: None,
        };
        // Each chunk into its own accumulator, then merged: what parallel partitions do.
        let mut total = ColumnAcc::default();
        for a in chunks {
            total.merge(&ColumnAcc::of_chunk(a, opts), opts);
        }
        let mut p = serde_json::to_value(summarize(&meta, 0, &total, false, 10)).unwrap();
        // Sample keys name rows within chunks; approximate (Misra–Gries) top values depend on the
        // merge order by nature. Everything else must not depend on the split.
        p["null_sample_keys"] = serde_json::Value::Null;
        if let Some(enc) = p["encoding"].as_array_mut() {
            for e in enc {
                e["sample_keys"] = serde_json::Value::Null;
            }
        }
        if p["top_exact"] == false {
            p["top_values"] = serde_json::Value::Null;
            p["top_error_bound"] = serde_json::Value::Null;
        }
        p.to_string()
    }

    fn split(a: &ArrayRef, rng: &mut Lcg) -> Vec<ArrayRef> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < a.len() {
            let n = (1 + rng.next() as usize % 97).min(a.len() - at);
            out.push(a.slice(at, n));
            at += n;
        }
        out
    }

    #[test]
    fn text_of_mostly_new_values_counts_like_values_worked_out_one_by_one() {
        // 6,000 distinct values first (the chunk's cache is dropped after 4,096 rows), then
        // repeats of a few: lengths, blanks, shapes, dates and numbers must count every row.
        let mut v: Vec<String> = (0..6000).map(|i| format!("v{i}")).collect();
        for i in 0..3000 {
            v.push(["", "  ", " pad", "2024-01-15", "12.5", "v7"][i % 6].to_string());
        }
        let acc = ColumnAcc::of_chunk(
            &(Arc::new(StringArray::from(v.clone())) as ArrayRef),
            &ProfileOptions::default(),
        );
        let t = &acc.text;
        let len_sum: u64 = v.iter().map(|s| s.chars().count() as u64).sum();
        assert_eq!(t.len_sum, len_sum);
        assert_eq!((t.empty, t.whitespace_only, t.padded), (500, 500, 500));
        assert_eq!(t.dates.values().sum::<u64>(), 500);
        assert_eq!(t.numeric_like, 500);
        assert_eq!(t.num_moments.mean(), Some(12.5));
        let shaped: u64 = t.shapes.values().sum::<u64>() + t.shape_other;
        assert_eq!(shaped, 9000);
        // v0..v9 and the repeated v7, v10..v99, v100..v999, v1000..v5999.
        for (shape, n) in [
            ("a9", 10 + 500),
            ("a99", 90),
            ("a999", 900),
            ("a9999", 5000),
        ] {
            assert_eq!(t.shapes.get(shape), Some(&n), "{shape}");
        }
        assert_eq!(
            (t.min.as_deref(), t.max.as_deref()),
            (Some(""), Some("v999"))
        );
    }

    /// A column's summary as JSON, sample keys included.
    fn summary_of(acc: &ColumnAcc) -> String {
        let meta = ColumnMeta {
            name: "c".into(),
            declared_type: "x".into(),
            nullable: None,
            storage_classes: None,
        };
        serde_json::to_string(&summarize(&meta, 0, acc, false, 10)).unwrap()
    }

    #[test]
    fn dictionary_text_profiles_like_the_same_values_read_plain() {
        use arrow::array::{DictionaryArray, LargeStringArray};
        // Entries a row uses out of dictionary order, one no row uses (it must count nowhere:
        // not as a value, a length, a shape nor a distinct value), NULL keys, numbers (averaged
        // in row order), encoding findings (sampled by row) and blanks.
        let values = [
            "unused-zzz",
            "12.5",
            "AndrÃ©",
            "  ",
            "",
            "NY",
            "x\u{1}y",
            "7",
            " pad",
            "2024-01-15",
        ];
        let mut rng = Lcg(11);
        let keys: Vec<Option<i32>> = (0..3000)
            .map(|_| (!rng.next().is_multiple_of(8)).then(|| 1 + (rng.next() % 9) as i32))
            .collect();
        let plain: Vec<Option<&str>> = keys.iter().map(|k| k.map(|k| values[k as usize])).collect();
        // Frequency limits that keep the counts exact, and that turn them approximate within
        // the chunk (then the values are counted row by row, as the plain path does).
        for frequency_limit in [10_000, 5, 4, 1] {
            let opts = ProfileOptions {
                frequency_limit,
                exact_distinct_limit: 8,
                ..ProfileOptions::default()
            };
            let want = summary_of(&ColumnAcc::of_chunk(
                &(Arc::new(StringArray::from(plain.clone())) as ArrayRef),
                &opts,
            ));
            let small = DictionaryArray::new(
                Int32Array::from(keys.clone()),
                Arc::new(StringArray::from(values.to_vec())),
            );
            let large = DictionaryArray::new(
                Int32Array::from(keys.clone()),
                Arc::new(LargeStringArray::from(values.to_vec())),
            );
            for dict in [small, large] {
                let dict: ArrayRef = Arc::new(dict);
                let acc = ColumnAcc::of_chunk(&dict, &opts);
                assert_eq!(summary_of(&acc), want, "frequency limit {frequency_limit}");
                // The same hashes, row by row, for the table checks.
                let mut plain_acc = ColumnAcc::default();
                let key_of = |r: usize| format!("row {r}");
                let ctx = ChunkContext {
                    opts: &opts,
                    invalid_utf8_rows: &[],
                    key_of: &key_of,
                };
                let p = plain_acc.update(
                    &(Arc::new(StringArray::from(plain.clone())) as ArrayRef),
                    &ctx,
                );
                assert_eq!(ColumnAcc::default().update(&dict, &ctx), p);
            }
        }
        // Nine values used, past the exact limit of 8: the unused entry would make it ten.
        let opts = ProfileOptions {
            exact_distinct_limit: 9,
            ..ProfileOptions::default()
        };
        let dict: ArrayRef = Arc::new(DictionaryArray::new(
            Int32Array::from(keys.clone()),
            Arc::new(StringArray::from(values.to_vec())),
        ));
        assert_eq!(
            ColumnAcc::of_chunk(&dict, &opts).distinct.count(),
            (9, true)
        );
    }

    #[test]
    fn equal_numbers_written_differently_give_the_same_extremes_in_any_order() {
        let opts = ProfileOptions::default();
        let extremes = |v: Vec<&str>| {
            let acc = ColumnAcc::of_chunk(&(Arc::new(StringArray::from(v)) as ArrayRef), &opts);
            (acc.text.num_min, acc.text.num_max)
        };
        let want = (Some("01.5".to_string()), Some("2.50".to_string()));
        assert_eq!(extremes(vec!["1.50", "1.5", "01.5", "2.5", "2.50"]), want);
        assert_eq!(extremes(vec!["01.5", "2.50", "1.5", "2.5", "1.50"]), want);
    }

    #[test]
    fn an_ascent_holds_only_while_values_rise_strictly_with_no_null() {
        let ints = |v: &[Option<i64>]| -> ArrayRef { Arc::new(Int64Array::from(v.to_vec())) };
        let opts = ProfileOptions::default();
        let run = |chunks: &[&[Option<i64>]]| {
            let mut acc = ColumnAcc::default();
            let key_of = |r: usize| format!("row {r}");
            let ctx = ChunkContext {
                opts: &opts,
                invalid_utf8_rows: &[],
                key_of: &key_of,
            };
            for c in chunks {
                acc.update(&ints(c), &ctx);
            }
            acc.ascent.holds()
        };
        assert!(run(&[&[Some(-5), Some(1), Some(2)], &[Some(3), Some(9)]]));
        assert!(
            !run(&[&[Some(1), Some(2), Some(2)]]),
            "a repeat within a chunk"
        );
        assert!(
            !run(&[&[Some(1), Some(2)], &[Some(2), Some(3)]]),
            "a repeat across chunks"
        );
        assert!(
            !run(&[&[Some(1), Some(3)], &[Some(2)]]),
            "a fall across chunks"
        );
        assert!(!run(&[&[Some(1), None, Some(3)]]), "a NULL");
        assert!(!run(&[&[Some(3)], &[None]]), "a NULL in a later chunk");
        assert!(!run(&[&[]]), "no value at all");
        // Text is not tracked.
        let text = ColumnAcc::of_chunk(
            &(Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef),
            &opts,
        );
        assert!(!text.ascent.holds());
        // Merged in table order: the boundary counts.
        let acc = |v: &[Option<i64>]| ColumnAcc::of_chunk(&ints(v), &opts);
        let merged = |a: &[Option<i64>], b: &[Option<i64>]| {
            let mut m = acc(a);
            m.merge(&acc(b), &opts);
            m.ascent.holds()
        };
        assert!(merged(&[Some(1), Some(2)], &[Some(3)]));
        assert!(!merged(&[Some(1), Some(3)], &[Some(3), Some(4)]));
        assert!(!merged(&[Some(1)], &[None]));
        assert!(merged(&[], &[Some(1)]));
    }

    #[test]
    fn merged_chunks_profile_like_the_whole_column() {
        let opts = ProfileOptions {
            exact_distinct_limit: 300,
            frequency_limit: 50,
            ..ProfileOptions::default()
        };
        for seed in 0..20u64 {
            let mut rng = Lcg(seed);
            let n = 500 + rng.next() as usize % 1500;
            let ints: ArrayRef = Arc::new(Int64Array::from(
                (0..n)
                    .map(|_| {
                        (!rng.next().is_multiple_of(10)).then(|| rng.next() as i64 % 400 - 200)
                    })
                    .collect::<Vec<_>>(),
            ));
            let floats: ArrayRef = Arc::new(Float64Array::from(
                (0..n)
                    .map(|_| {
                        (!rng.next().is_multiple_of(7)).then(|| (rng.next() % 1000) as f64 / 8.0)
                    })
                    .collect::<Vec<_>>(),
            ));
            let words = [
                "CA",
                "ca",
                "Ca ",
                "NY",
                "",
                "  ",
                "AndrÃ©",
                "Zoe\u{308}",
                "2024-01-15",
                "01/31/2024",
                "x-1",
            ];
            let texts: ArrayRef = Arc::new(StringArray::from(
                (0..n)
                    .map(|_| {
                        (!rng.next().is_multiple_of(9))
                            .then(|| words[rng.next() as usize % words.len()].to_string())
                    })
                    .collect::<Vec<_>>(),
            ));
            for a in [ints, floats, texts] {
                let whole = profile_of(std::slice::from_ref(&a), &opts);
                let parts = split(&a, &mut rng);
                assert_eq!(
                    whole,
                    profile_of(&parts, &opts),
                    "seed {seed}, {} chunks",
                    parts.len()
                );
            }
        }
    }
}
