//! `reckon init`: a mapping file written from both catalogs, for a human to review.
//!
//! Tables are paired by exact name (case aside), then by similarity: their names, cut into words
//! (`legacy_customers` → legacy, customers), and the share of column names they have in common.
//! Within a pair, columns are paired by exact name, then by name similarity, with the declared
//! types agreeing or not. The key is the source's declared primary key, else the target's,
//! else a candidate key from a profile of the source table (unique and never NULL). Every
//! guess carries a comment giving its evidence; columns on one side only are listed; rules the
//! declared types suggest (`char-pad` for CHAR → VARCHAR, `precision=…` where the target keeps
//! fewer fractional digits of a timestamp) are written commented out, for a human to accept.
//! `reckon diff --mapping` reads the file as written.

use std::fmt::Write as _;

use crate::profile::{self, ProfileOptions};
use crate::source::{Source, SourceError, TableMeta};

/// A pair found, with why.
struct Paired {
    source: usize,
    target: usize,
    evidence: String,
}

/// Words of a name: split at `_`, `-`, `.`, spaces and lower-to-upper case changes, lower-cased,
/// without the prefixes migrations add (`legacy_`, `old_`, `tbl_`…).
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    const NOISE: [&str; 10] = [
        "legacy", "old", "new", "tbl", "tb", "src", "tgt", "stg", "staging", "migrated",
    ];
    let kept: Vec<String> = out
        .iter()
        .filter(|w| !NOISE.contains(&w.as_str()))
        .cloned()
        .collect();
    if kept.is_empty() {
        out
    } else {
        kept
    }
}

/// Edit distance of two strings, in characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// How alike two names are, from 0 to 1: the best of their shared words (a name whose words
/// all appear in the other counts 0.8: `email` and `email_address`) and their edit distance.
fn name_similarity(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    let shared = wa.iter().filter(|w| wb.contains(w)).count();
    let jaccard = if wa.is_empty() || wb.is_empty() {
        0.0
    } else {
        shared as f64 / (wa.len() + wb.len() - shared) as f64
    };
    let contained = if shared > 0 && (shared == wa.len() || shared == wb.len()) {
        0.8
    } else {
        0.0
    };
    let (ja, jb) = (wa.concat(), wb.concat());
    let longest = ja.chars().count().max(jb.chars().count()).max(1);
    let edit = 1.0 - levenshtein(&ja, &jb) as f64 / longest as f64;
    jaccard.max(contained).max(edit).max(abbreviation(&ja, &jb))
}

/// 0.6 when the shorter name (three letters or more) is an abbreviation of the longer: its
/// letters in order, the first the same (`qty` of `quantity`, `cust` of `customer`); else 0.
fn abbreviation(a: &str, b: &str) -> f64 {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.chars().count() < 3
        || short.len() == long.len()
        || short.chars().next() != long.chars().next()
    {
        return 0.0;
    }
    let mut rest = long.chars();
    if short.chars().all(|c| rest.any(|l| l == c)) {
        0.6
    } else {
        0.0
    }
}

/// The family of a declared type, as far as its name tells.
fn family(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    let has = |s: &str| t.contains(s);
    if has("bool") || t == "bit" || t == "bit(1)" || t == "tinyint(1)" {
        "bool"
    } else if has("int") {
        "int"
    } else if has("dec") || has("numeric") || has("number") || has("money") {
        "decimal"
    } else if has("float") || has("double") || has("real") {
        "float"
    } else if has("timestamp") || has("datetime") {
        "timestamp"
    } else if has("date") {
        "date"
    } else if has("time") {
        "time"
    } else if has("char") || has("text") || has("utf8") || has("string") || has("clob") {
        "text"
    } else if has("blob") || has("bytea") || has("binary") {
        "bytes"
    } else {
        "other"
    }
}

