//! `sql`: every row a query returns is a violation; its first columns are the sample key. Values
//! that may hold a sensitive column are shown as shapes.
//!
//! Why: a business rule no other kind says (an order's total is the sum of its lines, an end
//! date follows its start) is one query away, run where the data is.
//!
//! ```toml
//! [[rule]]
//! kind = "sql"
//! table = "orders"
//! query = "SELECT id, total FROM orders WHERE total < 0"
//! ```

use super::*;

/// Whether a `sql` rule's query names a sensitive column as a word (any case, quoted or not).
pub(super) fn query_names_sensitive(query: &str, ctx: &Ctx) -> bool {
    query
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| !w.is_empty() && ctx.sensitive(w))
}

/// Which returned columns of a query carry a table's column unrenamed, so that their name says
/// what they hold: per returned column (`n` of them), true when it may be judged by its name.
/// Only a single `SELECT` from plain tables qualifies, whose items are bare columns (`id`,
/// `c.id`) or `*`; an alias, an expression, a CTE or a subquery could carry a sensitive value
/// under another name, and then nothing qualifies.
pub(super) fn plain_returned_columns(query: &str, n: usize) -> Vec<bool> {
    use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement, TableFactor};
    let none = vec![false; n];
    let Ok(stmts) =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::GenericDialect {}, query)
    else {
        return none;
    };
    let [Statement::Query(q)] = stmts.as_slice() else {
        return none;
    };
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return none;
    };
    let plain_from = sel.from.iter().all(|t| {
        std::iter::once(&t.relation)
            .chain(t.joins.iter().map(|j| &j.relation))
            .all(|r| matches!(r, TableFactor::Table { args: None, .. }))
    });
    if q.with.is_some() || !plain_from {
        return none;
    }
    let bare = |item: &SelectItem| {
        matches!(
            item,
            SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_))
                | SelectItem::Wildcard(_)
                | SelectItem::QualifiedWildcard(..)
        )
    };
    if sel.projection.iter().all(bare) {
        vec![true; n]
    } else {
        none
    }
}

/// A custom query: every row it returns is a violation; its first columns are the key.
pub(super) fn sql_rule(
    target: &mut dyn Source,
    r: &Resolved,
    ctx: &Ctx,
) -> Result<RuleResult, CheckError> {
    let cols: Vec<String> = r.meta.columns.iter().map(|c| c.name.clone()).collect();
    let shown_cols: Vec<usize> = (0..cols.len().min(3)).collect();
    // A column is shown raw only when its name says what it holds and that is not sensitive:
    // when the query names a sensitive column, a renamed or computed column (`SELECT
    // upper(email) AS code`) may hold it, and is shown as a shape.
    let plain = match &r.rule.kind {
        RuleKind::Sql(q) if query_names_sensitive(q, ctx) => plain_returned_columns(q, cols.len()),
        _ => vec![true; cols.len()],
    };
    let sens: Vec<bool> = cols
        .iter()
        .zip(&plain)
        .map(|(c, p)| !p || ctx.sensitive(c))
        .collect();
    let names: Vec<String> = shown_cols.iter().map(|&i| cols[i].clone()).collect();
    let mut rows = 0u64;
    let mut samples = Samples::default();
    scan(target, &r.meta, &cols, |view| {
        for i in 0..view.rows {
            rows += 1;
            samples.push(row_key(view, &shown_cols, &names, &sens, i, rows), None);
        }
    })
    .map_err(|e| CheckError::Eval {
        rule: r.rule.name.clone(),
        reason: crate::error::scrub(&e.to_string()),
    })?;
    Ok(RuleResult {
        name: r.rule.name.clone(),
        kind: "sql".into(),
        table: r.rule.table.clone(),
        columns: Vec::new(),
        status: if rows == 0 { "pass" } else { "fail" }.into(),
        checked: rows,
        violations: rows,
        distinct: None,
        detail: format!("the query returned {rows} violating row(s)"),
        samples: samples.finish(ctx.samples),
        seconds: 0.0,
    })
}
