//! `reckon diff --pushdown`: the databases hash their own rows, and only what differs moves.
//!
//! Each side computes, in its own SQL (`queries/<dialect>/pushdown.sql`), a **row text** of the
//! compared columns in plan order: per column a tagged field (`n` number, `f` float bits, `t`
//! length-prefixed text, `b` bytes hex, `d` days, `i` instant µs, `l` local date-time µs, `h` time
//! µs, `o` boolean, `Z` NULL…), a grammar that parses one way only. The row hash is the first 8
//! bytes of its SHA-256; the bucket is the first 4 bytes of the SHA-256 of the key's text, modulo
//! the number of buckets. When both sides are PostgreSQL and every column pair is of one type
//! family, PostgreSQL's own extended hash functions replace the row text (several times
//! cheaper; see the notes in `queries/postgres/pushdown.sql` on which of them hash all their
//! input). A summary per bucket (rows, rows hashed, exact sum of the row hashes) comes back from
//! each side, first for a probe of 1/32 of the buckets, and only buckets whose summaries differ
//! go further:
//! - every bucket equal (**summaries**): nothing is read;
//! - few rows in differing buckets (**buckets**): those buckets' rows are read in full;
//! - many (**rows**): each side streams (key hash, row hash, key) of those buckets only (of
//!   every row, without full summaries, when the probe found most buckets differing), and full
//!   rows are read only for the keys whose hashes differ, by value through the key's index when
//!   it is one signed integer column.
//!
//! Rows read in full go through the streaming engine ([`super::diff_table`]), which classifies
//! them exactly as a streamed diff would; rows left behind are counted as matched.
//!
//! **Why it is never less exact than streaming.** Equal summaries are the only thing taken on
//! trust, and a field text is injective: two values that the value layer tells apart never give
//! the same text on any pair of engines (docs/design/pushdown-sql.md). The converse need not hold:
//! a value spelt two ways only makes its bucket differ, and then the engine decides. A column
//! whose type has no such text on one side (or that the diff compares by parsing, text against a
//! date, float against decimal), or a key compared under a rule, makes the whole table stream,
//! and the report says which column and why. A row whose text the database cannot hash (MariaDB
//! returns NULL for a text past `max_allowed_packet`) makes its bucket differ.
//!
//! Column aggregates come from the same queries: counts and NULLs of every column, and with
//! `--aggregates` the sums, minima and maxima of integers, decimals, text (byte order),
//! PostgreSQL booleans and dates, read as the streamed diff reads them (`AggregateAcc::add_sql`;
//! they cost about as much again as the hashing, so they are asked for). Never computed when
//! pushed down: those of floats (SQL has no exact float sum), timestamps, times, bytes, CHAR and
//! MySQL dates.
//!
//! The summaries, hashes and rows come from several queries, not one snapshot: compare tables
//! nobody writes to meanwhile.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::aggregate::AggregateAcc;
use super::engine::{diff_table, DiffOptions, Progress, RowSink};
use super::model::TableDiff;
use super::plan::{Read, TablePlan};
use super::DiffError;
use crate::source::{Dialect, Pushdown, Source, SourceError, TableMeta};
use crate::value::canonical::TextAs;

/// Rows per bucket aimed at.
const BUCKET_ROWS: u64 = 2048;

/// At most this many differing keys are read by key; past it, the table streams.
const MAX_KEYS: usize = 250_000;

/// At most this many buckets are named in a query; past it, hashes are read for every row.
const MAX_LISTED: usize = 10_000;

/// How the work of one table pair was split, as the reports show it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PushdownInfo {
    /// `summaries` (every bucket equal), `buckets`, `rows`, or `streamed` (not pushed down).
    pub strategy: String,
    /// How rows were hashed: `canonical text` (SHA-256 of reckon's row text, any pair of
    /// engines) or `postgres native` (PostgreSQL's own hash functions, PostgreSQL on both sides).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hashing: String,
    /// Why the table was streamed instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Columns that have no canonical SQL (and so made the table stream), with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallback_columns: Vec<FallbackColumn>,
    /// Buckets the key hashes were split into.
    pub buckets: u64,
    /// Buckets whose summaries differed (not counted when the probe found most differing, and
    /// the full summaries were skipped).
    pub differing_buckets: u64,
    /// Buckets summarised first, as a probe (1/32 of them; 0 for small tables).
    pub probed_buckets: u64,
    /// Probed buckets whose summaries differed.
    pub probe_differing: u64,
    /// (key hash, row hash) pairs streamed from each side (strategy `rows`).
    pub hashes_fetched: [u64; 2],
    /// Rows read in full from each side.
    pub rows_fetched: [u64; 2],
    /// Seconds spent waiting on each database for summaries and hashes (terminal and run.json
    /// only: result files stay byte-identical across runs).
    #[serde(skip)]
    pub seconds: [f64; 2],
}

/// A column compared by streaming, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FallbackColumn {
    /// Source column.
    pub column: String,
    /// Why it has no canonical SQL.
    pub why: String,
}

/// One dialect's pushdown SQL, from `queries/<dialect>/pushdown.sql`.
struct Templates {
    dialect: Dialect,
    parts: BTreeMap<&'static str, String>,
}

