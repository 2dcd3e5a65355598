//! A full run of a unit whose source reads in key order ([`Source::read_in_key_order`]: a
//! database table keyed by one integer column), streamed in bounded memory: chunks are checked
//! (keys never NULL, strictly ascending, so never repeated), transformed, cut into batches and
//! hashed on a thread of their own, while this thread writes the batch before and the source's
//! next page is fetched: three stages at once, each holding a batch or two. Batch `b` holds the same rows
//! as when the unit is read whole and sorted, so a run started either way resumes either way.
//! A plain copy (no column mapping) is verified as `reckon diff --pushdown` compares the source
//! table with the target table: in the databases when both can (only differing buckets move),
//! else streamed. A unit that maps columns spills the rows it writes to an Arrow IPC file in
//! the temporary directory, and is verified from it: exactly the rows the run wrote, against
//! the whole target table.
//!
//! Other units (other keys, queries, generated ids, `--delta`, `--item`, `--keys-from`, dry runs)
//! are read whole ([`super::rows`]).

use std::sync::mpsc::sync_channel;

use arrow::compute::{concat, sort_to_indices, take, SortOptions};

use super::write::{batch_hashes, Batches};
use super::*;

/// Prepared batches waiting for the writer, at most.
const READY: usize = 2;

/// One batch, ready to be written.
struct Ready {
    batch: RecordBatch,
    keys: Vec<String>,
    hashes: (String, String),
}

/// What the preparing stage found, once the source is read.
#[derive(Default)]
struct Prepared {
    /// Rows read.
    rows: u64,
    /// The target key columns (from the first chunk's transform).
    conflict: Vec<String>,
    /// The largest `updated_at` (one value).
    newest: Option<ArrayRef>,
    /// The transformed rows' schema.
    schema: Option<arrow::datatypes::SchemaRef>,
}

/// The preparing stage: checks keys, transforms, cuts batches of `batch_size` rows.
struct Prep<'p> {
    unit: &'p Unit,
    idmaps: &'p IdMaps,
    /// Transformed rows not yet cut into a batch, and their keys.
    pending: Vec<RecordBatch>,
    pending_keys: Vec<String>,
    pending_rows: usize,
    /// The key columns in arrow's row format (made from the first chunk), and the last key
    /// seen in it and as text.
    order: Option<arrow::row::RowConverter>,
    last: Option<(arrow::row::OwnedRow, String)>,
    found: Prepared,
}

