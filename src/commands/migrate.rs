//! `reckon migrate`: run a plan (or dry-run it), and the `status`, `backup`, `restore` and
//! `forget` actions.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};
use indicatif::ProgressBar;

use reckon::error::{EXIT_CLEAN, EXIT_FINDINGS};
use reckon::migrate::backup;
use reckon::migrate::executor::{open_target, Executor, Progress, RunOptions, UnitOutcome};
use reckon::migrate::ledger::{LedgerRow, UNIT_ROW};
use reckon::migrate::plan::Plan;
use reckon::migrate::MigrateError;

use reckon::run::RunClock;

use super::printer::{json_of, save, write_ci, Mode, Printer, Report};
use crate::cli::{MigrateAction, MigrateArgs, PlanConn};

pub(crate) fn load(plan: &std::path::Path, conn: &PlanConn) -> Result<Plan, MigrateError> {
    if let Some(s) = &conn.source {
        reckon::source::SourceSpec::parse(s)?;
    }
    if let Some(t) = &conn.target {
        reckon::source::SourceSpec::parse(t)?;
    }
    Plan::load(plan, conn.source.as_deref(), conn.target.as_deref())
}

struct Bars<'a> {
    printer: &'a Printer,
    overall: ProgressBar,
    unit: Option<ProgressBar>,
    /// Rows of the current unit so far.
    done: u64,
}

impl Bars<'_> {
    fn new(printer: &Printer, units: usize) -> Bars<'_> {
        let overall = printer.bar(
            units as u64,
            "{prefix:>10} [{bar:30}] {pos}/{len} units {elapsed_precise} {msg}",
        );
        overall.set_prefix("plan");
        Bars {
            printer,
            overall,
            unit: None,
            done: 0,
        }
    }
}

impl Progress for Bars<'_> {
    fn unit(&mut self, unit: &str, rows: u64) {
        if let Some(b) = self.unit.take() {
            b.finish_and_clear();
        }
        let b = self.printer.bar(
            rows,
            "{prefix:>10} [{bar:30}] {human_pos}/{human_len} rows {per_sec} ETA {eta}",
        );
        b.set_prefix(unit.to_string());
        self.unit = Some(b);
        self.printer.heartbeat().start(&format!("unit {unit}"));
        self.done = 0;
    }
    fn rows(&mut self, rows: u64) {
        if let Some(b) = &self.unit {
            b.inc(rows);
        }
        self.done += rows;
        self.printer.heartbeat().rows(self.done);
    }
    fn phase(&mut self, unit: &str, phase: &str) {
        self.overall.set_message(format!("{unit}: {phase}"));
        if let Some(b) = &self.unit {
            b.set_message(phase.to_string());
        }
    }
    fn done(&mut self) {
        self.overall.inc(1);
    }
}

/// A run's outcomes, as `reckon migrate` prints them.
struct Outcomes<'a> {
    plan: &'a Plan,
    outcomes: &'a [UnitOutcome],
    dry_run: bool,
}

impl Outcomes<'_> {
    fn failed(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| o.status == "failed" || o.status == "verification_failed")
    }
}

impl Report for Outcomes<'_> {
    fn verdict(&self) -> String {
        if self.failed() { "FAILED" } else { "completed" }.into()
    }
    fn render(&self) -> String {
        render_outcomes(self.plan, self.outcomes, self.dry_run)
    }
    fn json(&self) -> Result<String> {
        json_of(self.outcomes)
    }
    fn files(&self) -> Option<String> {
        Some("migrate.json, run.json".into())
    }
    fn write(&self, dir: &Path, clock: &RunClock) -> Result<()> {
        reckon::report::table_file::write_json(&self.outcomes, &dir.join("migrate.json"))?;
        let timings = self
            .outcomes
            .iter()
            .map(|o| reckon::run::Timing {
                item: format!("unit {}", o.unit),
                seconds: o.seconds,
                rows: Some(o.rows),
            })
            .collect();
        super::write_run(
            dir,
            clock,
            "migrate",
            vec![self.plan.source.clone(), self.plan.target.clone()],
            if self.failed() {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            },
            timings,
        )
    }
}

