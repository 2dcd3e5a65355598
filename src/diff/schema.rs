//! Schema stage: declared types brought to one cross-engine vocabulary, and what changed.
//!
//! PostgreSQL `numeric(18,4)`, MySQL `decimal(18,4)` and Parquet `Decimal128(18, 4)` are the same
//! [`Logical::Decimal`]; `int4` → `bigint` is a widening; `timestamp(6)` → `timestamp(3)` cuts
//! precision; `timestamptz` → `timestamp` drops the time zone. Findings carry a severity:
//! `error` (data cannot survive: a column missing in the target), `warning` (lossy or risky),
//! `info` (harmless, e.g. widening). The row diff decides the verdict; the schema says why.

use serde::Serialize;

/// A declared type in the cross-engine vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logical {
    /// Integer with its width in bits.
    Int(u8),
    /// Exact decimal with (precision, scale) when declared.
    Decimal(Option<(u32, u32)>),
    /// Binary float with its width in bits.
    Float(u8),
    /// Boolean (MySQL `tinyint(1)` included).
    Bool,
    /// Variable-length text, with its declared length.
    Text(Option<u32>),
    /// Fixed-length, blank-padded text.
    Char(Option<u32>),
    /// Bytes.
    Bytes,
    /// Calendar date.
    Date,
    /// Date-time: fractional digits when known, and whether it is an instant (has a zone).
    Timestamp(Option<u8>, bool),
    /// Time of day.
    Time,
    /// JSON document.
    Json,
    /// UUID.
    Uuid,
    /// No declared type (CSV, SQLite without a recognisable affinity).
    Untyped,
    /// Anything else, as declared.
    Other(String),
}

impl Logical {
    /// The family: types in one family compare by value.
    pub fn family(&self) -> &'static str {
        match self {
            Logical::Int(_) | Logical::Decimal(_) => "exact number",
            Logical::Float(_) => "float",
            Logical::Bool => "boolean",
            Logical::Text(_) | Logical::Char(_) | Logical::Json | Logical::Uuid => "text",
            Logical::Bytes => "bytes",
            Logical::Date => "date",
            Logical::Timestamp(..) => "date-time",
            Logical::Time => "time",
            Logical::Untyped => "untyped",
            Logical::Other(_) => "other",
        }
    }
}

