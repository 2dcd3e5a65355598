//! Property tests of the diff on random tables of every supported type (seeded, repeatable):
//! an equal-value rewrite (shuffled rows, other row-group sizes, a narrower integer type, other
//! thread counts) never yields a difference; a random single-cell mutation is always found, in
//! the right row and column, and nowhere else.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::common::*;
use crate::diff_files::diff_json;

#[derive(Clone)]
pub(crate) struct Table {
    pub(crate) id: Vec<i64>,
    pub(crate) qty: Vec<Option<i32>>,
    pub(crate) amount: Vec<Option<i128>>,
    pub(crate) price: Vec<Option<f64>>,
    pub(crate) name: Vec<Option<String>>,
    pub(crate) flag: Vec<Option<bool>>,
    pub(crate) day: Vec<Option<i32>>,
    pub(crate) at: Vec<Option<i64>>,
    pub(crate) blob: Vec<Option<Vec<u8>>>,
}

pub(crate) const COLUMNS: [&str; 8] = [
    "qty", "amount", "price", "name", "flag", "day", "at", "blob",
];

pub(crate) fn random_table(rng: &mut Rng, n: usize) -> Table {
    let null = |rng: &mut Rng| rng.below(10) == 0;
    let mut t = Table {
        id: vec![],
        qty: vec![],
        amount: vec![],
        price: vec![],
        name: vec![],
        flag: vec![],
        day: vec![],
        at: vec![],
        blob: vec![],
    };
    for i in 0..n {
        t.id.push(i as i64 * 7 - 1000);
        t.qty
            .push((!null(rng)).then(|| rng.below(1000) as i32 - 500));
        t.amount
            .push((!null(rng)).then(|| rng.below(10_000_000) as i128 - 5_000_000));
        t.price.push(
            (!null(rng))
                .then(|| f64::from_bits(rng.next() >> 2))
                .map(|f| if f.is_finite() { f } else { 1.5 }),
        );
        t.name.push((!null(rng)).then(|| {
            let words = ["", " ", "a", "é", "e\u{301}", "Zürich", "😀", "NULL", "x y"];
            (0..rng.below(3))
                .map(|_| words[rng.below(words.len() as u64) as usize])
                .collect()
        }));
        t.flag.push((!null(rng)).then(|| rng.below(2) == 1));
        t.day
            .push((!null(rng)).then(|| rng.below(40_000) as i32 - 10_000));
        t.at.push(
            (!null(rng)).then(|| rng.below(4_000_000_000_000_000) as i64 - 1_000_000_000_000_000),
        );
        t.blob
            .push((!null(rng)).then(|| (0..rng.below(4)).map(|_| rng.below(256) as u8).collect()));
    }
    t
}

pub(crate) fn write(t: &Table, order: &[usize], narrow: bool, group: usize, path: &Path) {
    let o = order;
    let qty: ArrayRef = if narrow {
        Arc::new(Int32Array::from(
            o.iter().map(|&i| t.qty[i]).collect::<Vec<_>>(),
        ))
    } else {
        Arc::new(Int64Array::from(
            o.iter()
                .map(|&i| t.qty[i].map(i64::from))
                .collect::<Vec<_>>(),
        ))
    };
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "id",
            Arc::new(Int64Array::from(
                o.iter().map(|&i| t.id[i]).collect::<Vec<_>>(),
            )),
        ),
        ("qty", qty),
        (
            "amount",
            Arc::new(
                Decimal128Array::from(o.iter().map(|&i| t.amount[i]).collect::<Vec<_>>())
                    .with_precision_and_scale(18, 4)
                    .unwrap(),
            ),
        ),
        (
            "price",
            Arc::new(Float64Array::from(
                o.iter().map(|&i| t.price[i]).collect::<Vec<_>>(),
            )),
        ),
        (
            "name",
            Arc::new(StringArray::from(
                o.iter().map(|&i| t.name[i].clone()).collect::<Vec<_>>(),
            )),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from(
                o.iter().map(|&i| t.flag[i]).collect::<Vec<_>>(),
            )),
        ),
        (
            "day",
            Arc::new(Date32Array::from(
                o.iter().map(|&i| t.day[i]).collect::<Vec<_>>(),
            )),
        ),
        (
            "at",
            Arc::new(
                TimestampMicrosecondArray::from(o.iter().map(|&i| t.at[i]).collect::<Vec<_>>())
                    .with_timezone("+00:00"),
            ),
        ),
        (
            "blob",
            Arc::new(BinaryArray::from(
                o.iter().map(|&i| t.blob[i].as_deref()).collect::<Vec<_>>(),
            )),
        ),
    ];
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_size(group)
        .build();
    let mut w =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

