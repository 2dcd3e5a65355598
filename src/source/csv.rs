//! CSV files through our own RFC 4180 reader: one table per file, every column as text.
//!
//! Our own reader because an auditor must keep apart what common readers merge:
//! - an unquoted empty field is NULL, a quoted `""` is the empty string;
//! - a UTF-8 byte-order mark before the header is stripped (and never part of a column name);
//! - bytes that are not UTF-8 are passed on in lossy form and reported as
//!   [`ReadDefect::InvalidUtf8`] with their position;
//! - a quote that never closes is an error naming the line where the field began;
//! - a row with more or fewer fields than the header is an error naming the line.
//!
//! Values stay text: the profile reports what they look like (numbers, dates, shapes), it does not
//! guess a type and silently drop what does not fit.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};

use super::parquet::{check_unique_stems, file_for, table_name};
use super::{
    Chunk, ChunkStream, ColumnMeta, ReadDefect, Source, SourceError, TableMeta, TableName,
    CHUNK_ROWS,
};

/// A set of CSV files.
pub struct CsvSource {
    paths: Vec<PathBuf>,
}

/// One parsed field.
#[derive(Debug, PartialEq, Eq)]
pub struct RawField {
    /// The field's bytes, unquoted.
    pub bytes: Vec<u8>,
    /// Whether the field was quoted.
    pub quoted: bool,
}

/// A streaming RFC 4180 record reader.
pub struct RecordReader<R: BufRead> {
    input: R,
    delimiter: u8,
    line: u64,
    first: bool,
    buf: Vec<u8>,
}

impl<R: BufRead> RecordReader<R> {
    /// Reads records separated by `delimiter`.
    pub fn new(input: R, delimiter: u8) -> Self {
        RecordReader {
            input,
            delimiter,
            line: 0,
            first: true,
            buf: Vec::new(),
        }
    }

    /// The line number (1-based) of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }

    fn read_line(&mut self) -> Result<bool, String> {
        self.buf.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.first {
            self.first = false;
            if self.buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                self.buf.drain(..3);
            }
        }
        Ok(true)
    }

    /// The next record, or `None` at the end. Blank lines are skipped.
    pub fn next_record(&mut self) -> Result<Option<Vec<RawField>>, String> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            let trimmed: &[u8] = trim_eol(&self.buf);
            if !trimmed.is_empty() {
                break;
            }
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        let mut cur = Vec::new();
        let mut quoted = false;
        let mut in_quotes = false;
        let mut after_quote = false;
        let mut i = 0;
        loop {
            if i >= self.buf.len() {
                if in_quotes {
                    // The quoted field goes on past the end of the line.
                    if !self.read_line()? {
                        return Err(format!(
                            "line {start_line}: a quoted field opened here never closes (unbalanced '\"')"
                        ));
                    }
                    i = 0;
                    continue;
                }
                break;
            }
            let b = self.buf[i];
            if in_quotes {
                if b == b'"' {
                    if self.buf.get(i + 1) == Some(&b'"') {
                        cur.push(b'"');
                        i += 2;
                        continue;
                    }
                    in_quotes = false;
                    after_quote = true;
                } else {
                    cur.push(b);
                }
                i += 1;
                continue;
            }
            if b == self.delimiter {
                fields.push(RawField {
                    bytes: std::mem::take(&mut cur),
                    quoted,
                });
                quoted = false;
                after_quote = false;
            } else if b == b'\n' || (b == b'\r' && self.buf.get(i + 1) == Some(&b'\n')) {
                break;
            } else if b == b'"' && cur.is_empty() && !quoted {
                in_quotes = true;
                quoted = true;
            } else if after_quote {
                return Err(format!(
                    "line {}: text after a closing quote (a quote inside a quoted field must be doubled)",
                    self.line
                ));
            } else {
                cur.push(b);
            }
            i += 1;
        }
        fields.push(RawField { bytes: cur, quoted });
        Ok(Some(fields))
    }
}

fn trim_eol(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
        end -= 1;
    }
    &b[..end]
}

fn delimiter_for(path: &Path) -> u8 {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("tsv") => b'\t',
        _ => b',',
    }
}

impl CsvSource {
    /// A source over these files (checked when read).
    pub fn new(paths: Vec<PathBuf>) -> CsvSource {
        CsvSource { paths }
    }

    fn open(path: &Path) -> Result<RecordReader<BufReader<File>>, SourceError> {
        let f = File::open(path).map_err(|e| SourceError::BadFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(RecordReader::new(
            BufReader::with_capacity(1 << 20, f),
            delimiter_for(path),
        ))
    }

    fn header(path: &Path) -> Result<Vec<String>, SourceError> {
        let mut r = Self::open(path)?;
        let bad = |reason: String| SourceError::BadFile {
            path: path.display().to_string(),
            reason,
        };
        let rec = r
            .next_record()
            .map_err(bad)?
            .ok_or_else(|| bad("the file is empty (no header line)".into()))?;
        Ok(rec
            .into_iter()
            .map(|f| String::from_utf8_lossy(&f.bytes).trim().to_string())
            .collect())
    }
}

impl Source for CsvSource {
    fn rereadable(&self) -> bool {
        true
    }