impl Templates {
    fn of(dialect: Dialect) -> Templates {
        let text = match dialect {
            Dialect::Postgres => include_str!("../../queries/postgres/pushdown.sql"),
            Dialect::Mysql => include_str!("../../queries/mysql/pushdown.sql"),
        };
        // Sections start at `-- name: NAME`; other comment lines are left out.
        let mut parts: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut name: Option<&'static str> = None;
        for line in text.lines() {
            if let Some(n) = line.trim_end().strip_prefix("-- name: ") {
                name = Some(n.trim());
            } else if let Some(n) = name.filter(|_| !line.trim_start().starts_with("--")) {
                let part = parts.entry(n).or_default();
                if !part.is_empty() {
                    part.push('\n');
                }
                part.push_str(line);
            }
        }
        for p in parts.values_mut() {
            *p = p.trim_matches('\n').to_string();
        }
        Templates { dialect, parts }
    }

    fn get(&self, name: &str) -> &str {
        self.parts.get(name).map(String::as_str).unwrap_or_else(|| {
            panic!(
                "queries/{:?}/pushdown.sql has no section '{name}'",
                self.dialect
            )
        })
    }

    /// A template with its `{name}` placeholders filled.
    fn fill(&self, name: &str, with: &[(&str, &str)]) -> String {
        let mut s = self.get(name).to_string();
        for (k, v) in with {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    fn quote(&self, ident: &str) -> String {
        crate::source::quote_ident(ident, self.dialect == Dialect::Mysql)
    }

    /// The fields joined into one text.
    fn concat(&self, fields: &[String]) -> String {
        let joined = fields.join(self.get("join"));
        match self.dialect {
            Dialect::Postgres => format!("({joined})"),
            Dialect::Mysql => format!("CONCAT({joined})"),
        }
    }
}

/// The field template of a column on one side, and the kind of value it writes (equal kinds on
/// both sides are required); `Err` says why the column has none.
fn field_kind(
    dialect: Dialect,
    other: Dialect,
    base: &str,
    read: &Read,
) -> Result<(&'static str, &'static str), String> {
    let text_read = read.text_as == TextAs::Text;
    // A float read as a float (facing an exact number it reads as the decimal its text names).
    let float_read = matches!(read.text_as, TextAs::Float(_));
    let r = match dialect {
        Dialect::Postgres => match base {
            "int2" | "int4" | "int8" if read.int_as_bool => ("int_bool", "o"),
            "int2" | "int4" | "int8" => ("int", "n"),
            "numeric" => ("numeric", "n"),
            "float4" | "float8" if float_read => ("float", "f"),
            "bool" => ("bool", "o"),
            "text" | "varchar" if text_read => ("text", "t"),
            "bpchar" if text_read && read.char_pad => ("text", "t"),
            "bpchar" if text_read => ("padded", "t"),
            "bytea" => ("bytes", "b"),
            "date" => ("date", "d"),
            "timestamptz" => ("instant", "i"),
            "timestamp" if !read.as_instant => ("local", "l"),
            "time" => ("time", "h"),
            _ => return Err(format!("PostgreSQL {base} has no canonical SQL here yet")),
        },
        Dialect::Mysql => match base {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => {
                if read.int_as_bool {
                    ("int_bool", "o")
                } else {
                    ("int", "n")
                }
            }
            "decimal" | "numeric" => ("numeric", "n"),
            // Against MariaDB its shortest text (cheap, and it round-trips); against PostgreSQL
            // its bits, computed.
            "double" if float_read && other == Dialect::Mysql => ("double_text", "g"),
            "double" if float_read => ("float", "f"),
            "char" | "varchar" | "text" | "tinytext" | "mediumtext" | "longtext" if text_read => {
                ("text", "t")
            }
            "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" => {
                ("bytes", "b")
            }
            "date" => ("date", "d"),
            "datetime" | "timestamp" if read.as_instant => ("instant", "i"),
            "datetime" | "timestamp" => ("local", "l"),
            "time" => ("time", "h"),
            _ => return Err(format!("MySQL {base} has no canonical SQL here yet")),
        },
    };
    Ok(r)
}

/// A MariaDB DOUBLE's bits field: the `float` template with its exponent and mantissa
/// expressions filled in.
fn mysql_float_bits(tpl: &Templates, q: &str) -> String {
    let e0 = tpl.fill("float_e0", &[("c", q)]);
    let m0 = tpl.fill("float_m0", &[("c", q), ("e0", &e0)]);
    let fe = tpl.fill("float_fe", &[("e0", &e0), ("m0", &m0)]);
    let fm = tpl.fill("float_fm", &[("m0", &m0)]);
    tpl.fill("float", &[("c", q), ("fe", &fe), ("fm", &fm)])
}

/// How a column's sum, min and max are computed in SQL, from its field template and base
/// type; `None` where they are not (floats, whose exact sum SQL cannot give; temporal values
/// other than PostgreSQL dates; bytes; CHAR, whose padding the streamed read keeps; MySQL dates,
/// which may hold zero dates).
fn agg_kind(dialect: Dialect, tpl: &str, base: &str) -> Option<&'static str> {
    match (dialect, tpl) {
        (_, "int" | "int_bool") => Some("int"),
        (_, "numeric") => Some("dec"),
        (Dialect::Postgres, "bool") => Some("bool"),
        (Dialect::Postgres, "text") if matches!(base, "text" | "varchar") => Some("text"),
        (Dialect::Mysql, "text") if base != "char" => Some("text"),
        (Dialect::Postgres, "date") => Some("date"),
        _ => None,
    }
}

/// What a kind means, for the reasons a column falls back.
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "n" => "an exact number",
        "f" => "a float (bits)",
        "g" => "a float (MariaDB's text)",
        "o" => "a boolean",
        "t" => "text",
        "b" => "bytes",
        "d" => "a date",
        "i" => "an instant",
        "l" => "a local date-time",
        "h" => "a time of day",
        _ => "another kind",
    }
}

