//! Declared comparison rules: the only way a difference becomes `match*(rule)`.
//!
//! A rule is declared per column (mapping file or `--rule COLUMN=RULE`) and applies only to cells
//! whose canonical values differ; it never changes what `match` means and it is always counted
//! by name, so a relaxed comparison is never silent (DESIGN.md "Verdicts"). Rules:
//!
//! | rule | equal when |
//! |---|---|
//! | `trim` | texts equal once leading and trailing whitespace is removed |
//! | `char-pad` | texts equal once trailing spaces are removed (CHAR(n) padding) |
//! | `case-insensitive` | texts equal once lower-cased |
//! | `nfc` | texts equal once both are in Unicode NFC |
//! | `signed-zero` | floats `-0.0` and `0.0` |
//! | `nan-eq` | both sides NaN (any payload, float or numeric `'NaN'` text) |
//! | `abs=X` | numbers at most X apart (exact for decimals) |
//! | `rel=X` | numbers at most X × the larger magnitude apart |
//! | `precision=s\|ms\|us` | date-times equal once both are cut to that unit |
//! | `tz-instant` | a local date-time equals an instant with the same UTC digits |
//! | `json-semantic` | texts that parse as equal JSON values (key order, spacing) |
//! | value map (`map`) | the source value maps to the target value (`Y` → `true`) |
//!
//! Text rules combine: with `trim` and `case-insensitive` declared, `'ABC '` vs `'abc'` is
//! `match*(trim+case-insensitive)`.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use crate::value::canonical::{datetime_parts, display, number_string, push, split, tag};
use crate::value::exact::{within_abs, within_rel, Exact};
use crate::value::json::same_value;

/// One declared rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Leading and trailing whitespace ignored.
    Trim,
    /// Trailing spaces ignored.
    CharPad,
    /// Letter case ignored.
    CaseInsensitive,
    /// Unicode normalisation form ignored.
    Nfc,
    /// `-0.0` equals `0.0`.
    SignedZero,
    /// NaN equals NaN.
    NanEq,
    /// Absolute tolerance, as written (`0.005`).
    Abs(String),
    /// Relative tolerance, as written (`0.001`).
    Rel(String),
    /// Date-times compared at this many nanoseconds.
    Precision(u32, &'static str),
    /// Local date-times read as UTC instants.
    TzInstant,
    /// JSON compared as values.
    JsonSemantic,
    /// Source value (as text) → target value (as text).
    Map(BTreeMap<String, String>),
}

