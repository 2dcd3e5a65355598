//! `reckon migrate --keys-from DIFF_DIR`: the repair loop. The keys a `reckon diff --out DIFF_DIR`
//! found missing from the target or changed in it are copied again, through the unit that reads
//! each table, and verified again (an `item`-kind run of those keys, with its ledger rows).
//! Keys the target holds and the source does not (`extra`) are counted and left in place.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use arrow::array::{Array, AsArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::key::key_of_parts;
use super::plan::Plan;
use super::MigrateError;
use crate::source::TableName;

/// What a diff directory asks the plan to repair.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeysFrom {
    /// Per unit: the canonical keys to copy again (missing or changed in the target).
    pub units: BTreeMap<String, HashSet<String>>,
    /// Per unit: the key values (diff key order) of rows the target holds under keys the
    /// source does not.
    pub extra: BTreeMap<String, Vec<Vec<String>>>,
}

fn bad(dir: &Path, reason: impl std::fmt::Display) -> MigrateError {
    MigrateError::Plan {
        path: dir.display().to_string(),
        line: 0,
        reason: format!("--keys-from: {reason}"),
    }
}

/// Reads `diff.json` and `diff_rows.parquet` of a diff's `--out` directory and assigns each
/// differing key to the unit that reads its table (by table name; the diff's key must be the
/// unit's key, column for column).
pub fn read(dir: &Path, plan: &Plan) -> Result<KeysFrom, MigrateError> {
    let report: serde_json::Value = std::fs::read(dir.join("diff.json"))
        .map_err(|e| {
            bad(
                dir,
                format!("cannot read diff.json ({e}): give the --out directory of a `reckon diff`"),
            )
        })
        .and_then(|b| {
            serde_json::from_slice(&b).map_err(|e| bad(dir, format!("diff.json: {e}")))
        })?;
    // Source table of the diff → (unit name, unit key).
    let mut owner: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for t in report["tables"].as_array().into_iter().flatten() {
        let table = t["source_table"].as_str().unwrap_or_default().to_string();
        let key: Vec<String> = t["key"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        // The unit that reads this table and writes the diff's target: by name, and by schema
        // where both say one (two units may read orders of two schemas).
        let same = |a: &str, b: &str| {
            let (a, b) = (TableName::parse(a), TableName::parse(b));
            a.name.eq_ignore_ascii_case(&b.name)
                && match (&a.schema, &b.schema) {
                    (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                    _ => true,
                }
        };
        let target = t["target_table"].as_str().unwrap_or_default();
        let units: Vec<_> = plan
            .units
            .iter()
            .filter(|u| {
                u.spec.table.as_deref().is_some_and(|ut| same(ut, &table))
                    && same(&u.spec.target, target)
            })
            .collect();
        if units.len() > 1 {
            return Err(bad(
                dir,
                format!(
                    "{table} → {target} is read and written by {} units of the plan: name the tables with their schemas",
                    units.len()
                ),
            ));
        }
        let unit = units.first().copied();
        // Keys shown as shapes (--sensitive) are not the keys.
        let masked =
            t["columns"].as_array().into_iter().flatten().any(|c| {
                c["key"].as_bool() == Some(true) && c["sensitive"].as_bool() == Some(true)
            });
        if unit.is_some() && masked {
            return Err(bad(
                dir,
                format!("the diff of {table} masked its key (--sensitive): its keys are shapes, not values; run the diff without masking the key"),
            ));
        }
        if let Some(u) = unit {
            let same = u.spec.key.len() == key.len()
                && u.spec
                    .key
                    .iter()
                    .zip(&key)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b));
            if !same {
                return Err(bad(
                    dir,
                    format!(
                        "the diff compared {table} by ({}), unit '{}' keys it by ({}): run the diff with --key {}",
                        key.join(", "),
                        u.spec.name,
                        u.spec.key.join(", "),
                        u.spec.key.join(",")
                    ),
                ));
            }
            owner.insert(table, (u.spec.name.clone(), u.spec.key.clone()));
        }
    }
    let path = dir.join("diff_rows.parquet");
    let file = std::fs::File::open(&path).map_err(|e| {
        bad(
            dir,
            format!(
                "cannot read diff_rows.parquet ({e}): give the --out directory of a `reckon diff`"
            ),
        )
    })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| bad(dir, format!("diff_rows.parquet: {e}")))?;
    let mut out = KeysFrom::default();
    let mut unowned: BTreeMap<String, u64> = BTreeMap::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(dir, format!("diff_rows.parquet: {e}")))?;
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| bad(dir, format!("diff_rows.parquet has no column {name}")))
        };
        let wrong = |name: &str| {
            bad(
                dir,
                format!("diff_rows.parquet: column {name} is not of the type reckon writes"),
            )
        };
        let tables = col("source_table")?
            .as_string_opt::<i32>()
            .ok_or_else(|| wrong("source_table"))?
            .clone();
        let status = col("status")?
            .as_string_opt::<i32>()
            .ok_or_else(|| wrong("status"))?
            .clone();
        let values = col("key_values")?
            .as_list_opt::<i32>()
            .ok_or_else(|| wrong("key_values"))?
            .clone();
        for r in 0..batch.num_rows() {
            let table = tables.value(r);
            let Some((unit, key)) = owner.get(table) else {
                *unowned.entry(table.to_string()).or_default() += 1;
                continue;
            };
            let parts = values.value(r);
            let parts = parts
                .as_string_opt::<i32>()
                .ok_or_else(|| wrong("key_values"))?;
            if parts.len() != key.len() || parts.null_count() > 0 {
                return Err(bad(
                    dir,
                    format!("a key of {table} in diff_rows.parquet is NULL or of another width"),
                ));
            }
            let texts: Vec<&str> = (0..parts.len()).map(|i| parts.value(i)).collect();
            // The unit runs (with no rows to copy, maybe) to delete what it should.
            out.units.entry(unit.clone()).or_default();
            if status.value(r) == "extra" {
                out.extra
                    .entry(unit.clone())
                    .or_default()
                    .push(texts.iter().map(|t| t.to_string()).collect());
                continue;
            }
            out.units
                .entry(unit.clone())
                .or_default()
                .insert(key_of_parts(&texts));
        }
    }
    if let Some((table, n)) = unowned.iter().next() {
        return Err(bad(
            dir,
            format!(
                "{n} differing row(s) of {table}, which no unit of plan '{}' reads (as a table)",
                plan.name
            ),
        ));
    }
    Ok(out)
}