/// The SQL of one side: its row hash, key hash and bucket expressions, and its raw compared
/// columns.
struct SideSql {
    tpl: Templates,
    table: String,
    /// The row hash (a signed 64-bit integer).
    row_hash: String,
    /// The key hash (the row hash's when there is no key).
    key_hash: String,
    /// The bucket, `{n}` for the number of buckets.
    bucket: String,
    /// Hashed by PostgreSQL's own functions.
    native: bool,
    cols: Vec<String>,
    /// Per compared column, how its sum, min and max are computed (`int`, `dec`, `text`,
    /// `bool`, `date`; `None`: not computed when pushed down).
    aggs: Vec<Option<&'static str>>,
    /// The key column, quoted, when the key is one signed integer column: differing keys are
    /// then read by value (through the key's index), not by hash.
    int_key: Option<String>,
}

impl SideSql {
    fn bucket(&self, n: u64) -> String {
        self.bucket.replace("{n}", &n.to_string())
    }

    /// Per bucket of the rows meeting `cond`: rows, rows hashed, the sum of the row hashes, and
    /// (`with_counts`) the non-NULL values of each compared column.
    fn summary(&self, n: u64, cond: &str, with_counts: bool) -> String {
        let (cols, counts) = if with_counts {
            let mut cols = String::new();
            let mut counts = String::new();
            for (i, c) in self.cols.iter().enumerate() {
                let a = format!("a{i}");
                cols.push_str(&format!(", {c} AS {a}"));
                counts.push_str(&format!(
                    ", {}",
                    self.tpl.fill("count", &[("c", &a), ("i", &i.to_string())])
                ));
            }
            // The aggregates read cleaned values (NaN left out) of their own.
            for (i, (c, kind)) in self.cols.iter().zip(&self.aggs).enumerate() {
                if let Some(kind) = kind {
                    let g = format!("g{i}");
                    let clean = if *kind == "dec" {
                        self.tpl.fill("agg.clean.dec", &[("c", c)])
                    } else {
                        c.clone()
                    };
                    cols.push_str(&format!(", {clean} AS {g}"));
                    counts.push_str(&format!(
                        ", {}",
                        self.tpl.fill(&format!("agg.{kind}"), &[("c", &g)])
                    ));
                }
            }
            (cols, counts)
        } else {
            (String::new(), String::new())
        };
        self.tpl.fill(
            "summary",
            &[
                ("bucket", &self.bucket(n)),
                ("hash", &self.row_hash),
                ("cols", &cols),
                ("counts", &counts),
                ("table", &self.table),
                ("where", cond),
            ],
        )
    }

    /// Rows, and the non-NULL values of each compared column, when no summary is taken.
    fn counts(&self) -> String {
        let mut counts: Vec<String> = std::iter::once("*")
            .chain(self.cols.iter().map(String::as_str))
            .enumerate()
            .map(|(i, c)| self.tpl.fill("count", &[("c", c), ("i", &i.to_string())]))
            .collect();
        for (c, kind) in self.cols.iter().zip(&self.aggs) {
            if let Some(kind) = kind {
                let clean = if *kind == "dec" {
                    self.tpl.fill("agg.clean.dec", &[("c", c)])
                } else {
                    c.clone()
                };
                counts.push(self.tpl.fill(&format!("agg.{kind}"), &[("c", &clean)]));
            }
        }
        self.tpl.fill(
            "counts",
            &[("counts", &counts.join(", ")), ("table", &self.table)],
        )
    }

    /// (key hash, row hash, key value or 0) of the rows meeting `cond`.
    fn tuples(&self, cond: &str, by_value: bool) -> String {
        let value = match (&self.int_key, by_value) {
            (Some(q), true) => q.clone(),
            _ => "0".into(),
        };
        self.tpl.fill(
            "tuples",
            &[
                ("key_hash", &self.key_hash),
                ("hash", &self.row_hash),
                ("value", &value),
                ("table", &self.table),
                ("where", cond),
            ],
        )
    }

    fn duplicates(&self) -> String {
        self.tpl.fill(
            "duplicates",
            &[("key_hash", &self.key_hash), ("table", &self.table)],
        )
    }
}

