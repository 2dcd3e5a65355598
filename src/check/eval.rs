//! Evaluating rules: each target table is read once for all its rules; parents of `references`
//! rules, the tables `row_count = "source"` and `spot … expect = "source"` compare with, and
//! `sql` queries are read on their own.
//!
//! Values are read through the diff's canonical encoding, so a rule sees typed values: a range on
//! a decimal column compares exactly (never through f64), dates compare as dates, and text that
//! was not valid UTF-8 in the source is never taken for the text it was decoded to.
//!
//! NULL: only `not_null` counts it. `range`, `allowed`, `regex`, `length` and `date_format` skip
//! NULLs; `unique` and `references` skip rows with a NULL in their columns (as SQL constraints do).
//!
//! Samples: sample keys are kept in key order (numbers by value), so two runs over the same data
//! give the same samples whatever order the database returns rows in. Values of sensitive columns
//! (and sensitive key columns) are shown as their shape (`aaaa.aaaa@aaaa.aaa`), never raw.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use arrow::array::AsArray;
use xxhash_rust::xxh3::xxh3_128;

use super::spec::{Bound, CheckRule, CountExpect, Expect, RuleFile, RuleKind};
use super::{CheckError, RuleResult, Sample};
use crate::profile::pattern::shape;
use crate::source::{ColumnMeta, ReadDefect, Source, SourceError, TableMeta, TableName};
use crate::value::canonical::{display, encode_column_with, number_string, split, tag, TextAs};
use crate::value::kind::{cmp_decimal_str, is_plain_decimal};

/// Samples kept between compactions: when the pool holds twice this many, it is sorted and cut
/// back, so the samples are the first in key order over the whole table, not the first read.
const SAMPLE_POOL: usize = 1_000;

