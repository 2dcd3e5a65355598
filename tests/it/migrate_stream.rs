//! `reckon migrate` streaming a unit that its source reads in key order (a PostgreSQL or MariaDB
//! table keyed by one integer column): pages (`RECKON_PAGE_ROWS`) and batches that do not line
//! up, keys checked across page boundaries, and batches that are the same as when the unit is
//! read whole (`RECKON_MIGRATE_WHOLE`), so that a run started one way resumes the other.

use std::process::Command;

use super::common::{mariadb_exec, mysql_url, pg_url, reckon_env, require, Run};
use super::migrate_servers::pg_exec;

const ROWS: i64 = 2503;

/// A source database `reckon_ms_src` on the PostgreSQL or MariaDB server: its URL.
fn source_db(pg: bool) -> Option<String> {
    if pg {
        return super::migrate_servers::pg_database("reckon_ms_src");
    }
    require(
        "MariaDB",
        mariadb_exec("CREATE DATABASE IF NOT EXISTS reckon_ms_src"),
    )?;
    let mut u = url::Url::parse(&mysql_url()).unwrap();
    u.set_path("/reckon_ms_src");
    Some(u.to_string())
}

fn source_exec(pg: bool, url: &str, sql: &str) {
    if pg {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.batch_execute(sql).unwrap();
    } else {
        super::migrate_servers::my_exec(url, sql).unwrap();
    }
}