/// Both sides' SQL, or why the table must stream (and which columns).
fn side_sql(
    plan: &TablePlan,
    dbs: [&dyn Pushdown; 2],
    aggregates: bool,
) -> Result<[SideSql; 2], (String, Vec<FallbackColumn>)> {
    let metas = [&plan.source, &plan.target];
    let tpls = [
        Templates::of(dbs[0].dialect()),
        Templates::of(dbs[1].dialect()),
    ];
    let mut fields: [Vec<String>; 2] = Default::default();
    let mut cols: [Vec<String>; 2] = Default::default();
    let mut aggs: [Vec<Option<&'static str>>; 2] = Default::default();
    let mut fallback = Vec::new();
    for (i, c) in plan.columns.iter().enumerate() {
        if i < plan.key_len && !c.rules.0.is_empty() {
            fallback.push(FallbackColumn {
                column: c.source.clone(),
                why: "a key column under a rule pairs keys in a form SQL does not compute".into(),
            });
            continue;
        }
        let names = [&c.source, &c.target];
        let reads = [&c.source_read, &c.target_read];
        let mut kinds = Vec::new();
        for side in 0..2 {
            let base = dbs[side]
                .base_type(&metas[side].name, names[side])
                .unwrap_or_default();
            match field_kind(
                dbs[side].dialect(),
                dbs[1 - side].dialect(),
                &base,
                reads[side],
            ) {
                Ok((tpl, kind)) => {
                    let q = tpls[side].quote(names[side]);
                    let payload = if tpl == "float" && dbs[side].dialect() == Dialect::Mysql {
                        mysql_float_bits(&tpls[side], &q)
                    } else {
                        tpls[side].fill(tpl, &[("c", &q)])
                    };
                    fields[side].push(tpls[side].fill("null", &[("x", &payload)]));
                    cols[side].push(q);
                    aggs[side]
                        .push(agg_kind(dbs[side].dialect(), tpl, &base).filter(|_| aggregates));
                    kinds.push(kind);
                }
                Err(why) => {
                    fallback.push(FallbackColumn {
                        column: c.source.clone(),
                        why,
                    });
                    break;
                }
            }
        }
        if let [a, b] = kinds.as_slice() {
            if a != b {
                fallback.push(FallbackColumn {
                    column: c.source.clone(),
                    why: format!(
                        "the source reads as {} and the target as {}: the diff compares them by parsing, which the SQL does not do",
                        kind_name(a),
                        kind_name(b)
                    ),
                });
            }
        }
    }
    if !fallback.is_empty() {
        return Err(("some columns have no canonical SQL".into(), fallback));
    }
    let native = native_families(plan, dbs);
    let build = |side: usize, tpl: Templates| {
        let (row_hash, key_hash, bucket) = match &native {
            Some(families) => {
                // Per-column native hashes, seeded by position, xor-ed and mixed once more.
                let hashes: Vec<String> = families
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let seed = (i + 1).to_string();
                        let h = tpl.fill(
                            &format!("native.{f}"),
                            &[("c", &cols[side][i]), ("seed", &seed)],
                        );
                        tpl.fill("native.null", &[("x", &h), ("seed", &seed)])
                    })
                    .collect();
                let key_part = if plan.key_len == 0 {
                    &hashes[..]
                } else {
                    &hashes[..plan.key_len]
                };
                let row = tpl.fill("native.mix", &[("x", &hashes.join(" # ")), ("seed", "0")]);
                let key = tpl.fill("native.mix", &[("x", &key_part.join(" # ")), ("seed", "1")]);
                let bucket = tpl.fill("native.bucket", &[("k", &key)]);
                (row, key, bucket)
            }
            None => {
                let row = tpl.concat(&fields[side]);
                let key = if plan.key_len == 0 {
                    row.clone()
                } else {
                    tpl.concat(&fields[side][..plan.key_len])
                };
                (
                    tpl.fill("hash", &[("t", &row)]),
                    tpl.fill("hash", &[("t", &key)]),
                    tpl.fill("bucket", &[("t", &key)]),
                )
            }
        };
        let int_key = (plan.key_len == 1).then(|| {
            let name = if side == 0 {
                &plan.columns[0].source
            } else {
                &plan.columns[0].target
            };
            let base = dbs[side]
                .base_type(&metas[side].name, name)
                .unwrap_or_default();
            let declared = metas[side]
                .columns
                .iter()
                .find(|c| &c.name == name)
                .map(|c| c.declared_type.to_ascii_lowercase())
                .unwrap_or_default();
            let signed_int = matches!(
                base.as_str(),
                "int2"
                    | "int4"
                    | "int8"
                    | "tinyint"
                    | "smallint"
                    | "mediumint"
                    | "int"
                    | "integer"
                    | "bigint"
            ) && !declared.contains("unsigned");
            signed_int.then(|| tpl.quote(name))
        });
        SideSql {
            table: dbs[side].qualified(&metas[side].name),
            int_key: int_key.flatten(),
            tpl,
            row_hash,
            key_hash,
            bucket,
            native: native.is_some(),
            cols: cols[side].clone(),
            aggs: aggs[side].clone(),
        }
    };
    let [t0, t1] = tpls;
    Ok([build(0, t0), build(1, t1)])
}

/// PostgreSQL on both sides, every column pair of one family: the families, whose native hash
/// functions (`hashint8extended`, `hash_numeric_extended`…) then replace the row text, several
/// times cheaper. Each is injective where the value layer is strict (a float by its bits when it
/// is zero or NaN, text under the C collation, CHAR only where both sides are CHAR).
fn native_families(plan: &TablePlan, dbs: [&dyn Pushdown; 2]) -> Option<Vec<&'static str>> {
    if dbs.iter().any(|d| d.dialect() != Dialect::Postgres) {
        return None;
    }
    let family = |base: &str, read: &Read| -> Option<&'static str> {
        Some(match base {
            "int2" | "int4" if !read.int_as_bool => "int4",
            "int8" if !read.int_as_bool => "int",
            "numeric" => "numeric",
            "float4" | "float8" if matches!(read.text_as, TextAs::Float(_)) => "float",
            "text" | "varchar" if read.text_as == TextAs::Text => "text",
            "bpchar" if read.text_as == TextAs::Text && read.char_pad => "bpchar",
            "bool" => "bool",
            "bytea" => "bytes",
            "date" => "date",
            "timestamptz" => "instant",
            "timestamp" if !read.as_instant => "local",
            "time" => "time",
            _ => return None,
        })
    };
    plan.columns
        .iter()
        .map(|c| {
            let a = family(
                &dbs[0].base_type(&plan.source.name, &c.source)?,
                &c.source_read,
            )?;
            let b = family(
                &dbs[1].base_type(&plan.target.name, &c.target)?,
                &c.target_read,
            )?;
            (a == b).then_some(a)
        })
        .collect()
}

