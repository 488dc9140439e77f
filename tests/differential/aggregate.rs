//! Aggregates, HAVING, GROUP BY keys and window functions.

use super::expr::{Gen, Scope};
use super::schema::{literal, Ty};

/// The avg arm of [`Gen::aggregate`].
const AVG: usize = 4;

impl Gen<'_> {
    /// An aggregate over `scope` and the type of its value.
    pub fn aggregate(&mut self, scope: &Scope) -> (String, Ty) {
        let kind = self.rng.below(9);
        match kind {
            0 => ("count(*)".into(), Ty::Int8),
            1 => {
                let t = self.output_type(scope);
                (format!("count({})", self.expr(scope, t, 1)), Ty::Int8)
            }
            2 => {
                let t = self.output_type(scope);
                (
                    format!("count(DISTINCT {})", self.expr(scope, t, 1)),
                    Ty::Int8,
                )
            }
            // sum/avg only over integers and intervals (exact sums): over
            // float8 the result depends on the order of summation, which
            // differs across shards.
            3 => {
                let t = self.rng.pick(&[Ty::Int4, Ty::Int8, Ty::Interval]);
                let sum_ty = match t {
                    Ty::Int4 => Ty::Int8,
                    Ty::Interval => Ty::Interval,
                    _ => Ty::Numeric,
                };
                (format!("sum({})", self.expr(scope, t, 1)), sum_ty)
            }
            AVG => {
                let t = self.rng.pick(&[Ty::Int4, Ty::Int8, Ty::Interval]);
                let avg_ty = if t == Ty::Interval {
                    Ty::Interval
                } else {
                    Ty::Numeric
                };
                (format!("avg({})", self.expr(scope, t, 1)), avg_ty)
            }
            5 => {
                let f = self.rng.pick(&["bool_and", "bool_or"]);
                (format!("{f}({})", self.expr(scope, Ty::Bool, 1)), Ty::Bool)
            }
            6 => {
                let x = self.expr(scope, Ty::Text, 1);
                (format!("string_agg({x}, ',' ORDER BY {x})"), Ty::Text)
            }
            _ => {
                let mut t = self.output_type(scope);
                if t == Ty::Bool {
                    t = Ty::Int4;
                }
                let f = self.rng.pick(&["min", "max"]);
                (format!("{f}({})", self.expr(scope, t, 1)), t)
            }
        }
    }

    pub fn having(&mut self, scope: &Scope) -> String {
        if !self.rng.chance(35) {
            return String::new();
        }
        let (agg, t) = self.aggregate(scope);
        let op = self.rng.pick(&["=", "<>", "<", "<=", ">", ">="]);
        let value = match t {
            Ty::Int8 | Ty::Numeric => self.rng.range(0, 4).to_string(),
            _ => literal(self.rng, t, false, self.known_bugs),
        };
        format!(" HAVING {agg} {op} {value}")
    }

    /// A GROUP BY key that names a column: a column, or an expression over
    /// one. A bare constant is no key in PostgreSQL (`GROUP BY 'x'` fails
    /// with 42601, an integer is a position) though MosaicDB accepts it.
    pub fn group_key(&mut self, scope: &Scope) -> String {
        let t = self.output_type(scope);
        if self.rng.chance(40) {
            let key = self.expr(scope, t, 1);
            if scope.cols.iter().any(|(c, _)| key.contains(c.as_str())) {
                return key;
            }
        }
        let (c, _) = self.rng.pick(&scope.cols);
        c
    }

    /// A window function over `scope` whose value does not depend on how
    /// ties are broken: over whole partitions, or ranks and running
    /// aggregates whose frame takes in every peer.
    pub fn window(&mut self, scope: &Scope) -> String {
        let part = self.group_key(scope);
        let key = self.group_key(scope);
        let dir = self
            .rng
            .pick(&["", " DESC", " NULLS FIRST", " DESC NULLS LAST"]);
        let order = format!("ORDER BY {key}{dir}");
        let over = match self.rng.below(3) {
            0 => format!("PARTITION BY {part}"),
            1 => format!("PARTITION BY {part} {order}"),
            _ => order.clone(),
        };
        match self.rng.below(6) {
            0 => format!("count(*) OVER ({over})"),
            // Over integers only: see aggregate.
            1 => format!("sum({}) OVER ({over})", self.expr(scope, Ty::Int4, 1)),
            2 => {
                let t = match self.output_type(scope) {
                    Ty::Bool => Ty::Int4,
                    t => t,
                };
                let f = self.rng.pick(&["min", "max"]);
                format!("{f}({}) OVER ({over})", self.expr(scope, t, 1))
            }
            3 => format!("count({}) OVER ({over})", self.expr(scope, Ty::Int8, 1)),
            _ => {
                let f = self.rng.pick(&["rank", "dense_rank"]);
                match self.rng.below(2) {
                    0 => format!("{f}() OVER (PARTITION BY {part} {order})"),
                    _ => format!("{f}() OVER ({order})"),
                }
            }
        }
    }
}