/// Columns of a pair: exact names (case aside) first, then by similarity (at least 0.5, the
/// declared types' families weighing in), best first; ties keep declared order.
fn pair_columns(s: &TableMeta, t: &TableMeta) -> (Vec<Paired>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let (mut s_left, mut t_left): (Vec<usize>, Vec<usize>) = (
        (0..s.columns.len()).collect(),
        (0..t.columns.len()).collect(),
    );
    for (i, column) in s.columns.iter().enumerate() {
        let name = &column.name;
        if let Some(p) = t_left
            .iter()
            .position(|&j| t.columns[j].name.eq_ignore_ascii_case(name))
        {
            pairs.push(Paired {
                source: i,
                target: t_left.remove(p),
                evidence: String::new(),
            });
            s_left.retain(|&x| x != i);
        }
    }
    let mut scored: Vec<(f64, usize, usize)> = Vec::new();
    for &i in &s_left {
        for &j in &t_left {
            let (a, b) = (&s.columns[i], &t.columns[j]);
            let (fa, fb) = (family(&a.declared_type), family(&b.declared_type));
            let types = if fa == fb {
                0.1
            } else if fa == "other" || fb == "other" || fa == "text" || fb == "text" {
                0.0
            } else {
                -0.3
            };
            let score = name_similarity(&a.name, &b.name) + types;
            if score >= 0.5 {
                scored.push((score, i, j));
            }
        }
    }
    let scored = scored.into_iter().map(|(score, i, j)| {
        let evidence = format!(
            "renamed? names {:.0} % alike, types {} → {}",
            100.0 * score.min(1.0),
            s.columns[i].declared_type,
            t.columns[j].declared_type
        );
        (score, i, j, evidence)
    });
    take_best(scored.collect(), &mut s_left, &mut t_left, &mut pairs);
    pairs.sort_by_key(|p| p.source);
    (pairs, s_left, t_left)
}

/// Pairs greedily, best score first (ties in declared order), each side's item at most once.
fn take_best(
    mut scored: Vec<(f64, usize, usize, String)>,
    s_left: &mut Vec<usize>,
    t_left: &mut Vec<usize>,
    pairs: &mut Vec<Paired>,
) {
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    for (_, i, j, evidence) in scored {
        if s_left.contains(&i) && t_left.contains(&j) {
            s_left.retain(|&x| x != i);
            t_left.retain(|&x| x != j);
            pairs.push(Paired {
                source: i,
                target: j,
                evidence,
            });
        }
    }
}

/// Tables of both sides: exact names (case aside) first, then by similarity of names and
/// columns (at least 0.5), best first.
fn pair_tables(s: &[TableMeta], t: &[TableMeta]) -> (Vec<Paired>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let (mut s_left, mut t_left): (Vec<usize>, Vec<usize>) =
        ((0..s.len()).collect(), (0..t.len()).collect());
    for (i, table) in s.iter().enumerate() {
        if let Some(p) = t_left
            .iter()
            .position(|&j| t[j].name.name.eq_ignore_ascii_case(&table.name.name))
        {
            pairs.push(Paired {
                source: i,
                target: t_left.remove(p),
                evidence: "same name".into(),
            });
            s_left.retain(|&x| x != i);
        }
    }
    let mut scored: Vec<(f64, usize, usize, String)> = Vec::new();
    for &i in &s_left {
        for &j in &t_left {
            let names = name_similarity(&s[i].name.name, &t[j].name.name);
            // Columns paired (by name or as alike), of the wider table's.
            let (cols, _, _) = pair_columns(&s[i], &t[j]);
            let exact = cols.iter().filter(|p| p.evidence.is_empty()).count();
            let wider = s[i].columns.len().max(t[j].columns.len());
            let shared = if wider == 0 {
                0.0
            } else {
                cols.len() as f64 / wider as f64
            };
            let score = 0.4 * names + 0.6 * shared;
            if score >= 0.5 {
                let evidence = format!(
                    "similar: names {:.0} % alike; of {} source columns, {exact} found by name \
                     and {} by likeness in the target",
                    100.0 * names,
                    s[i].columns.len(),
                    cols.len() - exact
                );
                scored.push((score, i, j, evidence));
            }
        }
    }
    take_best(scored, &mut s_left, &mut t_left, &mut pairs);
    pairs.sort_by_key(|p| p.source);
    (pairs, s_left, t_left)
}