/// The buckets whose summaries differ (or that hold a row the database could not hash), the
/// rows of the others, and the rows of the differing ones (the larger side).
fn compare(s0: &Summary, s1: &Summary) -> (Vec<u64>, u64, u64) {
    let mut all: Vec<u64> = s0
        .buckets
        .keys()
        .chain(s1.buckets.keys())
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    let none = Bucket::default();
    let (mut dirty, mut clean_rows, mut dirty_rows) = (Vec::new(), 0u64, 0u64);
    for b in all {
        let x = s0.buckets.get(&b).unwrap_or(&none);
        let y = s1.buckets.get(&b).unwrap_or(&none);
        if x == y && x.hashed == x.rows {
            clean_rows += x.rows;
        } else {
            dirty.push(b);
            dirty_rows += x.rows.max(y.rows);
        }
    }
    (dirty, clean_rows, dirty_rows)
}

/// One bucket's summary on one side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Bucket {
    rows: u64,
    hashed: u64,
    sum: i128,
}

/// A side's summary, per bucket.
#[derive(Default)]
struct Summary {
    buckets: BTreeMap<u64, Bucket>,
}

/// A side's rows, the non-NULL values of each compared column, and (sum, min, max) texts of
/// the columns whose aggregates SQL computes, per group.
struct Counts {
    rows: u64,
    non_null: Vec<u64>,
    aggs: Vec<[Option<String>; 3]>,
}

/// The (sum, min, max) texts of a result row from `at` on, three per aggregated column.
fn agg_texts(row: &[Option<String>], at: usize, naggs: usize) -> Vec<[Option<String>; 3]> {
    (0..naggs)
        .map(|j| {
            let g = |k: usize| row.get(at + 3 * j + k).cloned().flatten();
            [g(0), g(1), g(2)]
        })
        .collect()
}

fn parse_counts(
    db: &dyn Pushdown,
    rows: Vec<Vec<Option<String>>>,
    ncols: usize,
    naggs: usize,
) -> Result<Counts, DiffError> {
    let row = rows.first().ok_or_else(|| bad(db, "count"))?;
    if row.len() != 1 + ncols + 3 * naggs {
        return Err(bad(db, "row width"));
    }
    let n = |v: &Option<String>| {
        v.as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| bad(db, "count"))
    };
    Ok(Counts {
        rows: n(&row[0])?,
        non_null: row[1..=ncols].iter().map(n).collect::<Result<_, _>>()?,
        aggs: agg_texts(row, 1 + ncols, naggs),
    })
}

fn bad(db: &dyn Pushdown, what: &str) -> DiffError {
    DiffError::Source(SourceError::query(
        &format!("{:?} (pushdown)", db.dialect()),
        format!("unexpected {what} in a pushdown result"),
    ))
}

/// Parses summaries; with `ncols` counts (and `naggs` aggregates) per bucket, also the counts
/// of the whole (and the aggregates of each bucket, in `aggs` one after the other).
fn parse_summary(
    db: &dyn Pushdown,
    rows: Vec<Vec<Option<String>>>,
    ncols: usize,
    naggs: usize,
) -> Result<(Summary, Counts), DiffError> {
    let mut s = Summary::default();
    let mut counts = Counts {
        rows: 0,
        non_null: vec![0; ncols],
        aggs: Vec::new(),
    };
    let num = |v: &Option<String>| -> Option<i128> { v.as_deref()?.trim().parse::<i128>().ok() };
    for r in rows {
        if r.len() != 4 + ncols + 3 * naggs {
            return Err(bad(db, "row width"));
        }
        counts.aggs.extend(agg_texts(&r, 4 + ncols, naggs));
        let b = num(&r[0]).ok_or_else(|| bad(db, "bucket"))? as u64;
        let rows = num(&r[1]).ok_or_else(|| bad(db, "count"))? as u64;
        let hashed = num(&r[2]).ok_or_else(|| bad(db, "count"))? as u64;
        // No row hashed: the sum is NULL.
        let sum = match &r[3] {
            None => 0,
            v => num(v).ok_or_else(|| bad(db, "sum"))?,
        };
        for (i, n) in counts.non_null.iter_mut().enumerate() {
            *n += num(&r[4 + i]).ok_or_else(|| bad(db, "count"))? as u64;
        }
        counts.rows += rows;
        s.buckets.insert(b, Bucket { rows, hashed, sum });
    }
    Ok((s, counts))
}

/// Runs one query on each side at once; returns both results and each side's seconds.
fn both<T: Send>(
    dbs: [&dyn Pushdown; 2],
    f: impl Fn(usize, &dyn Pushdown) -> Result<T, DiffError> + Sync,
) -> Result<([T; 2], [f64; 2]), DiffError> {
    let timed = |side: usize| {
        let t = Instant::now();
        f(side, dbs[side]).map(|v| (v, t.elapsed().as_secs_f64()))
    };
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| timed(0));
        let b = timed(1);
        (
            h.join()
                .unwrap_or_else(|_| Err(DiffError::Spill("a pushdown thread failed".into()))),
            b,
        )
    });
    let ((a, ta), (b, tb)) = (a?, b?);
    Ok(([a, b], [ta, tb]))
}

