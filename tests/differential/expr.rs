//! Random typed scalar expressions over the columns in scope, as SQL text
//! valid in PostgreSQL. Every composite is parenthesized, so operator
//! precedence never depends on the dialect.

use super::rng::Rng;
use super::schema::{
    int4_value, int8_value, int_sql, literal, text_literal, text_value, untyped_timestamp, Table,
    Ty,
};

/// The columns an expression may name, qualified (`a.c1`).
#[derive(Clone, Default)]
pub struct Scope {
    pub cols: Vec<(String, Ty)>,
}

impl Scope {
    pub fn of(table: &Table, alias: &str) -> Scope {
        let mut scope = Scope::default();
        scope.add(table, alias);
        scope
    }

    pub fn add(&mut self, table: &Table, alias: &str) {
        for c in &table.cols {
            self.cols.push((format!("{alias}.{}", c.name), c.ty));
        }
    }
}

/// Whether a column of type `have` may stand where `want` is asked for
/// (PostgreSQL casts it implicitly, and the result means the same).
fn fits(have: Ty, want: Ty) -> bool {
    have == want
        || matches!(
            (have, want),
            (Ty::Int4, Ty::Int8) | (Ty::Int4, Ty::Numeric) | (Ty::Varchar, Ty::Text)
        )
}

pub struct Gen<'a> {
    pub rng: &'a mut Rng,
    pub tables: &'a [Table],
    /// Whether productions excluded for known MosaicDB bugs are generated
    /// too (`MOSAIC_DIFF_KNOWN_BUGS=1`).
    pub known_bugs: bool,
    /// How many more levels of subquery an expression may open.
    pub sub_depth: u32,
    /// Subqueries opened so far, for fresh aliases.
    pub aliases: u32,
    /// Whether the expression being generated is an output column of the
    /// statement itself, evaluated for exactly the rows it returns.
    pub projecting: bool,
}

const CMP: &[&str] = &["=", "<>", "<", "<=", ">", ">="];

