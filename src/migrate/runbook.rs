//! `reckon runbook`: the execution runbook of a plan, in Markdown, written from what reckon knows
//! of it: the units in order with their keys, batches and the rows a dry run read, and every
//! command of the day (pre-checks, backup, units, validation, sign-off, cutover delta, rollback,
//! repair) as a real reckon command, in the order it is run. Passwords are never written: the
//! commands name the connections redacted, and reckon reads passwords from the places libpq and
//! the MySQL client read them.

use std::fmt::Write as _;

use super::plan::{Plan, Unit};

/// What the dry run found for one unit when the runbook was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    /// It read and transformed this many rows.
    Rows(u64),
    /// The target's ledger holds a completed full run of it: a run skips it.
    Done,
    /// It failed, for this reason.
    Failed(String),
}

/// What the runbook is written from.
pub struct Input<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The plan's path, as the commands give it.
    pub plan_arg: &'a str,
    /// `--source`/`--target` overrides as the commands give them (redacted), or empty.
    pub overrides: String,
    /// The source and target as shown (redacted).
    pub source_shown: String,
    /// The target, as shown.
    pub target_shown: String,
    /// Rows each unit read in a dry run, in plan order (`None`: not counted).
    pub counts: Option<Vec<Count>>,
    /// The sign-off spec's path, and its criteria as `name = value` lines.
    pub signoff: Option<(String, Vec<String>)>,
    /// Per unit, in plan order: the source table's columns the unit does not copy (left out of
    /// its validation diff).
    pub uncopied: Vec<Vec<String>>,
    /// Where the day's outputs go (`runs/crm`).
    pub runs: String,
    /// The backup directory.
    pub backup: String,
}

