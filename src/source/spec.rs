//! Parsing what a user types as a source (`postgres://…`, `mysql://…`, `sqlite://…`, a Parquet or
//! CSV path or glob) into a [`SourceSpec`], and showing it back with the password redacted.

use std::path::{Path, PathBuf};

use url::Url;

use super::SourceError;
use crate::error::register_secret;

/// A parsed source, before anything is opened.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// A PostgreSQL database (`postgres://` or `postgresql://`).
    Postgres(Url),
    /// A MySQL or MariaDB database (`mysql://` or `mariadb://`).
    Mysql(Url),
    /// An SQLite database file (`sqlite://path` or a `.db`/`.sqlite`/`.sqlite3` path).
    Sqlite(PathBuf),
    /// One or more Parquet files (a path or a glob); each file is one table.
    Parquet(Vec<PathBuf>),
    /// One or more CSV files (a path or a glob); each file is one table.
    Csv(Vec<PathBuf>),
}

impl SourceSpec {
    /// Parses a source as typed on the command line.
    ///
    /// Passwords found in URLs are registered with [`register_secret`] at once, so that no error
    /// raised from here on can print them.
    pub fn parse(input: &str) -> Result<SourceSpec, SourceError> {
        let input = input.trim();
        if let Some((scheme, _)) = input.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if scheme == "sqlite" {
                let path = &input["sqlite://".len()..];
                if path.is_empty() {
                    return Err(SourceError::BadSpec {
                        spec: input.to_string(),
                        reason: "no database path after sqlite://".into(),
                    });
                }
                return Ok(SourceSpec::Sqlite(PathBuf::from(path)));
            }
            let mut url = parse_db_url(input).map_err(|reason| SourceError::BadSpec {
                spec: redact_url_text(input),
                reason,
            })?;
            // What the URL leaves out comes from where users keep it (PG* variables and the
            // password file; MYSQL_PWD and ~/.my.cnf).
            let var = |k: &str| std::env::var(k).ok();
            let env = super::credentials::process_env(&var);
            let explicit = split_credentials(&input[scheme.len() + 3..])
                .is_some_and(|(userinfo, _)| userinfo.contains(':'));
            match scheme.as_str() {
                "postgres" | "postgresql" => super::credentials::fill_postgres(
                    &mut url, &env, explicit,
                )
                .map_err(|reason| SourceError::BadSpec {
                    spec: redact_url(&url),
                    reason,
                })?,
                "mysql" | "mariadb" => super::credentials::fill_mysql(&mut url, &env, explicit),
                _ => {}
            }
            if url.host_str().unwrap_or("").is_empty() {
                return Err(SourceError::BadSpec {
                    spec: redact_url(&url),
                    reason: "the URL has no host (nor PGHOST for PostgreSQL)".into(),
                });
            }
            let db = url.path().trim_start_matches('/');
            if db.is_empty() {
                return Err(SourceError::BadSpec {
                    spec: redact_url(&url),
                    reason: "the URL names no database (…/DBNAME; PGDATABASE for PostgreSQL)"
                        .into(),
                });
            }
            return match scheme.as_str() {
                "postgres" | "postgresql" => {
                    check_pg_sslmode(&url)?;
                    Ok(SourceSpec::Postgres(url))
                }
                "mysql" | "mariadb" => Ok(SourceSpec::Mysql(url)),
                other => Err(SourceError::BadSpec {
                    spec: redact_url(&url),
                    reason: format!("unknown scheme '{other}'"),
                }),
            };
        }
        let lower = input.to_ascii_lowercase();
        let is_glob = input.contains(['*', '?', '[']);
        let paths: Vec<PathBuf> = if is_glob {
            let mut v: Vec<PathBuf> = glob::glob(input)
                .map_err(|e| SourceError::BadSpec {
                    spec: input.to_string(),
                    reason: format!("bad glob pattern: {e}"),
                })?
                .filter_map(Result::ok)
                .collect();
            v.sort();
            if v.is_empty() {
                return Err(SourceError::FileNotFound {
                    path: input.to_string(),
                });
            }
            v
        } else {
            if !Path::new(input).exists() {
                return Err(SourceError::FileNotFound {
                    path: input.to_string(),
                });
            }
            vec![PathBuf::from(input)]
        };
        if lower.ends_with(".parquet") || lower.ends_with(".pq") {
            Ok(SourceSpec::Parquet(paths))
        } else if lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt") {
            Ok(SourceSpec::Csv(paths))
        } else if lower.ends_with(".db")
            || lower.ends_with(".sqlite")
            || lower.ends_with(".sqlite3")
        {
            Ok(SourceSpec::Sqlite(paths[0].clone()))
        } else {
            Err(SourceError::BadSpec {
                spec: input.to_string(),
                reason: "not a database URL and not a .parquet, .csv or .db path".into(),
            })
        }
    }

    /// The source as it may be shown anywhere: URLs with the password replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            SourceSpec::Postgres(u) | SourceSpec::Mysql(u) => redact_url(u),
            SourceSpec::Sqlite(p) => format!("sqlite://{}", p.display()),
            SourceSpec::Parquet(p) | SourceSpec::Csv(p) => {
                if p.len() == 1 {
                    p[0].display().to_string()
                } else {
                    format!("{} files ({}, …)", p.len(), p[0].display())
                }
            }
        }
    }
}

