//! Boolean expressions: comparisons, AND/OR/NOT, IS NULL, IN, BETWEEN,
//! LIKE, and subqueries (IN, EXISTS, ANY/ALL, scalar).

use super::expr::{Gen, Scope};
use super::schema::{text_literal, Ty};

const CMP: &[&str] = &["=", "<>", "<", "<=", ">", ">="];

/// LIKE patterns: anchors, `%`, `_`, an escaped metacharacter, case.
const PATTERNS: &[&str] = &[
    "a%", "%a", "%b%", "_", "__", "%", "", "A%", "a_c", "%\\%%", "x\\_y", "h%o", "%ß%", "Ü%",
];

impl Gen<'_> {
    pub fn bool_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.rng.below(17) {
            0..=2 => {
                let t = self.compare_type(scope);
                let a = self.expr(scope, t, d);
                let b = self.expr(scope, t, d);
                format!("({a} {} {b})", self.rng.pick(CMP))
            }
            3 | 4 => {
                let a = self.expr(scope, Ty::Bool, d);
                let b = self.expr(scope, Ty::Bool, d);
                format!("({a} {} {b})", self.rng.pick(&["AND", "OR"]))
            }
            5 => format!("(NOT {})", self.expr(scope, Ty::Bool, d)),
            6 => {
                let t = self.compare_type(scope);
                let not = self.not();
                format!("({} IS {not}NULL)", self.expr(scope, t, d))
            }
            7 => self.in_list(scope, d),
            8 => {
                let t = self.compare_type(scope);
                let x = self.expr(scope, t, d);
                let lo = self.expr(scope, t, 0);
                let hi = self.expr(scope, t, 0);
                let not = self.not();
                format!("({x} {not}BETWEEN {lo} AND {hi})")
            }
            9 | 10 => self.like(scope, d),
            11 => {
                let t = self.compare_type(scope);
                let a = self.expr(scope, t, d);
                let b = self.expr(scope, t, d);
                let not = self.not();
                format!("({a} IS {not}DISTINCT FROM {b})")
            }
            12 => {
                let x = self.expr(scope, Ty::Bool, d);
                let not = self.not();
                let what = self.rng.pick(&["TRUE", "FALSE", "UNKNOWN"]);
                format!("({x} IS {not}{what})")
            }
            13 | 14 if self.sub_depth > 0 => self.subquery_pred(scope),
            15 => self.case_expr_bool(scope, d),
            _ => self.leaf(scope, Ty::Bool),
        }
    }

    fn not(&mut self) -> &'static str {
        if self.rng.chance(30) {
            "NOT "
        } else {
            ""
        }
    }

    fn case_expr_bool(&mut self, scope: &Scope, d: u32) -> String {
        let a = self.expr(scope, Ty::Bool, d);
        let b = self.expr(scope, Ty::Bool, d);
        format!("COALESCE({a}, {b})")
    }

    fn in_list(&mut self, scope: &Scope, d: u32) -> String {
        let t = self.compare_type(scope);
        let x = self.expr(scope, t, d);
        let n = self.rng.range(1, 4);
        let items: Vec<String> = (0..n)
            .map(|_| {
                if self.rng.chance(70) {
                    self.literal(t)
                } else {
                    self.leaf(scope, t)
                }
            })
            .collect();
        let not = self.not();
        format!("({x} {not}IN ({}))", items.join(", "))
    }

    fn like(&mut self, scope: &Scope, d: u32) -> String {
        let x = self.expr(scope, Ty::Text, d);
        let pattern = text_literal(self.rng.pick(PATTERNS));
        let not = self.not();
        let op = self.rng.pick(&["LIKE", "LIKE", "ILIKE"]);
        format!("({x} {not}{op} {pattern})")
    }

    /// A fresh table alias for a subquery, and a random table.
    fn sub_table(&mut self) -> (String, usize) {
        self.aliases += 1;
        (
            format!("s{}", self.aliases),
            self.rng.below(self.tables.len()),
        )
    }

    /// A WHERE clause for a subquery over `inner`: sometimes correlated on
    /// the join key with the outer scope, sometimes filtered.
    fn sub_where(&mut self, inner: &Scope, outer: &Scope, alias: &str) -> String {
        let mut conds = Vec::new();
        let outer_keys: Vec<&String> = outer
            .cols
            .iter()
            .filter(|(n, _)| n.ends_with(".k"))
            .map(|(n, _)| n)
            .collect();
        if !outer_keys.is_empty() && self.rng.chance(60) {
            let key = self.rng.pick(&outer_keys).to_string();
            conds.push(format!("{alias}.k = {key}"));
        }
        if self.rng.chance(60) {
            let mut both = inner.clone();
            both.cols.extend(outer.cols.iter().cloned());
            let projecting = self.projecting;
            (self.sub_depth, self.projecting) = (self.sub_depth - 1, false);
            let p = self.expr(&both, Ty::Bool, 2);
            (self.sub_depth, self.projecting) = (self.sub_depth + 1, projecting);
            conds.push(p);
        }
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        }
    }

    fn subquery_pred(&mut self, scope: &Scope) -> String {
        let (alias, t) = self.sub_table();
        let table = &self.tables[t];
        let inner = Scope::of(table, &alias);
        let (col, ty) = self.rng.pick(&inner.cols).clone();
        let ty = if ty == Ty::Varchar { Ty::Text } else { ty };
        let from = format!("{} {alias}", table.name);
        let filter = self.sub_where(&inner, scope, &alias);
        match self.rng.below(4) {
            0 => {
                let x = self.expr(scope, ty, 1);
                let not = self.not();
                format!("({x} {not}IN (SELECT {col} FROM {from}{filter}))")
            }
            1 => {
                let not = self.not();
                format!("({not}EXISTS (SELECT 1 FROM {from}{filter}))")
            }
            2 => {
                let x = self.expr(scope, ty, 1);
                let op = self.rng.pick(CMP);
                let q = self.rng.pick(&["ANY", "ALL"]);
                format!("({x} {op} {q} (SELECT {col} FROM {from}{filter}))")
            }
            _ => {
                let x = self.expr(scope, ty, 1);
                // PostgreSQL has no min/max over booleans (MosaicDB does).
                let agg = match ty {
                    Ty::Bool => self.rng.pick(&["bool_and", "bool_or"]),
                    _ => self.rng.pick(&["min", "max"]),
                };
                let op = self.rng.pick(CMP);
                format!("({x} {op} (SELECT {agg}({col}) FROM {from}{filter}))")
            }
        }
    }

    /// A subquery giving one value of `ty` (or NULL): an aggregate, or the
    /// first value in a total order. None when no table has such a column
    /// (or subqueries are used up).
    pub fn scalar_subquery(&mut self, scope: &Scope, ty: Ty) -> Option<String> {
        if self.sub_depth == 0 {
            return None;
        }
        let (alias, t) = self.sub_table();
        let table = &self.tables[t];
        let inner = Scope::of(table, &alias);
        let from = format!("{} {alias}", table.name);
        let filter = self.sub_where(&inner, scope, &alias);
        if matches!(ty, Ty::Int8) && self.rng.chance(40) {
            return Some(format!("(SELECT count(*) FROM {from}{filter})"));
        }
        let col = self.column(&inner, ty)?;
        let first_only = ty == Ty::Bool;
        Some(match if first_only { 2 } else { self.rng.below(3) } {
            0 => format!("(SELECT min({col}) FROM {from}{filter})"),
            1 => format!("(SELECT max({col}) FROM {from}{filter})"),
            _ => {
                let dir = self.rng.pick(&["ASC", "DESC"]);
                format!(
                    "(SELECT {col} FROM {from}{filter} ORDER BY {col} {dir} NULLS LAST LIMIT 1)"
                )
            }
        })
    }
}
