//! Backup and restore of the target tables a plan writes (and its ledger and id map).
//!
//! A backup is one Parquet file per table plus `manifest.json` with each table's row count, an
//! order-independent hash of its rows in canonical form, and each file's SHA-256. The backup is
//! checked when it is taken (the files are read back and hashed again) and before a restore;
//! after a restore the tables are read back from the database and their hashes compared with
//! the manifest. A backup that has not been checked is not a backup.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use arrow::array::{ArrayRef, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::executor::{find_table as find, open_target};
use super::plan::Plan;
use super::MigrateError;
use crate::source::{self, Source, SourceSpec, TableMeta};
use crate::value::canonical::{hash_rows, TextAs};

/// One table in a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct BackupTable {
    /// The table, as the plan names it.
    pub table: String,
    /// Whether it existed when the backup was taken (a missing ledger is emptied on restore).
    pub existed: bool,
    /// The Parquet file, relative to the backup directory.
    pub file: Option<String>,
    /// Rows.
    pub rows: u64,
    /// Order-independent hash of the rows (canonical form).
    pub rows_hash: String,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Manifest {
    /// The plan's name.
    pub plan: String,
    /// The target, redacted.
    pub target: String,
    /// When the backup was taken (RFC 3339).
    pub created_at: String,
    /// Tables, in the plan's order.
    pub tables: Vec<BackupTable>,
}

