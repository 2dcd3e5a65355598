//! Column transforms: from a unit's source rows to the rows it writes.
//!
//! Per target column, in this order: the producer (`from`, `concat`, `split`, `value`), then text
//! operations (`trim`, `case`, `null_if`, `map`, `default`), then typing (`date_formats` or
//! `cast`), then `lookup` through an earlier unit's id map. A value that cannot be converted is an
//! error naming the unit, the row's key, the column, and the value's shape, never its text.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime};

use super::key::show_key;
use super::plan::{ColumnSpec, Unit};
use super::MigrateError;

/// Old key (as text) → new id, per unit.
pub type IdMaps = HashMap<String, HashMap<String, i64>>;

/// Parses a `cast` type name.
pub fn parse_cast(text: &str) -> Result<DataType, String> {
    let t = text.trim().to_ascii_lowercase();
    let simple = match t.as_str() {
        "int" | "integer" | "bigint" | "int64" => Some(DataType::Int64),
        "float" | "double" | "real" | "float64" => Some(DataType::Float64),
        "text" | "string" | "varchar" => Some(DataType::Utf8),
        "bool" | "boolean" => Some(DataType::Boolean),
        "date" => Some(DataType::Date32),
        "timestamp" => Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        "timestamptz" => Some(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("+00:00".into()),
        )),
        _ => None,
    };
    if let Some(d) = simple {
        return Ok(d);
    }
    let inner = t
        .strip_prefix("decimal(")
        .or_else(|| t.strip_prefix("numeric("))
        .and_then(|r| r.strip_suffix(')'));
    if let Some((p, s)) = inner.and_then(|i| i.split_once(',')) {
        if let (Ok(p), Ok(s)) = (p.trim().parse::<u8>(), s.trim().parse::<i8>()) {
            if (1..=38).contains(&p) && s >= 0 && (s as u8) <= p {
                return Ok(DataType::Decimal128(p, s));
            }
        }
    }
    Err(format!(
        "cast = '{text}': write int, bigint, float, double, decimal(P,S) (P ≤ 38), text, bool, date, timestamp or timestamptz"
    ))
}

fn has_time(format: &str) -> bool {
    [
        "%H", "%I", "%M", "%S", "%T", "%R", "%f", "%s", "%.f", "%k", "%l",
    ]
    .iter()
    .any(|p| format.contains(p))
}

/// Checks a chrono format string.
pub fn check_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "date_formats: '{format}' is not a valid chrono format (e.g. \"%d/%m/%Y\", \"%Y-%m-%d %H:%M:%S\")"
        ));
    }
    Ok(())
}

/// The shape of a value: letters → A/a, digits → 9, the rest kept (so errors never show data).
pub fn shape(text: &str) -> String {
    text.chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_digit() {
                '9'
            } else if c.is_uppercase() {
                'A'
            } else if c.is_alphabetic() {
                'a'
            } else {
                c
            }
        })
        .collect()
}

/// Transforms a unit's source rows (key columns at `key_idx`) into the rows it writes.
pub struct Transformer<'a> {
    /// The unit.
    pub unit: &'a Unit,
    /// Id maps of earlier units (for `lookup`).
    pub idmaps: &'a IdMaps,
}

fn strings(a: &ArrayRef) -> Result<Vec<Option<String>>, MigrateError> {
    let s = cast_with_options(a, &DataType::Utf8, &CastOptions::default())
        .map_err(|e| MigrateError::Internal(e.to_string()))?;
    let s = s
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| MigrateError::Internal("cast to text failed".into()))?;
    Ok((0..s.len())
        .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
        .collect())
}