pub(crate) fn shuffled(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        v.swap(i, rng.below(i as u64 + 1) as usize);
    }
    v
}

/// Changes one cell so that its value surely differs.
pub(crate) fn mutate(t: &mut Table, row: usize, col: usize, rng: &mut Rng) {
    match COLUMNS[col] {
        "qty" => t.qty[row] = Some(t.qty[row].map_or(7, |v| v + 1)),
        "amount" => t.amount[row] = Some(t.amount[row].map_or(1, |v| v + 1)),
        "price" => {
            t.price[row] = Some(t.price[row].map_or(0.5, |v| f64::from_bits(v.to_bits() ^ 1)))
        }
        "name" => {
            t.name[row] = match &t.name[row] {
                None => Some(String::new()),
                Some(s) if rng.below(2) == 0 => Some(format!("{s} ")),
                Some(_) => None,
            }
        }
        "flag" => t.flag[row] = Some(!t.flag[row].unwrap_or(false)),
        "day" => t.day[row] = Some(t.day[row].map_or(0, |v| v + 1)),
        "at" => t.at[row] = Some(t.at[row].map_or(0, |v| v + 1)),
        _ => {
            t.blob[row] = Some(t.blob[row].clone().map_or(vec![], |mut b| {
                b.push(0);
                b
            }))
        }
    }
}

#[test]
fn equal_value_rewrites_never_differ() {
    let dir = tempdir();
    for seed in 1..=3u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let n = 3000;
        let t = random_table(&mut rng, n);
        let (a, b) = (
            dir.path().join(format!("a{seed}.parquet")),
            dir.path().join(format!("b{seed}.parquet")),
        );
        write(&t, &(0..n).collect::<Vec<_>>(), false, 1000, &a);
        write(&t, &shuffled(&mut rng, n), true, 257, &b);
        for threads in ["1", "2"] {
            let (code, r) = diff_json(&[
                a.to_str().unwrap(),
                b.to_str().unwrap(),
                "--key",
                "id",
                "--threads",
                threads,
            ]);
            assert_eq!(code, 0, "seed {seed}: {:#}", r["tables"][0]["samples"]);
            assert_eq!(r["tables"][0]["counts"]["matched"], n as u64);
        }
        // Shuffled rows cannot cancel as they stream: a 16 KiB budget spills them to disk.
        let (code, r) = diff_json(&[
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--key",
            "id",
            "--memory-limit",
            "16KiB",
        ]);
        assert_eq!(
            (code, &r["tables"][0]["spilled"]),
            (0, &serde_json::json!(true)),
            "seed {seed}: spilled"
        );
        assert_eq!(r["tables"][0]["counts"]["matched"], n as u64);
        // Keyless (multiset of whole rows) agrees too.
        let (code, _) = diff_json(&[a.to_str().unwrap(), b.to_str().unwrap()]);
        assert_eq!(code, 0, "seed {seed}: keyless");
    }
}