/// Reads (key hash, row hash, key value) of some rows, sorted.
fn read_tuples(db: &dyn Pushdown, sql: &str) -> Result<Vec<(i64, i64, i64)>, DiffError> {
    let mut out = Vec::new();
    for t in db.triples(sql)? {
        // A row the database could not hash: read in full by its bucket instead.
        let [k, h, v] = t.ok_or_else(|| bad(db, "NULL hash"))?;
        out.push((k, h, v));
    }
    out.sort_unstable();
    Ok(out)
}

/// The keys (hash, value) whose multisets of row hashes differ between the sides, and the rows
/// of the other keys (matched on both sides). Both inputs are sorted.
fn differing_keys(a: &[(i64, i64, i64)], b: &[(i64, i64, i64)]) -> (Vec<(i64, i64)>, u64) {
    let (mut i, mut j) = (0, 0);
    let mut keys = Vec::new();
    let mut matched = 0u64;
    let run = |v: &[(i64, i64, i64)], at: usize| {
        let k = v[at].0;
        let mut e = at;
        while e < v.len() && v[e].0 == k {
            e += 1;
        }
        e
    };
    while i < a.len() || j < b.len() {
        let ka = a.get(i).map(|t| t.0);
        let kb = b.get(j).map(|t| t.0);
        match (ka, kb) {
            (Some(x), Some(y)) if x == y => {
                let (ei, ej) = (run(a, i), run(b, j));
                let hashes = |v: &[(i64, i64, i64)]| v.iter().map(|t| t.1).collect::<Vec<_>>();
                if hashes(&a[i..ei]) == hashes(&b[j..ej]) {
                    matched += (ei - i) as u64;
                } else {
                    push_run(&mut keys, &a[i..ei]);
                    push_run(&mut keys, &b[j..ej]);
                }
                i = ei;
                j = ej;
            }
            (Some(x), Some(y)) if x < y => {
                let e = run(a, i);
                push_run(&mut keys, &a[i..e]);
                i = e;
            }
            (Some(_), None) => {
                let e = run(a, i);
                push_run(&mut keys, &a[i..e]);
                i = e;
            }
            (_, Some(_)) => {
                let e = run(b, j);
                push_run(&mut keys, &b[j..e]);
                j = e;
            }
            (None, None) => break,
        }
    }
    keys.sort_unstable();
    keys.dedup();
    (keys, matched)
}

/// Every (key hash, key value) of a run of one key hash: two keys may share a hash, and each
/// must be read.
fn push_run(keys: &mut Vec<(i64, i64)>, run: &[(i64, i64, i64)]) {
    keys.extend(run.iter().map(|t| (t.0, t.2)));
}

fn in_list<T: ToString>(what: &str, items: impl Iterator<Item = T>) -> String {
    let list: Vec<String> = items.map(|x| x.to_string()).collect();
    if list.is_empty() {
        "1 = 0".into()
    } else {
        format!("{what} IN ({})", list.join(", "))
    }
}

/// Whether a side's declared primary key is exactly the key (then no key occurs twice there).
fn key_declared(meta: &TableMeta, key: &[String]) -> bool {
    let mut pk: Vec<&str> = meta.primary_key.iter().map(String::as_str).collect();
    let mut k: Vec<&str> = key.iter().map(String::as_str).collect();
    pk.sort_unstable();
    k.sort_unstable();
    !pk.is_empty() && pk == k
}