/// Evaluates every rule of `file` on `target` (and `source`, for the rules that compare with it).
pub fn run_checks(
    target: &mut dyn Source,
    mut source: Option<&mut dyn Source>,
    file: &RuleFile,
) -> Result<Vec<RuleResult>, CheckError> {
    let tables = target.tables()?;
    let source_tables = match source.as_deref_mut() {
        Some(s) => Some(s.tables()?),
        None => None,
    };
    let resolved = resolve(file, &tables, source_tables.as_deref(), target)?;
    let ctx = Ctx::new(file);

    // Parents of references rules: the set of their key tuples.
    let mut parents: HashMap<(String, Vec<String>), HashSet<u128>> = HashMap::new();
    for r in &resolved {
        if let (RuleKind::References { .. }, Some((pmeta, pcols))) = (&r.rule.kind, &r.parent) {
            let k = (pmeta.name.to_string(), pcols.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = parents.entry(k) {
                let mut set = HashSet::new();
                let all: Vec<usize> = (0..pcols.len()).collect();
                let mut buf = Vec::new();
                scan(target, pmeta, pcols, |view| {
                    for i in 0..view.rows {
                        if let Some(h) = tuple_hash(view, &all, i, &mut buf) {
                            set.insert(h);
                        }
                    }
                })?;
                slot.insert(set);
            }
        }
    }

    let mut results: Vec<Option<RuleResult>> = vec![None; resolved.len()];
    // One pass per target table, in the order tables first appear in the file.
    let mut order: Vec<String> = Vec::new();
    for r in &resolved {
        let t = r.meta.name.to_string();
        if !order.contains(&t) && !matches!(r.rule.kind, RuleKind::Sql(_)) {
            order.push(t);
        }
    }
    for tname in &order {
        let idx: Vec<usize> = (0..resolved.len())
            .filter(|&i| {
                resolved[i].meta.name.to_string() == *tname
                    && !matches!(resolved[i].rule.kind, RuleKind::Sql(_))
            })
            .collect();
        let meta = resolved[idx[0]].meta.clone();
        let key_cols = ctx.key_columns(&meta);
        // The columns this pass reads: key columns first, then every rule's.
        let mut cols: Vec<String> = key_cols.clone();
        for &i in &idx {
            for c in resolved[i]
                .rule
                .columns
                .iter()
                .chain(resolved[i].spot_columns.iter())
            {
                if !cols.contains(c) {
                    cols.push(c.clone());
                }
            }
        }
        // A table whose only rule is a row count, without a key, still needs a column to read.
        if cols.is_empty() {
            cols.extend(meta.columns.iter().take(1).map(|c| c.name.clone()));
        }
        let pos = |c: &str| cols.iter().position(|x| x == c).unwrap_or(0);
        let mut accs: Vec<Acc> = idx.iter().map(|&i| Acc::new(&resolved[i], &pos)).collect();
        let started = Instant::now();
        let mut row_base = 0u64;
        let sens: Vec<bool> = cols.iter().map(|c| ctx.sensitive(c)).collect();
        let key_pos: Vec<usize> = (0..key_cols.len()).collect();
        scan(target, &meta, &cols, |view| {
            for i in 0..view.rows {
                let row_no = row_base + i as u64 + 1;
                let key = || row_key(view, &key_pos, &key_cols, &sens, i, row_no);
                for (a, &ri) in accs.iter_mut().zip(&idx) {
                    a.row(&resolved[ri], &parents, view, i, &sens, &key);
                }
            }
            row_base += view.rows as u64;
        })?;
        // unique: a second read for the keys of the rows whose values repeat, only when some do.
        for (a, &ri) in accs.iter_mut().zip(&idx) {
            if !matches!(resolved[ri].rule.kind, RuleKind::Unique) {
                continue;
            }
            let repeated: HashSet<u128> = a
                .groups
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(h, _)| *h)
                .collect();
            if repeated.is_empty() {
                continue;
            }
            let mut row_no = 0u64;
            let mut buf = Vec::new();
            scan(target, &meta, &cols, |view| {
                for i in 0..view.rows {
                    row_no += 1;
                    if tuple_hash(view, &a.cols, i, &mut buf).is_some_and(|h| repeated.contains(&h))
                    {
                        let k = row_key(view, &key_pos, &key_cols, &sens, i, row_no);
                        a.samples.push(k, None);
                    }
                }
            })?;
        }
        let seconds = started.elapsed().as_secs_f64();
        for (a, &ri) in accs.into_iter().zip(&idx) {
            let r = &resolved[ri];
            let mut res = a.finish(r, row_base, &ctx, source.as_deref_mut())?;
            res.seconds = seconds;
            results[ri] = Some(res);
        }
    }
    for (i, r) in resolved.iter().enumerate() {
        if let RuleKind::Sql(_) = r.rule.kind {
            let started = Instant::now();
            let mut res = sql_rule(target, r, &ctx)?;
            res.seconds = started.elapsed().as_secs_f64();
            results[i] = Some(res);
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// Refuses a sensitive column of a rules file that is in no table of the target: a misspelt
/// sensitive column would show its values.
pub fn require_known_sensitive(file: &RuleFile, tables: &[TableMeta]) -> Result<(), CheckError> {
    for c in &file.sensitive {
        if !tables
            .iter()
            .any(|t| t.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c)))
        {
            return Err(CheckError::Parse {
                path: file.path.clone(),
                line: file.sensitive_line,
                reason: format!(
                    "sensitive column '{c}' is in no table of the target: a sensitive column that is not found protects nothing"
                ),
            });
        }
    }
    Ok(())
}

/// A rule with its tables and columns found in the catalog.
struct Resolved {
    rule: CheckRule,
    meta: TableMeta,
    /// references: the parent table and columns.
    parent: Option<(TableMeta, Vec<String>)>,
    /// spot: the key and expected columns (target names).
    spot_columns: Vec<String>,
    /// row_count/spot against the source: the source table.
    source_meta: Option<TableMeta>,
}

struct Ctx {
    sensitive: Vec<String>,
    samples: usize,
    keys: BTreeMap<String, Vec<String>>,
}

impl Ctx {
    fn new(file: &RuleFile) -> Ctx {
        Ctx {
            sensitive: file.sensitive.clone(),
            samples: file.samples,
            keys: file.keys.clone(),
        }
    }

    fn sensitive(&self, column: &str) -> bool {
        self.sensitive
            .iter()
            .any(|s| s.eq_ignore_ascii_case(column))
    }

    fn key_columns(&self, meta: &TableMeta) -> Vec<String> {
        let named = self
            .keys
            .iter()
            .find(|(t, _)| TableName::parse(t).matches(&meta.name) || **t == meta.name.name)
            .map(|(_, k)| k.clone());
        named
            .unwrap_or_else(|| meta.primary_key.clone())
            .iter()
            .filter_map(|k| find_column(&meta.columns, k).map(|c| c.name.clone()))
            .collect()
    }
}

/// The table `name` in `side` by the one name rule; the reason says what exists, or which
/// tables the name could mean.
fn find_table(all: &[TableMeta], name: &str, side: &str) -> Result<TableMeta, String> {
    crate::source::find_table(all, name, side)
        .cloned()
        .map_err(|e| match e {
            SourceError::AmbiguousTable { ref candidates, .. } => {
                format!("{e} ({})", candidates.join(", "))
            }
            _ => format!(
                "{e} (it has: {})",
                all.iter()
                    .map(|m| m.name.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

fn find_column<'a>(cols: &'a [ColumnMeta], name: &str) -> Option<&'a ColumnMeta> {
    crate::source::find_name(cols, name, |c| c.name.as_str()).ok()
}

fn resolve(
    file: &RuleFile,
    tables: &[TableMeta],
    source_tables: Option<&[TableMeta]>,
    target: &mut dyn Source,
) -> Result<Vec<Resolved>, CheckError> {
    let fail = |r: &CheckRule, line: usize, reason: String| CheckError::Rule {
        path: file.path.clone(),
        line,
        rule: r.name.clone(),
        reason,
    };
    let col_names = |m: &TableMeta| {
        m.columns
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    for rule in &file.rules {
        let rule = rule.clone();
        let mut meta = if let RuleKind::Sql(q) = &rule.kind {
            target.describe_query(q).map_err(|e| {
                fail(
                    &rule,
                    rule.line,
                    format!("the query fails: {}", crate::error::scrub(&e.to_string())),
                )
            })?
        } else {
            find_table(tables, &rule.table, "the target")
                .map_err(|why| fail(&rule, rule.line, why))?
        };
        let mut columns = Vec::new();
        for c in &rule.columns {
            let twins = meta.columns.iter().filter(|m| m.name == *c).count();
            if twins > 1 {
                // Two columns share the name (a CSV header `k,amount,amount`): the rule could
                // read either one, so it reads neither.
                return Err(fail(
                    &rule,
                    rule.column_line,
                    format!(
                        "table '{}' has {twins} columns named '{c}': give them unique names",
                        meta.name
                    ),
                ));
            }
            match find_column(&meta.columns, c) {
                Some(m) => columns.push(m.name.clone()),
                None => {
                    return Err(fail(
                        &rule,
                        rule.column_line,
                        format!(
                            "table '{}' has no column '{c}' (it has: {})",
                            meta.name,
                            col_names(&meta)
                        ),
                    ))
                }
            }
        }
        let rule = CheckRule { columns, ..rule };
        let mut parent = None;
        let mut spot_columns = Vec::new();
        let mut source_meta = None;
        let needs_source = matches!(
            &rule.kind,
            RuleKind::RowCount(CountExpect::Source)
                | RuleKind::Spot {
                    expect: Expect::Source,
                    ..
                }
        );
        match &rule.kind {
            RuleKind::References {
                parent: p,
                parent_columns,
            } => {
                let pm = find_table(tables, p, "the target")
                    .map_err(|why| fail(&rule, rule.line, format!("parent: {why}")))?;
                let mut pcs = Vec::new();
                for c in parent_columns.iter() {
                    pcs.push(
                        find_column(&pm.columns, c)
                            .map(|m| m.name.clone())
                            .ok_or_else(|| {
                                fail(
                                    &rule,
                                    rule.line,
                                    format!(
                                        "parent table '{}' has no column '{c}' (it has: {})",
                                        pm.name,
                                        col_names(&pm)
                                    ),
                                )
                            })?,
                    );
                }
                parent = Some((pm, pcs));
            }
            RuleKind::Spot { keys, expect } => {
                let mut named: Vec<String> = keys.iter().flat_map(|k| k.keys().cloned()).collect();
                if let Expect::Values(v) = expect {
                    named.extend(v.keys().cloned());
                }
                if let Expect::Source = expect {
                    named.extend(meta.columns.iter().map(|c| c.name.clone()));
                }
                for c in named {
                    let real = find_column(&meta.columns, &c)
                        .map(|m| m.name.clone())
                        .ok_or_else(|| {
                            fail(
                                &rule,
                                rule.line,
                                format!(
                                    "table '{}' has no column '{c}' (it has: {})",
                                    meta.name,
                                    col_names(&meta)
                                ),
                            )
                        })?;
                    if !spot_columns.contains(&real) {
                        spot_columns.push(real);
                    }
                }
            }
            _ => {}
        }
        if needs_source {
            let st = source_tables.ok_or_else(|| {
                fail(
                    &rule,
                    rule.line,
                    "compares with the source, but no source was given (add `source = \"…\"` to the rules file or pass --source)".into(),
                )
            })?;
            source_meta = Some(
                find_table(st, &rule.table, "the source")
                    .map_err(|why| fail(&rule, rule.line, why))?,
            );
        }
        if let RuleKind::Sql(_) = rule.kind {
            meta.name.name = rule.name.clone();
        }
        out.push(Resolved {
            rule,
            meta,
            parent,
            spot_columns,
            source_meta,
        });
    }
    Ok(out)
}

/// One chunk's values of the requested columns, in canonical form.
struct View {
    rows: usize,
    /// Per requested column, per row: the canonical encoding.
    values: Vec<Vec<Vec<u8>>>,
}

impl View {
    fn get(&self, col: usize, row: usize) -> &[u8] {
        &self.values[col][row]
    }
}

/// How a column is read: decimals declared as such are exact numbers; a 32-bit float (which a
/// reader may deliver widened) is the decimal of its shortest round trip at its width, so that
/// float32 0.3 is 0.3 against a rule's bound, as it is in a diff (`true`: narrow it first).
fn text_as(meta: &TableMeta, column: &str) -> (TextAs, bool) {
    let decl = find_column(&meta.columns, column)
        .map(|c| c.declared_type.to_ascii_lowercase())
        .unwrap_or_default();
    if decl.contains("numeric") || decl.contains("decimal") {
        (TextAs::Decimal, false)
    } else if meta.query.is_none()
        && crate::diff::schema::logical(&decl) == crate::diff::schema::Logical::Float(32)
    {
        (TextAs::Decimal, true)
    } else {
        (TextAs::Text, false)
    }
}

/// Reads `columns` of a table chunk by chunk (only those columns where the source can).
fn scan(
    src: &mut dyn Source,
    meta: &TableMeta,
    columns: &[String],
    mut f: impl FnMut(&View),
) -> Result<(), CheckError> {
    let mut narrowed = meta.clone();
    if meta.query.is_none() {
        narrowed.columns = columns
            .iter()
            .filter_map(|c| find_column(&meta.columns, c).cloned())
            .collect();
    }
    let as_text: Vec<(TextAs, bool)> = columns.iter().map(|c| text_as(meta, c)).collect();
    let mut view = View {
        rows: 0,
        values: vec![Vec::new(); columns.len()],
    };
    for chunk in src.read(&narrowed)? {
        let chunk = chunk?;
        let batch = &chunk.batch;
        let rows = batch.num_rows();
        view.rows = rows;
        for (k, (c, (t, narrow))) in columns.iter().zip(&as_text).enumerate() {
            let idx = batch.schema().index_of(c).map_err(|_| CheckError::Eval {
                rule: format!("read of {}", meta.name),
                reason: format!("column '{c}' missing from what the source returned"),
            })?;
            let invalid: Vec<(usize, &[u8])> = chunk
                .defects
                .iter()
                .map(|d| match d {
                    ReadDefect::InvalidUtf8 { column, row, bytes } => (*column, *row, bytes),
                })
                .filter(|(col, _, _)| *col == idx)
                .map(|(_, r, b)| (r, b.as_slice()))
                .collect();
            // The row buffers are reused from chunk to chunk (cleared, capacity kept).
            let enc = &mut view.values[k];
            enc.truncate(rows);
            enc.iter_mut().for_each(Vec::clear);
            enc.resize_with(rows, Vec::new);
            let mut array = batch.column(idx).clone();
            // Narrowed only when no value changes (an SQLite REAL is 64 bits whatever its name).
            if *narrow && array.data_type() == &arrow::datatypes::DataType::Float64 {
                let f = array.as_primitive::<arrow::datatypes::Float64Type>();
                let lossless = f
                    .iter()
                    .flatten()
                    .all(|v| v.is_nan() || f64::from(v as f32) == v);
                if lossless {
                    if let Ok(a) =
                        arrow::compute::cast(&array, &arrow::datatypes::DataType::Float32)
                    {
                        array = a;
                    }
                }
            }
            encode_column_with(&array, *t, false, &invalid, enc);
        }
        f(&view);
    }
    Ok(())
}

/// The hash of a row's values in `cols`; `None` when one is NULL. `buf` is reused across rows.
fn tuple_hash(view: &View, cols: &[usize], row: usize, buf: &mut Vec<u8>) -> Option<u128> {
    buf.clear();
    for &c in cols {
        let v = view.get(c, row);
        if split(v).0 == tag::NULL {
            return None;
        }
        buf.extend_from_slice(v);
    }
    Some(xxh3_128(buf))
}

/// A value as shown; its shape when sensitive; `None` for NULL.
fn show(v: &[u8], sensitive: bool) -> Option<String> {
    display(v).map(|s| if sensitive { shape(&s) } else { s })
}

/// A sample key: its text and the values it sorts by.
#[derive(Clone)]
struct KeyText {
    text: String,
    order: Vec<Option<String>>,
}

fn row_key(
    view: &View,
    pos: &[usize],
    names: &[String],
    sens: &[bool],
    row: usize,
    row_no: u64,
) -> KeyText {
    if pos.is_empty() {
        return KeyText {
            text: format!("row {row_no}"),
            order: vec![Some(row_no.to_string())],
        };
    }
    let mut parts = Vec::with_capacity(pos.len());
    let mut order = Vec::with_capacity(pos.len());
    for (&p, name) in pos.iter().zip(names) {
        let shown = show(view.get(p, row), sens[p]);
        parts.push(format!("{name}={}", shown.as_deref().unwrap_or("NULL")));
        order.push(shown);
    }
    KeyText {
        text: parts.join(", "),
        order,
    }
}

/// Natural order of keys: numbers by value, then text.
fn cmp_keys(a: &[Option<String>], b: &[Option<String>]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) if is_plain_decimal(x) && is_plain_decimal(y) => {
                cmp_decimal_str(x, y)
            }
            (Some(x), Some(y)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Keeps samples; sorts and cuts them at the end.
#[derive(Default)]
struct Samples {
    pool: Vec<(KeyText, Option<String>)>,
}

impl Samples {
    fn push(&mut self, key: KeyText, value: Option<String>) {
        self.pool.push((key, value));
        if self.pool.len() >= 2 * SAMPLE_POOL {
            self.pool.sort_by(|a, b| cmp_keys(&a.0.order, &b.0.order));
            self.pool.truncate(SAMPLE_POOL);
        }
    }

    fn finish(mut self, n: usize) -> Vec<Sample> {
        self.pool.sort_by(|a, b| cmp_keys(&a.0.order, &b.0.order));
        self.pool
            .into_iter()
            .take(n)
            .map(|(k, value)| Sample { key: k.text, value })
            .collect()
    }
}

/// Two shown values are equal: same text, or both numbers of the same value.
fn same_value(a: &str, b: &str) -> bool {
    a == b || (is_plain_decimal(a) && is_plain_decimal(b) && cmp_decimal_str(a, b).is_eq())
}

/// A date/date-time/time bound as the canonical value of the kind `t` it is compared with;
/// `None` when the text is not one (then every value is outside, never inside).
fn temporal_bound(t: u8, b: &str) -> Option<Vec<u8>> {
    let text_as = match t {
        tag::DATE => TextAs::Date,
        tag::INSTANT => TextAs::Instant,
        tag::LOCAL_DATETIME => TextAs::Timestamp,
        tag::TIME => TextAs::Time,
        _ => return None,
    };
    let arr: arrow::array::ArrayRef =
        std::sync::Arc::new(arrow::array::StringArray::from(vec![b.trim()]));
    let mut rows = vec![Vec::new()];
    encode_column_with(&arr, text_as, false, &[], &mut rows);
    let v = rows.pop()?;
    (split(&v).0 == t).then_some(v)
}

/// Whether a non-NULL value keeps a row-level rule (range, allowed, regex, length, date_format).
fn keeps(kind: &RuleKind, v: &[u8]) -> bool {
    let (t, p) = split(v);
    let text = || match t {
        tag::TEXT => String::from_utf8_lossy(p).into_owned(),
        _ => display(v).unwrap_or_default(),
    };
    match kind {
        RuleKind::Range(min, max) => {
            let cmp = |b: &Bound| -> Option<Ordering> {
                match (t, b) {
                    (tag::NUMBER, Bound::Number(n)) => Some(cmp_decimal_str(&number_string(p), n)),
                    (tag::FLOAT, Bound::Number(n)) => {
                        let f = f64::from_bits(u64::from_le_bytes(p.try_into().ok()?));
                        f.partial_cmp(&n.parse::<f64>().ok()?)
                    }
                    (tag::TEXT, Bound::Number(n)) => {
                        let s = text();
                        is_plain_decimal(&s).then(|| cmp_decimal_str(&s, n))
                    }
                    (tag::INVALID_TEXT, _) => None,
                    // Dates, date-times and times against a bound of the same kind, by value
                    // (an offset in the bound is honoured; a bound without one, facing an
                    // instant, is UTC): never as text, where ' ' sorts before 'T'.
                    (
                        tag::DATE | tag::INSTANT | tag::LOCAL_DATETIME | tag::TIME,
                        Bound::Text(b),
                    ) => {
                        let bound = temporal_bound(t, b)?;
                        Some(crate::diff::aggregate::cmp_canonical(v, &bound))
                    }
                    (_, Bound::Text(b)) => {
                        let s = text();
                        Some(s.trim_end_matches('Z').cmp(b.trim_end_matches('Z')))
                    }
                    _ => None,
                }
            };
            min.as_ref()
                .is_none_or(|b| cmp(b).is_some_and(|o| o.is_ge()))
                && max
                    .as_ref()
                    .is_none_or(|b| cmp(b).is_some_and(|o| o.is_le()))
        }
        RuleKind::Allowed(values) => {
            t != tag::INVALID_TEXT && {
                let s = text();
                values.iter().any(|a| same_value(a, &s))
            }
        }
        RuleKind::Regex(re) => t != tag::INVALID_TEXT && re.is_match(&text()),
        RuleKind::Length(min, max) => {
            let n = match t {
                tag::BYTES => p.len() as u64,
                _ => text().chars().count() as u64,
            };
            min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
        }
        RuleKind::DateFormat(formats) => match t {
            tag::DATE | tag::INSTANT | tag::LOCAL_DATETIME => true,
            tag::TEXT => {
                let s = text();
                formats.iter().any(|f| {
                    chrono::NaiveDateTime::parse_from_str(&s, f).is_ok()
                        || chrono::NaiveDate::parse_from_str(&s, f).is_ok()
                        || chrono::DateTime::parse_from_str(&s, f).is_ok()
                })
            }
            _ => false,
        },
        _ => true,
    }
}

/// A row's values by column, as shown (raw; masked when reported).
type RowValues = BTreeMap<String, Option<String>>;

/// A spot key's row as found in the target: its key text and its values.
type Found = Option<(KeyText, RowValues)>;

/// One rule's running state over a table pass.
struct Acc {
    /// Positions of the rule's columns in the pass's columns.
    cols: Vec<usize>,
    checked: u64,
    violations: u64,
    distinct: HashSet<u128>,
    samples: Samples,
    /// unique: rows per tuple hash (keys of repeated tuples are read in a second pass, so no
    /// key is held per row).
    groups: HashMap<u128, u64>,
    /// spot: positions of each key's columns, and what was found.
    spot_keys: Vec<Vec<(usize, String)>>,
    spot_cols: Vec<(usize, String)>,
    found: Vec<Found>,
    spot_dupes: u64,
    /// Reused by tuple hashes.
    buf: Vec<u8>,
}

impl Acc {
    fn new(r: &Resolved, pos: &dyn Fn(&str) -> usize) -> Acc {
        let mut spot_keys = Vec::new();
        if let RuleKind::Spot { keys, .. } = &r.rule.kind {
            for k in keys {
                spot_keys.push(
                    k.iter()
                        .map(|(c, v)| {
                            let real = find_column(&r.meta.columns, c)
                                .map_or(c.clone(), |m| m.name.clone());
                            (pos(&real), v.clone())
                        })
                        .collect(),
                );
            }
        }
        Acc {
            cols: r.rule.columns.iter().map(|c| pos(c)).collect(),
            checked: 0,
            violations: 0,
            distinct: HashSet::new(),
            samples: Samples::default(),
            groups: HashMap::new(),
            found: vec![None; spot_keys.len()],
            spot_keys,
            spot_cols: r.spot_columns.iter().map(|c| (pos(c), c.clone())).collect(),
            spot_dupes: 0,
            buf: Vec::new(),
        }
    }

    fn row(
        &mut self,
        r: &Resolved,
        parents: &HashMap<(String, Vec<String>), HashSet<u128>>,
        view: &View,
        i: usize,
        sens: &[bool],
        key: &dyn Fn() -> KeyText,
    ) {
        match &r.rule.kind {
            RuleKind::NotNull => {
                self.checked += 1;
                if let Some(&c) = self
                    .cols
                    .iter()
                    .find(|&&c| split(view.get(c, i)).0 == tag::NULL)
                {
                    self.violations += 1;
                    let name = &r.rule.columns[self.cols.iter().position(|&x| x == c).unwrap_or(0)];
                    self.samples.push(key(), Some(format!("{name} is NULL")));
                }
            }
            RuleKind::Unique => {
                self.checked += 1;
                if let Some(h) = tuple_hash(view, &self.cols, i, &mut self.buf) {
                    *self.groups.entry(h).or_insert(0) += 1;
                }
            }
            RuleKind::References { .. } => {
                self.checked += 1;
                let set = r
                    .parent
                    .as_ref()
                    .and_then(|(pm, pc)| parents.get(&(pm.name.to_string(), pc.clone())));
                if let (Some(h), Some(set)) = (tuple_hash(view, &self.cols, i, &mut self.buf), set)
                {
                    if !set.contains(&h) {
                        self.violations += 1;
                        self.distinct.insert(h);
                        let shown: Vec<String> = self
                            .cols
                            .iter()
                            .map(|&c| show(view.get(c, i), sens[c]).unwrap_or_default())
                            .collect();
                        self.samples.push(key(), Some(shown.join(", ")));
                    }
                }
            }
            RuleKind::RowCount(_) | RuleKind::Sql(_) => {}
            RuleKind::Spot { .. } => {
                for (k, want) in self.spot_keys.iter().enumerate() {
                    let hit = want
                        .iter()
                        .all(|(p, v)| display(view.get(*p, i)).is_some_and(|s| same_value(&s, v)));
                    if hit {
                        if self.found[k].is_some() {
                            self.spot_dupes += 1;
                        }
                        let values = self
                            .spot_cols
                            .iter()
                            .map(|(p, c)| (c.clone(), display(view.get(*p, i))))
                            .collect();
                        self.found[k] = Some((key(), values));
                    }
                }
            }
            kind => {
                let c = self.cols[0];
                let v = view.get(c, i);
                if split(v).0 == tag::NULL {
                    return;
                }
                self.checked += 1;
                if !keeps(kind, v) {
                    self.violations += 1;
                    self.distinct.insert(xxh3_128(v));
                    self.samples.push(key(), show(v, sens[c]));
                }
            }
        }
    }

    fn finish(
        mut self,
        r: &Resolved,
        rows: u64,
        ctx: &Ctx,
        source: Option<&mut (dyn Source + '_)>,
    ) -> Result<RuleResult, CheckError> {
        let rule = &r.rule;
        let n = ctx.samples;
        let mut distinct = Some(self.distinct.len() as u64);
        let detail = match &rule.kind {
            RuleKind::NotNull => {
                distinct = None;
                format!(
                    "{} of {} rows have a NULL in {}",
                    self.violations,
                    self.checked,
                    rule.columns.join(", ")
                )
            }
            RuleKind::Unique => {
                let mut repeated = 0u64;
                for count in self.groups.values() {
                    if *count > 1 {
                        repeated += 1;
                        self.violations += count;
                    }
                }
                distinct = Some(repeated);
                format!(
                    "{repeated} value(s) of ({}) repeated, in {} rows",
                    rule.columns.join(", "),
                    self.violations
                )
            }
            RuleKind::Range(min, max) => {
                let b = |b: &Option<Bound>| match b {
                    Some(Bound::Number(s) | Bound::Text(s)) => s.clone(),
                    None => "…".into(),
                };
                format!(
                    "{} of {} values outside [{}, {}]",
                    self.violations,
                    self.checked,
                    b(min),
                    b(max)
                )
            }
            RuleKind::Allowed(values) => format!(
                "{} of {} values not among the {} allowed ({} distinct)",
                self.violations,
                self.checked,
                values.len(),
                self.distinct.len()
            ),
            RuleKind::Regex(re) => format!(
                "{} of {} values do not match /{}/",
                self.violations,
                self.checked,
                re.as_str()
            ),
            RuleKind::Length(min, max) => format!(
                "{} of {} values have a length outside [{}, {}]",
                self.violations,
                self.checked,
                min.map_or("…".into(), |m| m.to_string()),
                max.map_or("…".into(), |m| m.to_string())
            ),
            RuleKind::DateFormat(f) => format!(
                "{} of {} values are not dates in {}",
                self.violations,
                self.checked,
                f.join(" or ")
            ),
            RuleKind::References { parent, .. } => {
                let pc = r
                    .parent
                    .as_ref()
                    .map(|p| p.1.join(", "))
                    .unwrap_or_default();
                format!(
                    "{} of {} rows are orphans ({} distinct value(s) not in {parent}({pc}))",
                    self.violations,
                    self.checked,
                    self.distinct.len()
                )
            }
            RuleKind::RowCount(expect) => {
                distinct = None;
                self.checked = rows;
                let (lo, hi, what) = match expect {
                    CountExpect::Between(lo, hi) => (*lo, *hi, String::new()),
                    CountExpect::Source => {
                        let src = source.ok_or_else(|| CheckError::Eval {
                            rule: rule.name.clone(),
                            reason: "no source".into(),
                        })?;
                        let sm = r.source_meta.as_ref().ok_or_else(|| CheckError::Eval {
                            rule: rule.name.clone(),
                            reason: "no source table".into(),
                        })?;
                        let first: Vec<String> =
                            sm.columns.iter().take(1).map(|c| c.name.clone()).collect();
                        let mut count = 0u64;
                        scan(src, sm, &first, |v| count += v.rows as u64)?;
                        (
                            Some(count),
                            Some(count),
                            format!(" (the source's {})", sm.name),
                        )
                    }
                };
                self.violations = match (lo, hi) {
                    (Some(lo), _) if rows < lo => lo - rows,
                    (_, Some(hi)) if rows > hi => rows - hi,
                    _ => 0,
                };
                let expected = match (lo, hi) {
                    (Some(a), Some(b)) if a == b => format!("{a}"),
                    (a, b) => format!(
                        "between {} and {}",
                        a.map_or("…".into(), |x| x.to_string()),
                        b.map_or("…".into(), |x| x.to_string())
                    ),
                };
                format!("{rows} rows; expected {expected}{what}")
            }
            RuleKind::Sql(_) => String::new(),
            RuleKind::Spot { keys, expect } => {
                distinct = None;
                self.checked = keys.len() as u64;
                let source_rows: Vec<Option<RowValues>> = match expect {
                    Expect::Source => spot_source(r, keys, source)?,
                    Expect::Values(_) => Vec::new(),
                };
                let mut problems = Vec::new();
                for (k, found) in self.found.iter().enumerate() {
                    let key_text = keys[k]
                        .iter()
                        .map(|(c, v)| {
                            format!(
                                "{c}={}",
                                if ctx.sensitive(c) {
                                    shape(v)
                                } else {
                                    v.clone()
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let Some((kt, values)) = found else {
                        problems.push((key_text, "no row with this key in the target".to_string()));
                        continue;
                    };
                    let want: Vec<(String, Option<String>)> = match expect {
                        Expect::Values(v) => v
                            .iter()
                            .map(|(c, x)| {
                                let real = find_column(&r.meta.columns, c)
                                    .map_or(c.clone(), |m| m.name.clone());
                                (real, Some(x.clone()))
                            })
                            .collect(),
                        Expect::Source => match &source_rows[k] {
                            None => {
                                problems.push((
                                    kt.text.clone(),
                                    "no row with this key in the source".into(),
                                ));
                                continue;
                            }
                            Some(sv) => sv.iter().map(|(c, x)| (c.clone(), x.clone())).collect(),
                        },
                    };
                    let mut diffs = Vec::new();
                    for (c, w) in want {
                        let Some(got) = values
                            .iter()
                            .find(|(t, _)| t.eq_ignore_ascii_case(&c))
                            .map(|x| x.1.clone())
                        else {
                            continue;
                        };
                        let equal = match (&w, &got) {
                            (None, None) => true,
                            (Some(a), Some(b)) => same_value(a, b),
                            _ => false,
                        };
                        if !equal {
                            let s = |x: &Option<String>| match x {
                                None => "NULL".to_string(),
                                Some(v) if ctx.sensitive(&c) => shape(v),
                                Some(v) => format!("'{v}'"),
                            };
                            diffs.push(format!("{c}: expected {} got {}", s(&w), s(&got)));
                        }
                    }
                    if !diffs.is_empty() {
                        problems.push((kt.text.clone(), diffs.join("; ")));
                    }
                }
                self.violations = problems.len() as u64;
                for (k, p) in problems {
                    self.samples.push(
                        KeyText {
                            order: vec![Some(k.clone())],
                            text: k,
                        },
                        Some(p),
                    );
                }
                let dup = if self.spot_dupes > 0 {
                    format!("; {} key(s) matched more than one row", self.spot_dupes)
                } else {
                    String::new()
                };
                format!(
                    "{} of {} key(s) differ or are missing{dup}",
                    self.violations,
                    keys.len()
                )
            }
        };
        Ok(RuleResult {
            name: rule.name.clone(),
            kind: rule.kind.name().into(),
            table: r.meta.name.to_string(),
            columns: rule.columns.clone(),
            status: if self.violations == 0 && self.spot_dupes == 0 {
                "pass"
            } else {
                "fail"
            }
            .into(),
            checked: self.checked,
            violations: self.violations,
            distinct,
            detail,
            samples: self.samples.finish(n),
            seconds: 0.0,
        })
    }
}

/// The source rows of a spot check's keys, with every column the target also has.
fn spot_source(
    r: &Resolved,
    keys: &[BTreeMap<String, String>],
    source: Option<&mut (dyn Source + '_)>,
) -> Result<Vec<Option<RowValues>>, CheckError> {
    let (Some(src), Some(sm)) = (source, r.source_meta.as_ref()) else {
        return Err(CheckError::Eval {
            rule: r.rule.name.clone(),
            reason: "no source to compare with".into(),
        });
    };
    // Columns both sides have, by name (case-insensitive); source names.
    let cols: Vec<String> = r
        .spot_columns
        .iter()
        .filter_map(|c| find_column(&sm.columns, c).map(|m| m.name.clone()))
        .collect();
    let mut key_pos = Vec::new();
    for k in keys {
        let mut v = Vec::new();
        for (c, val) in k {
            let p = cols
                .iter()
                .position(|x| x.eq_ignore_ascii_case(c))
                .ok_or_else(|| CheckError::Eval {
                    rule: r.rule.name.clone(),
                    reason: format!("key column '{c}' is not in the source table {}", sm.name),
                })?;
            v.push((p, val.clone()));
        }
        key_pos.push(v);
    }
    let mut found: Vec<Option<RowValues>> = vec![None; keys.len()];
    scan(src, sm, &cols, |view| {
        for i in 0..view.rows {
            for (k, want) in key_pos.iter().enumerate() {
                if want
                    .iter()
                    .all(|(p, v)| display(view.get(*p, i)).is_some_and(|s| same_value(&s, v)))
                {
                    let values = cols
                        .iter()
                        .enumerate()
                        .map(|(p, c)| (c.clone(), display(view.get(p, i))))
                        .collect();
                    found[k] = Some(values);
                }
            }
        }
    })?;
    Ok(found)
}

/// Whether a `sql` rule's query names a sensitive column as a word (any case, quoted or not).
fn query_names_sensitive(query: &str, ctx: &Ctx) -> bool {
    query
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| !w.is_empty() && ctx.sensitive(w))
}

/// Which returned columns of a query carry a table's column unrenamed, so that their name says
/// what they hold: per returned column (`n` of them), true when it may be judged by its name.
/// Only a single `SELECT` from plain tables qualifies, whose items are bare columns (`id`,
/// `c.id`) or `*`; an alias, an expression, a CTE or a subquery could carry a sensitive value
/// under another name, and then nothing qualifies.
fn plain_returned_columns(query: &str, n: usize) -> Vec<bool> {
    use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement, TableFactor};
    let none = vec![false; n];
    let Ok(stmts) =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::GenericDialect {}, query)
    else {
        return none;
    };
    let [Statement::Query(q)] = stmts.as_slice() else {
        return none;
    };
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return none;
    };
    let plain_from = sel.from.iter().all(|t| {
        std::iter::once(&t.relation)
            .chain(t.joins.iter().map(|j| &j.relation))
            .all(|r| matches!(r, TableFactor::Table { args: None, .. }))
    });
    if q.with.is_some() || !plain_from {
        return none;
    }
    let bare = |item: &SelectItem| {
        matches!(
            item,
            SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_))
                | SelectItem::Wildcard(_)
                | SelectItem::QualifiedWildcard(..)
        )
    };
    if sel.projection.iter().all(bare) {
        vec![true; n]
    } else {
        none
    }
}

/// A custom query: every row it returns is a violation; its first columns are the key.
fn sql_rule(target: &mut dyn Source, r: &Resolved, ctx: &Ctx) -> Result<RuleResult, CheckError> {
    let cols: Vec<String> = r.meta.columns.iter().map(|c| c.name.clone()).collect();
    let shown_cols: Vec<usize> = (0..cols.len().min(3)).collect();
    // A column is shown raw only when its name says what it holds and that is not sensitive:
    // when the query names a sensitive column, a renamed or computed column (`SELECT
    // upper(email) AS code`) may hold it, and is shown as a shape.
    let plain = match &r.rule.kind {
        RuleKind::Sql(q) if query_names_sensitive(q, ctx) => plain_returned_columns(q, cols.len()),
        _ => vec![true; cols.len()],
    };
    let sens: Vec<bool> = cols
        .iter()
        .zip(&plain)
        .map(|(c, p)| !p || ctx.sensitive(c))
        .collect();
    let names: Vec<String> = shown_cols.iter().map(|&i| cols[i].clone()).collect();
    let mut rows = 0u64;
    let mut samples = Samples::default();
    scan(target, &r.meta, &cols, |view| {
        for i in 0..view.rows {
            rows += 1;
            samples.push(row_key(view, &shown_cols, &names, &sens, i, rows), None);
        }
    })
    .map_err(|e| CheckError::Eval {
        rule: r.rule.name.clone(),
        reason: crate::error::scrub(&e.to_string()),
    })?;
    Ok(RuleResult {
        name: r.rule.name.clone(),
        kind: "sql".into(),
        table: r.rule.table.clone(),
        columns: Vec::new(),
        status: if rows == 0 { "pass" } else { "fail" }.into(),
        checked: rows,
        violations: rows,
        distinct: None,
        detail: format!("the query returned {rows} violating row(s)"),
        samples: samples.finish(ctx.samples),
        seconds: 0.0,
    })
}
