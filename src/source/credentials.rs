//! Connection settings as users keep them, filling what a database URL leaves out:
//! - PostgreSQL, as libpq reads them: a service (`?service=NAME` or `PGSERVICE`, from
//!   `PGSERVICEFILE` or `~/.pg_service.conf`, then `PGSYSCONFDIR/pg_service.conf`), then `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`,
//!   then the password file (`PGPASSFILE`, else `~/.pgpass`: `host:port:database:user:password`
//!   lines, `*` matching anything in the first four fields, `\` escaping `:` and `\`, the first
//!   matching line winning; a file that group or others may read is ignored, with a warning, as
//!   libpq does);
//! - MySQL/MariaDB: `MYSQL_PWD`, then the `[client]` section of `~/.my.cnf` (`user`,
//!   `password`, `port`).
//!
//! What the URL says always wins. A password found here is registered as a secret (as read and
//! as the URL carries it) before it goes into the URL, so no output can show it.

use std::path::{Path, PathBuf};

use url::Url;

use crate::error::register_secret;

/// The environment and files settings come from (the process's own, or a test's).
pub(super) struct Env<'a> {
    pub(super) var: &'a dyn Fn(&str) -> Option<String>,
    pub(super) home: Option<PathBuf>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|v| !v.is_empty())
    }
}

/// The process's environment.
pub(super) fn process_env(f: &dyn Fn(&str) -> Option<String>) -> Env<'_> {
    Env {
        var: f,
        home: std::env::var_os("HOME").map(PathBuf::from),
    }
}

/// Fills a PostgreSQL URL's missing host, port, user, database and password
/// (`explicit_password`: the URL says `user:@`, an empty password, which stays).
pub(super) fn fill_postgres(
    url: &mut Url,
    env: &Env<'_>,
    explicit_password: bool,
) -> Result<(), String> {
    // A service (`?service=NAME`, else PGSERVICE) comes before the variables, as in libpq.
    let named = url
        .query_pairs()
        .find(|(k, _)| k == "service")
        .map(|(_, v)| v.to_string());
    if named.is_some() {
        let rest: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "service")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        url.set_query(None);
        if !rest.is_empty() {
            url.query_pairs_mut().extend_pairs(rest);
        }
    }
    if let Some(name) = named.or_else(|| env.get("PGSERVICE")) {
        let settings = service(env, &name)?;
        let get = |k: &str| {
            settings
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        fill_parts(url, |part| get(part));
        if !explicit_password && url.password().is_none() {
            if let Some(p) = get("password") {
                set_password(url, &p);
            }
        }
    }
    fill_postgres_env(url, env, explicit_password);
    Ok(())
}

/// Fills the URL's missing host, port, user and database from `get` (asked for `host`, `port`,
/// `user` and `dbname`).
fn fill_parts(url: &mut Url, get: impl Fn(&str) -> Option<String>) {
    if url.host_str().unwrap_or("").is_empty() {
        if let Some(h) = get("host") {
            let _ = url.set_host(Some(&h));
        }
    }
    if url.port().is_none() {
        if let Some(p) = get("port").and_then(|p| p.parse::<u16>().ok()) {
            let _ = url.set_port(Some(p));
        }
    }
    if url.username().is_empty() {
        if let Some(u) = get("user") {
            let _ = url.set_username(&u);
        }
    }
    if url.path().trim_start_matches('/').is_empty() {
        if let Some(d) = get("dbname") {
            url.set_path(&format!("/{d}"));
        }
    }
}

/// The settings of service `name`: the first of PGSERVICEFILE (else `~/.pg_service.conf`) and
/// `PGSYSCONFDIR/pg_service.conf` (else `/etc/postgresql-common/pg_service.conf`) that defines it.
fn service(env: &Env<'_>, name: &str) -> Result<Vec<(String, String)>, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    match env.get("PGSERVICEFILE") {
        Some(f) => files.push(PathBuf::from(f)),
        None => files.extend(env.home.as_ref().map(|h| h.join(".pg_service.conf"))),
    }
    files.push(
        env.get("PGSYSCONFDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/postgresql-common"))
            .join("pg_service.conf"),
    );
    for f in &files {
        if let Some(settings) = ini_section(f, name) {
            for (k, v) in &settings {
                if k == "password" {
                    register_secret(v);
                }
            }
            return Ok(settings);
        }
    }
    Err(format!(
        "service \"{name}\" is defined in none of {}",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The `key=value` lines of section `[name]` of an INI file (`None`: no such file or section).
fn ini_section(file: &Path, name: &str) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut found = None;
    let mut current = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            current = line.trim_matches(['[', ']']).trim() == name;
            if current && found.is_none() {
                found = Some(Vec::new());
            }
            continue;
        }
        if let (true, Some(settings), Some((k, v))) =
            (current, found.as_mut(), line.split_once('='))
        {
            let settings: &mut Vec<(String, String)> = settings;
            settings.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    found
}

/// The PG* variables and the password file, for what is still missing.
fn fill_postgres_env(url: &mut Url, env: &Env<'_>, explicit_password: bool) {
    fill_parts(url, |part| {
        env.get(match part {
            "host" => "PGHOST",
            "port" => "PGPORT",
            "user" => "PGUSER",
            _ => "PGDATABASE",
        })
    });
    if explicit_password || url.password().is_some() || has_password_param(url) {
        return;
    }
    let password = env.get("PGPASSWORD").or_else(|| {
        let file = env
            .get("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")))?;
        let host = url.host_str().unwrap_or("localhost").to_string();
        let port = url.port().unwrap_or(5432).to_string();
        let db = decoded(url.path().trim_start_matches('/'));
        let user = decoded(url.username());
        pgpass_lookup(&file, [&host, &port, &db, &user])
    });
    if let Some(p) = password {
        set_password(url, &p);
    }
}