impl Transformer<'_> {
    fn fail(&self, keys: &[String], row: usize, column: &str, reason: String) -> MigrateError {
        MigrateError::Transform {
            unit: self.unit.spec.name.clone(),
            key: show_key(&self.unit.spec.key, &keys[row]),
            column: column.to_string(),
            reason,
        }
    }

    /// The target columns with their specs (identity when the unit lists none).
    pub fn columns(&self, source: &Schema) -> Vec<(String, ColumnSpec)> {
        if !self.unit.columns.is_empty() {
            return self.unit.columns.clone();
        }
        source
            .fields()
            .iter()
            .map(|f| {
                (
                    f.name().clone(),
                    ColumnSpec {
                        from: Some(f.name().clone()),
                        ..ColumnSpec::default()
                    },
                )
            })
            .collect()
    }

    /// Transforms `batch`; `keys` are its rows' key texts (for messages).
    pub fn apply(&self, batch: &RecordBatch, keys: &[String]) -> Result<RecordBatch, MigrateError> {
        let schema = batch.schema();
        let col = |name: &str, target: &str| -> Result<ArrayRef, MigrateError> {
            crate::migrate::column_index(
                &schema,
                &self.unit.spec.name,
                name,
                &format!("columns.{target}"),
            )
            .map(|i| batch.column(i).clone())
        };
        let n = batch.num_rows();
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (target, spec) in self.columns(&schema) {
            let sep = spec.sep.clone().unwrap_or_else(|| " ".into());
            // 1. The producer.
            let mut text: Option<Vec<Option<String>>> = None;
            let mut array: Option<ArrayRef> = None;
            if let Some(f) = &spec.from {
                array = Some(col(f, &target)?);
            } else if let Some(parts) = &spec.concat {
                let cols = parts
                    .iter()
                    .map(|p| col(p, &target).and_then(|a| strings(&a)))
                    .collect::<Result<Vec<_>, _>>()?;
                text = Some(
                    (0..n)
                        .map(|r| {
                            let present: Vec<&str> =
                                cols.iter().filter_map(|c| c[r].as_deref()).collect();
                            (!present.is_empty()).then(|| present.join(&sep))
                        })
                        .collect(),
                );
            } else if let Some(s) = &spec.split {
                let part = spec.part.unwrap_or(0);
                let v = strings(&col(s, &target)?)?;
                text = Some(
                    v.into_iter()
                        .map(|o| {
                            o.and_then(|s| {
                                let mut pieces: Box<dyn Iterator<Item = &str>> = if sep == " " {
                                    Box::new(s.split_whitespace())
                                } else {
                                    Box::new(s.split(sep.as_str()))
                                };
                                pieces.nth(part).map(str::to_string)
                            })
                        })
                        .collect(),
                );
            } else if let Some(v) = &spec.value {
                text = Some(vec![Some(v.clone()); n]);
            }
            // 2. Text operations.
            let text_ops = spec.trim
                || spec.case.is_some()
                || !spec.null_if.is_empty()
                || spec.map.is_some()
                || spec.default.is_some();
            if text_ops {
                let mut v = match text.take() {
                    Some(t) => t,
                    None => strings(array.as_ref().expect("a producer"))?,
                };
                for (r, cell) in v.iter_mut().enumerate() {
                    if let Some(s) = cell.as_mut() {
                        if spec.trim {
                            *s = s.trim().to_string();
                        }
                        match spec.case.as_deref() {
                            Some("lower") => *s = s.to_lowercase(),
                            Some("upper") => *s = s.to_uppercase(),
                            _ => {}
                        }
                    }
                    if cell.as_ref().is_some_and(|s| spec.null_if.contains(s)) {
                        *cell = None;
                    }
                    if let (Some(s), Some(map)) = (cell.as_mut(), &spec.map) {
                        match map.get(s.as_str()) {
                            Some(to) => *s = to.clone(),
                            None if spec.strict_map => {
                                return Err(self.fail(
                                    keys,
                                    r,
                                    &target,
                                    format!(
                                        "the map has no entry for a value of shape '{}'",
                                        shape(s)
                                    ),
                                ))
                            }
                            None => {}
                        }
                    }
                    if cell.is_none() {
                        cell.clone_from(&spec.default);
                    }
                }
                text = Some(v);
            }
            let mut out: ArrayRef = match text {
                Some(v) => Arc::new(StringArray::from(v)),
                None => array.expect("a producer"),
            };
            // 3. Typing.
            if !spec.date_formats.is_empty() {
                out = self.parse_dates(&out, &spec.date_formats, keys, &target)?;
            } else if let Some(c) = &spec.cast {
                let to = parse_cast(c).map_err(|r| self.fail(keys, 0, &target, r))?;
                let cast = cast_with_options(&out, &to, &CastOptions::default())
                    .map_err(|e| self.fail(keys, 0, &target, format!("cannot cast to {c}: {e}")))?;
                if let Some(r) = (0..n).find(|&r| out.is_valid(r) && cast.is_null(r)) {
                    let shown = strings(&out.slice(r, 1))?
                        .pop()
                        .flatten()
                        .unwrap_or_default();
                    return Err(self.fail(
                        keys,
                        r,
                        &target,
                        format!("a value of shape '{}' is not a valid {c}", shape(&shown)),
                    ));
                }
                out = cast;
            }
            // 4. Lookup through an id map.
            if let Some(u) = &spec.lookup {
                let empty = HashMap::new();
                let map = self.idmaps.get(u).unwrap_or(&empty);
                let v = strings(&out)?;
                let mut ids = Vec::with_capacity(n);
                for (r, cell) in v.iter().enumerate() {
                    match cell {
                        None => ids.push(None),
                        Some(k) => match map.get(k) {
                            Some(id) => ids.push(Some(*id)),
                            None => {
                                return Err(self.fail(
                                    keys,
                                    r,
                                    &target,
                                    format!(
                                        "unit '{u}' has no row with key {k}: migrate '{u}' first, or fix the reference in the source"
                                    ),
                                ))
                            }
                        },
                    }
                }
                out = Arc::new(Int64Array::from(ids));
            }
            fields.push(Field::new(&target, out.data_type().clone(), true));
            arrays.push(out);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| MigrateError::Internal(e.to_string()))
    }

    fn parse_dates(
        &self,
        a: &ArrayRef,
        formats: &[String],
        keys: &[String],
        target: &str,
    ) -> Result<ArrayRef, MigrateError> {
        let v = strings(a)?;
        let timed = formats.iter().any(|f| has_time(f));
        let mut micros: Vec<Option<i64>> = Vec::with_capacity(v.len());
        for (r, cell) in v.iter().enumerate() {
            let Some(s) = cell else {
                micros.push(None);
                continue;
            };
            let s = s.trim();
            let parsed = formats.iter().find_map(|f| {
                if has_time(f) {
                    NaiveDateTime::parse_from_str(s, f).ok()
                } else {
                    NaiveDate::parse_from_str(s, f)
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                }
            });
            match parsed {
                Some(dt) => micros.push(Some(dt.and_utc().timestamp_micros())),
                None => {
                    return Err(self.fail(
                        keys,
                        r,
                        target,
                        format!(
                            "a value of shape '{}' matches none of the date_formats {:?}; add its format, or map it with null_if/map",
                            shape(s),
                            formats
                        ),
                    ))
                }
            }
        }
        Ok(if timed {
            Arc::new(TimestampMicrosecondArray::from(micros))
        } else {
            Arc::new(Date32Array::from(
                micros
                    .into_iter()
                    .map(|m| m.map(|m| m.div_euclid(86_400_000_000) as i32))
                    .collect::<Vec<_>>(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::key::key_texts;
    use crate::migrate::plan::Plan;
    use arrow::array::Int64Array;
    use std::path::Path;

    fn unit(columns: &str) -> Plan {
        let text = format!(
            "source = \"s.db\"\ntarget = \"t.db\"\n[[unit]]\nname = \"u\"\ntable = \"t\"\ntarget = \"t\"\nkey = [\"id\"]\n[unit.columns]\n{columns}\n"
        );
        Plan::parse(&text, "p.toml", Path::new("."), None, None).unwrap()
    }

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("d", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![
                    Some("  Ada Lovelace "),
                    Some("A"),
                    None,
                ])),
                Arc::new(StringArray::from(vec![
                    Some("05/01/2024"),
                    Some("2024-02-03"),
                    None,
                ])),
            ],
        )
        .unwrap()
    }

    fn text(b: &RecordBatch, c: &str) -> Vec<Option<String>> {
        strings(b.column(b.schema().index_of(c).unwrap())).unwrap()
    }

    #[test]
    fn text_operations_split_map_default_and_dates() {
        let p = unit(
            "first = { split = \"name\", trim = true, part = 0 }\nlast = { split = \"name\", part = 1, trim = true, default = \"?\" }\nup = { from = \"name\", trim = true, case = \"upper\", map = { A = \"alpha\" } }\nd = { from = \"d\", date_formats = [\"%d/%m/%Y\", \"%Y-%m-%d\"] }\nid = \"id\"",
        );
        let b = batch();
        let keys: Vec<String> = key_texts(&b, &[0]).unwrap().into_iter().flatten().collect();
        let m = IdMaps::new();
        let t = Transformer {
            unit: &p.units[0],
            idmaps: &m,
        };
        let out = t.apply(&b, &keys).unwrap();
        assert_eq!(text(&out, "first")[0].as_deref(), Some("Ada"));
        assert_eq!(text(&out, "last")[0].as_deref(), Some("Lovelace"));
        assert_eq!(text(&out, "last")[1].as_deref(), Some("?"));
        assert_eq!(text(&out, "up")[1].as_deref(), Some("alpha"));
        assert_eq!(text(&out, "up")[0].as_deref(), Some("ADA LOVELACE"));
        assert_eq!(
            out.column(out.schema().index_of("d").unwrap()).data_type(),
            &DataType::Date32
        );
        assert_eq!(
            text(&out, "d"),
            vec![Some("2024-01-05".into()), Some("2024-02-03".into()), None]
        );
    }

    #[test]
    fn a_bad_value_names_unit_key_column_and_shape_not_the_value() {
        let p = unit("d = { from = \"d\", date_formats = [\"%d/%m/%Y\"] }");
        let b = batch();
        let keys: Vec<String> = key_texts(&b, &[0]).unwrap().into_iter().flatten().collect();
        let m = IdMaps::new();
        let t = Transformer {
            unit: &p.units[0],
            idmaps: &m,
        };
        let e = t.apply(&b, &keys).unwrap_err().to_string();
        assert!(
            e.contains("unit 'u'") && e.contains("id=2") && e.contains("column 'd'"),
            "{e}"
        );
        assert!(e.contains("9999-99-99") && !e.contains("2024-02-03"), "{e}");
        let p = unit("n = { from = \"name\", cast = \"int\" }");
        let t = Transformer {
            unit: &p.units[0],
            idmaps: &m,
        };
        let e = t.apply(&b, &keys).unwrap_err().to_string();
        assert!(
            e.contains("id=1") && e.contains("not a valid int") && !e.contains("Ada"),
            "{e}"
        );
    }
}