fn plan(dir: &std::path::Path, name: &str, src: &str, table: &str, target: &str) -> String {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(
        &p,
        format!(
            "name = \"{name}\"\nsource = \"{src}\"\ntarget = \"{}\"\nledger = \"reckon_ms.reckon_ledger\"\nidmap = \"reckon_ms.reckon_idmap\"\nbatch_size = 300\n\n[[unit]]\nname = \"u\"\ntable = \"{table}\"\ntarget = \"reckon_ms.{target}\"\nkey = [\"id\"]\ntransaction = \"batch\"\n",
            pg_url()
        ),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

fn one(sql: &str) -> String {
    pg_exec(sql).unwrap()[0][0].clone().unwrap_or_default()
}

fn json(r: &Run) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    v[0].clone()
}

/// The rows of the source table as `id:v:n`, in key order (`g` = 1 ..= ROWS).
fn expected() -> String {
    (1..=ROWS)
        .map(|g| format!("{}:v{g}:{:.2}", g * 7 - 9000, g as f64 / 3.0))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn a_streamed_unit_and_a_unit_read_whole_write_the_same_batches() {
    for pg in [true, false] {
        let Some(src) = source_db(pg) else {
            continue;
        };
        // Ids from -8993 up by 7: pages of 1,000 rows and batches of 300 do not line up.
        let fill = if pg {
            format!("DROP TABLE IF EXISTS s; CREATE TABLE s (id bigint PRIMARY KEY, v text, n numeric(12,2));
                     INSERT INTO s SELECT g * 7 - 9000, 'v' || g, round(g / 3.0, 2) FROM generate_series(1, {ROWS}) g")
        } else {
            format!("DROP TABLE IF EXISTS s;\nCREATE TABLE s (id bigint PRIMARY KEY, v text, n decimal(12,2));\nINSERT INTO s SELECT CAST(seq AS SIGNED) * 7 - 9000, CONCAT('v', seq), ROUND(seq / 3.0, 2) FROM seq_1_to_{ROWS}")
        };
        source_exec(pg, &src, &fill);
        // Row 1,301 (g = 1301, id 107) is in batch 4 (rows 1,200 … 1,499): the CHECK stops it.
        pg_exec(
            "DROP SCHEMA IF EXISTS reckon_ms CASCADE; CREATE SCHEMA reckon_ms;
             CREATE TABLE reckon_ms.a (id bigint PRIMARY KEY, v text, n numeric(12,2), CONSTRAINT lim CHECK (id < 107));
             CREATE TABLE reckon_ms.b (id bigint PRIMARY KEY, v text, n numeric(12,2), CONSTRAINT lim CHECK (id < 107))",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pages = ("RECKON_PAGE_ROWS", "1000");
        let whole = ("RECKON_MIGRATE_WHOLE", "1");
        // a: read whole first, streamed after; b: the other way round.
        for (target, first, then) in [
            ("a", vec![pages, whole], vec![pages]),
            ("b", vec![pages], vec![pages, whole]),
        ] {
            let p = plan(dir.path(), &format!("ms_{target}"), &src, "s", target);
            let r = reckon_env(&first, &["migrate", &p, "--json"]);
            assert_ne!(r.code, 0, "{pg} {target}: {}", r.stdout);
            // Batches 0–3 committed, each with its ledger row; batch 4 left nothing.
            assert_eq!(
                one(&format!("SELECT count(*) FROM reckon_ms.{target}")),
                "1200",
                "{pg} {target}"
            );
            assert_eq!(
                one(&format!("SELECT count(*) FROM reckon_ms.reckon_ledger WHERE plan = 'ms_{target}' AND batch >= 0 AND status = 'applied'")),
                "4",
                "{pg} {target}"
            );
            pg_exec(&format!(
                "ALTER TABLE reckon_ms.{target} DROP CONSTRAINT lim"
            ))
            .unwrap();
            let r = reckon_env(&then, &["migrate", &p, "--json"]);
            assert_eq!(r.code, 0, "{pg} {target}: {}{}", r.stdout, r.stderr);
            let o = json(&r);
            assert_eq!(o["status"], "completed", "{o}");
            assert_eq!(o["rows"], ROWS, "{o}");
            assert_eq!(o["batches"], 9, "{o}");
            assert_eq!(o["streamed"], then.len() == 1, "{o}");
            assert_eq!(
                o["batches_skipped"], 4,
                "{pg} {target}: the batches differ: {o}"
            );
            assert_eq!(o["batches_applied"], 5, "{o}");
            assert_eq!(o["verify"], serde_json::json!([0, 0, 0]), "{o}");
            let got = one(&format!(
                "SELECT string_agg(id || ':' || v || ':' || n, ',' ORDER BY id) FROM reckon_ms.{target}"
            ));
            assert!(got == expected(), "{pg} {target}: the rows differ");
        }
        // A streamed run from scratch, with pages of 97 rows.
        pg_exec("DELETE FROM reckon_ms.a; DELETE FROM reckon_ms.reckon_ledger").unwrap();
        let p = plan(dir.path(), "ms_a", &src, "s", "a");
        let r = reckon_env(&[("RECKON_PAGE_ROWS", "97")], &["migrate", &p, "--json"]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(json(&r)["verify"], serde_json::json!([0, 0, 0]));
        assert!(
            one("SELECT string_agg(id || ':' || v || ':' || n, ',' ORDER BY id) FROM reckon_ms.a")
                == expected()
        );
    }
}

#[test]
fn a_streamed_unit_refuses_a_key_repeated_across_a_page_boundary_and_a_null_key() {
    for pg in [true, false] {
        let Some(src) = source_db(pg) else {
            continue;
        };
        let setup = "DROP TABLE IF EXISTS d;\nCREATE TABLE d (id int, v text);\nCREATE INDEX d_id ON d (id);\nINSERT INTO d VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (4, 'e'), (5, 'f'), (6, 'g'), (7, 'h'), (8, 'i')";
        source_exec(pg, &src, setup);
        pg_exec(
            "DROP SCHEMA IF EXISTS reckon_ms2 CASCADE; CREATE SCHEMA reckon_ms2;
             CREATE TABLE reckon_ms2.d (id int, v text)",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.toml");
        std::fs::write(
            &p,
            format!(
                "name = \"d\"\nsource = \"{src}\"\ntarget = \"{}\"\nledger = \"reckon_ms2.reckon_ledger\"\nidmap = \"reckon_ms2.reckon_idmap\"\n\n[[unit]]\nname = \"d\"\ntable = \"d\"\ntarget = \"reckon_ms2.d\"\nkey = [\"id\"]\n",
                pg_url()
            ),
        )
        .unwrap();
        let p = p.to_str().unwrap();
        let count = || one("SELECT count(*) FROM reckon_ms2.d");
        // Pages of 4: the two rows of key 4 end the first page and start the second.
        for page in ["4", "3", "1000"] {
            let r = reckon_env(&[("RECKON_PAGE_ROWS", page)], &["migrate", p]);
            let said = format!("{}{}", r.stdout, r.stderr);
            assert_ne!(r.code, 0, "{pg} page {page}: {said}");
            assert!(
                said.contains("id=4 occurs more than once"),
                "{pg} page {page}: {said}"
            );
            assert_eq!(count(), "0");
        }
        source_exec(pg, &src, "DELETE FROM d WHERE v = 'e'");
        source_exec(pg, &src, "INSERT INTO d VALUES (NULL, 'n')");
        let r = reckon_env(&[("RECKON_PAGE_ROWS", "4")], &["migrate", p]);
        let said = format!("{}{}", r.stdout, r.stderr);
        assert_ne!(r.code, 0, "{pg}: {said}");
        assert!(said.contains("a key is NULL (id=NULL)"), "{pg}: {said}");
        assert_eq!(count(), "0");
        // Without it, 8 rows (two full pages) migrate and verify.
        source_exec(pg, &src, "DELETE FROM d WHERE id IS NULL");
        let r = reckon_env(&[("RECKON_PAGE_ROWS", "4")], &["migrate", p, "--json"]);
        assert_eq!(r.code, 0, "{pg}: {}{}", r.stdout, r.stderr);
        assert_eq!(json(&r)["streamed"], true);
        assert_eq!(json(&r)["verify"], serde_json::json!([0, 0, 0]));
        assert_eq!(
            one("SELECT string_agg(id || v, ',' ORDER BY id) FROM reckon_ms2.d"),
            "1a,2b,3c,4d,5f,6g,7h,8i"
        );
        // A key no index leads is not paged (that would scan the table once a page): its rows
        // are sorted in runs and merged, and still stream.
        source_exec(
            pg,
            &src,
            if pg {
                "DROP INDEX d_id"
            } else {
                "DROP INDEX d_id ON d"
            },
        );
        pg_exec("DELETE FROM reckon_ms2.d; DELETE FROM reckon_ms2.reckon_ledger").unwrap();
        let r = reckon_env(&[("RECKON_PAGE_ROWS", "4")], &["migrate", p, "--json"]);
        assert_eq!(r.code, 0, "{pg}: {}{}", r.stdout, r.stderr);
        assert_eq!(json(&r)["streamed"], true, "{}", r.stdout);
        assert_eq!(json(&r)["verify"], serde_json::json!([0, 0, 0]));
        assert_eq!(
            one("SELECT string_agg(id || v, ',' ORDER BY id) FROM reckon_ms2.d"),
            "1a,2b,3c,4d,5f,6g,7h,8i"
        );
    }
}

/// A Parquet file `name.parquet` of (id, v) rows.
fn parquet_file(dir: &std::path::Path, name: &str, ids: &[i64]) -> String {
    use std::sync::Arc;
    let path = dir.join(format!("{name}.parquet"));
    let id: arrow::array::ArrayRef = Arc::new(arrow::array::Int64Array::from(ids.to_vec()));
    let v: arrow::array::ArrayRef = Arc::new(arrow::array::StringArray::from(
        ids.iter().map(|i| format!("v{i}")).collect::<Vec<_>>(),
    ));
    let batch = arrow::array::RecordBatch::try_from_iter(vec![("id", id), ("v", v)]).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path.to_str().unwrap().to_string()
}

fn parquet_plan(dir: &std::path::Path, file: &str, table: &str, mapped: bool) -> String {
    let p = dir.join(format!("{table}.toml"));
    let columns = if mapped {
        "\n[unit.columns]\nid = \"id\"\nw = \"v\"\n"
    } else {
        ""
    };
    std::fs::write(
        &p,
        format!(
            "name = \"pq_{table}\"\nsource = \"{file}\"\ntarget = \"{}\"\nledger = \"reckon_ms3.reckon_ledger\"\nidmap = \"reckon_ms3.reckon_idmap\"\nbatch_size = 700\n\n[[unit]]\nname = \"u\"\ntable = \"{}\"\ntarget = \"reckon_ms3.{table}\"\nkey = [\"id\"]\n{columns}",
            pg_url(),
            std::path::Path::new(file).file_stem().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn parquet_sorted_or_not_migrates_and_verification_sees_what_the_target_changed() {
    if require("PostgreSQL", pg_exec("SELECT 1")).is_none() {
        return;
    }
    pg_exec(
        "DROP SCHEMA IF EXISTS reckon_ms3 CASCADE; CREATE SCHEMA reckon_ms3;
         CREATE TABLE reckon_ms3.sorted (id bigint PRIMARY KEY, v text);
         CREATE TABLE reckon_ms3.unsorted (id bigint PRIMARY KEY, v text);
         CREATE TABLE reckon_ms3.dup (id bigint PRIMARY KEY, v text);
         CREATE TABLE reckon_ms3.mapped (id bigint PRIMARY KEY, w text);
         CREATE TABLE reckon_ms3.plain (id bigint PRIMARY KEY, v text);
         CREATE TABLE reckon_ms3.mapped_bad (id bigint PRIMARY KEY, w text);
         CREATE TABLE reckon_ms3.plain_bad (id bigint PRIMARY KEY, v text);
         CREATE FUNCTION reckon_ms3.spoil() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.id = 1234 THEN NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], 'spoilt')); END IF; RETURN NEW; END $$;
         CREATE TRIGGER spoil BEFORE INSERT ON reckon_ms3.mapped_bad FOR EACH ROW EXECUTE FUNCTION reckon_ms3.spoil('w');
         CREATE TRIGGER spoil BEFORE INSERT ON reckon_ms3.plain_bad FOR EACH ROW EXECUTE FUNCTION reckon_ms3.spoil('v')",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids: Vec<i64> = (1..=3000).map(|i| i * 3 - 500).collect();
    let mut reversed = ids.clone();
    reversed.reverse();
    let mut dup = ids.clone();
    dup.insert(1500, ids[1500]);
    let want: String = ids
        .iter()
        .map(|i| format!("{i}v{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let got = |t: &str, c: &str| {
        one(&format!(
            "SELECT string_agg(id || {c}, ',' ORDER BY id) FROM reckon_ms3.{t}"
        ))
    };
    // Ascending ids stream in file order; descending ones are sorted in runs and merged: the
    // same batches either way, streamed either way.
    for (table, rows) in [("sorted", &ids), ("unsorted", &reversed)] {
        let file = parquet_file(d, &format!("{table}_src"), rows);
        let r = reckon_env(
            &[],
            &["migrate", &parquet_plan(d, &file, table, false), "--json"],
        );
        assert_eq!(r.code, 0, "{table}: {}{}", r.stdout, r.stderr);
        let o = json(&r);
        assert_eq!(o["verify"], serde_json::json!([0, 0, 0]), "{o}");
        assert_eq!(o["batches"], 5, "{o}");
        assert_eq!(o["streamed"], true, "{o}");
        assert!(got(table, "v") == want, "{table}");
    }
    let file = parquet_file(d, "dup_src", &dup);
    let r = reckon_env(&[], &["migrate", &parquet_plan(d, &file, "dup", false)]);
    let said = format!("{}{}", r.stdout, r.stderr);
    assert_ne!(r.code, 0, "{said}");
    assert!(
        said.contains(&format!("id={} occurs more than once", ids[1500])),
        "{said}"
    );
    assert_eq!(one("SELECT count(*) FROM reckon_ms3.dup"), "0");
    // A unit that renames a column is verified from the rows it wrote; a plain copy, against
    // the source: both see the value a trigger changed on its way in.
    let file = parquet_file(d, "src", &ids);
    for (table, mapped, col) in [("mapped", true, "w"), ("plain", false, "v")] {
        let r = reckon_env(
            &[],
            &["migrate", &parquet_plan(d, &file, table, mapped), "--json"],
        );
        assert_eq!(r.code, 0, "{table}: {}{}", r.stdout, r.stderr);
        assert_eq!(json(&r)["verify"], serde_json::json!([0, 0, 0]));
        assert!(got(table, col) == want, "{table}");
        let bad = format!("{table}_bad");
        let r = reckon_env(
            &[],
            &["migrate", &parquet_plan(d, &file, &bad, mapped), "--json"],
        );
        assert_ne!(r.code, 0, "{bad}: {}", r.stdout);
        let o = json(&r);
        assert_eq!(o["status"], "verification_failed", "{o}");
        assert_eq!(o["verify"], serde_json::json!([0, 1, 0]), "{o}");
        assert_eq!(
            one(&format!(
                "SELECT {col} FROM reckon_ms3.{bad} WHERE id = 1234"
            )),
            "spoilt"
        );
    }
}

/// A streamed unit killed with SIGKILL at seeded random moments (half the kills with a
/// transaction per batch), resumed every time: at the end the target holds exactly the source's
/// rows, the ledger's batch rows add up to the unit, and the source is untouched.
#[test]
fn a_streamed_unit_killed_at_random_moments_resumes_to_the_same_rows() {
    let Some(src) = source_db(true) else {
        return;
    };
    const N: i64 = 30_000;
    source_exec(
        true,
        &src,
        &format!("DROP TABLE IF EXISTS k; CREATE TABLE k (id bigint PRIMARY KEY, v text, n numeric(12,2));
                  INSERT INTO k SELECT g * 2 - 7000, md5(g::text), g / 7.0 FROM generate_series(1, {N}) g"),
    );
    let source_rows = || {
        let mut c = postgres::Client::connect(&src, postgres::NoTls).unwrap();
        let r = c
            .query_one(
                "SELECT md5(string_agg(id || ':' || v || ':' || n, ',' ORDER BY id)) FROM k",
                &[],
            )
            .unwrap();
        r.get::<_, String>(0)
    };
    let before = source_rows();
    pg_exec(
        "DROP SCHEMA IF EXISTS reckon_ms4 CASCADE; CREATE SCHEMA reckon_ms4;
         CREATE TABLE reckon_ms4.k (id bigint PRIMARY KEY, v text, n numeric(12,2))",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("k.toml");
    let write_plan = |per_batch: bool| {
        std::fs::write(
            &plan,
            format!(
                "name = \"crash\"\nsource = \"{src}\"\ntarget = \"{}\"\nledger = \"reckon_ms4.reckon_ledger\"\nidmap = \"reckon_ms4.reckon_idmap\"\nbatch_size = 1000\n\n[[unit]]\nname = \"k\"\ntable = \"k\"\ntarget = \"reckon_ms4.k\"\nkey = [\"id\"]\n{}",
                pg_url(),
                if per_batch { "transaction = \"batch\"\n" } else { "" }
            ),
        )
        .unwrap()
    };
    write_plan(false);
    let p = plan.to_str().unwrap().to_string();
    let pages = [("RECKON_PAGE_ROWS", "4000")];
    let t = std::time::Instant::now();
    let r = reckon_env(&pages, &["migrate", &p]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let span = (t.elapsed().as_millis() as u64).max(300) * 3 / 2;
    let kills_wanted = 20;
    let mut seed: u64 = 0x5eed_2026_1207;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut kills, mut rounds) = (0, 0);
    while kills < kills_wanted {
        rounds += 1;
        assert!(rounds < kills_wanted * 20, "no progress ({kills} kills)");
        if kills == kills_wanted / 2 {
            write_plan(true);
        }
        // Work to interrupt: the unit forgotten and its rows gone, some of the time.
        let forgot = reckon_env(&[], &["migrate", "forget", &p, "--unit", "k"]);
        assert_eq!(forgot.code, 0, "{}", forgot.stderr);
        if next() % 2 == 0 {
            pg_exec("DELETE FROM reckon_ms4.k").unwrap();
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_reckon"))
            .args(["migrate", &p, "--wait", "10"])
            .envs(pages)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(next() % span));
        match child.try_wait().unwrap() {
            Some(status) => assert_eq!(status.code(), Some(0), "a resumed run failed"),
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
                // Resume once at once, half the time; else the next round starts over.
                if next() % 2 == 0 {
                    let r = reckon_env(&pages, &["migrate", &p, "--json"]);
                    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
                    // The kill may land after the unit completed, while the process exits.
                    let o = json(&r);
                    if o["status"] != "already completed" {
                        assert_eq!(o["status"], "completed", "{o}");
                        assert_eq!(o["verify"], serde_json::json!([0, 0, 0]), "{o}");
                    }
                }
            }
        }
    }
    let r = reckon_env(&pages, &["migrate", &p, "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let target = one(
        "SELECT md5(string_agg(id || ':' || v || ':' || n, ',' ORDER BY id)) FROM reckon_ms4.k",
    );
    assert_eq!(target, before, "the target differs from the source");
    assert_eq!(one("SELECT count(*) FROM reckon_ms4.k"), N.to_string());
    // The last completed run: its batch rows cover the unit once.
    let run = one("SELECT max(run) FROM reckon_ms4.reckon_ledger WHERE unit = 'k' AND batch = -1 AND status = 'completed'");
    assert_eq!(
        one(&format!("SELECT count(*) || '/' || count(DISTINCT batch) || '/' || sum(rows_read) FROM reckon_ms4.reckon_ledger WHERE unit = 'k' AND run = {run} AND batch >= 0")),
        format!("30/30/{N}")
    );
    assert_eq!(source_rows(), before, "the source was written");
    eprintln!("streamed crash campaign: {kills} kills in {rounds} rounds");
}

/// Into an empty MariaDB table, batches go by `LOAD DATA LOCAL INFILE`, which the server reads
/// as if `IGNORE` were given: a value the column cannot hold is a warning there, and must still
/// fail the unit (nothing kept), never land cut. Text with tabs, line breaks, backslashes, the
/// text `NULL` and `\N` land as they were.
#[test]
fn mariadb_bulk_load_fails_on_any_warning_and_keeps_every_character() {
    let (Some(src), Some(_)) = (
        source_db(true),
        require(
            "MariaDB",
            mariadb_exec("CREATE DATABASE IF NOT EXISTS reckon_ms_tgt"),
        ),
    ) else {
        return;
    };
    source_exec(
        true,
        &src,
        "DROP TABLE IF EXISTS w; CREATE TABLE w (id int PRIMARY KEY, t text, f float8, d date, ts timestamptz);
         INSERT INTO w VALUES (1, E'tab\\there', 0.1, '2024-02-29', '2024-01-01 12:00:00.000001+00'),
           (2, E'line\\nbreak\\r\\\\back', -0.0, '1000-01-01', '1970-01-01 00:00:01+00'),
           (3, 'NULL', NULL, NULL, NULL), (4, E'\\\\N', 1e300, '9999-12-31', '2038-01-19 03:14:07.999999+00'),
           (5, NULL, 5e-324, '2000-01-01', '1999-12-31 23:59:59+00')",
    );
    let mut tgt = url::Url::parse(&mysql_url()).unwrap();
    tgt.set_path("/reckon_ms_tgt");
    let tgt = tgt.to_string();
    let my = |sql: &str| super::migrate_servers::my_exec(&tgt, sql).unwrap();
    my("DROP TABLE IF EXISTS w;\nDROP TABLE IF EXISTS reckon_ledger;\nDROP TABLE IF EXISTS reckon_idmap;\nCREATE TABLE w (id int PRIMARY KEY, t varchar(9), f double, d date, ts timestamp(6) NULL)");
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("w.toml");
    std::fs::write(
        &plan,
        format!("name = \"w\"\nsource = \"{src}\"\ntarget = \"{tgt}\"\n\n[[unit]]\nname = \"w\"\ntable = \"w\"\ntarget = \"w\"\nkey = [\"id\"]\n"),
    )
    .unwrap();
    let p = plan.to_str().unwrap();
    // 'line\nbreak\r\back' is 16 characters: the server would cut it to 9 with a warning.
    let r = reckon_env(&[], &["migrate", p]);
    let said = format!("{}{}", r.stdout, r.stderr);
    assert_ne!(r.code, 0, "{said}");
    assert!(
        said.contains("warning(s)") && said.contains("1265"),
        "{said}"
    );
    assert_eq!(my("SELECT count(*) FROM w")[0][0].as_deref(), Some("0"));
    my("ALTER TABLE w MODIFY t text");
    let r = reckon_env(&[], &["migrate", p, "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        json(&r)["verify"],
        serde_json::json!([0, 0, 0]),
        "{}",
        r.stdout
    );
    let got =
        my("SELECT id, t, CAST(f AS CHAR), CAST(d AS CHAR), CAST(ts AS CHAR) FROM w ORDER BY id");
    let s = |v: &str| Some(v.to_string());
    assert_eq!(got[0][1], s("tab\there"));
    assert_eq!(got[1][1], s("line\nbreak\r\\back"));
    assert_eq!(got[2][1], s("NULL"));
    assert_eq!(got[3][1], s("\\N"));
    assert_eq!(got[4][1], None);
    assert_eq!(got[2][2], None);
    assert_eq!(got[0][4], s("2024-01-01 12:00:00.000001"));
}

/// A unit keyed by text and an integer (no source reads that in key order: SQLite, a composite
/// key) streams through sorted runs, and its batches hold the rows of a unit read whole: the
/// ledger's batch rows (keys, key and row hashes) are the same either way. Keys holding the
/// text 'NULL', the empty string, a unit separator or a NUL migrate and verify.
#[test]
fn a_composite_text_key_streams_sorted_and_writes_the_batches_of_a_whole_read() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src.db");
    let db = rusqlite::Connection::open(&src).unwrap();
    db.execute_batch("CREATE TABLE t (k TEXT, n INTEGER, v TEXT)")
        .unwrap();
    let texts = ["NULL", "", "a\u{1f}b", "Zürich", "z", "a", "x\u{0}y"];
    for i in 0..2_000i64 {
        let j = (i * 7919) % 2_000;
        db.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3)",
            rusqlite::params![texts[(j % 7) as usize], j / 7, format!("v{j}")],
        )
        .unwrap();
    }
    drop(db);
    let run = |name: &str, whole: bool| -> (serde_json::Value, Vec<Vec<Option<String>>>) {
        let target = d.path().join(format!("{name}.db"));
        rusqlite::Connection::open(&target)
            .unwrap()
            .execute_batch("CREATE TABLE t (k TEXT, n INTEGER, v TEXT, PRIMARY KEY (k, n))")
            .unwrap();
        let plan = d.path().join(format!("{name}.toml"));
        std::fs::write(
            &plan,
            format!(
                "name = \"c\"\nsource = \"sqlite://{}\"\ntarget = \"sqlite://{}\"\n\n\
                 [[unit]]\nname = \"t\"\ntable = \"t\"\ntarget = \"t\"\nkey = [\"k\", \"n\"]\n\
                 batch_size = 300\ntransaction = \"batch\"\n",
                src.display(),
                target.display()
            ),
        )
        .unwrap();
        let env: &[(&str, &str)] = if whole {
            &[("RECKON_MIGRATE_WHOLE", "1")]
        } else {
            &[]
        };
        let r = reckon_env(env, &["migrate", plan.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 0, "{name}: {}{}", r.stdout, r.stderr);
        let ledger: Vec<Vec<Option<String>>> = rusqlite::Connection::open(&target)
            .unwrap()
            .prepare(
                "SELECT batch, rows_read, first_key, last_key, key_hash, source_hash \
                 FROM reckon_ledger WHERE batch >= 0 ORDER BY batch",
            )
            .unwrap()
            .query_map([], |r| {
                (0..6)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| Some(format!("{v:?}")))
                    })
                    .collect()
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        (json(&r), ledger)
    };
    let (streamed, a) = run("streamed", false);
    let (whole, b) = run("whole", true);
    assert_eq!(streamed["streamed"], true, "{streamed}");
    assert_eq!(whole["streamed"], false, "{whole}");
    for o in [&streamed, &whole] {
        assert_eq!(o["verify"], serde_json::json!([0, 0, 0]), "{o}");
        assert_eq!(o["rows"], 2_000, "{o}");
        assert_eq!(o["batches"], 7, "{o}");
    }
    assert_eq!(a.len(), 7);
    assert_eq!(a, b);
}