fn berr(path: &Path, reason: impl std::fmt::Display) -> MigrateError {
    MigrateError::Backup {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn rows_hash(batch: &RecordBatch) -> u128 {
    let cols: Vec<(ArrayRef, TextAs)> = batch
        .columns()
        .iter()
        .map(|a| (a.clone(), TextAs::Text))
        .collect();
    hash_rows(&cols).into_iter().fold(0u128, u128::wrapping_add)
}

fn sha256_file(path: &Path) -> Result<String, MigrateError> {
    let mut f = File::open(path).map_err(|e| berr(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| berr(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn read_parquet(path: &Path) -> Result<(Vec<RecordBatch>, u64, u128), MigrateError> {
    let f = File::open(path).map_err(|e| berr(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.build())
        .map_err(|e| berr(path, e))?;
    let mut batches = Vec::new();
    let (mut rows, mut hash) = (0u64, 0u128);
    for b in reader {
        let b = b.map_err(|e| berr(path, e))?;
        rows += b.num_rows() as u64;
        hash = hash.wrapping_add(rows_hash(&b));
        batches.push(b);
    }
    Ok((batches, rows, hash))
}

/// The tables a plan writes, then its ledger and id map.
fn plan_tables(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for u in &plan.units {
        if !v.contains(&u.spec.target) {
            v.push(u.spec.target.clone());
        }
    }
    v.push(plan.ledger.clone());
    v.push(plan.idmap.clone());
    v
}

/// Reads a table from the target and returns (rows, hash).
fn hash_table(reader: &mut dyn Source, meta: &TableMeta) -> Result<(u64, u128), MigrateError> {
    let (mut rows, mut hash) = (0u64, 0u128);
    for chunk in reader.read(meta)? {
        let b = crate::value::kind::plain_batch(&chunk?.batch);
        rows += b.num_rows() as u64;
        hash = hash.wrapping_add(rows_hash(&b));
    }
    Ok((rows, hash))
}

/// Snapshots the plan's target tables into `dir`, verified.
pub fn backup(plan: &Plan, dir: &Path) -> Result<Manifest, MigrateError> {
    let spec = SourceSpec::parse(&plan.target)?;
    std::fs::create_dir_all(dir).map_err(|e| berr(dir, e))?;
    if dir.join("manifest.json").exists() {
        return Err(berr(
            dir,
            "already holds a backup (manifest.json); choose a new directory",
        ));
    }
    let mut reader = source::open(&spec)?;
    let all = reader.tables()?;
    let mut tables = Vec::new();
    for name in plan_tables(plan) {
        let Some(meta) = find(&all, &name) else {
            if name == plan.ledger || name == plan.idmap {
                tables.push(BackupTable {
                    table: name,
                    existed: false,
                    file: None,
                    rows: 0,
                    rows_hash: format!("{:032x}", 0),
                    sha256: None,
                });
                continue;
            }
            return Err(MigrateError::Source(
                crate::source::SourceError::UnknownTable {
                    table: name,
                    source_name: format!("{} (target)", reader.display()),
                    available: all.iter().map(|m| m.name.to_string()).collect(),
                },
            ));
        };
        let file = format!("{}.parquet", name.replace(['/', '\\'], "_"));
        let path = dir.join(&file);
        let f = File::create(&path).map_err(|e| berr(&path, e))?;
        let mut writer: Option<ArrowWriter<File>> = None;
        let mut f = Some(f);
        let (mut rows, mut hash) = (0u64, 0u128);
        for chunk in reader.read(&meta)? {
            let b = crate::value::kind::plain_batch(&chunk?.batch);
            rows += b.num_rows() as u64;
            hash = hash.wrapping_add(rows_hash(&b));
            if writer.is_none() {
                let file = f.take().expect("one file");
                writer =
                    Some(ArrowWriter::try_new(file, b.schema(), None).map_err(|e| berr(&path, e))?);
            }
            writer
                .as_mut()
                .expect("set")
                .write(&b)
                .map_err(|e| berr(&path, e))?;
        }
        match writer {
            Some(w) => {
                w.close().map_err(|e| berr(&path, e))?;
            }
            None => {
                // An empty table: an empty file with the table's columns as text.
                let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(
                    meta.columns
                        .iter()
                        .map(|c| {
                            arrow::datatypes::Field::new(
                                &c.name,
                                arrow::datatypes::DataType::Utf8,
                                true,
                            )
                        })
                        .collect::<Vec<_>>(),
                ));
                let w = ArrowWriter::try_new(f.take().expect("one file"), schema, None)
                    .map_err(|e| berr(&path, e))?;
                w.close().map_err(|e| berr(&path, e))?;
            }
        }
        // Read back: the file must hold what the database held.
        let (_, back_rows, back_hash) = read_parquet(&path)?;
        if (back_rows, back_hash) != (rows, hash) {
            return Err(berr(
                &path,
                format!(
                    "read back {back_rows} rows with another hash than the {rows} rows written"
                ),
            ));
        }
        tables.push(BackupTable {
            table: name,
            existed: true,
            sha256: Some(sha256_file(&path)?),
            file: Some(file),
            rows,
            rows_hash: format!("{hash:032x}"),
        });
    }
    let manifest = Manifest {
        plan: plan.name.clone(),
        target: spec.display(),
        created_at: super::ledger::now(),
        tables,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| berr(dir, e))?;
    std::fs::write(dir.join("manifest.json"), text).map_err(|e| berr(dir, e))?;
    Ok(manifest)
}

/// A backed-up table: its name, its rows, and whether it existed when the backup was taken.
pub type TableData = (String, Vec<RecordBatch>, bool);

/// Checks a backup directory: every file's SHA-256 and rows hash against the manifest.
pub fn verify(dir: &Path) -> Result<(Manifest, Vec<TableData>), MigrateError> {
    let mpath = dir.join("manifest.json");
    let text = std::fs::read_to_string(&mpath).map_err(|e| berr(&mpath, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| berr(&mpath, e))?;
    let mut data = Vec::new();
    for t in &manifest.tables {
        let Some(file) = &t.file else {
            data.push((t.table.clone(), Vec::new(), false));
            continue;
        };
        let path: PathBuf = dir.join(file);
        let sha = sha256_file(&path)?;
        if Some(&sha) != t.sha256.as_ref() {
            return Err(berr(
                &path,
                format!(
                    "SHA-256 {sha} is not the manifest's {}: the file was changed",
                    t.sha256.clone().unwrap_or_default()
                ),
            ));
        }
        let (batches, rows, hash) = read_parquet(&path)?;
        if rows != t.rows || format!("{hash:032x}") != t.rows_hash {
            return Err(berr(
                &path,
                format!(
                    "holds {rows} rows with hash {hash:032x}; the manifest says {} rows, {}",
                    t.rows, t.rows_hash
                ),
            ));
        }
        data.push((t.table.clone(), batches, true));
    }
    Ok((manifest, data))
}

/// Restores a checked backup into the plan's target (one transaction), then checks every table.
pub fn restore(
    plan: &Plan,
    dir: &Path,
    wait: std::time::Duration,
) -> Result<Manifest, MigrateError> {
    let (manifest, data) = verify(dir)?;
    if manifest.plan != plan.name {
        return Err(berr(
            dir,
            format!(
                "is a backup of plan '{}', not '{}'",
                manifest.plan, plan.name
            ),
        ));
    }
    let mut target = open_target(plan)?;
    let written: Vec<String> = plan.units.iter().map(|u| u.spec.target.clone()).collect();
    target.lock(&written, wait)?;
    let mut tables: Vec<(String, Vec<RecordBatch>)> = Vec::new();
    for (name, b, existed) in data {
        if existed || target.table_exists(&name)? {
            tables.push((name, b));
        }
    }
    target.replace_all(&tables)?;
    // Read back what landed.
    let spec = SourceSpec::parse(&plan.target)?;
    let mut reader = source::open(&spec)?;
    let all = reader.tables()?;
    for t in &manifest.tables {
        let Some(meta) = find(&all, &t.table) else {
            continue;
        };
        let (rows, hash) = hash_table(reader.as_mut(), &meta)?;
        if rows != t.rows || format!("{hash:032x}") != t.rows_hash {
            return Err(berr(dir, format!("after the restore, {} holds {rows} rows with hash {hash:032x}; the backup holds {} rows, {}", t.table, t.rows, t.rows_hash)));
        }
    }
    Ok(manifest)
}