fn args(s: &str) -> Vec<u32> {
    match (s.find('('), s.find(')')) {
        (Some(a), Some(b)) if b > a => s[a + 1..b]
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// Parses a declared type as an SQLite column declares it (`REAL` is 8 bytes there).
pub fn logical_sqlite(declared: &str) -> Logical {
    match logical(declared) {
        Logical::Float(_) => Logical::Float(64),
        Logical::Other(_) => Logical::Untyped,
        l => l,
    }
}

/// Parses a declared type from PostgreSQL, MySQL, Arrow/Parquet or CSV (`(CSV)` = untyped).
pub fn logical(declared: &str) -> Logical {
    let d = declared.trim().to_ascii_lowercase();
    let a = args(&d);
    let base = d.split(['(', ' ']).next().unwrap_or("");
    let tz = d.contains("with time zone") || d.contains("some(") || base == "timestamptz";
    match base {
        "" => Logical::Untyped,
        "text" if d.contains("csv") => Logical::Untyped,
        "tinyint" if a.first() == Some(&1) => Logical::Bool,
        "bool" | "boolean" => Logical::Bool,
        "tinyint" | "int8" | "uint8" if base != "uint8" => Logical::Int(8),
        "smallint" | "int2" | "int16" | "uint8" => Logical::Int(16),
        "mediumint" | "int" | "integer" | "int4" | "int32" | "uint16" | "serial" => {
            if d.contains("unsigned") {
                Logical::Int(64)
            } else {
                Logical::Int(32)
            }
        }
        "bigint" | "int64" | "uint32" | "bigserial" => Logical::Int(64),
        // MySQL YEAR is read as its number.
        "year" => Logical::Int(16),
        "uint64" => Logical::Decimal(Some((20, 0))),
        "numeric" | "decimal" | "decimal128" | "decimal256" | "number" | "money" => {
            Logical::Decimal(match a.as_slice() {
                [p, s] => Some((*p, *s)),
                [p] => Some((*p, 0)),
                _ => None,
            })
        }
        "real" | "float4" | "float32" | "float16" => Logical::Float(32),
        "float" => Logical::Float(if a.first().is_some_and(|p| *p <= 24) {
            32
        } else {
            64
        }),
        "double" | "float8" | "float64" => Logical::Float(64),
        "varchar" | "character" if d.starts_with("character varying") || base == "varchar" => {
            Logical::Text(a.first().copied())
        }
        "char" | "character" | "bpchar" | "nchar" => Logical::Char(a.first().copied()),
        "text" | "tinytext" | "mediumtext" | "longtext" | "utf8" | "largeutf8" | "utf8view"
        | "string" | "clob" | "nvarchar" | "citext" | "enum" | "set" => Logical::Text(None),
        "bytea" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "binary" | "varbinary"
        | "largebinary" | "binaryview" | "fixedsizebinary" => Logical::Bytes,
        "date" | "date32" => Logical::Date,
        "date64" => Logical::Timestamp(Some(3), false),
        "timestamptz" => Logical::Timestamp(a.first().map(|p| *p as u8), true),
        "timestamp" => {
            // Arrow: Timestamp(Microsecond, Some("UTC")); SQL: timestamp(3) with time zone.
            let prec = if d.contains("nanosecond") {
                Some(9)
            } else if d.contains("microsecond") {
                Some(6)
            } else if d.contains("millisecond") {
                Some(3)
            } else if d.contains("second") && d.contains('(') && !d.contains("time zone") {
                Some(0)
            } else {
                a.first().map(|p| *p as u8)
            };
            Logical::Timestamp(prec, tz)
        }
        "datetime" => Logical::Timestamp(Some(a.first().copied().unwrap_or(0) as u8), false),
        "time" | "time32" | "time64" => Logical::Time,
        "json" | "jsonb" => Logical::Json,
        "uuid" => Logical::Uuid,
        _ => Logical::Other(d),
    }
}

/// One schema finding.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct SchemaFinding {
    /// The column (source name; target name for target-only columns).
    pub column: String,
    /// What: `only-in-source`, `only-in-target`, `renamed`, `type-changed`, `widened`,
    /// `narrowed`, `scale-changed`, `precision-cut`, `length-cut`, `tz-dropped`, `tz-added`,
    /// `char-to-varchar`, `nullability`, `excluded`.
    pub kind: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// A sentence with the two declared types.
    pub detail: String,
}

fn finding(column: &str, kind: &str, severity: &str, detail: String) -> SchemaFinding {
    SchemaFinding {
        column: column.into(),
        kind: kind.into(),
        severity: severity.into(),
        detail,
    }
}

/// A column's declared type, as declared and in the shared vocabulary, and its nullability.
#[derive(Debug, Clone)]
pub struct ColumnType {
    /// As the engine spells it.
    pub declared: String,
    /// In the shared vocabulary.
    pub logical: Logical,
    /// Declared nullability, when declared.
    pub nullable: Option<bool>,
}

/// What changed between a source and a target column's declared types and nullability.
pub fn compare_column(column: &str, src: &ColumnType, tgt: &ColumnType) -> Vec<SchemaFinding> {
    use Logical::*;
    let (s, t) = (src.logical.clone(), tgt.logical.clone());
    let (src_null, tgt_null) = (src.nullable, tgt.nullable);
    let types = format!("{} → {}", src.declared, tgt.declared);
    let mut out = Vec::new();
    let mut add = |k: &str, sev: &str, why: &str| {
        out.push(finding(column, k, sev, format!("{types}: {why}")));
    };
    match (&s, &t) {
        _ if s == t => {}
        (Untyped, _) | (_, Untyped) => {}
        (Int(a), Int(b)) if a < b => add("widened", "info", "integer widened"),
        (Int(_), Int(_)) => add(
            "narrowed",
            "warning",
            "integer narrowed: large values may not fit",
        ),
        (Int(_), Decimal(_)) => add("widened", "info", "integer stored as decimal"),
        (Decimal(Some((ps, ss))), Decimal(Some((pt, st)))) => {
            if st < ss {
                add(
                    "precision-cut",
                    "warning",
                    "fewer decimal places: values may be rounded",
                );
            } else if st != ss {
                add("scale-changed", "info", "more decimal places");
            }
            if pt.saturating_sub(*st) < ps.saturating_sub(*ss) {
                add(
                    "narrowed",
                    "warning",
                    "fewer integer digits: large values may not fit",
                );
            }
        }
        (Decimal(Some(_)), Decimal(None)) => add("scale-changed", "info", "unconstrained decimal"),
        (Decimal(None), Decimal(Some(_))) => add(
            "precision-cut",
            "warning",
            "unconstrained decimal constrained",
        ),
        (Decimal(_), Int(_)) => add("precision-cut", "warning", "decimal stored as integer"),
        (Float(a), Float(b)) if a > b => add("precision-cut", "warning", "float narrowed"),
        (Float(_), Float(_)) => add("widened", "info", "float widened"),
        (Text(a), Text(b)) | (Char(a), Char(b)) => match (a, b) {
            (Some(x), Some(y)) if y < x => {
                add("length-cut", "warning", "shorter: values may be cut")
            }
            (None, Some(_)) => add("length-cut", "warning", "length limited: values may be cut"),
            _ => add("widened", "info", "longer"),
        },
        (Char(_), Text(_)) => add(
            "char-to-varchar",
            "info",
            "blank-padded CHAR to variable text: declare the char-pad rule if padding was dropped",
        ),
        (Text(_), Char(_)) => add("type-changed", "warning", "text to blank-padded CHAR"),
        (Timestamp(a, za), Timestamp(b, zb)) => {
            if *za && !*zb {
                add(
                    "tz-dropped",
                    "warning",
                    "time zone dropped: instants became local times",
                );
            } else if !*za && *zb {
                add(
                    "tz-added",
                    "warning",
                    "local times became instants: check the zone they were read in",
                );
            }
            if let (Some(x), Some(y)) = (a, b) {
                if y < x {
                    add(
                        "precision-cut",
                        "warning",
                        "fewer fractional digits: values may be cut",
                    );
                }
            }
        }
        (Json, Text(_)) | (Text(_), Json) | (Uuid, Text(_)) | (Uuid, Char(_)) => {
            add("type-changed", "info", "stored as text")
        }
        _ => add(
            "type-changed",
            "warning",
            &format!("{} to {}", s.family(), t.family()),
        ),
    }
    match (src_null, tgt_null) {
        (Some(true), Some(false)) => out.push(finding(
            column,
            "nullability",
            "warning",
            "nullable in the source, NOT NULL in the target".into(),
        )),
        (Some(false), Some(true)) => out.push(finding(
            column,
            "nullability",
            "info",
            "NOT NULL in the source, nullable in the target".into(),
        )),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_vocabulary_across_engines() {
        assert_eq!(logical("numeric(18,4)"), Logical::Decimal(Some((18, 4))));
        assert_eq!(logical("decimal(18,4)"), Logical::Decimal(Some((18, 4))));
        assert_eq!(
            logical("Decimal128(18, 4)"),
            Logical::Decimal(Some((18, 4)))
        );
        assert_eq!(logical("tinyint(1)"), Logical::Bool);
        assert_eq!(logical("int(11)"), Logical::Int(32));
        assert_eq!(logical("Int64"), Logical::Int(64));
        assert_eq!(
            logical("timestamp(3) with time zone"),
            Logical::Timestamp(Some(3), true)
        );
        assert_eq!(
            logical("Timestamp(Microsecond, Some(\"UTC\"))"),
            Logical::Timestamp(Some(6), true)
        );
        assert_eq!(
            logical("timestamp without time zone"),
            Logical::Timestamp(None, false)
        );
        assert_eq!(logical("datetime(6)"), Logical::Timestamp(Some(6), false));
        assert_eq!(logical("character(2)"), Logical::Char(Some(2)));
        assert_eq!(logical("character varying(10)"), Logical::Text(Some(10)));
        assert_eq!(logical("text (CSV)"), Logical::Untyped);
        assert_eq!(logical("double precision"), Logical::Float(64));
        assert_eq!(
            logical_sqlite("REAL"),
            Logical::Float(64),
            "SQLite REAL is 8 bytes"
        );
        assert_eq!(logical("Int8"), Logical::Int(8), "Arrow Int8 is 8 bits");
        assert_eq!(
            logical("real"),
            Logical::Float(32),
            "PostgreSQL real is 4 bytes"
        );
    }

    #[test]
    fn lossy_changes_are_flagged() {
        let kinds = |a: &str, b: &str| -> Vec<String> {
            let ty = |d: &str| ColumnType {
                declared: d.into(),
                logical: logical(d),
                nullable: None,
            };
            compare_column("c", &ty(a), &ty(b))
                .into_iter()
                .map(|f| f.kind)
                .collect()
        };
        assert!(kinds("numeric(18,4)", "decimal(18,4)").is_empty());
        assert_eq!(kinds("numeric(25,5)", "numeric"), ["scale-changed"]);
        assert_eq!(kinds("integer", "bigint"), ["widened"]);
        assert_eq!(
            kinds("timestamp(6) without time zone", "datetime(3)"),
            ["precision-cut"]
        );
        assert_eq!(
            kinds("timestamp with time zone", "timestamp without time zone"),
            ["tz-dropped"]
        );
        assert_eq!(kinds("character(2)", "varchar(10)"), ["char-to-varchar"]);
        assert_eq!(kinds("integer", "text"), ["type-changed"]);
    }
}
