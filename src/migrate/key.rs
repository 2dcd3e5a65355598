//! A unit's keys in one canonical text form, compared, ordered and recorded alike everywhere
//! (source rows, batches, ledger, id map, `--item`, `--keys-from`): one column as its value's
//! text, several escaped and joined so that no two keys share a text; a NULL part is no key.

use arrow::array::{Array, RecordBatch};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::MigrateError;

/// Separator between the parts of a composite key in its text form (each part's own `\` and
/// separator escaped, so that no two keys share a text).
pub const KEY_SEP: char = '\u{1f}';

/// The canonical text of a key from its parts' texts: one part as it is; several escaped
/// (`\` → `\\`, [`KEY_SEP`] → `\_`) and joined by [`KEY_SEP`]. Two different keys never
/// share a text, whatever their values hold.
pub fn key_of_parts<S: AsRef<str>>(parts: &[S]) -> String {
    if let [one] = parts {
        return one.as_ref().to_string();
    }
    let mut s = String::new();
    for (j, p) in parts.iter().enumerate() {
        if j > 0 {
            s.push(KEY_SEP);
        }
        for c in p.as_ref().chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                KEY_SEP => s.push_str("\\_"),
                c => s.push(c),
            }
        }
    }
    s
}

/// The parts of a key's canonical text of `n` parts (the inverse of [`key_of_parts`]).
pub fn key_parts(text: &str, n: usize) -> Vec<String> {
    if n <= 1 {
        return vec![text.to_string()];
    }
    text.split(KEY_SEP)
        .map(|p| {
            let mut out = String::new();
            let mut chars = p.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('_') => out.push(KEY_SEP),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            }
            out
        })
        .collect()
}

/// Every row's canonical key ([`key_of_parts`] of its values' texts); `None` for a row whose key
/// holds a NULL (never the text `NULL`, which is a value like any other).
pub fn key_texts(
    batch: &RecordBatch,
    key_idx: &[usize],
) -> Result<Vec<Option<String>>, MigrateError> {
    let opts = FormatOptions::default();
    let fmts: Vec<ArrayFormatter> = key_idx
        .iter()
        .map(|&i| ArrayFormatter::try_new(batch.column(i).as_ref(), &opts))
        .collect::<Result<_, _>>()
        .map_err(|e| MigrateError::Internal(e.to_string()))?;
    // Logical nulls: a dictionary's NULL values and a column of nulls are NULL too.
    let nulls: Vec<Option<arrow::buffer::NullBuffer>> = key_idx
        .iter()
        .map(|&i| batch.column(i).logical_nulls())
        .collect();
    let mut parts: Vec<String> = Vec::with_capacity(key_idx.len());
    Ok((0..batch.num_rows())
        .map(|r| {
            if nulls.iter().flatten().any(|n| n.is_null(r)) {
                return None;
            }
            parts.clear();
            parts.extend(fmts.iter().map(|f| f.value(r).to_string()));
            Some(key_of_parts(&parts))
        })
        .collect())
}

/// A row's key as shown in messages, NULL parts as `NULL` (`a=1, b=NULL`).
pub fn show_row_key(
    batch: &RecordBatch,
    key_idx: &[usize],
    names: &[String],
    row: usize,
) -> String {
    let opts = FormatOptions::default().with_null("NULL");
    names
        .iter()
        .zip(key_idx)
        .map(|(n, &i)| {
            let v = ArrayFormatter::try_new(batch.column(i).as_ref(), &opts)
                .map(|f| f.value(row).to_string())
                .unwrap_or_default();
            format!("{n}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A key as shown in messages: `id=42` or `a=1, b=x`.
pub fn show_key(names: &[String], text: &str) -> String {
    names
        .iter()
        .zip(key_parts(text, names.len()))
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Int64Array};
    use std::sync::Arc;

    #[test]
    fn composite_keys_never_share_a_text_and_read_back() {
        let sep = KEY_SEP.to_string();
        let pairs: [[&str; 2]; 6] = [
            [&format!("x{sep}y"), "z"],
            ["x", &format!("y{sep}z")],
            ["a\\", "_b"],
            ["a", "\\_b"],
            ["a\\", &format!("{sep}b")],
            ["", ""],
        ];
        let texts: Vec<String> = pairs.iter().map(|p| key_of_parts(p)).collect();
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(a, b);
            }
        }
        for (p, t) in pairs.iter().zip(&texts) {
            assert_eq!(key_parts(t, 2), p.to_vec(), "{t:?}");
        }
        // One part is its value's text: the text NULL is a key like any other.
        assert_eq!(key_of_parts(&["NULL"]), "NULL");
        assert_eq!(key_of_parts(&["a\\b"]), "a\\b");
        assert_eq!(key_parts("a\\b", 1), ["a\\b"]);
    }

    #[test]
    fn a_null_key_part_is_none_and_the_text_null_is_a_key() {
        use arrow::array::StringArray;
        let batch = RecordBatch::try_from_iter([
            (
                "a",
                Arc::new(StringArray::from(vec![Some("NULL"), None, Some("x")])) as ArrayRef,
            ),
            (
                "b",
                Arc::new(Int64Array::from(vec![Some(1), Some(2), None])) as ArrayRef,
            ),
        ])
        .unwrap();
        let keys = key_texts(&batch, &[0, 1]).unwrap();
        assert_eq!(
            keys[0].as_deref(),
            Some(key_of_parts(&["NULL", "1"]).as_str())
        );
        assert_eq!(keys[1], None);
        assert_eq!(keys[2], None);
        assert_eq!(key_texts(&batch, &[0]).unwrap()[0].as_deref(), Some("NULL"));
        // A dictionary whose value is NULL, and a column of nulls: NULL keys, never ''.
        let dict: arrow::array::DictionaryArray<arrow::datatypes::Int32Type> =
            arrow::array::DictionaryArray::new(
                arrow::array::Int32Array::from(vec![0, 1]),
                Arc::new(StringArray::from(vec![Some("k"), None])),
            );
        let odd = RecordBatch::try_from_iter([
            ("d", Arc::new(dict) as ArrayRef),
            ("n", Arc::new(arrow::array::NullArray::new(2)) as ArrayRef),
        ])
        .unwrap();
        assert_eq!(
            key_texts(&odd, &[0]).unwrap(),
            [Some("k".to_string()), None]
        );
        assert_eq!(key_texts(&odd, &[1]).unwrap(), [None, None]);
        let names = ["a".to_string(), "b".to_string()];
        assert_eq!(show_row_key(&batch, &[0, 1], &names, 2), "a=x, b=NULL");
    }
}
