//! `reckon migrate restore`: whole tables replaced in one transaction.

use super::*;

impl Target {
    /// Replaces the rows of `tables` (in order; deleted in reverse order) in one transaction
    /// (`restore`).
    pub fn replace_all(
        &mut self,
        tables: &[(String, Vec<RecordBatch>)],
    ) -> Result<(), MigrateError> {
        let kind = self.kind();
        let display = self.display.clone();
        match &mut self.conn {
            Conn::Pg(c) => {
                let mut tx = c.transaction().map_err(|e| pg_err(&display, e))?;
                tx.batch_execute("SET CONSTRAINTS ALL DEFERRED")
                    .map_err(|e| pg_err(&display, e))?;
                for (t, _) in tables.iter().rev() {
                    tx.batch_execute(&format!("DELETE FROM {}", quote_table(t, kind)))
                        .map_err(|e| pg_err(&display, e))?;
                }
                for (t, batches) in tables {
                    for b in batches.iter().filter(|b| b.num_rows() > 0) {
                        let cols = col_list(b, kind);
                        let mut wr = tx
                            .copy_in(&format!(
                                "COPY {} ({cols}) FROM STDIN",
                                quote_table(t, kind)
                            ))
                            .map_err(|e| pg_err(&display, e))?;
                        let enc = Encoders::new(b)?;
                        let mut buf = Vec::new();
                        for r in 0..b.num_rows() {
                            enc.copy_row(r, &mut buf);
                        }
                        wr.write_all(&buf).map_err(|e| werr(&display, e))?;
                        wr.finish().map_err(|e| pg_err(&display, e))?;
                    }
                }
                // The sequences of serial and identity columns continue after the restored rows
                // (COPY draws none; without this, the next insert collides with a restored id
                // or skips the ids the backup had not drawn yet).
                for (t, _) in tables {
                    let table = quote_table(t, kind);
                    let owned = tx
                        .query(
                            "SELECT a.attname::text, pg_get_serial_sequence($1::text, a.attname::text) FROM pg_attribute a \
                             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped \
                             AND pg_get_serial_sequence($1::text, a.attname::text) IS NOT NULL",
                            &[&table],
                        )
                        .map_err(|e| pg_err(&display, e))?;
                    for row in owned {
                        let (col, seq): (String, String) = (row.get(0), row.get(1));
                        let col = q(&col, kind);
                        tx.execute(
                            &format!(
                                "SELECT setval($1::text::regclass, COALESCE(CASE WHEN p.seqincrement > 0 \
                                 THEN (SELECT max({col}) FROM {table}) ELSE (SELECT min({col}) FROM {table}) END::bigint, \
                                 p.seqstart), EXISTS (SELECT 1 FROM {table} WHERE {col} IS NOT NULL)) \
                                 FROM pg_sequence p WHERE p.seqrelid = $1::text::regclass"
                            ),
                            &[&seq],
                        )
                        .map_err(|e| pg_err(&display, e))?;
                    }
                }
                tx.commit().map_err(|e| pg_err(&display, e))?;
            }
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                c.query_drop("SET FOREIGN_KEY_CHECKS = 0")
                    .map_err(|e| werr(&display, e))?;
                let mut tx = c
                    .start_transaction(mysql::TxOpts::default())
                    .map_err(|e| werr(&display, e))?;
                for (t, _) in tables.iter().rev() {
                    tx.query_drop(format!("DELETE FROM {}", quote_table(t, kind)))
                        .map_err(|e| werr(&display, e))?;
                }
                for (t, batches) in tables {
                    for b in batches {
                        let per = rows_per_statement(b.num_columns());
                        let mut r0 = 0;
                        while r0 < b.num_rows() {
                            let n = per.min(b.num_rows() - r0);
                            let (sql, params) =
                                my_insert(&quote_table(t, kind), &b.slice(r0, n), None)?;
                            tx.exec_drop(&sql, params).map_err(|e| werr(&display, e))?;
                            r0 += n;
                        }
                    }
                }
                tx.commit().map_err(|e| werr(&display, e))?;
                c.query_drop("SET FOREIGN_KEY_CHECKS = 1")
                    .map_err(|e| werr(&display, e))?;
            }
            Conn::Lite(c) => {
                let tx = c.transaction().map_err(|e| werr(&display, e))?;
                for (t, _) in tables.iter().rev() {
                    tx.execute(&format!("DELETE FROM {}", quote_table(t, kind)), [])
                        .map_err(|e| werr(&display, e))?;
                }
                for (t, batches) in tables {
                    for b in batches {
                        let sql = format!(
                            "INSERT INTO {} ({}) VALUES ({})",
                            quote_table(t, kind),
                            col_list(b, kind),
                            vec!["?"; b.num_columns()].join(", ")
                        );
                        let mut s = tx.prepare_cached(&sql).map_err(|e| werr(&display, e))?;
                        let enc = Encoders::new(b)?;
                        for r in 0..b.num_rows() {
                            s.execute(rusqlite::params_from_iter(enc.lite_row(r)))
                                .map_err(|e| werr(&display, e))?;
                        }
                    }
                }
                tx.commit().map_err(|e| werr(&display, e))?;
            }
        }
        Ok(())
    }
}
