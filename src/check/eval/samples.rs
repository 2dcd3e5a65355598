//! Sample keys: shown (shapes for sensitive values), ordered by key, kept bounded.

use super::*;

/// A value as shown; its shape when sensitive; `None` for NULL.
pub(super) fn show(v: &[u8], sensitive: bool) -> Option<String> {
    display(v).map(|s| if sensitive { shape(&s) } else { s })
}

/// A sample key: its text and the values it sorts by.
#[derive(Clone)]
pub(super) struct KeyText {
    pub(super) text: String,
    pub(super) order: Vec<Option<String>>,
}

pub(super) fn row_key(
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
pub(super) fn cmp_keys(a: &[Option<String>], b: &[Option<String>]) -> Ordering {
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
pub(super) struct Samples {
    pub(super) pool: Vec<(KeyText, Option<String>)>,
}

impl Samples {
    pub(super) fn push(&mut self, key: KeyText, value: Option<String>) {
        self.pool.push((key, value));
        if self.pool.len() >= 2 * SAMPLE_POOL {
            self.pool.sort_by(|a, b| cmp_keys(&a.0.order, &b.0.order));
            self.pool.truncate(SAMPLE_POOL);
        }
    }

    pub(super) fn finish(mut self, n: usize) -> Vec<Sample> {
        self.pool.sort_by(|a, b| cmp_keys(&a.0.order, &b.0.order));
        self.pool
            .into_iter()
            .take(n)
            .map(|(k, value)| Sample { key: k.text, value })
            .collect()
    }
}