/// Runs `reckon migrate`.
pub fn run(args: &MigrateArgs) -> Result<i32> {
    let printer = Printer::new(args.json, args.ci.quiet);
    match &args.action {
        Some(MigrateAction::Status { plan, conn, json }) => {
            status(&Printer::new(*json, false), &load(plan, conn)?)
        }
        Some(MigrateAction::Backup { plan, conn, dir }) => {
            let plan = load(plan, conn)?;
            let m = backup::backup(&plan, dir)?;
            printer.out(&render_backup(
                &m,
                &format!("backup written and verified: {}", dir.display()),
            ));
            Ok(EXIT_CLEAN)
        }
        Some(MigrateAction::Restore {
            plan,
            conn,
            from,
            wait,
        }) => {
            let plan = load(plan, conn)?;
            let m = backup::restore(&plan, from, Duration::from_secs(*wait))?;
            printer.out(&render_backup(
                &m,
                &format!(
                    "restored from {} and verified (every table read back)",
                    from.display()
                ),
            ));
            Ok(EXIT_CLEAN)
        }
        Some(MigrateAction::Forget { plan, conn, unit }) => {
            let plan = load(plan, conn)?;
            if plan.unit(unit).is_none() {
                printer.note(format_args!(
                    "note: unit '{unit}' is not in the plan; its ledger rows are dropped anyway"
                ));
            }
            let mut target = open_target(&plan)?;
            let tables: Vec<String> = plan.units.iter().map(|u| u.spec.target.clone()).collect();
            target.lock(&tables, Duration::from_secs(10))?;
            let n = target.forget(&plan.name, unit)?;
            printer.line(format_args!("forgot unit '{unit}': {n} ledger row(s) deleted; its rows and id map stay in the target, and the next run upserts them again"));
            Ok(EXIT_CLEAN)
        }
        None => run_plan(&printer, args),
    }
}