/// A word safe in a shell command as it is, else single-quoted.
pub fn sh(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:@=,+%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Whether a unit copies a table's columns as they are (every column, or columns each copied
/// under its own name, ids kept): its data can be diffed source against target directly.
pub fn diffable(u: &Unit) -> bool {
    u.spec.table.is_some()
        && u.spec.generated_id.is_none()
        && u.columns
            .iter()
            .all(|(to, c)| c.is_plain() && c.from.as_deref() == Some(to.as_str()))
}

fn block(out: &mut String, commands: &[String]) {
    let _ = writeln!(out, "```sh");
    for c in commands {
        let _ = writeln!(out, "{c}");
    }
    let _ = writeln!(out, "```\n");
}

/// The runbook.
pub fn render(i: &Input<'_>) -> String {
    let p = i.plan;
    let plan = format!("{}{}", sh(i.plan_arg), i.overrides);
    let mut out = String::new();
    let _ = writeln!(out, "# Runbook: migration plan `{}`\n", p.name);
    let _ = writeln!(
        out,
        "Written by `reckon runbook` (reckon {}) from `{}`. Run the commands in order, from the \
         directory this runbook was written in; each says what to expect. Everything a command \
         writes goes under `{}`.\n",
        env!("CARGO_PKG_VERSION"),
        i.plan_arg,
        i.runs
    );
    let _ = writeln!(out, "- Source: `{}`", i.source_shown);
    let _ = writeln!(out, "- Target: `{}`", i.target_shown);
    let _ = writeln!(
        out,
        "- Units, in order: {}",
        p.units
            .iter()
            .map(|u| format!("`{}`", u.spec.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "- Passwords are not in this file. reckon reads them as the database clients do: \
         `PGPASSWORD`, `~/.pgpass`, `PGSERVICE` and `pg_service.conf` for PostgreSQL; `MYSQL_PWD` \
         and `~/.my.cnf` for MySQL/MariaDB.\n"
    );

    let _ = writeln!(out, "## 1. Pre-migration checks\n");
    let _ = writeln!(
        out,
        "Record the source as it is before the move (row counts and statistics of every table; \
         the sign-off's `baseline` criterion can compare with it), and read and transform every \
         row once without writing (a dry run: a value that does not convert stops here, not on \
         the day). Expect exit code 0 from both.\n"
    );
    block(
        &mut out,
        &[
            format!(
                "reckon profile {} --out {}/baseline",
                sh(&i.source_shown),
                i.runs
            ),
            format!("reckon migrate {plan} --dry-run --out {}/dry-run", i.runs),
        ],
    );
    let _ = writeln!(
        out,
        "The units, and the rows each must move (counted by a dry run when this runbook was \
         written):\n"
    );
    let _ = writeln!(
        out,
        "| # | unit | reads | writes | key | batch | transaction | rows |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for (n, u) in p.units.iter().enumerate() {
        let reads = match (&u.spec.table, &u.spec.query_file) {
            (Some(t), _) => format!("table `{t}`"),
            (None, Some(f)) => format!("query `{f}`"),
            (None, None) => "a query".into(),
        };
        let rows = match i.counts.as_ref().and_then(|c| c.get(n)) {
            Some(Count::Rows(c)) => c.to_string(),
            Some(Count::Done) => "already completed".into(),
            Some(Count::Failed(_)) => "**dry run failed**".into(),
            None => "not counted".into(),
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {reads} | `{}` | {} | {} | {} | {rows} |",
            n + 1,
            u.spec.name,
            u.spec.target,
            u.spec.key.join(", "),
            u.batch_size,
            u.spec.transaction.as_deref().unwrap_or("unit")
        );
    }
    let _ = writeln!(
        out,
        "\nCheck the target's state: the ledger lists what earlier runs applied (on a first run, \
         no unit). Expect exit code 0.\n"
    );
    block(&mut out, &[format!("reckon migrate status {plan}")]);

    let _ = writeln!(out, "## 2. Backup\n");
    let _ = writeln!(
        out,
        "Snapshot every table the plan writes, as Parquet with a `manifest.json` (each table's \
         rows, canonical rows hash and file SHA-256). reckon reads the files back against the \
         manifest when it writes them, and checks them again before any restore. Expect exit \
         code 0 and `backup written and verified`.\n"
    );
    block(
        &mut out,
        &[format!("reckon migrate backup {plan} --dir {}", i.backup)],
    );

    let _ = writeln!(out, "## 3. The units, in order\n");
    let _ = writeln!(
        out,
        "Each unit commits with its ledger rows and is verified (its rows diffed with what the \
         target holds) before it counts as completed. A run that stops resumes where it stopped: \
         run the same command again. Exit code 0: completed; 1: verification failed (see section \
         4 and 7); 2: an error, named with a hint.\n"
    );
    for (n, u) in p.units.iter().enumerate() {
        let _ = writeln!(out, "### 3.{} `{}`\n", n + 1, u.spec.name);
        let mut notes = Vec::new();
        match i.counts.as_ref().and_then(|c| c.get(n)) {
            Some(Count::Rows(c)) => notes.push(format!("expect {c} rows read and verified")),
            Some(Count::Done) => notes.push(
                "the target's ledger already holds a completed run of this unit, so a run skips \
                 it (`reckon migrate forget` makes it run again)"
                    .into(),
            ),
            Some(Count::Failed(e)) => notes.push(format!(
                "**the dry run failed on this unit when this runbook was written** ({e}): fix that \
                 before the day, then write the runbook again"
            )),
            None => {}
        }
        if u.spec.generated_id.is_some() {
            notes.push("the target makes its own ids; the old → new ids go to the id map".into());
        }
        let lookups: Vec<&str> = u
            .columns
            .iter()
            .filter_map(|(_, c)| c.lookup.as_deref())
            .collect();
        if !lookups.is_empty() {
            notes.push(format!(
                "needs the id map of {} (earlier units)",
                lookups.join(", ")
            ));
        }
        if !u.columns.is_empty() {
            notes.push(format!("{} target columns mapped", u.columns.len()));
        }
        if !notes.is_empty() {
            let text = notes.join("; ");
            let mut c = text.chars();
            let first = c.next().map(|f| f.to_uppercase().collect::<String>());
            let _ = writeln!(out, "{}{}.\n", first.unwrap_or_default(), c.as_str());
        }
        block(
            &mut out,
            &[format!(
                "reckon migrate {plan} --unit {} --out {}/unit-{}",
                sh(&u.spec.name),
                i.runs,
                u.spec.name
            )],
        );
    }
    let _ = writeln!(
        out,
        "Then the ledger: every unit `completed`, with its rows and timings. Expect exit code \
         0.\n"
    );
    block(&mut out, &[format!("reckon migrate status {plan}")]);

    let _ = writeln!(out, "## 4. Validation\n");
    let plain: Vec<(usize, &Unit)> = p
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| diffable(u))
        .collect();
    if plain.is_empty() {
        let _ = writeln!(
            out,
            "Every unit maps its columns: each was verified row by row when it ran (section 3).\n"
        );
    } else {
        let _ = writeln!(
            out,
            "Units that copy a table's columns as they are are compared again, source against \
             target, cell by cell (the others were verified row by row when they ran). Exit code \
             0 is a match; 1 lists what differs in the directory given.\n"
        );
        let cmds: Vec<String> = plain
            .iter()
            .map(|&(n, u)| {
                let exclude = match i.uncopied.get(n) {
                    Some(cols) if !cols.is_empty() => {
                        format!(" --exclude {}", sh(&cols.join(",")))
                    }
                    _ => String::new(),
                };
                format!(
                    "reckon diff {} {} --table {} --key {}{exclude} --out {}/diff-{}",
                    sh(&i.source_shown),
                    sh(&i.target_shown),
                    sh(&format!(
                        "{}:{}",
                        u.spec.table.as_deref().unwrap_or_default(),
                        u.spec.target
                    )),
                    sh(&u.spec.key.join(",")),
                    i.runs,
                    u.spec.name
                )
            })
            .collect();
        block(&mut out, &cmds);
    }
    if let Some((spec, criteria)) = &i.signoff {
        let _ = writeln!(
            out,
            "The sign-off: both sides profiled, every pair diffed, the rules run, each criterion \
             judged with its evidence. Exit code 0 is PASS. Its criteria:\n"
        );
        for c in criteria {
            let _ = writeln!(out, "- `{c}`");
        }
        let _ = writeln!(out);
        block(
            &mut out,
            &[format!(
                "reckon signoff {} --out {}/signoff",
                sh(spec),
                i.runs
            )],
        );
    }

    let _ = writeln!(out, "## 5. Cutover: the delta\n");
    let delta: Vec<&Unit> = p
        .units
        .iter()
        .filter(|u| u.spec.updated_at.is_some())
        .collect();
    if delta.is_empty() {
        let _ = writeln!(
            out,
            "No unit names an `updated_at` column: there is no delta run. Freeze writes to the \
             source before section 3, or run the units again in full in the cutover window.\n"
        );
    } else {
        let _ = writeln!(
            out,
            "In the cutover window, with writes to the source stopped, copy what changed since \
             the last run (units {}: rows whose `updated_at` passed the last watermark; keys gone \
             from the source are counted, and deleted where the unit says \
             `delete_missing = true`). Then repeat section 4.\n",
            delta
                .iter()
                .map(|u| format!("`{}`", u.spec.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut cmds: Vec<String> = delta
            .iter()
            .map(|u| {
                format!(
                    "reckon migrate {plan} --unit {} --delta --out {}/delta-{}",
                    sh(&u.spec.name),
                    i.runs,
                    u.spec.name
                )
            })
            .collect();
        let rest: Vec<&Unit> = p
            .units
            .iter()
            .filter(|u| u.spec.updated_at.is_none())
            .collect();
        if !rest.is_empty() {
            let _ = writeln!(
                out,
                "Units without `updated_at` ({}) cannot tell what changed: they are run again in \
                 full (forgotten in the ledger, then run; rows that did not change are not \
                 rewritten).\n",
                rest.iter()
                    .map(|u| format!("`{}`", u.spec.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for u in rest {
                cmds.push(format!(
                    "reckon migrate forget {plan} --unit {}",
                    sh(&u.spec.name)
                ));
                cmds.push(format!(
                    "reckon migrate {plan} --unit {} --out {}/cutover-{}",
                    sh(&u.spec.name),
                    i.runs,
                    u.spec.name
                ));
            }
        }
        block(&mut out, &cmds);
    }

    let _ = writeln!(out, "## 6. Rollback\n");
    let _ = writeln!(
        out,
        "If the migration is abandoned: restore every table the plan writes from the backup of \
         section 2, in one transaction (the backup is checked against its manifest first, and \
         every table is read back after). Expect exit code 0 and `restored … and verified`. \
         The ledger in the target still lists the units as applied: forget them, so that a \
         later run moves them again, then check it.\n"
    );
    let mut cmds = vec![format!("reckon migrate restore {plan} --from {}", i.backup)];
    cmds.extend(
        p.units
            .iter()
            .map(|u| format!("reckon migrate forget {plan} --unit {}", sh(&u.spec.name))),
    );
    cmds.push(format!("reckon migrate status {plan}"));
    block(&mut out, &cmds);

    let _ = writeln!(out, "## 7. Repair instead of rollback\n");
    if plain.is_empty() {
        let _ = writeln!(
            out,
            "When a diff of source and target (`reckon diff … --out DIR`) finds a few rows \
             missing or changed, `reckon migrate {} --keys-from DIR` copies exactly those again \
             through the unit that owns the table, and verifies them.\n",
            sh(i.plan_arg)
        );
    } else {
        let _ = writeln!(
            out,
            "When section 4 finds a few rows missing or changed, copy exactly those again (through \
             the unit that owns the table) and verify them, instead of moving everything again; \
             then repeat section 4. With nothing to repair, it copies nothing and exits 0.\n"
        );
        let cmds: Vec<String> = plain
            .iter()
            .map(|(_, u)| {
                format!(
                    "reckon migrate {plan} --keys-from {}/diff-{}",
                    i.runs, u.spec.name
                )
            })
            .collect();
        block(&mut out, &cmds);
    }
    out
}

/// The commands of a runbook, in order: the lines of its `sh` blocks.
pub fn commands(runbook: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in runbook.lines() {
        match line.trim() {
            "```sh" => inside = true,
            "```" => inside = false,
            l if inside && !l.is_empty() => out.push(l.to_string()),
            _ => {}
        }
    }
    out
}
