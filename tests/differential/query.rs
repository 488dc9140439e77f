//! Random SELECT statements over a table, a join or a derived table (or
//! CTE): projections, filters, grouping, window functions, set
//! operations. Each says whether its row order is determined (an ORDER BY
//! over every output column); otherwise its answers are compared as
//! sorted multisets.

use super::expr::{Gen, Scope};
use super::schema::{Ty, COLUMN_TYPES};

/// The FROM of a query: `with` goes before SELECT (a CTE, or nothing).
struct Source {
    with: String,
    from: String,
    scope: Scope,
}

pub struct Query {
    pub sql: String,
    /// Whether the statement fixes the order of its rows.
    pub ordered: bool,
}

impl Gen<'_> {
    /// One random query.
    pub fn query(&mut self) -> Query {
        self.aliases = 0;
        self.sub_depth = 1;
        match self.rng.weighted(&[40, 32, 8, 10, 10]) {
            0 => self.plain_select(),
            1 => self.grouped_select(),
            2 => self.aggregate_select(),
            3 => self.window_select(),
            _ => self.set_operation(),
        }
    }

    /// The type of an output column: one a column in scope has, mostly.
    pub fn output_type(&mut self, scope: &Scope) -> Ty {
        if self.rng.chance(60) {
            let (_, t) = self.rng.pick(&scope.cols);
            return t;
        }
        self.rng.pick(COLUMN_TYPES)
    }

    fn outputs(&mut self, scope: &Scope, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let t = self.output_type(scope);
                if t == Ty::Int8 && self.rng.chance(10) {
                    if let Some(s) = self.scalar_subquery(scope, t) {
                        return s;
                    }
                }
                self.projecting = true;
                let e = self.expr(scope, t, 3);
                self.projecting = false;
                e
            })
            .collect()
    }

    fn filter(&mut self, scope: &Scope, percent: usize) -> String {
        if self.rng.chance(percent) {
            format!(" WHERE {}", self.expr(scope, Ty::Bool, 3))
        } else {
            String::new()
        }
    }

    /// Sometimes ` ORDER BY` every output column (by position, in a random
    /// order and direction), then sometimes LIMIT/OFFSET; says whether it
    /// ordered.
    fn order_and_limit(&mut self, n: usize, percent: usize) -> (String, bool) {
        if !self.rng.chance(percent) {
            return (String::new(), false);
        }
        let mut positions: Vec<usize> = (1..=n).collect();
        for i in (1..positions.len()).rev() {
            positions.swap(i, self.rng.below(i + 1));
        }
        let keys: Vec<String> = positions
            .iter()
            .map(|p| {
                let dir = self.rng.pick(&["", " ASC", " DESC"]);
                let nulls = self.rng.pick(&["", "", " NULLS FIRST", " NULLS LAST"]);
                format!("{p}{dir}{nulls}")
            })
            .collect();
        let mut sql = format!(" ORDER BY {}", keys.join(", "));
        if self.rng.chance(40) {
            sql.push_str(&format!(" LIMIT {}", self.rng.range(0, 8)));
            if self.rng.chance(50) {
                sql.push_str(&format!(" OFFSET {}", self.rng.range(0, 6)));
            }
        }
        (sql, true)
    }

    /// What a query reads: a table, a join, or a derived table.
    fn source(&mut self) -> Source {
        match self.rng.weighted(&[50, 35, 15]) {
            0 => {
                let t = self.rng.below(self.tables.len());
                Source {
                    with: String::new(),
                    from: format!("{} a", self.tables[t].name),
                    scope: Scope::of(&self.tables[t], "a"),
                }
            }
            1 => self.join(),
            _ => self.derived(),
        }
    }

    /// `ta a JOIN tb b ON a.k = b.k …` (inner, left, right or full).
    fn join(&mut self) -> Source {
        let ta = self.rng.below(self.tables.len());
        let tb = self.rng.below(self.tables.len());
        let mut scope = Scope::of(&self.tables[ta], "a");
        scope.add(&self.tables[tb], "b");
        let kind =
            ["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"][self.rng.weighted(&[45, 40, 8, 7])];
        let mut on = "a.k = b.k".to_string();
        if self.rng.chance(30) {
            let sub = self.sub_depth;
            self.sub_depth = 0;
            on = format!("{on} AND {}", self.expr(&scope, Ty::Bool, 2));
            self.sub_depth = sub;
        }
        let from = format!(
            "{} a {kind} {} b ON {on}",
            self.tables[ta].name, self.tables[tb].name
        );
        Source {
            with: String::new(),
            from,
            scope,
        }
    }

    /// `(SELECT a.k AS k, … AS x0 …) d`, or the same as `WITH d AS (…)`.
    fn derived(&mut self) -> Source {
        let t = self.rng.below(self.tables.len());
        let inner = Scope::of(&self.tables[t], "a");
        let mut scope = Scope {
            cols: vec![("d.k".to_string(), Ty::Int4)],
        };
        let mut outs = vec!["a.k AS k".to_string()];
        for i in 0..self.rng.range(1, 3) {
            let ty = self.output_type(&inner);
            // Depth 1: the outer query nests these again, and int4 values
            // must stay clear of overflow (see schema::int4_value).
            outs.push(format!("{} AS x{i}", self.expr(&inner, ty, 1)));
            scope.cols.push((format!("d.x{i}"), ty));
        }
        let distinct = if self.rng.chance(20) { "DISTINCT " } else { "" };
        let filter = self.filter(&inner, 50);
        let select = format!(
            "SELECT {distinct}{} FROM {} a{filter}",
            outs.join(", "),
            self.tables[t].name
        );
        if self.rng.chance(50) {
            Source {
                with: format!("WITH d AS ({select}) "),
                from: "d".into(),
                scope,
            }
        } else {
            Source {
                with: String::new(),
                from: format!("({select}) d"),
                scope,
            }
        }
    }

    fn plain_select(&mut self) -> Query {
        let Source { with, from, scope } = self.source();
        let n = self.rng.range(1, 4) as usize;
        let outs = self.outputs(&scope, n);
        let distinct = if self.rng.chance(20) { "DISTINCT " } else { "" };
        let filter = self.filter(&scope, 65);
        let (order, ordered) = self.order_and_limit(n, 45);
        let sql = format!(
            "{with}SELECT {distinct}{} FROM {from}{filter}{order}",
            outs.join(", ")
        );
        Query { sql, ordered }
    }

    fn grouped_select(&mut self) -> Query {
        let Source { with, from, scope } = self.source();
        let keys: Vec<String> = (0..self.rng.range(1, 2))
            .map(|_| self.group_key(&scope))
            .collect();
        let aggs: Vec<String> = (0..self.rng.range(1, 3))
            .map(|_| self.aggregate(&scope).0)
            .collect();
        let filter = self.filter(&scope, 50);
        let having = self.having(&scope);
        let n = keys.len() + aggs.len();
        // avg compared (see aggregate): ORDER BY sorts avg's values as
        //   text, so the default grammar does not order by one.
        let avg = aggs.iter().any(|a| a.starts_with("avg("));
        let percent = if avg && !self.known_bugs { 0 } else { 40 };
        let (order, ordered) = self.order_and_limit(n, percent);
        let sql = format!(
            "{with}SELECT {}, {} FROM {from}{filter} GROUP BY {}{having}{order}",
            keys.join(", "),
            aggs.join(", "),
            keys.join(", ")
        );
        Query { sql, ordered }
    }

    fn aggregate_select(&mut self) -> Query {
        let Source { with, from, scope } = self.source();
        let aggs: Vec<String> = (0..self.rng.range(1, 4))
            .map(|_| self.aggregate(&scope).0)
            .collect();
        let filter = self.filter(&scope, 70);
        let sql = format!("{with}SELECT {} FROM {from}{filter}", aggs.join(", "));
        Query { sql, ordered: true }
    }

    fn window_select(&mut self) -> Query {
        let Source { with, from, scope } = self.source();
        let n = self.rng.range(1, 2) as usize;
        let mut outs = self.outputs(&scope, n);
        for _ in 0..self.rng.range(1, 2) {
            outs.push(self.window(&scope));
        }
        let filter = self.filter(&scope, 50);
        let (order, ordered) = self.order_and_limit(outs.len(), 40);
        let sql = format!(
            "{with}SELECT {} FROM {from}{filter}{order}",
            outs.join(", ")
        );
        Query { sql, ordered }
    }

    fn set_operation(&mut self) -> Query {
        let n = self.rng.range(1, 2) as usize;
        let types: Vec<Ty> = (0..n).map(|_| self.rng.pick(COLUMN_TYPES)).collect();
        // INTERSECT ALL and EXCEPT ALL: rewritten over numbered rows.
        let op = [
            "UNION",
            "UNION ALL",
            "INTERSECT",
            "EXCEPT",
            "INTERSECT ALL",
            "EXCEPT ALL",
        ][self.rng.weighted(&[6, 6, 6, 6, 3, 3])];
        let mut sides = Vec::new();
        for alias in ["a", "b"] {
            let t = self.rng.below(self.tables.len());
            let scope = Scope::of(&self.tables[t], alias);
            let outs: Vec<String> = types.iter().map(|ty| self.expr(&scope, *ty, 2)).collect();
            let filter = self.filter(&scope, 50);
            sides.push(format!(
                "SELECT {} FROM {} {alias}{filter}",
                outs.join(", "),
                self.tables[t].name
            ));
        }
        let (order, ordered) = self.order_and_limit(n, 40);
        let sql = format!("{} {op} {}{order}", sides[0], sides[1]);
        Query { sql, ordered }
    }
}