impl Gen<'_> {
    /// A column of the scope that fits `ty`, if any.
    pub fn column(&mut self, scope: &Scope, ty: Ty) -> Option<String> {
        let fitting: Vec<&String> = scope
            .cols
            .iter()
            .filter(|(_, t)| fits(*t, ty))
            .map(|(n, _)| n)
            .collect();
        (!fitting.is_empty()).then(|| self.rng.pick(&fitting).to_string())
    }

    /// An expression of type `ty`; `depth` bounds its nesting.
    pub fn expr(&mut self, scope: &Scope, ty: Ty, depth: u32) -> String {
        if depth == 0 || self.rng.chance(30) {
            return self.leaf(scope, ty);
        }
        let d = depth - 1;
        match ty {
            Ty::Int4 | Ty::Int8 => self.int_expr(scope, ty, d),
            Ty::Float8 => self.float_expr(scope, d),
            Ty::Numeric => self.numeric_expr(scope, d),
            Ty::Text | Ty::Varchar => self.text_expr(scope, d),
            Ty::Bool => self.bool_expr(scope, d),
            Ty::Date => self.date_expr(scope, d),
            Ty::Timestamp => self.timestamp_expr(scope, d),
            Ty::Interval => self.interval_expr(scope, d),
        }
    }

    /// A column (usually) or a literal.
    pub fn leaf(&mut self, scope: &Scope, ty: Ty) -> String {
        if self.rng.chance(75) {
            if let Some(c) = self.column(scope, ty) {
                return c;
            }
        }
        if ty == Ty::Bool && self.rng.chance(60) {
            let t = self.compare_type(scope);
            let a = self.leaf(scope, t);
            let b = if t == Ty::Timestamp && self.known_bugs && self.rng.chance(30) {
                untyped_timestamp(self.rng)
            } else {
                self.leaf(scope, t)
            };
            return format!("({a} {} {b})", self.rng.pick(CMP));
        }
        self.literal(ty)
    }

    /// A literal of `ty`, sometimes NULL.
    pub fn literal(&mut self, ty: Ty) -> String {
        literal(self.rng, ty, true, self.known_bugs)
    }

    /// A type to compare values of: one a column of the scope has, mostly.
    pub fn compare_type(&mut self, scope: &Scope) -> Ty {
        if self.rng.chance(80) && !scope.cols.is_empty() {
            let (_, t) = self.rng.pick(&scope.cols);
            if t != Ty::Varchar {
                return t;
            }
        }
        self.rng.pick(super::schema::COLUMN_TYPES)
    }

    /// An integer literal in `lo..=hi`.
    fn small(&mut self, lo: i64, hi: i64) -> String {
        int_sql(self.rng.range(lo, hi))
    }

    /// A divisor: a non-zero literal, or a column as `NULLIF(c, 0)`, or,
    /// in an output column, sometimes the bare column (a zero fails at run
    /// time on both sides). Never a constant expression: PostgreSQL folds
    /// those when planning and fails on a zero even where no row reaches
    /// it. And no zero divisor where the engines may evaluate in different
    /// orders or not at all (a WHERE conjunct PostgreSQL runs before a
    /// subquery conjunct that would have dropped the row, the right side of
    /// an INTERSECT whose left side is empty): such an error is no
    /// difference but reads as one.
    fn divisor(&mut self, scope: &Scope, ty: Ty) -> String {
        match self.column(scope, ty) {
            Some(c) if self.projecting && self.rng.chance(30) => c,
            Some(c) if self.rng.chance(70) => format!("NULLIF({c}, 0)"),
            _ => self.rng.pick(&["2", "3", "7", "(-2)", "10"]).to_string(),
        }
    }

    fn int_expr(&mut self, scope: &Scope, ty: Ty, d: u32) -> String {
        match self.rng.below(14) {
            0 | 1 => {
                let a = self.expr(scope, ty, d);
                let op = self.rng.pick(&["+", "-", "*"]);
                let b = self.expr(scope, ty, d);
                format!("({a} {op} {b})")
            }
            2 | 3 => {
                let a = self.expr(scope, ty, d);
                let b = self.divisor(scope, ty);
                format!("({a} {} {b})", self.rng.pick(&["/", "%"]))
            }
            4 => format!("(- {})", self.expr(scope, ty, d)),
            5 => format!("abs({})", self.expr(scope, ty, d)),
            6 => {
                let t = self.expr(scope, Ty::Text, d);
                match self.rng.below(3) {
                    0 => format!("length({t})"),
                    1 => format!("char_length({t})"),
                    _ => {
                        let needle = text_literal(self.rng.pick(&["a", "b", " ", ""]));
                        if self.rng.chance(50) {
                            format!("strpos({t}, {needle})")
                        } else {
                            format!("position({needle} in {t})")
                        }
                    }
                }
            }
            7 => self.case_expr(scope, ty, d),
            8 => self.coalesce_expr(scope, ty, d),
            9 if self.rng.chance(50) => {
                let x = self.expr(scope, Ty::Float8, d);
                format!("CAST({x} AS {})", ty.sql())
            }
            9 => {
                let f = self.rng.pick(&["trunc", "floor", "ceil"]);
                let x = self.expr(scope, Ty::Float8, d);
                format!("CAST({f}({x}) AS {})", ty.sql())
            }
            10 => {
                let a = self.expr(scope, Ty::Date, d);
                let b = self.expr(scope, Ty::Date, d);
                format!("({a} - {b})")
            }
            11 => format!("CAST({} AS {})", self.expr(scope, Ty::Bool, d), "int4"),
            12 => match self.scalar_subquery(scope, ty) {
                Some(s) => s,
                None => {
                    let v = if ty == Ty::Int4 {
                        int4_value(self.rng, self.known_bugs)
                    } else {
                        int8_value(self.rng)
                    };
                    int_sql(v)
                }
            },
            _ => {
                let f = self.rng.pick(&["greatest", "least"]);
                let a = self.expr(scope, ty, d);
                let b = self.expr(scope, ty, d);
                format!("{f}({a}, {b})")
            }
        }
    }

    fn float_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.rng.below(10) {
            0 | 1 => {
                let a = self.expr(scope, Ty::Float8, d);
                let op = self.rng.pick(&["+", "-", "*"]);
                // float8 ties (see schema::float_value): a product has a
                // small literal factor (or the overflowing 1e+100), so no
                // printed value gets near 2^53.
                let b = if op == "*" && !self.known_bugs {
                    format!(
                        "CAST({} AS float8)",
                        self.rng.pick(&["0.5", "(-2)", "3", "0.1", "12", "1e+100"])
                    )
                } else {
                    self.expr(scope, Ty::Float8, d)
                };
                format!("({a} {op} {b})")
            }
            2 => {
                let a = self.expr(scope, Ty::Float8, d);
                let n = self.rng.pick(&["2", "3", "(-4)", "0.5", "10"]);
                format!("({a} / {n})")
            }
            3 => format!("CAST({} AS float8)", self.expr(scope, Ty::Int4, d)),
            4 => {
                let f = self.rng.pick(&["abs", "round", "ceil", "floor", "trunc"]);
                format!("{f}({})", self.expr(scope, Ty::Float8, d))
            }
            5 if self.rng.chance(50) => {
                format!("({} * (-1))", self.expr(scope, Ty::Float8, d))
            }
            5 => format!("(- {})", self.expr(scope, Ty::Float8, d)),
            6 => self.case_expr(scope, Ty::Float8, d),
            7 => self.coalesce_expr(scope, Ty::Float8, d),
            8 => {
                let x = self.expr(scope, Ty::Float8, d);
                format!("sqrt(({x} * {x}))")
            }
            _ => {
                let a = self.expr(scope, Ty::Float8, d);
                let b = self.divisor(scope, Ty::Float8);
                format!("({a} / {b})")
            }
        }
    }

    fn numeric_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.rng.below(7) {
            0 | 1 => {
                let a = self.expr(scope, Ty::Numeric, d);
                let b = self.expr(scope, Ty::Numeric, d);
                format!("({a} {} {b})", self.rng.pick(&["+", "-", "*"]))
            }
            2 => format!("CAST({} AS numeric)", self.expr(scope, Ty::Int4, d)),
            3 => {
                let x = self.expr(scope, Ty::Numeric, d);
                format!("round({x}, {})", self.small(0, 2))
            }
            4 => format!("abs({})", self.expr(scope, Ty::Numeric, d)),
            5 => self.case_expr(scope, Ty::Numeric, d),
            _ => self.coalesce_expr(scope, Ty::Numeric, d),
        }
    }

    fn text_expr(&mut self, scope: &Scope, d: u32) -> String {
        let t = Ty::Text;
        match self.rng.below(18) {
            0 => format!("lower({})", self.expr(scope, t, d)),
            1 => format!("upper({})", self.expr(scope, t, d)),
            2 => {
                let s = self.expr(scope, t, d);
                let from = self.small(-2, 5);
                if self.rng.chance(50) {
                    format!("substr({s}, {from})")
                } else {
                    format!("substr({s}, {from}, {})", self.small(0, 4))
                }
            }
            3 | 4 => {
                let a = self.expr(scope, t, d);
                let b = self.expr(scope, t, d);
                format!("({a} || {b})")
            }
            5 => {
                // `||` with a float8 or bool: the value is rendered as
                //   SQLite text (`'a' || 1::float8` is `a1.0`, `'x' || true`
                //   is `x1`), so not in the default grammar.
                let others: &[Ty] = if self.known_bugs {
                    &[Ty::Int4, Ty::Int8, Ty::Date, Ty::Float8, Ty::Bool]
                } else {
                    &[Ty::Int4, Ty::Int8, Ty::Date]
                };
                let other = self.rng.pick(others);
                let a = self.expr(scope, t, d);
                let b = self.expr(scope, other, d);
                format!("({a} || {b})")
            }
            6 => {
                let f = self
                    .rng
                    .pick(&["trim", "ltrim", "rtrim", "reverse", "initcap"]);
                format!("{f}({})", self.expr(scope, t, d))
            }
            7 => {
                let s = self.expr(scope, t, d);
                let from = text_literal(text_value(self.rng, self.known_bugs));
                let to = text_literal(self.rng.pick(&["", "X", "ab"]));
                format!("replace({s}, {from}, {to})")
            }
            8 => {
                let f = self.rng.pick(&["left", "right"]);
                format!("{f}({}, {})", self.expr(scope, t, d), self.small(-2, 4))
            }
            9 => {
                let f = self.rng.pick(&["lpad", "rpad"]);
                let s = self.expr(scope, t, d);
                format!("{f}({s}, {}, '*')", self.small(0, 6))
            }
            10 => format!("repeat({}, {})", self.expr(scope, t, d), self.small(0, 3)),
            11 => {
                let a = self.expr(scope, t, d);
                let b = self.expr(scope, Ty::Int4, d);
                format!("concat({a}, {b}, '|')")
            }
            12 => self.case_expr(scope, t, d),
            13 => self.coalesce_expr(scope, t, d),
            14 => {
                let s = self.expr(scope, t, d);
                match self.rng.below(2) {
                    0 => format!(
                        "split_part({s}, ' ', {})",
                        self.rng.pick(&["1", "2", "3", "(-1)"])
                    ),
                    _ => format!("btrim({s}, 'a ')"),
                }
            }
            15 if self.rng.chance(50) => {
                let template = self.rng.pick(&[
                    "'YYYY-MM-DD HH24:MI:SS.US'",
                    "'FMDay, FMDDth Mon YYYY'",
                    "'IYYY-IW-ID WW Q CC J'",
                    "'HH12:MI AM dy'",
                ]);
                let from = self.rng.pick(&[Ty::Timestamp, Ty::Date]);
                format!("to_char({}, {template})", self.expr(scope, from, d))
            }
            15 => {
                let template =
                    self.rng
                        .pick(&["'HH24:MI:SS'", "'FMDD HH12 MS'", "'YYYY MM DDD SSSS'"]);
                format!("to_char({}, {template})", self.expr(scope, Ty::Interval, d))
            }
            _ => {
                let from = self.rng.pick(&[
                    Ty::Int4,
                    Ty::Int8,
                    Ty::Float8,
                    Ty::Date,
                    Ty::Timestamp,
                    Ty::Interval,
                    Ty::Bool,
                ]);
                format!("CAST({} AS text)", self.expr(scope, from, d))
            }
        }
    }

    fn date_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.rng.below(6) {
            0 | 1 => {
                let a = self.expr(scope, Ty::Date, d);
                format!(
                    "({a} {} {})",
                    self.rng.pick(&["+", "-"]),
                    self.small(-40, 400)
                )
            }
            2 => format!("CAST({} AS date)", self.expr(scope, Ty::Timestamp, d)),
            3 => self.case_expr(scope, Ty::Date, d),
            4 => self.coalesce_expr(scope, Ty::Date, d),
            _ => {
                let f = self.rng.pick(&["greatest", "least"]);
                let a = self.expr(scope, Ty::Date, d);
                let b = self.expr(scope, Ty::Date, d);
                format!("{f}({a}, {b})")
            }
        }
    }

    fn timestamp_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.rng.below(6) {
            4 => {
                let t = self.expr(scope, Ty::Timestamp, d);
                let i = self.expr(scope, Ty::Interval, d);
                format!("({t} {} {i})", self.rng.pick(&["+", "-"]))
            }
            5 => {
                let t = self.expr(scope, Ty::Date, d);
                let i = self.expr(scope, Ty::Interval, d);
                format!("({t} + {i})")
            }
            0 => format!("CAST({} AS timestamp)", self.expr(scope, Ty::Date, d)),
            1 => {
                let unit = self
                    .rng
                    .pick(&["'year'", "'month'", "'day'", "'hour'", "'minute'"]);
                format!("date_trunc({unit}, {})", self.expr(scope, Ty::Timestamp, d))
            }
            2 => self.case_expr(scope, Ty::Timestamp, d),
            _ => self.coalesce_expr(scope, Ty::Timestamp, d),
        }
    }

    fn interval_expr(&mut self, scope: &Scope, d: u32) -> String {
        let i = Ty::Interval;
        match self.rng.below(9) {
            0 | 1 => {
                let a = self.expr(scope, i, d);
                let b = self.expr(scope, i, d);
                format!("({a} {} {b})", self.rng.pick(&["+", "-"]))
            }
            2 => {
                let a = self.expr(scope, i, d);
                let n = self.rng.pick(&["2", "3", "(-2)", "0.5", "1.5"]);
                if self.rng.chance(50) {
                    format!("({a} * {n})")
                } else {
                    format!("({n} * {a})")
                }
            }
            3 => format!("(- {})", self.expr(scope, i, d)),
            4 => self.case_expr(scope, i, d),
            5 => self.coalesce_expr(scope, i, d),
            6 => {
                let a = self.expr(scope, Ty::Timestamp, d);
                let b = self.expr(scope, Ty::Timestamp, d);
                format!("({a} - {b})")
            }
            // No justify_*: it respells a value (`-1 mons +30 days` as
            // `00:00:00`), and which spelling of equal values DISTINCT or
            // GROUP BY shows depends on the order rows are met in.
            7 => format!("({} + INTERVAL '1 day')", self.expr(scope, i, d)),
            _ => {
                let a = self.expr(scope, i, d);
                format!("({a} / {})", self.rng.pick(&["2", "3", "(-4)", "0.5"]))
            }
        }
    }

    fn case_expr(&mut self, scope: &Scope, ty: Ty, d: u32) -> String {
        let cond = self.expr(scope, Ty::Bool, d);
        let then = self.expr(scope, ty, d);
        if self.rng.chance(30) {
            return format!("(CASE WHEN {cond} THEN {then} END)");
        }
        let other = self.expr(scope, ty, d);
        format!("(CASE WHEN {cond} THEN {then} ELSE {other} END)")
    }

    fn coalesce_expr(&mut self, scope: &Scope, ty: Ty, d: u32) -> String {
        let a = self.expr(scope, ty, d);
        let b = self.expr(scope, ty, d);
        if self.rng.chance(25) {
            format!("NULLIF({a}, {b})")
        } else {
            format!("COALESCE({a}, {b})")
        }
    }
}
