//! The SQL of each side: the dialect's templates (`queries/<dialect>/pushdown.sql`), the field
//! of each column type, the row and key hashes (canonical text, or PostgreSQL's own hash
//! functions), and the queries built from them.

use super::*;

/// One dialect's SQL templates, from a file of `queries/<dialect>/` (`pushdown.sql`, and
/// `profile.sql` for `reckon profile --pushdown`).
pub(crate) struct Templates {
    dialect: Dialect,
    file: &'static str,
    parts: BTreeMap<&'static str, String>,
}

impl Templates {
    pub(super) fn of(dialect: Dialect) -> Templates {
        let text = match dialect {
            Dialect::Postgres => include_str!("../../../queries/postgres/pushdown.sql"),
            Dialect::Mysql => include_str!("../../../queries/mysql/pushdown.sql"),
            Dialect::Sqlite => include_str!("../../../queries/sqlite/pushdown.sql"),
        };
        Templates::parse(dialect, "pushdown.sql", text)
    }

    /// The sections of `text` (`file` of the dialect's directory): each starts at
    /// `-- name: NAME`; other comment lines are left out.
    pub(crate) fn parse(dialect: Dialect, file: &'static str, text: &'static str) -> Templates {
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
        Templates {
            dialect,
            file,
            parts,
        }
    }

    pub(crate) fn get(&self, name: &str) -> &str {
        self.parts.get(name).map(String::as_str).unwrap_or_else(|| {
            panic!(
                "queries/{:?}/{} has no section '{name}'",
                self.dialect, self.file
            )
        })
    }

    /// A template with its `{name}` placeholders filled.
    pub(crate) fn fill(&self, name: &str, with: &[(&str, &str)]) -> String {
        let mut s = self.get(name).to_string();
        for (k, v) in with {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    pub(crate) fn quote(&self, ident: &str) -> String {
        crate::source::quote_ident(ident, self.dialect == Dialect::Mysql)
    }

    /// The fields joined into one text.
    pub(super) fn concat(&self, fields: &[String]) -> String {
        let joined = fields.join(self.get("join"));
        match self.dialect {
            Dialect::Postgres | Dialect::Sqlite => format!("({joined})"),
            Dialect::Mysql => format!("CONCAT({joined})"),
        }
    }
}

/// The field template of a column on one side, and the kind of value it writes (equal kinds on
/// both sides are required); `Err` says why the column has none.
pub(super) fn field_kind(
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
        // The storage class all the column's values share (`src/source/sqlite_pushdown.rs`).
        Dialect::Sqlite => match base {
            "integer" if read.int_as_bool => ("int_bool", "o"),
            "integer" => ("int", "n"),
            "real" if float_read => ("float", "f"),
            "text" if text_read => ("text", "t"),
            "blob" => ("bytes", "b"),
            "mixed" => return Err(
                "its SQLite values are of several storage classes, which the diff reads one by one"
                    .into(),
            ),
            _ => {
                return Err(format!(
                    "SQLite {} values have no canonical SQL here yet",
                    if base.is_empty() { "these" } else { base }
                ))
            }
        },
    };
    Ok(r)
}

/// A MariaDB DOUBLE's bits field: the `float` template with its exponent and mantissa
/// expressions filled in.
pub(super) fn mysql_float_bits(tpl: &Templates, q: &str) -> String {
    let e0 = tpl.fill("float_e0", &[("c", q)]);
    let m0 = tpl.fill("float_m0", &[("c", q), ("e0", &e0)]);
    let fe = tpl.fill("float_fe", &[("e0", &e0), ("m0", &m0)]);
    let fm = tpl.fill("float_fm", &[("m0", &m0)]);
    tpl.fill("float", &[("c", q), ("fe", &fe), ("fm", &fm)])
}

/// How a column's sum, min and max are computed in SQL, from its field template and base
/// type; `None` where they are not (floats, whose exact sum SQL cannot give; temporal values
/// other than PostgreSQL dates; bytes; CHAR, whose padding the streamed read keeps; MySQL dates,
/// which may hold zero dates). SQLite: integers and text (its dates are text, read as text).
pub(super) fn agg_kind(dialect: Dialect, tpl: &str, base: &str) -> Option<&'static str> {
    match (dialect, tpl) {
        // An integer facing a boolean holds booleans (0, 1) and numbers: its SQL extremes are
        // used only when both are 0 or 1 (`AggregateAcc::add_sql`).
        (_, "int" | "int_bool") => Some("int"),
        (_, "numeric") => Some("dec"),
        (Dialect::Postgres, "bool") => Some("bool"),
        (Dialect::Postgres, "text") if matches!(base, "text" | "varchar") => Some("text"),
        (Dialect::Mysql, "text") if base != "char" => Some("text"),
        (Dialect::Sqlite, "text") => Some("text"),
        (Dialect::Postgres, "date") => Some("date"),
        _ => None,
    }
}

