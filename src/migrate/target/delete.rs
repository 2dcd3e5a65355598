//! Deleting target rows inside the open transaction: by key (`delete_missing`), and the id-map
//! rows of keys deleted.

use super::*;

impl Target {
    /// Deletes the id-map rows of these source keys of a unit, inside the open transaction.
    pub fn forget_ids(
        &mut self,
        plan: &str,
        unit: &str,
        old_keys: &[String],
    ) -> Result<u64, MigrateError> {
        let mut n = 0;
        for chunk in old_keys.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| self.placeholder(i + 3)).collect();
            let sql = format!(
                "DELETE FROM {} WHERE plan = {} AND unit = {} AND old_key IN ({})",
                self.idmap,
                self.placeholder(1),
                self.placeholder(2),
                marks.join(", ")
            );
            let mut params = vec![Val::T(Some(plan.into())), Val::T(Some(unit.into()))];
            params.extend(chunk.iter().map(|k| Val::T(Some(k.clone()))));
            n += self.exec(&sql, &params)?;
        }
        Ok(n)
    }

    /// Deletes the rows of `table` whose key columns `cols` hold one of `keys` (values as text,
    /// in column order), inside the open transaction; returns the rows deleted. Integer columns
    /// (`ints`) compare with a number, never with a string that the server's conversion rules
    /// might compare as a double (MySQL documents that; MariaDB 10.11 compares exactly); text
    /// as bytes where the dialect allows it (MariaDB: `BINARY`, ignoring case and pad rules).
    pub fn delete_rows(
        &mut self,
        table: &str,
        cols: &[String],
        ints: &[bool],
        keys: &[Vec<String>],
    ) -> Result<u64, MigrateError> {
        let kind = self.kind();
        let display = self.display.clone();
        let table = quote_table(table, kind);
        let lit = |int: bool, v: &str| -> Result<String, MigrateError> {
            if int {
                return v
                    .trim()
                    .parse::<i128>()
                    .map(|n| n.to_string())
                    .map_err(|_| {
                        werr(
                            &display,
                            format!("key value {v:?} of an integer column is not an integer"),
                        )
                    });
            }
            Ok(match kind {
                Kind::Mysql => {
                    format!("BINARY '{}'", v.replace('\\', "\\\\").replace('\'', "''"))
                }
                // E'' reads the same whatever standard_conforming_strings says.
                Kind::Postgres => {
                    format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
                }
                Kind::Sqlite => format!("'{}'", v.replace('\'', "''")),
            })
        };
        let mut deleted = 0;
        for chunk in keys.chunks(500) {
            let cond: Vec<String> = chunk
                .iter()
                .map(|k| {
                    let parts: Vec<String> = cols
                        .iter()
                        .zip(ints)
                        .zip(k)
                        .map(|((c, &int), v)| {
                            // MySQL text by its UTF-8 bytes, whatever the column's character set.
                            let column = match (int, kind) {
                                (false, Kind::Mysql) => {
                                    format!("BINARY CONVERT({} USING utf8mb4)", q(c, kind))
                                }
                                _ => q(c, kind),
                            };
                            Ok(format!("{column} = {}", lit(int, v)?))
                        })
                        .collect::<Result<_, MigrateError>>()?;
                    Ok(format!("({})", parts.join(" AND ")))
                })
                .collect::<Result<_, MigrateError>>()?;
            deleted += self.exec(
                &format!("DELETE FROM {table} WHERE {}", cond.join(" OR ")),
                &[],
            )?;
        }
        Ok(deleted)
    }
}