fn run_plan(printer: &Printer, args: &MigrateArgs) -> Result<i32> {
    let clock = reckon::run::RunClock::start();
    let path = args.plan.as_ref().expect("clap requires the plan");
    let plan = load(path, &args.conn)?;
    let item = match &args.item {
        Some(i) => Some(
            i.split_once(':')
                .map(|(u, k)| (u.to_string(), k.to_string()))
                .ok_or_else(|| MigrateError::Plan {
                    path: path.display().to_string(),
                    line: 0,
                    reason: format!("--item '{i}' is not UNIT:KEY"),
                })?,
        ),
        None => None,
    };
    let repair = args
        .keys_from
        .as_deref()
        .map(|dir| reckon::migrate::keys_from::read(dir, &plan))
        .transpose()?;
    if let Some(r) = &repair {
        let keys: usize = r.units.values().map(|k| k.len()).sum();
        printer.note(format_args!(
            "repairing {keys} key(s) the diff found missing or changed, in {} unit(s)",
            r.units.len()
        ));
        for (unit, keys) in &r.extra {
            let deletes = plan
                .units
                .iter()
                .any(|u| &u.spec.name == unit && u.spec.delete_missing);
            if !deletes {
                printer.note(format_args!("note: unit '{unit}': {} row(s) the target holds under keys the source does not were left in place (set delete_missing = true on the unit to delete them)", keys.len()));
            }
        }
    }
    let opts = RunOptions {
        dry_run: args.dry_run,
        unit: args.unit.clone(),
        keys: repair.as_ref().map(|r| r.units.clone()),
        delete: repair.as_ref().map(|r| r.extra.clone()),
        item,
        delta: args.delta,
        fail_fast: args.fail_fast,
        wait: Duration::from_secs(args.wait),
        log: args.log.clone(),
    };
    if let Some(dir) = &args.backup {
        if args.dry_run {
            printer.note("note: --dry-run writes nothing; no backup taken");
        } else {
            let m = backup::backup(&plan, dir)?;
            printer.out(&render_backup(
                &m,
                &format!("backup written and verified: {}", dir.display()),
            ));
        }
    }
    let out_dir = args
        .out
        .as_deref()
        .map(super::OutDir::prepare)
        .transpose()?;
    let mut exec = Executor::new(&plan, opts)?;
    let selected = match (&repair, args.unit.is_some() || args.item.is_some()) {
        (Some(r), _) => r.units.len(),
        (None, true) => 1,
        (None, false) => plan.units.len(),
    };
    let mut bars = Bars::new(printer, selected);
    let outcomes = exec.run(&mut bars)?;
    if let Some(b) = bars.unit.take() {
        b.finish_and_clear();
    }
    bars.overall.finish_and_clear();
    for o in &outcomes {
        if o.gone > o.deleted {
            printer.note(format_args!(
                "note: unit '{}': {} target row(s) have keys the source no longer holds; left in place (set delete_missing = true on the unit to delete them)",
                o.unit,
                o.gone - o.deleted
            ));
        }
    }
    let report = Outcomes {
        plan: &plan,
        outcomes: &outcomes,
        dry_run: args.dry_run,
    };
    save(out_dir, &report, &clock, |_| Ok(()))?;
    let cases = reckon::report::ci::migrate_cases(&outcomes);
    write_ci(
        &args.ci,
        "reckon migrate",
        &cases,
        &reckon::report::ci::cases_markdown(
            &format!("reckon migrate {}", plan.name),
            &report.verdict(),
            &cases,
        ),
    )?;
    printer.report(&report, args.out.as_deref())?;
    Ok(if report.failed() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

fn render_outcomes(plan: &Plan, outcomes: &[UnitOutcome], dry_run: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut t = table();
    t.set_header(vec![
        "unit", "status", "run", "rows", "written", "batches", "verified", "seconds", "rows/s",
    ]);
    for o in outcomes {
        let verified = match o.verify {
            Some((0, 0, 0)) => "equal".to_string(),
            Some((m, c, e)) => format!("{m} missing, {c} changed, {e} extra"),
            None => "-".into(),
        };
        let rate = if o.seconds > 0.0 && o.rows > 0 && o.batches_applied > 0 {
            format!("{:.0}", o.rows as f64 / o.seconds)
        } else {
            "-".into()
        };
        t.add_row(vec![
            Cell::new(&o.unit),
            Cell::new(&o.status),
            Cell::new(if o.run > 0 {
                format!("{} {}", o.kind, o.run)
            } else {
                "-".into()
            }),
            Cell::new(o.rows),
            Cell::new(o.written),
            Cell::new(format!(
                "{} new, {} done before / {}",
                o.batches_applied, o.batches_skipped, o.batches
            )),
            Cell::new(verified),
            Cell::new(format!("{:.2}", o.seconds)),
            Cell::new(rate),
        ]);
    }
    let _ = writeln!(
        out,
        "reckon migrate {} — plan '{}' ({} units){}",
        plan.path.display(),
        plan.name,
        plan.units.len(),
        if dry_run {
            " — DRY RUN, nothing written"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "{t}");
    for o in outcomes {
        for s in &o.statements {
            let _ = writeln!(out, "  {}: {s}", o.unit);
        }
        if let Some(e) = &o.error {
            let _ = writeln!(out, "✗ {}: {e}", o.unit);
        }
    }
    let done = outcomes
        .iter()
        .filter(|o| o.status == "completed" || o.status == "already completed")
        .count();
    if !dry_run {
        let _ = writeln!(
            out,
            "{done} of {} unit(s) completed and verified",
            outcomes.len()
        );
    }
    out
}

fn render_backup(m: &backup::Manifest, title: &str) -> String {
    let mut t = table();
    t.set_header(vec!["table", "rows", "rows hash", "file SHA-256"]);
    for b in &m.tables {
        t.add_row(vec![
            Cell::new(&b.table),
            Cell::new(if b.existed {
                b.rows.to_string()
            } else {
                "(absent)".into()
            }),
            Cell::new(&b.rows_hash[..16.min(b.rows_hash.len())]),
            Cell::new(b.sha256.as_deref().map_or("-", |s| &s[..16])),
        ]);
    }
    format!("{title}\n{t}\n")
}

fn status(printer: &Printer, plan: &Plan) -> Result<i32> {
    let mut target = open_target(plan)?;
    let rows = target.read_ledger(&plan.name)?;
    if printer.mode() == Mode::Json {
        printer.line(json_of(&rows)?);
        return Ok(EXIT_CLEAN);
    }
    let mut by_unit: BTreeMap<&str, Vec<&LedgerRow>> = BTreeMap::new();
    for r in &rows {
        by_unit.entry(r.unit.as_str()).or_default().push(r);
    }
    let mut t = table();
    t.set_header(vec![
        "#",
        "unit",
        "state",
        "run",
        "rows",
        "written",
        "batches",
        "source hash",
        "target hash",
        "finished",
        "seconds",
        "error",
    ]);
    let mut names: Vec<(String, String)> = plan
        .units
        .iter()
        .map(|u| ((u.ordinal + 1).to_string(), u.spec.name.clone()))
        .collect();
    for u in by_unit.keys() {
        if plan.unit(u).is_none() {
            names.push(("?".into(), format!("{u} (not in the plan)")));
        }
    }
    for (ord, name) in names {
        let key = name.split(" (").next().unwrap_or(&name);
        let list = by_unit.get(key).cloned().unwrap_or_default();
        let last_unit = list
            .iter()
            .filter(|r| r.batch == UNIT_ROW)
            .max_by_key(|r| r.run);
        let last_run = list.iter().map(|r| r.run).max();
        let batches: Vec<&&LedgerRow> = list
            .iter()
            .filter(|r| r.batch >= 0 && Some(r.run) == last_run)
            .collect();
        let state = match (last_unit, last_run) {
            (Some(u), Some(r)) if u.run == r => u.status.clone(),
            (_, Some(_)) => format!("in progress ({} batches applied)", batches.len()),
            _ => "pending".into(),
        };
        let short = |s: &Option<String>| {
            s.as_deref()
                .map_or("-".to_string(), |h| h[..12.min(h.len())].to_string())
        };
        t.add_row(vec![
            Cell::new(ord),
            Cell::new(name.clone()),
            Cell::new(state),
            Cell::new(last_run.map_or("-".into(), |r| {
                let kind = list
                    .iter()
                    .find(|x| x.run == r)
                    .map_or("", |x| x.kind.as_str());
                format!("{kind} {r}")
            })),
            Cell::new(
                last_unit.map_or(batches.iter().map(|b| b.rows_read).sum::<i64>(), |u| {
                    u.rows_read
                }),
            ),
            Cell::new(
                last_unit.map_or(batches.iter().map(|b| b.rows_written).sum::<i64>(), |u| {
                    u.rows_written
                }),
            ),
            Cell::new(batches.len()),
            Cell::new(last_unit.map_or("-".into(), |u| short(&u.source_hash))),
            Cell::new(last_unit.map_or("-".into(), |u| short(&u.target_hash))),
            Cell::new(last_unit.map_or("-", |u| u.finished_at.as_str())),
            Cell::new(last_unit.map_or("-".into(), |u| format!("{:.2}", u.seconds))),
            Cell::new(last_unit.and_then(|u| u.error.clone()).unwrap_or_default()),
        ]);
    }
    printer.line(format_args!(
        "ledger of plan '{}' in {}\n{t}",
        plan.name, target.display
    ));
    Ok(EXIT_CLEAN)
}
