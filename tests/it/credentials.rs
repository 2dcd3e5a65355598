//! Credentials as users keep them: libpq's variables and password file, `MYSQL_PWD` and
//! `~/.my.cnf` fill what a URL leaves out, and the passwords they hold never show in any output.

use super::common::{mariadb_exec, pg_url, reckon_env, require, tempdir, Run};

fn no_canary(r: &Run, out: Option<&std::path::Path>, canary: &str) {
    assert!(!r.stdout.contains(canary), "stdout: {}", r.stdout);
    assert!(!r.stderr.contains(canary), "stderr: {}", r.stderr);
    if let Some(dir) = out.filter(|d| d.exists()) {
        for f in std::fs::read_dir(dir).unwrap() {
            let path = f.unwrap().path();
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert!(
                !text.contains(canary),
                "{} holds the password",
                path.display()
            );
        }
    }
}

fn private(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn mysql_pwd_and_my_cnf_give_the_password_and_never_show_it() {
    if require("MariaDB", mariadb_exec("SELECT 1")).is_none() {
        return;
    }
    let url = "mysql://root@127.0.0.1:3306/test";
    let query = ["--query", "SELECT 1 AS one"];
    // root has no password: the server refuses one, which shows it was sent.
    let canary = "Can#ary\"M1 y";
    let r = reckon_env(
        &[("MYSQL_PWD", canary)],
        &["profile", url, query[0], query[1]],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("using password: YES"), "{}", r.stderr);
    no_canary(&r, None, canary);
    let home = tempdir();
    let canary = "Cnf'Canary;2";
    private(
        &home.path().join(".my.cnf"),
        &format!("[mysqld]\npassword = nope\n[client]\npassword = \"{canary}\"\n"),
    );
    let home_dir = home.path().to_str().unwrap();
    let r = reckon_env(&[("HOME", home_dir)], &["profile", url, query[0], query[1]]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("using password: YES"), "{}", r.stderr);
    no_canary(&r, None, canary);
    // A password in the URL wins over both (here the empty one, written as `root:@`).
    let r = reckon_env(
        &[("HOME", home_dir), ("MYSQL_PWD", "Canary3")],
        &[
            "profile",
            "mysql://root:@127.0.0.1:3306/test",
            query[0],
            query[1],
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn libpq_variables_and_password_file_fill_a_postgres_url() {
    if require("PostgreSQL", super::migrate_servers::pg_exec("SELECT 1")).is_none() {
        return;
    }
    let u = url::Url::parse(&pg_url()).unwrap();
    let (host, port) = (
        u.host_str().unwrap().to_string(),
        u.port().unwrap_or(5432).to_string(),
    );
    let user = u.username().to_string();
    let db = u.path().trim_start_matches('/').to_string();
    let dir = tempdir();
    let pass = dir.path().join("pgpass");
    let canary = "Pg:Canary\\4";
    // The server trusts local connections: the password goes unasked, and must show nowhere,
    // not in the run's files either.
    private(
        &pass,
        &format!(
            "{host}:{port}:{db}:{user}:{}\n",
            canary.replace('\\', "\\\\").replace(':', "\\:")
        ),
    );
    let out = dir.path().join("out");
    let vars = [
        ("PGHOST", host.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", user.as_str()),
        ("PGDATABASE", db.as_str()),
        ("PGPASSFILE", pass.to_str().unwrap()),
    ];
    let r = reckon_env(
        &vars,
        &[
            "profile",
            "postgres:///",
            "--query",
            "SELECT current_database() AS d",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("{host}:{port}/{db}")),
        "{}",
        r.stdout
    );
    no_canary(&r, Some(&out), canary);
    no_canary(&r, Some(&out), "Canary\\4");
    // PGPASSWORD, on a connection that fails (a port nothing listens on).
    let r = reckon_env(
        &[("PGPASSWORD", "PgCanary5"), ("PGPORT", "1")],
        &[
            "profile",
            &format!("postgres://{user}@{host}/{db}"),
            "--query",
            "SELECT 1",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(":1/"), "{}", r.stderr);
    no_canary(&r, None, "PgCanary5");
    // Nothing to fill a missing database from: a clear error naming what is missing.
    let r = reckon_env(
        &[("PGDATABASE", "")],
        &["profile", &format!("postgres://{user}@{host}/")],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("PGDATABASE"), "{}", r.stderr);
    // A service file gives all of it; a service it does not define is a clear error.
    let services = dir.path().join("services");
    private(
        &services,
        &format!("[reckon_it]\nhost={host}\nport={port}\nuser={user}\ndbname={db}\npassword=SvcCanary6\n"),
    );
    let file = [("PGSERVICEFILE", services.to_str().unwrap())];
    let r = reckon_env(
        &file,
        &[
            "profile",
            "postgres:///?service=reckon_it",
            "--query",
            "SELECT 1 AS one",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("{host}:{port}/{db}")),
        "{}",
        r.stdout
    );
    no_canary(&r, None, "SvcCanary6");
    let r = reckon_env(&file, &["profile", "postgres:///?service=nowhere"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("service \"nowhere\""), "{}", r.stderr);
}

/// `${VAR}` in the files reckon reads: a password put into a URL by a variable, and the value of
/// a variable whose name says it is a password wherever it lands, never show, even in the
/// errors that quote them.
#[test]
fn passwords_from_variables_in_files_never_show() {
    let d = tempdir();
    let rules = d.path().join("r.toml");
    std::fs::write(
        &rules,
        "source = \"postgres://app:${RECKON_IT_URL_PW}@127.0.0.1:1/db\"\n\n\
         [[rule]]\nkind = \"row_count\"\ntable = \"customers\"\nequals = \"source\"\n",
    )
    .unwrap();
    let canary = "Var#Canary:7@x";
    let check = [
        "check",
        "sqlite://fixtures/shop/shop.db",
        "--rules",
        rules.to_str().unwrap(),
    ];
    let r = reckon_env(&[("RECKON_IT_URL_PW", canary)], &check);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("127.0.0.1"), "{}", r.stderr);
    no_canary(&r, None, canary);
    no_canary(&r, None, "Var#Canary");

    // A variable named as a password, landing in a table name that an error quotes.
    std::fs::write(
        &rules,
        "[[rule]]\nkind = \"not_null\"\ntable = \"${RECKON_IT_DB_PASSWORD}\"\ncolumn = \"id\"\n",
    )
    .unwrap();
    let canary = "TblCanary8";
    let r = reckon_env(&[("RECKON_IT_DB_PASSWORD", canary)], &check);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("***"), "{}", r.stderr);
    no_canary(&r, None, canary);
}