    fn display(&self) -> String {
        match self.paths.as_slice() {
            [one] => one.display().to_string(),
            many => format!("{} CSV files", many.len()),
        }
    }

    fn tables(&mut self) -> Result<Vec<TableMeta>, SourceError> {
        check_unique_stems(&self.paths)?;
        self.paths
            .iter()
            .map(|p| {
                Ok(TableMeta {
                    name: TableName {
                        schema: None,
                        name: table_name(p),
                    },
                    columns: Self::header(p)?
                        .into_iter()
                        .map(|name| ColumnMeta {
                            name,
                            declared_type: "text (CSV)".into(),
                            nullable: None,
                            storage_classes: None,
                        })
                        .collect(),
                    primary_key: Vec::new(),
                    foreign_keys: Vec::new(),
                    query: None,
                })
            })
            .collect()
    }

    fn describe_query(&mut self, _sql: &str) -> Result<TableMeta, SourceError> {
        Err(SourceError::BadSpec {
            spec: self.display(),
            reason: "--query needs a database source; files are profiled whole".into(),
        })
    }

    fn read(&mut self, table: &TableMeta) -> Result<ChunkStream, SourceError> {
        let path = file_for(&self.paths, table, self.display())?;
        let ncols = table.columns.len();
        let schema = Arc::new(Schema::new(
            table
                .columns
                .iter()
                .map(|c| Field::new(&c.name, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let mut reader = Self::open(&path)?;
        let (tx, rx) = sync_channel(2);
        std::thread::spawn(move || {
            let bad = |reason: String| SourceError::BadFile {
                path: path.display().to_string(),
                reason,
            };
            let mut run = || -> Result<(), SourceError> {
                reader.next_record().map_err(bad)?; // header
                let mut builders: Vec<StringBuilder> =
                    (0..ncols).map(|_| StringBuilder::new()).collect();
                let mut defects = Vec::new();
                let mut n = 0usize;
                let flush = |builders: &mut Vec<StringBuilder>, defects: &mut Vec<ReadDefect>| {
                    let arrays: Vec<ArrayRef> = builders
                        .iter_mut()
                        .map(|b| Arc::new(b.finish()) as ArrayRef)
                        .collect();
                    RecordBatch::try_new(schema.clone(), arrays)
                        .map(|batch| Chunk {
                            batch,
                            defects: std::mem::take(defects),
                        })
                        .map_err(|e| bad(e.to_string()))
                };
                while let Some(rec) = reader.next_record().map_err(bad)? {
                    if rec.len() != ncols {
                        return Err(bad(format!(
                            "line {}: {} fields, but the header has {ncols}",
                            reader.line(),
                            rec.len()
                        )));
                    }
                    for (i, (f, b)) in rec.into_iter().zip(builders.iter_mut()).enumerate() {
                        if f.bytes.is_empty() && !f.quoted {
                            b.append_null();
                            continue;
                        }
                        match String::from_utf8(f.bytes) {
                            Ok(s) => b.append_value(s),
                            Err(e) => {
                                b.append_value(String::from_utf8_lossy(e.as_bytes()));
                                defects.push(ReadDefect::InvalidUtf8 {
                                    column: i,
                                    row: n,
                                    bytes: e.into_bytes(),
                                });
                            }
                        }
                    }
                    n += 1;
                    if n == CHUNK_ROWS {
                        if tx.send(Ok(flush(&mut builders, &mut defects)?)).is_err() {
                            return Ok(());
                        }
                        n = 0;
                    }
                }
                if n > 0 {
                    let _ = tx.send(Ok(flush(&mut builders, &mut defects)?));
                }
                Ok(())
            };
            if let Err(e) = run() {
                let _ = tx.send(Err(e));
            }
        });
        Ok(Box::new(rx.into_iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Vec<Vec<RawField>>, String> {
        let mut r = RecordReader::new(text, b',');
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    #[test]
    fn quoted_empty_and_unquoted_empty_stay_distinct() {
        let recs = parse(b"a,b\n\"\",\n").unwrap();
        assert_eq!(
            recs[1][0],
            RawField {
                bytes: vec![],
                quoted: true
            }
        );
        assert_eq!(
            recs[1][1],
            RawField {
                bytes: vec![],
                quoted: false
            }
        );
    }

    #[test]
    fn bom_is_stripped_and_embedded_newline_kept() {
        let recs =
            parse("\u{feff}id,note\n1,\"two\nlines, and \"\"quotes\"\"\"\r\n".as_bytes()).unwrap();
        assert_eq!(recs[0][0].bytes, b"id");
        assert_eq!(recs[1][1].bytes, b"two\nlines, and \"quotes\"");
    }

    #[test]
    fn unbalanced_quote_names_the_line() {
        let e = parse(b"a,b\n1,2\n3,\"open\n4,5\n").unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
    }
}