impl Rule {
    /// Parses a rule as written in a mapping file or on the command line.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let t = text.trim();
        let (name, arg) = match t.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (t, None),
        };
        fn need<'a>(name: &str, a: Option<&'a str>) -> Result<&'a str, String> {
            a.filter(|s| !s.is_empty())
                .ok_or(format!("rule '{name}' needs a value, e.g. {name}=0.01"))
        }
        Ok(match name {
            "trim" => Rule::Trim,
            "char-pad" => Rule::CharPad,
            "case-insensitive" => Rule::CaseInsensitive,
            "nfc" => Rule::Nfc,
            "signed-zero" => Rule::SignedZero,
            "nan-eq" => Rule::NanEq,
            "tz-instant" => Rule::TzInstant,
            "json-semantic" => Rule::JsonSemantic,
            "abs" | "tolerance" => {
                let v = need(name, arg)?;
                if Exact::parse(v).is_none() || v.starts_with('-') {
                    return Err(format!("abs tolerance '{v}' is not a non-negative decimal number"));
                }
                Rule::Abs(v.to_string())
            }
            "rel" => {
                let v = need(name, arg)?;
                if Exact::parse(v).is_none() || v.starts_with('-') {
                    return Err(format!("rel tolerance '{v}' is not a non-negative decimal number"));
                }
                Rule::Rel(v.to_string())
            }
            "precision" => match need(name, arg)? {
                "s" => Rule::Precision(1_000_000_000, "s"),
                "ms" => Rule::Precision(1_000_000, "ms"),
                "us" => Rule::Precision(1_000, "us"),
                other => return Err(format!("precision '{other}' is not one of s, ms, us")),
            },
            "map" => {
                // map=Y:true;N:false
                let mut m = BTreeMap::new();
                for pair in need(name, arg)?.split(';').filter(|p| !p.trim().is_empty()) {
                    let (a, b) = pair
                        .split_once(':')
                        .ok_or(format!("value map entry '{pair}' is not FROM:TO"))?;
                    m.insert(a.to_string(), b.to_string());
                }
                Rule::Map(m)
            }
            _ => return Err(format!(
                "unknown rule '{name}' (rules: trim, char-pad, case-insensitive, nfc, signed-zero, nan-eq, abs=X, rel=X, precision=s|ms|us, tz-instant, json-semantic, map=FROM:TO;…)"
            )),
        })
    }

    /// The rule's name in reports: `trim`, `abs=0.005`, `precision=ms`, `map`.
    pub fn name(&self) -> String {
        match self {
            Rule::Trim => "trim".into(),
            Rule::CharPad => "char-pad".into(),
            Rule::CaseInsensitive => "case-insensitive".into(),
            Rule::Nfc => "nfc".into(),
            Rule::SignedZero => "signed-zero".into(),
            Rule::NanEq => "nan-eq".into(),
            Rule::Abs(v) => format!("abs={v}"),
            Rule::Rel(v) => format!("rel={v}"),
            Rule::Precision(_, u) => format!("precision={u}"),
            Rule::TzInstant => "tz-instant".into(),
            Rule::JsonSemantic => "json-semantic".into(),
            Rule::Map(_) => "map".into(),
        }
    }

    fn text_norm(&self, s: &str) -> Option<String> {
        Some(match self {
            Rule::Trim => s.trim().to_string(),
            Rule::CharPad => s.trim_end_matches(' ').to_string(),
            Rule::CaseInsensitive => s.to_lowercase(),
            Rule::Nfc => s.nfc().collect(),
            _ => return None,
        })
    }

    /// Whether two differing canonical values (source, target) are equal under this rule.
    pub fn holds(&self, a: &[u8], b: &[u8]) -> bool {
        let (ta, pa) = split(a);
        let (tb, pb) = split(b);
        match self {
            Rule::Trim | Rule::CharPad | Rule::CaseInsensitive | Rule::Nfc => {
                match (ta, tb, std::str::from_utf8(pa), std::str::from_utf8(pb)) {
                    (tag::TEXT, tag::TEXT, Ok(x), Ok(y)) => self.text_norm(x) == self.text_norm(y),
                    _ => false,
                }
            }
            Rule::SignedZero => match (float(ta, pa), float(tb, pb)) {
                (Some(x), Some(y)) => x == 0.0 && y == 0.0,
                _ => false,
            },
            Rule::NanEq => is_nan(ta, pa) && is_nan(tb, pb),
            // Exact arithmetic on the values as they are (a float by its exact binary value):
            // never through f64, never capped at 38 digits.
            Rule::Abs(tol) => match (exact(ta, pa), exact(tb, pb), Exact::parse(tol)) {
                (Some(x), Some(y), Some(t)) => within_abs(&x, &y, &t),
                _ => false,
            },
            Rule::Rel(r) => match (exact(ta, pa), exact(tb, pb), Exact::parse(r)) {
                (Some(x), Some(y), Some(r)) => within_rel(&x, &y, &r),
                _ => false,
            },
            Rule::Precision(step, _) => {
                let same_kind = ta == tb && (ta == tag::INSTANT || ta == tag::LOCAL_DATETIME);
                match (same_kind, datetime_parts(pa), datetime_parts(pb)) {
                    (true, Some((sa, na)), Some((sb, nb))) => sa == sb && na / step == nb / step,
                    _ => false,
                }
            }
            Rule::TzInstant => {
                matches!(
                    (ta, tb),
                    (tag::INSTANT, tag::LOCAL_DATETIME) | (tag::LOCAL_DATETIME, tag::INSTANT)
                ) && pa == pb
            }
            Rule::JsonSemantic => {
                match (ta, tb, std::str::from_utf8(pa), std::str::from_utf8(pb)) {
                    (tag::TEXT, tag::TEXT, Ok(x), Ok(y)) => same_value(x, y) == Some(true),
                    _ => false,
                }
            }
            Rule::Map(m) => match (display(a), display(b)) {
                (Some(x), Some(y)) => m.get(&x).is_some_and(|to| {
                    if tb == tag::BOOL {
                        to.eq_ignore_ascii_case(&y)
                    } else {
                        *to == y
                    }
                }),
                _ => false,
            },
        }
    }
}

