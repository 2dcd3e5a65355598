//! Which tables are compared with which: the tables listed on the command line
//! (`SOURCE[:TARGET]`), else the mapping's, else the only table of each side, else tables with the
//! same name (exact first; a case-insensitive match only when it is the one unpaired candidate).
//! One rule for `diff` and `signoff`.

use super::mapping::{Mapping, TableMapping};
use super::model::UnpairedTable;
use super::plan::Engine;
use super::DiffError;
use crate::source::{Source, SourceError, SourceSpec, TableMeta};

/// The diff engine kind of a source.
pub fn engine(spec: &SourceSpec) -> Engine {
    match spec {
        SourceSpec::Postgres(_) => Engine::Postgres,
        SourceSpec::Mysql(_) => Engine::Mysql,
        SourceSpec::Sqlite(_) => Engine::Sqlite,
        SourceSpec::Parquet(_) => Engine::Parquet,
        SourceSpec::Csv(_) => Engine::Csv,
    }
}

fn find_table(
    all: &[TableMeta],
    name: &str,
    side: &str,
    display: &str,
) -> Result<TableMeta, SourceError> {
    crate::source::find_table(all, name, &format!("{display} ({side})")).cloned()
}

/// Table pairs with their mapping entries.
pub type Pairs = Vec<(TableMeta, TableMeta, Option<TableMapping>)>;

/// Pairs the tables of both sides: the listed `SOURCE[:TARGET]` tables, else the mapping's,
/// else the only table of each side, else tables with the same name.
pub fn pair_tables(
    listed: &[String],
    mapping: &Mapping,
    (src, src_display): (&mut dyn Source, &str),
    (tgt, tgt_display): (&mut dyn Source, &str),
) -> Result<(Pairs, Vec<UnpairedTable>), DiffError> {
    let st = src.tables()?;
    let tt = tgt.tables()?;
    let entry = |s: &str| mapping.tables.iter().find(|m| m.source == s).cloned();
    let mut pairs = Vec::new();
    let mut unpaired = Vec::new();
    if !listed.is_empty() {
        for t in listed {
            let (s, g) = t.split_once(':').unwrap_or((t, t));
            let m = entry(s);
            let g = m.as_ref().map_or(g, |m| m.target.as_str()).to_string();
            pairs.push((
                find_table(&st, s, "source", src_display)?,
                find_table(&tt, &g, "target", tgt_display)?,
                m,
            ));
        }
    } else if !mapping.tables.is_empty() {
        for m in &mapping.tables {
            pairs.push((
                find_table(&st, &m.source, "source", src_display)?,
                find_table(&tt, &m.target, "target", tgt_display)?,
                Some(m.clone()),
            ));
        }
    } else if st.len() == 1 && tt.len() == 1 {
        pairs.push((st[0].clone(), tt[0].clone(), None));
    } else {
        // Exact names first; a case-insensitive match only when it is the one unpaired
        // candidate (target `Orders` and `orders`, source `orders`: `orders` with `orders`).
        let exact = |s: &TableMeta| tt.iter().find(|t| t.name.name == s.name.name);
        let mut taken: Vec<String> = st
            .iter()
            .filter_map(|s| exact(s).map(|t| t.name.to_string()))
            .collect();
        for s in &st {
            let found = exact(s).or_else(|| {
                let ci: Vec<&TableMeta> = tt
                    .iter()
                    .filter(|t| {
                        t.name.name.eq_ignore_ascii_case(&s.name.name)
                            && !taken.contains(&t.name.to_string())
                            && !st.iter().any(|o| o.name.name == t.name.name)
                    })
                    .collect();
                (ci.len() == 1).then(|| ci[0])
            });
            match found {
                Some(t) => {
                    taken.push(t.name.to_string());
                    pairs.push((s.clone(), t.clone(), None))
                }
                None => unpaired.push(UnpairedTable {
                    table: s.name.to_string(),
                    side: "source".into(),
                }),
            }
        }
        for t in &tt {
            if !pairs.iter().any(|(_, p, _)| p.name == t.name) {
                unpaired.push(UnpairedTable {
                    table: t.name.to_string(),
                    side: "target".into(),
                });
            }
        }
        if pairs.is_empty() {
            return Err(DiffError::NoTables {
                reason: format!(
                    "the source has {} table(s) and the target {}, none with the same name",
                    st.len(),
                    tt.len()
                ),
            });
        }
    }
    Ok((pairs, unpaired))
}