/// Fractional digits of a timestamp's declared type, when it tells (PostgreSQL's `timestamp`
/// keeps 6, MySQL's `datetime` 0, Arrow's names its unit).
fn fraction_digits(declared: &str) -> Option<u32> {
    let t = declared.to_ascii_lowercase();
    if family(&t) != "timestamp" {
        return None;
    }
    for (unit, d) in [
        ("nanosecond", 9),
        ("microsecond", 6),
        ("millisecond", 3),
        ("second", 0),
    ] {
        if t.contains(unit) {
            return Some(d);
        }
    }
    if let Some(open) = t.find('(') {
        let digits: String = t[open + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(d) = digits.parse() {
            return Some(d);
        }
    }
    if t.starts_with("datetime") {
        Some(0)
    } else if t.starts_with("timestamp") {
        Some(6)
    } else {
        None
    }
}

/// A rule the declared types suggest for a column pair, and why.
fn likely_rule(source_type: &str, target_type: &str) -> Option<(String, String)> {
    let (s, t) = (
        source_type.to_ascii_lowercase(),
        target_type.to_ascii_lowercase(),
    );
    let fixed = |x: &str| {
        (x.starts_with("char") && !x.starts_with("character varying"))
            || x.starts_with("character(")
            || x == "character"
            || x.starts_with("nchar")
            || x.starts_with("bpchar")
    };
    if fixed(&s) && !fixed(&t) && family(&t) == "text" {
        return Some((
            "char-pad".into(),
            format!("{source_type} → {target_type}: the source pads with spaces"),
        ));
    }
    let (ds, dt) = (fraction_digits(&s)?, fraction_digits(&t)?);
    if dt < ds {
        let unit = match dt {
            0 => "s",
            1..=3 => "ms",
            _ => "us",
        };
        return Some((
            format!("precision={unit}"),
            format!("{source_type} → {target_type}: the target keeps {dt} fractional digits"),
        ));
    }
    None
}

/// A TOML string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be.
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn list(names: &[&str]) -> String {
    let items: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    format!("[{}]", items.join(", "))
}

/// The key of a pair and why: declared, the target's, or found by a profile of the source.
fn key_of(
    source: &mut dyn Source,
    s: &TableMeta,
    t: &TableMeta,
    cols: &[Paired],
    profile_keys: bool,
) -> Result<Option<(Vec<String>, String)>, SourceError> {
    if !s.primary_key.is_empty() {
        return Ok(Some((
            s.primary_key.clone(),
            "the source's declared primary key".into(),
        )));
    }
    if !t.primary_key.is_empty() {
        let back: Option<Vec<String>> = t
            .primary_key
            .iter()
            .map(|k| {
                cols.iter()
                    .find(|p| &t.columns[p.target].name == k)
                    .map(|p| s.columns[p.source].name.clone())
            })
            .collect();
        if let Some(k) = back {
            return Ok(Some((k, "the target's declared primary key".into())));
        }
    }
    if !profile_keys || s.query.is_some() {
        return Ok(None);
    }
    let scanned = profile::profile_table(source, s, &ProfileOptions::default(), &|_| {})?;
    let p = scanned.profile;
    let mut keys = p.candidate_keys.clone();
    keys.sort_by_key(Vec::len);
    Ok(keys.into_iter().next().map(|k| {
        (
            k,
            format!(
                "a candidate key: unique and never NULL in the source's {} rows (profiled)",
                p.rows
            ),
        )
    }))
}

/// Writes the mapping for every table of `source` and `target`. `profile_keys`: profile source
/// tables that declare no key (theirs or the target's) to find a candidate key.
pub fn scaffold(
    source: &mut dyn Source,
    target: &mut dyn Source,
    profile_keys: bool,
) -> Result<String, SourceError> {
    let (s_tables, t_tables) = (source.tables()?, target.tables()?);
    let (pairs, s_only, t_only) = pair_tables(&s_tables, &t_tables);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Mapping written by `reckon init` from the catalogs of\n#   source: {}\n#   target: {}\n\
         # Every guess says why; review them, then run `reckon diff SOURCE TARGET --mapping FILE`.",
        source.display(),
        target.display()
    );
    for i in &s_only {
        let _ = writeln!(
            out,
            "# only in the source (no table alike in the target): {}",
            s_tables[*i].name
        );
    }
    for j in &t_only {
        let _ = writeln!(
            out,
            "# only in the target (no table alike in the source): {}",
            t_tables[*j].name
        );
    }
    for p in &pairs {
        let (s, t) = (&s_tables[p.source], &t_tables[p.target]);
        let (cols, s_cols, t_cols) = pair_columns(s, t);
        let _ = writeln!(out, "\n# {}", p.evidence);
        let _ = writeln!(out, "[[table]]");
        let _ = writeln!(out, "source = {}", quoted(&s.name.to_string()));
        let _ = writeln!(out, "target = {}", quoted(&t.name.to_string()));
        match key_of(source, s, t, &cols, profile_keys)? {
            Some((k, why)) => {
                let names: Vec<&str> = k.iter().map(String::as_str).collect();
                let _ = writeln!(out, "key = {}  # {why}", list(&names));
            }
            None => {
                let _ = writeln!(
                    out,
                    "# no key found: the pair is compared as a multiset of rows (set `key` if \
                     one exists)"
                );
            }
        }
        let renamed: Vec<&Paired> = cols.iter().filter(|c| !c.evidence.is_empty()).collect();
        if !renamed.is_empty() {
            let _ = writeln!(out, "[table.rename]");
            for c in renamed {
                let _ = writeln!(
                    out,
                    "{} = {}  # {}",
                    key(&s.columns[c.source].name),
                    quoted(&t.columns[c.target].name),
                    c.evidence
                );
            }
        }
        if !s_cols.is_empty() {
            let names: Vec<&str> = s_cols.iter().map(|&i| s.columns[i].name.as_str()).collect();
            let _ = writeln!(
                out,
                "# only in the source: {} (reported by the diff; add them to `exclude` to leave \
                 them out)",
                names.join(", ")
            );
        }
        if !t_cols.is_empty() {
            let names: Vec<&str> = t_cols.iter().map(|&j| t.columns[j].name.as_str()).collect();
            let _ = writeln!(out, "# only in the target: {}", names.join(", "));
        }
        let rules: Vec<(String, String, String)> = cols
            .iter()
            .filter_map(|c| {
                let (a, b) = (&s.columns[c.source], &t.columns[c.target]);
                likely_rule(&a.declared_type, &b.declared_type)
                    .map(|(rule, why)| (a.name.clone(), rule, why))
            })
            .collect();
        if !rules.is_empty() {
            let _ = writeln!(
                out,
                "# Rules the declared types suggest; uncomment to accept:\n# [table.rules]"
            );
            for (col, rule, why) in rules {
                let _ = writeln!(out, "# {} = {}  # {why}", key(&col), list(&[&rule]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_alike_and_not() {
        assert_eq!(words("legacyCustomerID"), ["customer", "id"]);
        assert_eq!(words("tbl_Order-Items"), ["order", "items"]);
        assert!(name_similarity("email", "email_address") >= 0.8);
        assert!(name_similarity("cust_name", "customer_name") >= 0.5);
        assert!(name_similarity("legacy_customers", "customers") >= 0.99);
        assert!(name_similarity("phone", "balance") < 0.5);
        assert!(name_similarity("id", "qty") < 0.5);
        assert!(name_similarity("qty", "quantity") >= 0.6);
        assert!(name_similarity("amt", "amount") >= 0.6);
        assert!(name_similarity("sku", "status") < 0.5);
        assert!(name_similarity("id", "invoice_date") < 0.5);
    }

    #[test]
    fn rules_from_declared_types() {
        let rule = |a: &str, b: &str| likely_rule(a, b).map(|r| r.0);
        assert_eq!(
            rule("character(10)", "character varying(10)"),
            Some("char-pad".into())
        );
        assert_eq!(rule("CHAR(3)", "VARCHAR(3)"), Some("char-pad".into()));
        assert_eq!(rule("varchar(3)", "char(3)"), None);
        assert_eq!(
            rule("timestamp without time zone", "datetime(3)"),
            Some("precision=ms".into())
        );
        assert_eq!(rule("timestamp(6)", "datetime"), Some("precision=s".into()));
        assert_eq!(
            rule("Timestamp(Nanosecond, None)", "timestamp without time zone"),
            Some("precision=us".into())
        );
        assert_eq!(rule("datetime(6)", "timestamp(6) with time zone"), None);
        assert_eq!(rule("integer", "bigint"), None);
    }
}