/// The rules of one column, tried in order; text rules also tried combined.
#[derive(Debug, Clone, Default)]
pub struct ColumnRules(pub Vec<Rule>);

impl ColumnRules {
    /// Whether these rules change which key values are the same key (`trim`, `char-pad`,
    /// `case-insensitive`, `nfc`, `signed-zero`): such rules apply before rows are paired.
    pub fn pairs_by_rule(&self) -> bool {
        self.0
            .iter()
            .any(|r| r.text_norm("").is_some() || *r == Rule::SignedZero)
    }

    /// Appends the form of one canonical value under which rows are paired: the value itself,
    /// or, with a pairing rule, the text with every text rule applied (in the declared order)
    /// and `-0.0` as `0.0`. Two values with the same pairing form are equal under the rules.
    pub fn push_pairing_form(&self, v: &[u8], out: &mut Vec<u8>) {
        let (t, p) = split(v);
        if t == tag::TEXT {
            if let Ok(s) = std::str::from_utf8(p) {
                let mut norm = None::<String>;
                for r in &self.0 {
                    if let Some(n) = r.text_norm(norm.as_deref().unwrap_or(s)) {
                        norm = Some(n);
                    }
                }
                if let Some(n) = norm {
                    push(out, tag::TEXT, n.as_bytes());
                    return;
                }
            }
        }
        if t == tag::FLOAT && self.0.contains(&Rule::SignedZero) && float(t, p) == Some(0.0) {
            push(out, tag::FLOAT, &0.0f64.to_bits().to_le_bytes());
            return;
        }
        out.extend_from_slice(v);
    }

    /// The name of the rule (or `+`-joined text rules) under which two differing values are
    /// equal, if any.
    pub fn matching(&self, a: &[u8], b: &[u8]) -> Option<String> {
        if let Some(r) = self.0.iter().find(|r| r.holds(a, b)) {
            return Some(r.name());
        }
        let text: Vec<&Rule> = self
            .0
            .iter()
            .filter(|r| r.text_norm("").is_some())
            .collect();
        if text.len() < 2 {
            return None;
        }
        let (ta, pa) = split(a);
        let (tb, pb) = split(b);
        let (tag::TEXT, tag::TEXT, Ok(x), Ok(y)) =
            (ta, tb, std::str::from_utf8(pa), std::str::from_utf8(pb))
        else {
            return None;
        };
        let all = |s: &str| {
            text.iter()
                .fold(s.to_string(), |acc, r| r.text_norm(&acc).unwrap_or(acc))
        };
        (all(x) == all(y)).then(|| text.iter().map(|r| r.name()).collect::<Vec<_>>().join("+"))
    }
}

fn float(t: u8, p: &[u8]) -> Option<f64> {
    (t == tag::FLOAT)
        .then(|| {
            p.try_into()
                .ok()
                .map(u64::from_le_bytes)
                .map(f64::from_bits)
        })
        .flatten()
}

