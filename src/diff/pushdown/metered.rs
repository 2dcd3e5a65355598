//! A database whose query results are counted in bytes, for the reports' `bytes_fetched`.

use crate::source::{Pushdown, TableMeta};

/// A database whose query results are counted in bytes (what crossed from it to reckon).
pub(super) struct Counted<'a> {
    db: &'a dyn Pushdown,
    bytes: std::sync::atomic::AtomicU64,
}

impl<'a> Counted<'a> {
    pub(super) fn new(db: &'a dyn Pushdown) -> Counted<'a> {
        Counted {
            db,
            bytes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn add(&self, n: usize) {
        self.bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn bytes(&self) -> u64 {
        self.bytes.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Pushdown for Counted<'_> {
    fn dialect(&self) -> crate::source::Dialect {
        self.db.dialect()
    }
    fn server(&self) -> String {
        self.db.server()
    }
    fn share_cores(&mut self) {}
    fn base_type(&self, table: &crate::source::TableName, column: &str) -> Option<String> {
        self.db.base_type(table, column)
    }
    fn qualified(&self, table: &crate::source::TableName) -> String {
        self.db.qualified(table)
    }
    fn rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, crate::source::SourceError> {
        let rows = self.db.rows(sql)?;
        self.add(rows.iter().flatten().flatten().map(String::len).sum());
        Ok(rows)
    }
    fn triples(&self, sql: &str) -> Result<Vec<Option<[i64; 3]>>, crate::source::SourceError> {
        let rows = self.db.triples(sql)?;
        self.add(rows.len() * 24);
        Ok(rows)
    }
    fn select(
        &self,
        table: &TableMeta,
        rows: Option<&str>,
    ) -> Result<String, crate::source::SourceError> {
        self.db.select(table, rows)
    }
    fn estimate(&self, table: &TableMeta) -> Result<u64, crate::source::SourceError> {
        self.db.estimate(table)
    }
}