/// Fills a MySQL URL's missing user, port and password.
pub(super) fn fill_mysql(url: &mut Url, env: &Env<'_>, explicit_password: bool) {
    let cnf = env
        .home
        .as_ref()
        .map(|h| my_cnf_client(&h.join(".my.cnf")))
        .unwrap_or_default();
    let from_cnf = |k: &str| cnf.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    if url.username().is_empty() {
        if let Some(u) = from_cnf("user") {
            let _ = url.set_username(&u);
        }
    }
    if url.port().is_none() {
        if let Some(p) = from_cnf("port").and_then(|p| p.parse::<u16>().ok()) {
            let _ = url.set_port(Some(p));
        }
    }
    if explicit_password || url.password().is_some() || has_password_param(url) {
        return;
    }
    if let Some(p) = env.get("MYSQL_PWD").or_else(|| from_cnf("password")) {
        set_password(url, &p);
    }
}

fn has_password_param(url: &Url) -> bool {
    url.query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"))
}

fn decoded(s: &str) -> String {
    super::spec::urlencoding_decode(s).unwrap_or_else(|_| s.to_string())
}

/// Puts a password into the URL, registered as a secret first (as read and as encoded).
fn set_password(url: &mut Url, password: &str) {
    register_secret(password);
    if url.set_password(Some(password)).is_ok() {
        if let Some(encoded) = url.password() {
            register_secret(encoded);
        }
    }
}