/// Diffs one planned table pair with the work pushed down into both databases; a pair that
/// cannot be pushed down is streamed, and the result says why.
pub fn diff_pushdown(
    source: &mut dyn Source,
    target: &mut dyn Source,
    plan: &TablePlan,
    opts: &DiffOptions,
    sink: &mut dyn RowSink,
    progress: Progress<'_>,
) -> Result<TableDiff, DiffError> {
    let started = Instant::now();
    let streamed = |source: &mut dyn Source,
                    target: &mut dyn Source,
                    sink: &mut dyn RowSink,
                    reason: String,
                    fallback_columns: Vec<FallbackColumn>| {
        let mut t = diff_table(source, target, plan, opts, sink, progress)?;
        t.pushdown = Some(PushdownInfo {
            strategy: "streamed".into(),
            reason: Some(reason),
            fallback_columns,
            ..PushdownInfo::default()
        });
        Ok(t)
    };
    let (ps, pt) = match (source.pushdown(), target.pushdown()) {
        (Some(mut a), Some(mut b)) => {
            if a.server() == b.server() {
                a.share_cores();
                b.share_cores();
            }
            (a, b)
        }
        (a, _) => {
            let side = if a.is_none() { "source" } else { "target" };
            return streamed(
                source,
                target,
                sink,
                format!("the {side} is not a PostgreSQL or MySQL/MariaDB database"),
                Vec::new(),
            );
        }
    };
    if plan.source.query.is_some() || plan.target.query.is_some() {
        return streamed(
            source,
            target,
            sink,
            "a side is a query, not a table".into(),
            Vec::new(),
        );
    }
    let dbs: [&dyn Pushdown; 2] = [ps.as_ref(), pt.as_ref()];
    let sql = match side_sql(plan, dbs, opts.aggregates) {
        Ok(s) => s,
        Err((reason, cols)) => return streamed(source, target, sink, reason, cols),
    };
    let ncols = plan.columns.len();
    let estimate = ps.estimate(&plan.source)?.max(pt.estimate(&plan.target)?);
    let nbuckets = opts
        .buckets
        .unwrap_or((estimate / BUCKET_ROWS).clamp(16, 1 << 20));
    let mut info = PushdownInfo {
        hashing: if sql[0].native {
            "postgres native".into()
        } else {
            "canonical text".into()
        },
        buckets: nbuckets,
        ..PushdownInfo::default()
    };
    // 1. A probe: the summaries of 1/32 of the buckets. When most of those differ, so will most
    //    of the rest: the full summaries are skipped (only counts are taken), and the hashes of
    //    every row are read.
    let mut dense = false;
    if nbuckets >= 64 {
        let m = nbuckets / 32;
        let (probe, secs) = both(dbs, |side, db| {
            let cond = format!("{} < {m}", sql[side].bucket(nbuckets));
            Ok(parse_summary(
                db,
                db.rows(&sql[side].summary(nbuckets, &cond, false))?,
                0,
                0,
            )?
            .0)
        })?;
        info.seconds = secs;
        let (d, _, _) = compare(&probe[0], &probe[1]);
        info.probed_buckets = m;
        info.probe_differing = d.len() as u64;
        dense = d.len() as u64 * 2 > m;
    }
    // 2. Counts, and the summaries (none when dense).
    let (sides, secs) = both(dbs, |side, db| {
        let naggs = sql[side].aggs.iter().flatten().count();
        if dense {
            let counts = parse_counts(db, db.rows(&sql[side].counts())?, ncols, naggs)?;
            Ok((counts, Summary::default()))
        } else {
            let rows = db.rows(&sql[side].summary(nbuckets, "1 = 1", true))?;
            let (summary, counts) = parse_summary(db, rows, ncols, naggs)?;
            Ok((counts, summary))
        }
    })?;
    info.seconds[0] += secs[0];
    info.seconds[1] += secs[1];
    let [(c0, s0), (c1, s1)] = &sides;
    let (dirty, clean_rows, dirty_rows) = if dense {
        (Vec::new(), 0, 0)
    } else {
        compare(s0, s1)
    };
    info.differing_buckets = dirty.len() as u64;
    let total: [u64; 2] = [c0.rows, c1.rows];
    // 3. What to read in full: nothing, the differing buckets, or the differing keys.
    let listed = !dense && dirty.len() <= MAX_LISTED;
    let bucket_cond = |side: usize| {
        if listed {
            in_list(&sql[side].bucket(nbuckets), dirty.iter())
        } else {
            "1 = 1".to_string()
        }
    };
    let mut matched_elsewhere = clean_rows;
    let conds: [String; 2] = if !dense && dirty.is_empty() {
        info.strategy = "summaries".into();
        ["1 = 0".into(), "1 = 0".into()]
    } else if listed && dirty_rows.saturating_mul(4) <= total[0].max(total[1]) {
        info.strategy = "buckets".into();
        [bucket_cond(0), bucket_cond(1)]
    } else {
        let by_value = sql[0].int_key.is_some() && sql[1].int_key.is_some();
        let tuples = both(dbs, |side, db| {
            read_tuples(db, &sql[side].tuples(&bucket_cond(side), by_value))
        });
        match tuples {
            Ok(([a, b], secs)) => {
                info.seconds[0] += secs[0];
                info.seconds[1] += secs[1];
                info.hashes_fetched = [a.len() as u64, b.len() as u64];
                let (keys, matched) = differing_keys(&a, &b);
                if keys.len() > MAX_KEYS {
                    return streamed(
                        source,
                        target,
                        sink,
                        format!(
                            "more than {MAX_KEYS} keys differ: reading them by key would cost more than streaming"
                        ),
                        Vec::new(),
                    );
                }
                info.strategy = "rows".into();
                // Unlisted, the hashes covered every row: the equal ones are the matched.
                matched_elsewhere = if listed {
                    clean_rows + matched
                } else {
                    matched
                };
                [0, 1].map(|side| match &sql[side].int_key {
                    Some(q) if by_value => in_list(q, keys.iter().map(|k| k.1)),
                    _ => in_list(&sql[side].key_hash, keys.iter().map(|k| k.0)),
                })
            }
            // A row the database could not hash: its buckets are read whole.
            Err(_) if listed => {
                info.strategy = "buckets".into();
                [bucket_cond(0), bucket_cond(1)]
            }
            Err(e) => {
                return streamed(
                    source,
                    target,
                    sink,
                    format!("a row could not be hashed in SQL ({e})"),
                    Vec::new(),
                )
            }
        }
    };
    // 4. The rows read in full, through the streaming engine.
    let mut sub = plan.clone();
    let none = info.strategy == "summaries";
    sub.source.query = Some(format!(
        "{} WHERE {}",
        ps.select(&plan.source, !none)?,
        conds[0]
    ));
    sub.target.query = Some(format!(
        "{} WHERE {}",
        pt.select(&plan.target, !none)?,
        conds[1]
    ));
    let mut t = diff_table(source, target, &sub, opts, sink, progress)?;
    info.rows_fetched = [t.counts.source_rows, t.counts.target_rows];
    // Keys that occur twice where no summary shows them.
    if plan.key_len > 0 {
        let key: [Vec<String>; 2] = [
            plan.columns[..plan.key_len]
                .iter()
                .map(|c| c.source.clone())
                .collect(),
            plan.columns[..plan.key_len]
                .iter()
                .map(|c| c.target.clone())
                .collect(),
        ];
        let declared = [
            key_declared(&plan.source, &key[0]),
            key_declared(&plan.target, &key[1]),
        ];
        if !(declared[0] && declared[1]) {
            let (dups, secs) = both(dbs, |side, db| {
                if declared[side] {
                    return Ok(0);
                }
                let rows = db.rows(&sql[side].duplicates())?;
                rows.first()
                    .and_then(|r| r.first().cloned().flatten())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or_else(|| bad(db, "duplicate count"))
            })?;
            info.seconds[0] += secs[0];
            info.seconds[1] += secs[1];
            if !declared[0] {
                t.counts.duplicate_keys_source = dups[0];
            }
            if !declared[1] {
                t.counts.duplicate_keys_target = dups[1];
            }
        }
    }
    t.counts.source_rows = total[0];
    t.counts.target_rows = total[1];
    t.counts.matched += matched_elsewhere;
    let counted = [c0, c1];
    for (i, c) in t.columns.iter_mut().enumerate() {
        c.compared += matched_elsewhere;
        c.matched += matched_elsewhere;
        let reads = [&plan.columns[i].source_read, &plan.columns[i].target_read];
        let [a0, a1] = [0, 1].map(|side| {
            let s = counted[side];
            let mut acc = AggregateAcc::counted(s.non_null[i], s.rows - s.non_null[i].min(s.rows));
            if let Some(kind) = sql[side].aggs[i] {
                // This column's place among the aggregated ones, in every group's texts.
                let j = sql[side].aggs[..i].iter().flatten().count();
                let naggs = sql[side].aggs.iter().flatten().count();
                for group in s.aggs.chunks(naggs.max(1)) {
                    let [sum, min, max] = &group[j];
                    acc.add_sql(
                        kind,
                        sum.as_deref(),
                        min.as_deref(),
                        max.as_deref(),
                        reads[side],
                    );
                }
            }
            acc.finish(plan.columns[i].sensitive)
        });
        c.source_aggregate = a0;
        c.target_aggregate = a1;
    }
    t.side_hashes = [0, 0];
    t.seconds = started.elapsed().as_secs_f64();
    t.pushdown = Some(info);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_every_section() {
        for d in [Dialect::Postgres, Dialect::Mysql] {
            let t = Templates::of(d);
            for name in [
                "join",
                "null",
                "int",
                "numeric",
                "text",
                "bytes",
                "date",
                "instant",
                "local",
                "time",
                "hash",
                "bucket",
                "summary",
                "tuples",
                "duplicates",
            ] {
                assert!(!t.get(name).trim().is_empty(), "{d:?} {name}");
            }
            // The separator keeps its spaces; a section never swallows the next header.
            assert!(t
                .get("join")
                .contains(if d == Dialect::Mysql { "," } else { "||" }));
            assert!(!t.get("summary").contains("-- name"));
            // Comments inside a section are not part of its SQL.
            if d == Dialect::Postgres {
                assert!(
                    t.get("padded").starts_with("CASE WHEN"),
                    "{}",
                    t.get("padded")
                );
            }
        }
    }

    #[test]
    fn differing_keys_compare_multisets_per_key() {
        let a = vec![(1, 10, 0), (2, 20, 0), (2, 21, 0), (3, 30, 3), (5, 50, 5)];
        let b = vec![(1, 10, 0), (2, 21, 0), (2, 20, 0), (3, 31, 3), (4, 40, 4)];
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort_unstable();
        sb.sort_unstable();
        let (keys, matched) = differing_keys(&sa, &sb);
        // Each differing key with its value, from whichever side has it.
        assert_eq!(keys, vec![(3, 3), (4, 4), (5, 5)]);
        // Key 1 (one row) and key 2 (two rows, in another order) match on both sides.
        assert_eq!(matched, 3);
        // A key twice on one side and once on the other differs.
        let (keys, matched) = differing_keys(&[(7, 1, 0), (7, 1, 0)], &[(7, 1, 0)]);
        assert_eq!((keys, matched), (vec![(7, 0)], 0));
        // Two keys sharing a hash, one of them changed: both are read, by their values.
        let (keys, matched) = differing_keys(&[(9, 1, 20), (9, 5, 30)], &[(9, 1, 20), (9, 6, 30)]);
        assert_eq!((keys, matched), (vec![(9, 20), (9, 30)], 0));
        // Only one side: every key differs, nothing matched.
        let (keys, matched) = differing_keys(&[], &[(8, 1, 0), (9, 1, 0)]);
        assert_eq!((keys, matched), (vec![(8, 0), (9, 0)], 0));
    }

    #[test]
    fn a_declared_key_is_the_whole_key_in_any_order() {
        let mut m = TableMeta {
            name: crate::source::TableName::parse("t"),
            columns: Vec::new(),
            primary_key: vec!["b".into(), "a".into()],
            foreign_keys: Vec::new(),
            query: None,
        };
        assert!(key_declared(&m, &["a".into(), "b".into()]));
        assert!(!key_declared(&m, &["a".into()]));
        m.primary_key.clear();
        assert!(!key_declared(&m, &[]));
    }
}