/// What a kind means, for the reasons a column falls back.
pub(super) fn kind_name(kind: &str) -> &'static str {
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
pub(super) struct SideSql {
    pub(super) tpl: Templates,
    pub(super) table: String,
    /// The row hash (a signed 64-bit integer).
    pub(super) row_hash: String,
    /// The key hash (the row hash's when there is no key).
    pub(super) key_hash: String,
    /// The bucket, `{n}` for the number of buckets.
    pub(super) bucket: String,
    /// Hashed by PostgreSQL's own functions.
    pub(super) native: bool,
    pub(super) cols: Vec<String>,
    /// Per compared column, how its sum, min and max are computed (`int`, `dec`, `text`,
    /// `bool`, `date`; `None`: not computed when pushed down).
    pub(super) aggs: Vec<Option<&'static str>>,
    /// The key column, quoted, when the key is one signed integer column: differing keys are
    /// then read by value (through the key's index), not by hash.
    pub(super) int_key: Option<String>,
}

impl SideSql {
    pub(super) fn bucket(&self, n: u64) -> String {
        self.bucket.replace("{n}", &n.to_string())
    }

    /// Per bucket of the rows meeting `cond`: rows, rows hashed, the sum of the row hashes, and
    /// (`with_counts`) the non-NULL values of each compared column.
    pub(super) fn summary(&self, n: u64, cond: &str, with_counts: bool) -> String {
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

    /// Rows meeting `cond`, and the non-NULL values of each compared column among them, when
    /// no summary is taken.
    pub(super) fn counts(&self, cond: &str) -> String {
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
            &[
                ("counts", &counts.join(", ")),
                ("table", &self.table),
                ("where", cond),
            ],
        )
    }

    /// (key hash, row hash, key value or 0) of the rows meeting `cond`. Read by value (a key of
    /// one integer column on both sides), the key itself stands for its hash: exact, and not
    /// computed.
    pub(super) fn tuples(&self, cond: &str, by_value: bool) -> String {
        let (key, value) = match (&self.int_key, by_value) {
            (Some(q), true) => (q.clone(), q.clone()),
            _ => (self.key_hash.clone(), "0".into()),
        };
        self.tpl.fill(
            "tuples",
            &[
                ("key_hash", &key),
                ("hash", &self.row_hash),
                ("value", &value),
                ("table", &self.table),
                ("where", cond),
            ],
        )
    }

    /// How many keys occur more than once among the rows meeting `cond`.
    pub(super) fn duplicates(&self, cond: &str) -> String {
        self.tpl.fill(
            "duplicates",
            &[
                ("key_hash", &self.key_hash),
                ("table", &self.table),
                ("where", cond),
            ],
        )
    }
}

/// Both sides' SQL, or why the table must stream (and which columns).
pub(super) fn side_sql(
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
                // One integer key column: the bucket hashes it directly (no key text).
                let bucket = if plan.key_len == 1 && matches!(families[0], "int" | "int4") {
                    tpl.fill("native.bucket_int", &[("c", &cols[side][0])])
                } else {
                    tpl.fill("native.bucket", &[("k", &key)])
                };
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
pub(super) fn native_families(
    plan: &TablePlan,
    dbs: [&dyn Pushdown; 2],
) -> Option<Vec<&'static str>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_every_section() {
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let t = Templates::of(d);
            let mut names = vec![
                "join",
                "null",
                "int",
                "int_bool",
                "float",
                "text",
                "bytes",
                "hash",
                "bucket",
                "summary",
                "count",
                "counts",
                "tuples",
                "duplicates",
                "agg.int",
                "agg.text",
            ];
            // SQLite has no decimal, temporal or boolean storage.
            if d != Dialect::Sqlite {
                names.extend(["numeric", "date", "instant", "local", "time", "agg.dec"]);
            }
            for name in names {
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
}