/// A URL with its password replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if let Some(q) = u.query().map(redact_query) {
        u.set_query(Some(&q));
    }
    u.to_string()
}

/// Query parameters that carry a password (`?password=…`, which both drivers accept).
const PASSWORD_PARAMS: &[&str] = &["password", "pass", "pwd", "sslpassword"];

fn password_param(key: &str) -> bool {
    PASSWORD_PARAMS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(key.trim()))
}

/// A query string with the value of every password parameter as `***`.
fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if password_param(k) => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Where the credentials of a database URL end, read as a driver would: everything before the
/// host's `@` is `user[:password]`, whatever the password holds (`/ # ? @` unencoded). The
/// PostgreSQL driver itself stops at the first `@`, which would cut a password holding one; reckon
/// takes the last `@` before the query string (or the last `@` at all when none stands before
/// it, for a password holding `?`), then hands both drivers a URL rebuilt with the credentials
/// percent-encoded, so the drivers, the display and the redactor agree. `None` when there is no
/// such `@`, or when what stands before it is a path, not credentials.
///
/// `postgres://u:5432/S3cret@host/db` is user `u` with password `5432/S3cret`, although a
/// generic URL parser sees host `u`, port 5432 and no password at all.
fn split_credentials(rest: &str) -> Option<(&str, &str)> {
    let at = match rest.find('?') {
        Some(q) if rest[..q].contains('@') => rest[..q].rfind('@')?,
        _ => rest.rfind('@')?,
    };
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    (userinfo.contains(':') || !userinfo.contains(['/', '?', '#'])).then_some((userinfo, host))
}

/// Parses a database URL with its credentials read as the drivers read them
/// ([`split_credentials`]), and rebuilds it with user and password percent-encoded, so the
/// drivers, the display and the redactor all agree on what the password is. The password, in
/// every form (as typed, decoded, encoded), is registered as a secret before anything can fail.
/// PostgreSQL `sslmode`: `disable`, `prefer` and `require` work (`require` with `sslrootcert=FILE`
/// checks the server's certificate against that CA, as libpq does). `verify-ca` and
/// `verify-full` are refused rather than silently weakened: the driver reckon reads through
/// (connectorx 0.4 on rust-postgres) cannot check a server's host name.
fn check_pg_sslmode(url: &Url) -> Result<(), SourceError> {
    let Some(mode) = url
        .query_pairs()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.into_owned())
    else {
        return Ok(());
    };
    let reason = match mode.as_str() {
        "disable" | "prefer" | "require" => return Ok(()),
        "verify-ca" => "sslmode=verify-ca is not supported by reckon's PostgreSQL driver; use sslmode=require&sslrootcert=CA_FILE, which verifies the server's certificate against that CA".to_string(),
        "verify-full" => "sslmode=verify-full is not supported: reckon's PostgreSQL driver cannot verify the server's host name; sslmode=require&sslrootcert=CA_FILE verifies the certificate against that CA, without the host name".to_string(),
        other => format!("sslmode '{other}' is not one of disable, prefer, require"),
    };
    Err(SourceError::BadSpec {
        spec: redact_url(url),
        reason,
    })
}

fn parse_db_url(input: &str) -> Result<Url, String> {
    register_url_secrets(input);
    let Some((scheme, rest)) = input.split_once("://") else {
        return Url::parse(input).map_err(|e| e.to_string());
    };
    let Some((userinfo, host)) = split_credentials(rest) else {
        return Url::parse(input).map_err(|e| e.to_string());
    };
    let mut url = Url::parse(&format!("{scheme}://{host}")).map_err(|e| e.to_string())?;
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    url.set_username(user)
        .map_err(|_| "the URL cannot carry a user name".to_string())?;
    if let Some(p) = password {
        url.set_password(Some(p))
            .map_err(|_| "the URL cannot carry a password".to_string())?;
        if let Some(encoded) = url.password() {
            register_secret(encoded);
        }
    }
    Ok(url)
}

