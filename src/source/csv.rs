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
        let mut rec = Record::default();
        if !self.read_record(&mut rec)? {
            return Ok(None);
        }
        Ok(Some(
            (0..rec.len())
                .map(|i| RawField {
                    bytes: rec.field(i).to_vec(),
                    quoted: rec.quoted(i),
                })
                .collect(),
        ))
    }

    /// Reads the next record into `rec` (its buffers are reused); false at the end. Blank lines
    /// are skipped.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool, String> {
        loop {
            if !self.read_line()? {
                return Ok(false);
            }
            let trimmed: &[u8] = trim_eol(&self.buf);
            if !trimmed.is_empty() {
                break;
            }
        }
        rec.data.clear();
        rec.ends.clear();
        let start_line = self.line;
        let delim = self.delimiter;
        let data = &mut rec.data;
        let mut field_start = 0usize;
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
            let buf = &self.buf;
            if in_quotes {
                // Everything up to the next quote is the field's.
                let run = buf[i..].iter().position(|&c| c == b'"');
                let end = run.map_or(buf.len(), |r| i + r);
                data.extend_from_slice(&buf[i..end]);
                i = end;
                if run.is_none() {
                    continue;
                }
                if buf.get(i + 1) == Some(&b'"') {
                    data.push(b'"');
                    i += 2;
                    continue;
                }
                in_quotes = false;
                after_quote = true;
                i += 1;
                continue;
            }
            let b = buf[i];
            if b == delim {
                rec.ends.push((data.len(), quoted));
                field_start = data.len();
                quoted = false;
                after_quote = false;
            } else if b == b'\n' || (b == b'\r' && buf.get(i + 1) == Some(&b'\n')) {
                break;
            } else if b == b'"' && data.len() == field_start && !quoted {
                in_quotes = true;
                quoted = true;
            } else if after_quote {
                return Err(format!(
                    "line {}: text after a closing quote (a quote inside a quoted field must be doubled)",
                    self.line
                ));
            } else {
                // A run of plain bytes, up to the next byte that means something.
                let run = buf[i + 1..]
                    .iter()
                    .position(|&c| c == delim || c == b'\n' || c == b'\r' || c == b'"')
                    .map_or(buf.len(), |r| i + 1 + r);
                data.extend_from_slice(&buf[i..run]);
                i = run;
                continue;
            }
            i += 1;
        }
        rec.ends.push((data.len(), quoted));
        Ok(true)
    }
}

/// One record's fields in one buffer, reused from record to record.
#[derive(Default, Debug)]
pub struct Record {
    data: Vec<u8>,
    /// Where each field ends in `data`, and whether it was quoted.
    ends: Vec<(usize, bool)>,
}

impl Record {
    /// Fields in the record.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`'s bytes, unquoted.
    pub fn field(&self, i: usize) -> &[u8] {
        &self.data[self.range(i)]
    }

    /// Where field `i` lies in [`Record::bytes`].
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1].0 };
        start..self.ends[i].0
    }

    /// Every field's bytes, one after another.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Whether field `i` was quoted.
    pub fn quoted(&self, i: usize) -> bool {
        self.ends[i].1
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
                let mut rec = Record::default();
                while reader.read_record(&mut rec).map_err(bad)? {
                    if rec.len() != ncols {
                        return Err(bad(format!(
                            "line {}: {} fields, but the header has {ncols}",
                            reader.line(),
                            rec.len()
                        )));
                    }
                    // A record is checked for UTF-8 once. Then a field is valid exactly when it
                    // starts and ends on character boundaries of the whole (two invalid halves
                    // of a character in two fields fail there); otherwise each on its own.
                    let whole = std::str::from_utf8(rec.bytes()).ok();
                    for (i, b) in builders.iter_mut().enumerate() {
                        let f = rec.field(i);
                        if f.is_empty() && !rec.quoted(i) {
                            b.append_null();
                            continue;
                        }
                        let text = match whole {
                            Some(t) => t.get(rec.range(i)),
                            None => std::str::from_utf8(f).ok(),
                        };
                        match text {
                            Some(s) => b.append_value(s),
                            None => {
                                b.append_value(String::from_utf8_lossy(f));
                                defects.push(ReadDefect::InvalidUtf8 {
                                    column: i,
                                    row: n,
                                    bytes: f.to_vec(),
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
    fn quotes_inside_plain_fields_and_lone_carriage_returns_are_text() {
        let recs = parse(b"a\"b,c\rd,\"x\"\"y\",,\"\"\"\"\r\nlast").unwrap();
        let fields: Vec<(&[u8], bool)> = recs[0]
            .iter()
            .map(|f| (f.bytes.as_slice(), f.quoted))
            .collect();
        assert_eq!(
            fields,
            vec![
                (&b"a\"b"[..], false),
                (&b"c\rd"[..], false),
                (&b"x\"y"[..], true),
                (&b""[..], false),
                (&b"\""[..], true),
            ]
        );
        assert_eq!(recs[1][0].bytes, b"last");
        let e = parse(b"a\n\"x\"y\n").unwrap_err();
        assert!(e.starts_with("line 2: text after a closing quote"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_found_per_field_even_when_the_record_reads_as_valid() {
        use super::super::Source;
        // "\xC3,\xA9": each field alone is invalid, though the two bytes together are "é".
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, b"a,b,c\n\xC3,\xA9x,ok\n\xC3\xA9,\"\xFF\",z\n").unwrap();
        let mut src = CsvSource::new(vec![path]);
        let tables = src.tables().unwrap();
        let chunks: Vec<Chunk> = src.read(&tables[0]).unwrap().map(|c| c.unwrap()).collect();
        let defects: Vec<(usize, usize)> = chunks[0]
            .defects
            .iter()
            .map(|d| {
                let ReadDefect::InvalidUtf8 { column, row, .. } = d;
                (*column, *row)
            })
            .collect();
        assert_eq!(defects, vec![(0, 0), (1, 0), (1, 1)]);
        let b = chunks[0]
            .batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>();
        assert_eq!(b.unwrap().value(1), "é");
        let c = chunks[0]
            .batch
            .column(2)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>();
        assert_eq!((c.unwrap().value(0), c.unwrap().value(1)), ("ok", "z"));
    }

    #[test]
    fn a_reused_record_holds_only_the_last_one_read() {
        let mut r = RecordReader::new(&b"long,row,here\nx,y\n\n\"q\"\n"[..], b',');
        let mut rec = Record::default();
        assert!(r.read_record(&mut rec).unwrap());
        assert_eq!(rec.len(), 3);
        assert!(r.read_record(&mut rec).unwrap());
        assert_eq!(
            (rec.len(), rec.field(0), rec.field(1)),
            (2, &b"x"[..], &b"y"[..])
        );
        assert!(
            r.read_record(&mut rec).unwrap(),
            "the blank line is skipped"
        );
        assert_eq!(
            (rec.len(), rec.field(0), rec.quoted(0)),
            (1, &b"q"[..], true)
        );
        assert!(!r.read_record(&mut rec).unwrap());
    }

    #[test]
    fn unbalanced_quote_names_the_line() {
        let e = parse(b"a,b\n1,2\n3,\"open\n4,5\n").unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
    }
}