impl Executor<'_> {
    /// Runs a full unit streamed, when its source reads in key order; `Ok(None)` when it does
    /// not (the caller reads the unit whole).
    pub(super) fn run_streamed(
        &mut self,
        u: &UnitRun<'_>,
        watermark: Option<String>,
        mut outcome: UnitOutcome,
        progress: &mut dyn Progress,
    ) -> Result<Option<UnitOutcome>, MigrateError> {
        let unit = u.unit;
        if u.kind != "full"
            || self.opts.dry_run
            || self.opts.item.is_some()
            || self.opts.keys.is_some()
            || unit.spec.generated_id.is_some()
            || std::env::var_os("RECKON_MIGRATE_WHOLE").is_some()
        {
            return Ok(None);
        }
        let meta = self.source_meta(unit)?;
        let in_order = match unit.query {
            None => self.source.read_in_key_order(&meta, &unit.spec.key)?,
            Some(_) => None,
        };
        let stream = match in_order {
            Some(s) => {
                self.refuse_null_keys(u, &meta)?;
                s
            }
            // Any other source: its rows sorted by key in runs spilled to disk, then merged.
            None => {
                progress.phase(&u.name, "sorting");
                let check = |c: &crate::source::Chunk| unread_defect(unit, c);
                let read = self.source.read(&meta)?;
                super::sort::sorted_by_key(read, &unit.spec.key, &unit.spec.name, &check)?
            }
        };
        outcome.streamed = true;
        self.load_lookups(unit)?;
        progress.unit(&u.name, self.source.estimate_rows(&meta).unwrap_or(0));
        // A plain copy of a table (no column mapping) is verified against the source table; a
        // unit that maps columns or reads a query, against the rows it wrote, spilled as they go.
        let plain = unit.columns.is_empty() && unit.query.is_none();
        let mut spill = None;
        let mut w = self.begin_batches(u, false)?;
        let r = self.stream_batches(
            u,
            &meta,
            stream,
            &mut w,
            &mut spill,
            plain,
            &mut outcome,
            progress,
        );
        if r.is_err() && !w.per_batch {
            self.target.rollback();
        }
        let found = r?;
        let batches = w.next as u64;
        let (_, written) = self.end_batches(u, w, false)?;
        outcome.rows = found.rows;
        outcome.batches = batches;
        let mut new_watermark = watermark;
        if let Some(m) = found.newest.as_ref().and_then(max_text) {
            if new_watermark.as_deref().is_none_or(|w| m.as_str() > w) {
                new_watermark = Some(m);
            }
        }
        let conflict = found.conflict;
        if plain {
            progress.phase(&u.name, "verifying");
            let v = self.verify_against_source(unit, &meta, &conflict)?;
            let rows = (found.rows, written);
            return self.conclude(u, v, rows, new_watermark, outcome).map(Some);
        }
        let mut spill: Spill = match spill {
            Some(s) => s,
            None => Spill::new(found.schema.ok_or_else(|| {
                MigrateError::Internal("a streamed unit ended without its rows' schema".into())
            })?)?,
        };
        spill.finish()?;
        let done = Written {
            rows: VerifyRows::Spilled(&spill),
            conflict: &conflict,
            rows_read: found.rows,
            written,
        };
        self.verify_written(u, done, new_watermark, outcome, progress)
            .map(Some)
    }

    /// The source table diffed against the target table on key `key`, as `reckon diff
    /// --pushdown` does (streamed when either side cannot take the work).
    fn verify_against_source(
        &mut self,
        unit: &Unit,
        meta: &TableMeta,
        key: &[String],
    ) -> Result<Verified, MigrateError> {
        let engine = |d: crate::source::Dialect| match d {
            crate::source::Dialect::Postgres => Engine::Postgres,
            crate::source::Dialect::Mysql => Engine::Mysql,
            crate::source::Dialect::Sqlite => Engine::Sqlite,
        };
        let cannot = |e: String| MigrateError::Unit {
            unit: unit.spec.name.clone(),
            reason: format!("verification could not run: {e}"),
            hint: "check that the target table is readable and holds the unit's columns and key"
                .into(),
        };
        let mut tmeta = self.target_meta(&unit.spec.target)?;
        let sengine = self
            .source
            .pushdown()
            .map_or(Engine::Csv, |p| engine(p.dialect()));
        let tengine = match self.target.kind() {
            Kind::Postgres => Engine::Postgres,
            Kind::Mysql => Engine::Mysql,
            Kind::Sqlite => Engine::Sqlite,
        };
        tmeta.columns.retain(|c| {
            meta.columns
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(&c.name))
        });
        let instants = meta.columns.iter().filter(|c| {
            matches!(
                crate::diff::schema::logical(&c.declared_type),
                crate::diff::schema::Logical::Timestamp(_, true)
            )
        });
        let req = PlanRequest {
            key: Some(key.to_vec()),
            rules: super::verify::instants_into_local(instants.map(|c| c.name.as_str()), &tmeta),
            ..PlanRequest::default()
        };
        let p =
            diff_plan(meta, sengine, &tmeta, tengine, &req).map_err(|e| cannot(e.to_string()))?;
        let reader = self.target_reader.as_mut().expect("opened by target_meta");
        let d = crate::diff::diff_pushdown(
            self.source.as_mut(),
            reader.as_mut(),
            &p,
            &verify_options(),
            &mut NullSink,
            &|_, _| {},
        )
        .map_err(|e| cannot(e.to_string()))?;
        Ok(Verified {
            counts: (d.counts.missing, d.counts.mismatched, d.counts.extra),
            hashes: None,
            detail: changed_columns(&d),
        })
    }

    /// Refuses a unit whose key column holds a NULL (the ordered read leaves such rows out).
    fn refuse_null_keys(&mut self, u: &UnitRun<'_>, meta: &TableMeta) -> Result<(), MigrateError> {
        let Some(pd) = self.source.pushdown() else {
            return Ok(());
        };
        let mysql = pd.dialect() == crate::source::Dialect::Mysql;
        let key = &u.unit.spec.key[0];
        let sql = format!(
            "SELECT 1 FROM {} WHERE {} IS NULL LIMIT 1",
            pd.qualified(&meta.name),
            crate::source::quote_ident(key, mysql)
        );
        if !pd.rows(&sql)?.is_empty() {
            return Err(MigrateError::Unit {
                unit: u.name.clone(),
                reason: format!("a key is NULL ({key}=NULL)"),
                hint: "key columns must not be NULL: filter those rows in a source query or choose another key".into(),
            });
        }
        Ok(())
    }

    /// Reads the chunks on a preparing thread (keys checked, transformed, cut into batches,
    /// hashed) and writes each batch as it comes (spilling it unless the unit is a plain copy).
    #[allow(clippy::too_many_arguments)]
    fn stream_batches(
        &mut self,
        u: &UnitRun<'_>,
        meta: &TableMeta,
        stream: ChunkStream,
        w: &mut Batches,
        spill: &mut Option<Spill>,
        plain: bool,
        outcome: &mut UnitOutcome,
        progress: &mut dyn Progress,
    ) -> Result<Prepared, MigrateError> {
        let unit = u.unit;
        // The id maps go to the preparing thread for the unit's run, and come back.
        let idmaps = std::mem::take(&mut self.idmaps);
        let result = std::thread::scope(|scope| {
            let (tx, rx) = sync_channel::<Result<Ready, MigrateError>>(READY);
            let idmaps = &idmaps;
            let preparing = scope.spawn(move || {
                let mut prep = Prep {
                    unit,
                    idmaps,
                    pending: Vec::new(),
                    pending_keys: Vec::new(),
                    pending_rows: 0,
                    order: None,
                    last: None,
                    found: Prepared::default(),
                };
                let sent = prep.run(stream, meta, &tx);
                if let Err(e) = sent {
                    let _ = tx.send(Err(e));
                }
                prep.found
            });
            let mut failed = None;
            // The target key columns, from the first batch (every batch has its schema).
            let mut conflict: Option<Vec<String>> = None;
            for ready in rx.iter() {
                let step = ready.and_then(|r| {
                    let key = match &mut conflict {
                        Some(k) => k,
                        empty => empty.insert(target_key(unit, &r.batch)?),
                    };
                    self.write_batch(
                        u,
                        w,
                        (key.as_slice(), None),
                        &r.batch,
                        &r.keys,
                        r.hashes,
                        outcome,
                    )?;
                    if !plain {
                        if spill.is_none() {
                            *spill = Some(Spill::new(r.batch.schema())?);
                        }
                        spill.as_mut().expect("just made").push(&r.batch)?;
                    }
                    progress.rows(r.batch.num_rows() as u64);
                    Ok(())
                });
                if let Err(e) = step {
                    failed = Some(e);
                    break;
                }
            }
            // The preparing thread stops at its next batch once nobody takes them.
            drop(rx);
            let found = preparing
                .join()
                .map_err(|_| MigrateError::Internal("the preparing thread panicked".into()))?;
            match failed {
                Some(e) => Err(e),
                None => Ok(found),
            }
        });
        self.idmaps = idmaps;
        result
    }
}