#[test]
fn a_random_single_cell_change_is_found_in_the_right_row_and_column() {
    let dir = tempdir();
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
        let n = 2000;
        let t = random_table(&mut rng, n);
        let mut m = t.clone();
        let (row, col) = (
            rng.below(n as u64) as usize,
            rng.below(COLUMNS.len() as u64) as usize,
        );
        mutate(&mut m, row, col, &mut rng);
        let (a, b) = (
            dir.path().join(format!("a{seed}.parquet")),
            dir.path().join(format!("b{seed}.parquet")),
        );
        write(&t, &(0..n).collect::<Vec<_>>(), false, 500, &a);
        write(&m, &shuffled(&mut rng, n), seed % 2 == 0, 333, &b);
        let (code, r) = diff_json(&[a.to_str().unwrap(), b.to_str().unwrap(), "--key", "id"]);
        let tb = &r["tables"][0];
        assert_eq!(code, 1, "seed {seed}: {} not found", COLUMNS[col]);
        assert_eq!(tb["counts"]["mismatched"], 1, "seed {seed}");
        assert_eq!(tb["counts"]["matched"], n as u64 - 1, "seed {seed}");
        let s = &tb["samples"][0];
        assert_eq!(s["key_text"], format!("id={}", t.id[row]), "seed {seed}");
        let cells = s["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 1, "seed {seed}: {cells:?}");
        assert_eq!(cells[0]["column"], COLUMNS[col], "seed {seed}");
        assert_eq!(cells[0]["verdict"], "mismatch", "seed {seed}");
    }
}

#[test]
fn rows_read_again_by_position_are_the_rows_left() {
    // Past the memory limit, Parquet sides keep nothing and read again only the rows left, by
    // position, across row groups of uneven sizes: the answer must be the one kept in memory.
    let dir = tempdir();
    for seed in 1..=4u64 {
        let mut rng = Rng(seed.wrapping_mul(0xA076_1D64_78BD_642F) | 1);
        let n = 3000;
        let t = random_table(&mut rng, n);
        let mut m = t.clone();
        let mut changed = std::collections::BTreeSet::new();
        while changed.len() < 40 {
            let row = rng.below(n as u64) as usize;
            if changed.insert(row) {
                let col = rng.below(COLUMNS.len() as u64) as usize;
                mutate(&mut m, row, col, &mut rng);
            }
        }
        // Rows only in the target (left out of the source) and only in the source.
        let only: Vec<usize> = (0..n).filter(|i| !changed.contains(i)).collect();
        let (extra, missing) = (&only[..7], &only[7..18]);
        let src: Vec<usize> = (0..n).filter(|i| !extra.contains(i)).collect();
        let tgt: Vec<usize> = shuffled(&mut rng, n)
            .into_iter()
            .filter(|i| !missing.contains(i))
            .collect();
        let (a, b) = (
            dir.path().join(format!("a{seed}.parquet")),
            dir.path().join(format!("b{seed}.parquet")),
        );
        write(&t, &src, false, 257, &a);
        write(&m, &tgt, seed % 2 == 0, 333, &b);
        let run = |name: &str, extra_args: &[&str]| {
            let out = dir.path().join(format!("{name}{seed}"));
            let mut args = vec![a.to_str().unwrap(), b.to_str().unwrap(), "--key", "id"];
            args.extend_from_slice(&["--out", out.to_str().unwrap()]);
            args.extend_from_slice(extra_args);
            let (code, r) = diff_json(&args);
            (code, r, out)
        };
        let (code, kept, kept_out) = run("kept", &[]);
        let tb = &kept["tables"][0];
        assert_eq!(code, 1, "seed {seed}");
        assert_eq!(tb["spilled"], false, "seed {seed}");
        assert_eq!(tb["counts"]["mismatched"], 40, "seed {seed}");
        assert_eq!(tb["counts"]["missing"], 11, "seed {seed}");
        assert_eq!(tb["counts"]["extra"], 7, "seed {seed}");
        for threads in ["1", "2"] {
            let (code, again, again_out) = run(
                &format!("again{threads}-"),
                &["--memory-limit", "1", "--threads", threads],
            );
            assert_eq!(code, 1, "seed {seed}");
            assert_eq!(again["tables"][0]["spilled"], true, "seed {seed}");
            assert_eq!(again["tables"][0]["counts"], tb["counts"], "seed {seed}");
            for f in ["diff_rows.parquet", "diff_summary.parquet"] {
                assert_eq!(
                    std::fs::read(kept_out.join(f)).unwrap(),
                    std::fs::read(again_out.join(f)).unwrap(),
                    "seed {seed}, {threads} threads: {f} read again vs kept"
                );
            }
        }
    }
}