fn is_nan(t: u8, p: &[u8]) -> bool {
    float(t, p).is_some_and(f64::is_nan) || (t == tag::TEXT && p.eq_ignore_ascii_case(b"nan"))
}

/// An exact number or a finite float, as an exact decimal.
fn exact(t: u8, p: &[u8]) -> Option<Exact> {
    match t {
        tag::NUMBER => Exact::parse(&number_string(p)),
        tag::FLOAT => float(t, p).and_then(Exact::of_float),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BooleanArray, Float64Array, StringArray};

    use super::*;
    use crate::value::canonical::{encode_column, TextAs};

    fn one(a: ArrayRef, t: TextAs) -> Vec<u8> {
        let mut rows = vec![Vec::new()];
        encode_column(&a, t, &mut rows);
        rows.remove(0)
    }
    fn s(v: &str) -> Vec<u8> {
        one(Arc::new(StringArray::from(vec![v])), TextAs::Text)
    }
    fn d(v: &str) -> Vec<u8> {
        one(Arc::new(StringArray::from(vec![v])), TextAs::Decimal)
    }
    fn f(v: f64) -> Vec<u8> {
        one(Arc::new(Float64Array::from(vec![v])), TextAs::Text)
    }
    fn rules(r: &[&str]) -> ColumnRules {
        ColumnRules(r.iter().map(|x| Rule::parse(x).unwrap()).collect())
    }

    #[test]
    fn text_rules_and_their_combination() {
        assert_eq!(
            rules(&["char-pad"]).matching(&s("A "), &s("A")).as_deref(),
            Some("char-pad")
        );
        assert_eq!(rules(&["char-pad"]).matching(&s(" A"), &s("A")), None);
        assert_eq!(
            rules(&["trim", "case-insensitive"])
                .matching(&s("ABC "), &s("abc"))
                .as_deref(),
            Some("trim+case-insensitive")
        );
        assert_eq!(
            rules(&["nfc"])
                .matching(&s("\u{e9}"), &s("e\u{301}"))
                .as_deref(),
            Some("nfc")
        );
        assert_eq!(rules(&[]).matching(&s("a"), &s("A")), None);
    }

    #[test]
    fn numeric_rules_are_exact_at_the_boundary() {
        let r = rules(&["abs=0.01"]);
        assert!(r.matching(&d("296685.43"), &d("296685.44")).is_some());
        assert!(r.matching(&d("296685.43"), &d("296685.45")).is_none());
        assert!(rules(&["signed-zero"])
            .matching(&f(-0.0), &f(0.0))
            .is_some());
        assert!(rules(&["signed-zero"]).matching(&f(1.0), &f(0.0)).is_none());
        let nan2 = f64::from_bits(f64::NAN.to_bits() | 1);
        assert!(rules(&["nan-eq"])
            .matching(&f(f64::NAN), &f(nan2))
            .is_some());
        assert!(rules(&["nan-eq"])
            .matching(&d("NaN"), &f(f64::NAN))
            .is_some());
        assert!(rules(&["nan-eq"]).matching(&f(f64::NAN), &s("")).is_none());
    }

    #[test]
    fn value_maps_and_json() {
        let yes = one(Arc::new(BooleanArray::from(vec![true])), TextAs::Text);
        let r = rules(&["map=Y:true;N:false"]);
        assert!(r.matching(&s("Y"), &yes).is_some());
        assert!(r.matching(&s("N"), &yes).is_none());
        let j = rules(&["json-semantic"]);
        assert!(j
            .matching(&s("{\"a\":1,\"b\":[2]}"), &s("{ \"b\": [2], \"a\": 1 }"))
            .is_some());
        assert!(j.matching(&s("{\"a\":1}"), &s("{\"a\":2}")).is_none());
        assert!(Rule::parse("bogus").is_err());
        assert!(Rule::parse("abs=-1").is_err());
        assert!(Rule::parse("precision=h").is_err());
    }
}