/// The password of the first line of a libpq password file matching `want` (host, port,
/// database, user); `None` when no line matches, or the file is missing or too open.
pub(super) fn pgpass_lookup(file: &Path, want: [&str; 4]) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: password file \"{}\" has group or world access; permissions should be u=rw (0600) or less (ignored, as libpq does)",
                file.display()
            );
            return None;
        }
    }
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = (0..4).all(|i| fields[i] == "*" || fields[i] == want[i]);
        if matches {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

/// A password-file line's fields: `:` separates, `\` escapes the next character.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("one field").push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// The `[client]` settings of a MySQL option file (keys lower case, `-` as `_`; values
/// unquoted).
pub(super) fn my_cnf_client(file: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut in_client = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            in_client = line
                .trim_matches(['[', ']'])
                .trim()
                .eq_ignore_ascii_case("client");
            continue;
        }
        if !in_client {
            continue;
        }
        let (k, v) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line, ""),
        };
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            &v[1..v.len() - 1]
        } else {
            v
        };
        out.push((k.to_ascii_lowercase().replace('-', "_"), v.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(
        vars: &'a [(&'a str, &'a str)],
        home: Option<PathBuf>,
    ) -> (impl Fn(&str) -> Option<String> + 'a, Option<PathBuf>) {
        (
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            },
            home,
        )
    }

    fn private(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    #[test]
    fn libpq_variables_fill_what_the_url_leaves_out_and_never_override_it() {
        let vars = [
            ("PGHOST", "db.internal"),
            ("PGPORT", "6543"),
            ("PGUSER", "app"),
            ("PGDATABASE", "crm"),
            ("PGPASSWORD", "Pw:9@x/y"),
        ];
        let (f, home) = env_of(&vars, None);
        let env = Env { var: &f, home };
        let mut u = Url::parse("postgres:///").unwrap();
        fill_postgres(&mut u, &env, false).unwrap();
        assert_eq!(u.host_str(), Some("db.internal"));
        assert_eq!(u.port(), Some(6543));
        assert_eq!(u.username(), "app");
        assert_eq!(u.path(), "/crm");
        assert_eq!(decoded(u.password().unwrap()), "Pw:9@x/y");
        assert!(!crate::error::scrub("a Pw:9@x/y b").contains("Pw:9@x/y"));
        let mut u = Url::parse("postgres://me:mine@h:1/other").unwrap();
        fill_postgres(&mut u, &env, false).unwrap();
        assert_eq!(u.as_str(), "postgres://me:mine@h:1/other");
    }

    #[test]
    fn a_service_comes_before_the_variables_and_after_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("services");
        private(
            &f,
            "[other]\nhost=nope\n# comment\n[crm]\nhost = db.svc\nport=6000\nuser=svc\ndbname=crm\npassword=Svc:Pw\n",
        );
        let path = f.to_str().unwrap().to_string();
        let vars = [
            ("PGSERVICEFILE", path.as_str()),
            ("PGUSER", "envuser"),
            ("PGPORT", "7000"),
        ];
        let (g, home) = env_of(&vars, None);
        let env = Env { var: &g, home };
        let mut u = Url::parse("postgres:///?service=crm&sslmode=disable").unwrap();
        fill_postgres(&mut u, &env, false).unwrap();
        assert_eq!(u.host_str(), Some("db.svc"));
        assert_eq!(u.port(), Some(6000));
        assert_eq!(u.username(), "svc");
        assert_eq!(u.path(), "/crm");
        assert_eq!(decoded(u.password().unwrap()), "Svc:Pw");
        assert_eq!(u.query(), Some("sslmode=disable"));
        // What the URL says wins over the service.
        let mut u = Url::parse("postgres://me@h:1/db?service=crm").unwrap();
        fill_postgres(&mut u, &env, false).unwrap();
        assert_eq!(
            (u.host_str(), u.port(), u.username(), u.path()),
            (Some("h"), Some(1), "me", "/db")
        );
        // PGSERVICE names it too; a service defined nowhere is an error naming it.
        let vars = [("PGSERVICEFILE", path.as_str()), ("PGSERVICE", "gone")];
        let (g, home) = env_of(&vars, None);
        let env = Env { var: &g, home };
        let mut u = Url::parse("postgres:///").unwrap();
        let e = fill_postgres(&mut u, &env, false).unwrap_err();
        assert!(
            e.contains("service \"gone\"") && e.contains("services"),
            "{e}"
        );
    }

    #[test]
    fn the_password_file_matches_like_libpq() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        private(
            &f,
            "# comment\nother:5432:*:app:no\ndb:5432:crm:app:first\\:one\\\\\ndb:*:*:*:second\n",
        );
        assert_eq!(
            pgpass_lookup(&f, ["db", "5432", "crm", "app"]).as_deref(),
            Some("first:one\\")
        );
        assert_eq!(
            pgpass_lookup(&f, ["db", "5433", "crm", "app"]).as_deref(),
            Some("second")
        );
        assert_eq!(pgpass_lookup(&f, ["nohost", "5432", "crm", "app"]), None);
        // The file named by PGPASSFILE, for the URL's host, default port and user.
        let path = f.to_str().unwrap().to_string();
        let vars = [("PGPASSFILE", path.as_str())];
        let (g, home) = env_of(&vars, None);
        let env = Env { var: &g, home };
        let mut u = Url::parse("postgres://app@db/crm").unwrap();
        fill_postgres(&mut u, &env, false).unwrap();
        assert_eq!(decoded(u.password().unwrap()), "first:one\\");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(pgpass_lookup(&f, ["db", "5432", "crm", "app"]), None);
        }
    }

    #[test]
    fn mysql_takes_mysql_pwd_then_the_client_section_of_my_cnf() {
        let dir = tempfile::tempdir().unwrap();
        private(
            &dir.path().join(".my.cnf"),
            "[mysql]\npassword = wrong\n[client]\nuser = reader\npassword = \"s3 cr#t\"\nport=3307\n[mysqldump]\nuser=x\n",
        );
        let (f, home) = env_of(&[], Some(dir.path().to_path_buf()));
        let env = Env { var: &f, home };
        let mut u = Url::parse("mysql://h/db").unwrap();
        fill_mysql(&mut u, &env, false);
        assert_eq!(u.username(), "reader");
        assert_eq!(u.port(), Some(3307));
        assert_eq!(decoded(u.password().unwrap()), "s3 cr#t");
        let vars = [("MYSQL_PWD", "fromenv")];
        let (g, home) = env_of(&vars, Some(dir.path().to_path_buf()));
        let env = Env { var: &g, home };
        let mut u = Url::parse("mysql://root@h/db").unwrap();
        fill_mysql(&mut u, &env, false);
        assert_eq!(u.username(), "root");
        assert_eq!(u.password(), Some("fromenv"));
    }
}