/// Registers the password of every database URL in `text` (an argument, a config file) as a
/// secret, as typed and percent-decoded, so that [`crate::error::scrub`] removes it from any
/// output, error messages from argument parsing included.
pub fn register_url_secrets(text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let after = &rest[i + 3..];
        // The URL ends at white space or a quote (in TOML and on a command line).
        let end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(after.len());
        let url = &after[..end];
        let mut host = url;
        if let Some((userinfo, h)) = split_credentials(url) {
            host = h;
            if let Some((_, pw)) = userinfo.split_once(':') {
                register_secret(pw);
                if let Ok(decoded) = urlencoding_decode(pw) {
                    register_secret(&decoded);
                }
            }
        }
        // `?password=…` is a password too (both drivers read it).
        if let Some((_, query)) = host.split_once('?') {
            for kv in query.split('&') {
                if let Some((k, v)) = kv.split_once('=') {
                    if password_param(k) && !v.is_empty() {
                        register_secret(v);
                        if let Ok(decoded) = urlencoding_decode(v) {
                            register_secret(&decoded);
                        }
                    }
                }
            }
        }
        rest = &after[end..];
    }
}

/// Redacts `user:password@` in a string that did not parse as a URL.
fn redact_url_text(text: &str) -> String {
    if let Some((scheme, rest)) = text.split_once("://") {
        if let Some((userinfo, host)) = split_credentials(rest) {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    text.to_string()
}

pub(super) fn urlencoding_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_redacts_password() {
        let s = SourceSpec::parse("postgres://app:hunter2@db:5432/crm").unwrap();
        assert_eq!(s.display(), "postgres://app:***@db:5432/crm");
        assert!(crate::error::scrub("x hunter2 y").contains("***"));
    }

    #[test]
    fn sslmodes_that_cannot_be_honoured_are_refused_by_name() {
        for ok in ["disable", "prefer", "require"] {
            let url = format!("postgres://u:Zq81@h/db?sslmode={ok}");
            assert!(SourceSpec::parse(&url).is_ok(), "{ok}");
        }
        for (mode, says) in [
            ("verify-full", "host name"),
            ("verify-ca", "sslrootcert"),
            ("allow", "not one of"),
        ] {
            let url = format!("postgres://u:Zq81@h/db?sslmode={mode}");
            let e = SourceSpec::parse(&url).unwrap_err().to_string();
            assert!(e.contains(mode) && e.contains(says), "{e}");
            assert!(!e.contains("Zq81"), "{e}");
        }
        // MySQL's ssl-mode values are the driver's own (VERIFY_CA, VERIFY_IDENTITY work).
        assert!(SourceSpec::parse("mysql://u@h/db?ssl-mode=VERIFY_IDENTITY").is_ok());
    }

    #[test]
    fn a_password_given_as_a_query_parameter_is_hidden_too() {
        for url in [
            "mysql://u@h:3306/db?password=Sv9%2Fx%23y",
            "postgres://u@h/db?sslmode=require&password=Sv9%2Fx%23y",
        ] {
            let s = SourceSpec::parse(url).unwrap();
            let shown = s.display();
            assert!(!shown.contains("Sv9"), "{shown}");
            assert!(shown.contains("password=***"), "{shown}");
            for secret in ["Sv9%2Fx%23y", "Sv9/x#y"] {
                let out = crate::error::scrub(&format!("x {secret} y"));
                assert!(!out.contains("Sv9"), "{out}");
            }
        }
    }

    #[test]
    fn malformed_url_is_rejected_without_password() {
        let e = SourceSpec::parse("postgres://app:pw9@:bad:port/x").unwrap_err();
        assert!(!e.to_string().contains("pw9"), "{e}");
    }

    #[test]
    fn passwords_are_read_as_the_driver_reads_them() {
        for (url, pw) in [
            ("postgres://u:5432/S3cretA@host/db", "5432/S3cretA"),
            ("postgres://u:Hx#Q1@host:5432/db", "Hx#Q1"),
            ("mysql://u:Wq?Z2@host:3306/db", "Wq?Z2"),
            ("postgres://u:Pa@ss3@host/db", "Pa@ss3"),
            ("postgres://u:Pe%40ss4@host/db", "Pe%40ss4"),
        ] {
            let s = SourceSpec::parse(url).unwrap();
            let shown = s.display();
            assert!(!shown.contains(pw), "{url} shown as {shown}");
            assert!(shown.contains("***@host"), "{shown}");
            assert!(!crate::error::scrub(&format!("x {pw} y")).contains(pw));
            let (SourceSpec::Postgres(u) | SourceSpec::Mysql(u)) = s else {
                panic!("a database URL")
            };
            let decoded = urlencoding_decode(u.password().unwrap()).unwrap();
            let typed = urlencoding_decode(pw).unwrap();
            assert_eq!(decoded, typed, "the driver gets the password as typed");
            assert_eq!(u.host_str(), Some("host"));
        }
        // An `@` in the query string is not the end of the credentials.
        let s = SourceSpec::parse("postgres://u:Qs7@host/db?application_name=a@b").unwrap();
        assert_eq!(s.display(), "postgres://u:***@host/db?application_name=a@b");
        // Percent-encoded: the decoded form is a secret too.
        assert!(!crate::error::scrub("Pe@ss4").contains("Pe@ss4"));
    }

    #[test]
    fn url_without_database_is_rejected() {
        assert!(SourceSpec::parse("mysql://root@localhost").is_err());
    }
}