/// A source that reads its rows a second time from another file (one that changed between the
/// two reads).
struct ChangedOnRereading {
    first: Box<dyn reckon::source::Source>,
    second: Box<dyn reckon::source::Source>,
}

impl reckon::source::Source for ChangedOnRereading {
    fn display(&self) -> String {
        self.first.display()
    }
    fn tables(&mut self) -> Result<Vec<reckon::source::TableMeta>, reckon::source::SourceError> {
        self.first.tables()
    }
    fn describe_query(
        &mut self,
        sql: &str,
    ) -> Result<reckon::source::TableMeta, reckon::source::SourceError> {
        self.first.describe_query(sql)
    }
    fn read(
        &mut self,
        table: &reckon::source::TableMeta,
    ) -> Result<reckon::source::ChunkStream, reckon::source::SourceError> {
        self.first.read(table)
    }
    fn read_parts(
        &mut self,
        table: &reckon::source::TableMeta,
    ) -> Result<Option<Vec<reckon::source::Part>>, reckon::source::SourceError> {
        self.first.read_parts(table)
    }
    fn rereadable(&self) -> bool {
        true
    }
    fn read_rows(
        &mut self,
        table: &reckon::source::TableMeta,
        rows: &[u64],
    ) -> Result<reckon::source::ChunkStream, reckon::source::SourceError> {
        self.second.read_rows(table, rows)
    }
}

#[test]
fn a_file_that_changed_between_the_two_reads_is_an_error_not_an_answer() {
    use reckon::diff::plan::{plan, Engine, PlanRequest};
    use reckon::diff::{diff_table, DiffOptions, ErrorClass, NullSink};
    use reckon::source::{open, Source, SourceSpec};
    let dir = tempdir();
    let mut rng = Rng(0x5EED);
    let n = 1500;
    let t = random_table(&mut rng, n);
    let mut m = t.clone();
    mutate(&mut m, 700, 0, &mut rng);
    // One more change that only the second read of the source sees (row 701, a row left).
    let mut later = t.clone();
    mutate(&mut later, 701, 1, &mut rng);
    mutate(&mut m, 701, 2, &mut rng);
    for d in ["first", "second", "target"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    let path = |d: &str| dir.path().join(d).join("t.parquet");
    let all: Vec<usize> = (0..n).collect();
    write(&t, &all, false, 400, &path("first"));
    write(&later, &all, false, 400, &path("second"));
    write(&m, &all, false, 400, &path("target"));
    let open_at = |d: &str| open(&SourceSpec::parse(path(d).to_str().unwrap()).unwrap()).unwrap();
    let run = |second: &str, memory_limit: u64| {
        let mut s = ChangedOnRereading {
            first: open_at("first"),
            second: open_at(second),
        };
        let mut g = open_at("target");
        let sm = s.tables().unwrap()[0].clone();
        let gm = g.tables().unwrap()[0].clone();
        let req = PlanRequest {
            key: Some(vec!["id".into()]),
            ..PlanRequest::default()
        };
        let p = plan(&sm, Engine::Parquet, &gm, Engine::Parquet, &req).unwrap();
        let opts = DiffOptions {
            memory_limit,
            ..DiffOptions::default()
        };
        diff_table(&mut s, g.as_mut(), &p, &opts, &mut NullSink, &|_, _| {})
    };
    // Read again from the same file: the two changed rows, found.
    let same = run("first", 1).expect("same file read again");
    assert!(same.spilled);
    assert_eq!(same.counts.mismatched, 2);
    // Kept in memory, the second file is never read: the same answer.
    let kept = run("second", 1 << 30).expect("kept in memory");
    assert!(!kept.spilled);
    assert_eq!(kept.counts.mismatched, 2);
    // Read again from the file that changed: an error, never a mixed answer.
    match run("second", 1) {
        Err(e) => assert_eq!(e.class(), ErrorClass::ChangedWhileRead, "{e}"),
        Ok(d) => panic!("a changed file gave an answer: {:?}", d.counts),
    }
}