impl Prep<'_> {
    /// Prepares every chunk of `stream` and sends each batch as it is cut; the last batch may
    /// be short. A batch the writer no longer takes ends the work quietly.
    fn run(
        &mut self,
        stream: ChunkStream,
        meta: &TableMeta,
        tx: &std::sync::mpsc::SyncSender<Result<Ready, MigrateError>>,
    ) -> Result<(), MigrateError> {
        let batch_size = self.unit.batch_size;
        let mut seen_any = false;
        for chunk in stream {
            let chunk = chunk?;
            unread_defect(self.unit, &chunk)?;
            if chunk.batch.num_rows() == 0 {
                continue;
            }
            seen_any = true;
            let batch = crate::value::kind::plain_batch(&chunk.batch);
            self.take(&batch)?;
            while self.pending_rows >= batch_size {
                if tx.send(Ok(self.cut(batch_size)?)).is_err() {
                    return Ok(());
                }
            }
        }
        if !seen_any {
            // No row: the transform of an empty batch still gives the target's columns.
            let schema = Arc::new(Schema::new(
                meta.columns
                    .iter()
                    .map(|c| Field::new(&c.name, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            ));
            let out = Transformer {
                unit: self.unit,
                idmaps: self.idmaps,
            }
            .apply(&RecordBatch::new_empty(schema), &[])?;
            self.found.conflict = target_key(self.unit, &out)?;
            self.found.schema = Some(out.schema());
        }
        if self.pending_rows > 0 {
            let n = self.pending_rows;
            let _ = tx.send(Ok(self.cut(n)?));
        }
        Ok(())
    }

    /// Checks a chunk's keys, notes its newest `updated_at`, transforms it and keeps it.
    fn take(&mut self, batch: &RecordBatch) -> Result<(), MigrateError> {
        let unit = self.unit;
        let keys = self.checked_keys(batch)?;
        if let Some(col) = &unit.spec.updated_at {
            let i =
                crate::migrate::column_index(&batch.schema(), &unit.spec.name, col, "updated_at")?;
            self.found.newest = newest(self.found.newest.take(), batch.column(i))?;
        }
        self.found.rows += batch.num_rows() as u64;
        let out = Transformer {
            unit,
            idmaps: self.idmaps,
        }
        .apply(batch, &keys)?;
        if self.found.schema.is_none() {
            self.found.conflict = target_key(unit, &out)?;
            self.found.schema = Some(out.schema());
        }
        self.pending_rows += out.num_rows();
        self.pending.push(out);
        self.pending_keys.extend(keys);
        Ok(())
    }

    /// The first `n` pending rows as one batch, hashed.
    fn cut(&mut self, n: usize) -> Result<Ready, MigrateError> {
        let schema = self.pending[0].schema();
        let all = if self.pending.len() == 1 {
            self.pending.pop().expect("one batch")
        } else {
            let a = concat_batches(&schema, &self.pending)
                .map_err(|e| MigrateError::Internal(e.to_string()))?;
            self.pending.clear();
            a
        };
        let batch = all.slice(0, n);
        let keys: Vec<String> = self.pending_keys.drain(..n).collect();
        if all.num_rows() > n {
            self.pending.push(all.slice(n, all.num_rows() - n));
        }
        self.pending_rows -= n;
        let hashes = batch_hashes(&batch, &keys);
        Ok(Ready {
            batch,
            keys,
            hashes,
        })
    }

    /// A chunk's keys as text, checked: never NULL, each greater than the one before (in the
    /// order a unit read whole is sorted in), so never repeated.
    fn checked_keys(&mut self, batch: &RecordBatch) -> Result<Vec<String>, MigrateError> {
        let key = &self.unit.spec.key;
        let name = &self.unit.spec.name;
        let internal = |e: arrow::error::ArrowError| MigrateError::Internal(e.to_string());
        let ki: Vec<usize> = key
            .iter()
            .map(|k| crate::migrate::column_index(&batch.schema(), name, k, "key"))
            .collect::<Result<_, _>>()?;
        let cols: Vec<ArrayRef> = ki.iter().map(|&i| batch.column(i).clone()).collect();
        if self.order.is_none() {
            let fields = cols
                .iter()
                .map(|c| arrow::row::SortField::new(c.data_type().clone()))
                .collect();
            self.order = Some(arrow::row::RowConverter::new(fields).map_err(internal)?);
        }
        let rows = self
            .order
            .as_ref()
            .expect("made above")
            .convert_columns(&cols)
            .map_err(internal)?;
        let texts = key_texts(batch, &ki)?;
        let mut keys: Vec<String> = Vec::with_capacity(texts.len());
        for (r, k) in texts.into_iter().enumerate() {
            let Some(k) = k else {
                return Err(MigrateError::Unit {
                    unit: name.clone(),
                    reason: format!("a key is NULL ({})", show_row_key(batch, &ki, key, r)),
                    hint: "key columns must not be NULL: filter those rows in a source query or choose another key".into(),
                });
            };
            // The key before: this chunk's previous row, or the last of the chunk before.
            let before = match r {
                0 => self
                    .last
                    .as_ref()
                    .map(|(row, text)| (row.row(), text.as_str())),
                _ => Some((rows.row(r - 1), keys[r - 1].as_str())),
            };
            if let Some((last, last_text)) = before {
                if last_text == k {
                    return Err(MigrateError::Unit {
                        unit: name.clone(),
                        reason: format!("key {} occurs more than once in the source", show_key(key, &k)),
                        hint: "a unit's key must identify one row: fix the key columns, or deduplicate in a source query".into(),
                    });
                }
                if last >= rows.row(r) {
                    return Err(MigrateError::Internal(format!(
                        "the source returned key {} after {} in a read in key order",
                        show_key(key, &k),
                        show_key(key, last_text)
                    )));
                }
            }
            keys.push(k);
        }
        if let Some(k) = keys.last() {
            self.last = Some((rows.row(keys.len() - 1).owned(), k.clone()));
        }
        Ok(keys)
    }
}

/// Refuses a chunk holding a value that is not valid UTF-8 in a column the unit reads (writing
/// it would store a lossy decoding); a column the unit does not read cannot stop it.
fn unread_defect(unit: &Unit, chunk: &crate::source::Chunk) -> Result<(), MigrateError> {
    let schema = chunk.batch.schema();
    let read = |d: &&ReadDefect| {
        let ReadDefect::InvalidUtf8 { column, .. } = d;
        unit.reads(schema.field(*column).name())
    };
    if let Some(ReadDefect::InvalidUtf8 { column, .. }) = chunk.defects.iter().find(read) {
        let col = schema.field(*column).name().clone();
        return Err(MigrateError::Unit {
            unit: unit.spec.name.clone(),
            reason: format!("value(s) of source column '{col}' are not valid UTF-8; writing them would store a lossy decoding"),
            hint: "convert them in a source query (query = \"SELECT …\") or fix them in the source; `reckon profile` lists them".into(),
        });
    }
    Ok(())
}

/// The larger of the running maximum and a column's largest value (in the column's own order).
fn newest(prev: Option<ArrayRef>, col: &ArrayRef) -> Result<Option<ArrayRef>, MigrateError> {
    let internal = |e: arrow::error::ArrowError| MigrateError::Internal(e.to_string());
    let both = match &prev {
        Some(p) => concat(&[p.as_ref(), col.as_ref()]).map_err(internal)?,
        None => col.clone(),
    };
    let opts = SortOptions {
        descending: true,
        nulls_first: false,
    };
    let idx = sort_to_indices(&both, Some(opts), Some(1)).map_err(internal)?;
    let top = take(both.as_ref(), &idx, None).map_err(internal)?;
    Ok(if top.is_empty() || top.is_null(0) {
        prev
    } else {
        Some(top)
    })
}
