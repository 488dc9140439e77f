//! Evaluating a jsonpath over a jsonb value, as PostgreSQL's executor
//! does: lax mode unwraps arrays for member accessors, filters and
//! methods, wraps other values for array accessors and ignores structural
//! errors; a predicate is true when any pair of its operands' items
//! satisfies it and unknown when a pair cannot be compared (in strict mode,
//! when any pair fails); `silent` turns the errors PostgreSQL lets it
//! suppress into no result.

use std::cmp::Ordering;

pub use super::item::Item;
use super::{Arith, Cmp, Expr, JsonPath, Method, Primary, Step};
use crate::error::{Error, Result};
use crate::types::numeric::Numeric;

/// What evaluating a path gave: its items (as far as it got), and whether
/// a suppressed error stopped it.
pub struct Outcome {
    pub items: Vec<Item>,
    pub error: bool,
}

/// An error: `Soft` is one `silent` suppresses (the evaluation stops with
/// no further result), `Hard` is raised in any case.
enum Ex {
    Soft,
    Hard(Error),
}

impl From<Error> for Ex {
    fn from(e: Error) -> Ex {
        Ex::Hard(e)
    }
}

type X<T> = std::result::Result<T, Ex>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum B3 {
    True,
    False,
    Unknown,
}

/// Where items go: all of them, or only whether there is one.
struct Found {
    items: Vec<Item>,
    first_only: bool,
}

impl Found {
    fn all() -> Found {
        Found {
            items: vec![],
            first_only: false,
        }
    }

    fn full(&self) -> bool {
        self.first_only && !self.items.is_empty()
    }
}

struct Cx<'a> {
    strict: bool,
    ignore_structural: bool,
    throw: bool,
    root: &'a Item,
    vars: &'a Item,
    current: Item,
    innermost: i64,
}

fn sqlstate_error(code: &'static str, msg: String) -> Error {
    Error::JsonPath(code, msg)
}

impl Cx<'_> {
    fn fail(&self, code: &'static str, msg: impl Into<String>) -> Ex {
        if self.throw {
            Ex::Hard(sqlstate_error(code, msg.into()))
        } else {
            Ex::Soft
        }
    }

    fn lax(&self) -> bool {
        !self.strict
    }

    /// Items of `e` evaluated at `jb`; arrays among them unwrapped in lax
    /// mode when `unwrap`.
    fn seq(&mut self, e: &Expr, jb: &Item, unwrap: bool) -> X<Vec<Item>> {
        let mut found = Found::all();
        self.exec(e, jb, &mut found)?;
        if !(unwrap && self.lax()) {
            return Ok(found.items);
        }
        let mut out = Vec::new();
        for i in found.items {
            match i {
                Item::Array(a) => out.extend(a),
                other => out.push(other),
            }
        }
        Ok(out)
    }

    /// `seq` with suppressible errors as `None`.
    fn seq_quiet(&mut self, e: &Expr, jb: &Item, unwrap: bool) -> X<Option<Vec<Item>>> {
        let throw = std::mem::replace(&mut self.throw, false);
        let r = self.seq(e, jb, unwrap);
        self.throw = throw;
        match r {
            Ok(v) => Ok(Some(v)),
            Err(Ex::Soft) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exec(&mut self, e: &Expr, jb: &Item, found: &mut Found) -> X<bool> {
        match e {
            Expr::Path(p, steps) => self.path(p, steps, jb, found),
            Expr::Arith(op, l, r) => {
                let ls = self.seq(l, jb, true)?;
                let rs = self.seq(r, jb, true)?;
                let name = match op {
                    Arith::Add => "+",
                    Arith::Sub => "-",
                    Arith::Mul => "*",
                    Arith::Div => "/",
                    Arith::Mod => "%",
                };
                let single = |s: &[Item], side: &str| {
                    match s {
                    [Item::Num(n)] => Ok(n.clone()),
                    _ => Err(self.fail(
                        "22038",
                        format!("{side} operand of jsonpath operator {name} is not a single numeric value"),
                    )),
                }
                };
                let (a, b) = (single(&ls, "left")?, single(&rs, "right")?);
                let v = match op {
                    Arith::Add => a.add(&b),
                    Arith::Sub => a.sub(&b),
                    Arith::Mul => a.mul(&b),
                    Arith::Div => a.div(&b),
                    Arith::Mod => a.rem(&b),
                };
                let v = match v {
                    Ok(v) => v,
                    Err(e) if self.throw => return Err(Ex::Hard(e)),
                    Err(_) => return Err(Ex::Soft),
                };
                found.items.push(Item::Num(v));
                Ok(true)
            }
            Expr::Neg(x) | Expr::Plus(x) => {
                let name = if matches!(e, Expr::Neg(_)) { "-" } else { "+" };
                let mut any = false;
                for v in self.seq(x, jb, true)? {
                    match v {
                        Item::Num(n) => {
                            let n = if name == "-" { n.neg() } else { n };
                            found.items.push(Item::Num(n));
                            any = true;
                            if found.full() {
                                return Ok(true);
                            }
                        }
                        _ if found.first_only => continue,
                        _ => {
                            return Err(self.fail(
                                "2203B",
                                format!(
                                "operand of unary jsonpath operator {name} is not a numeric value"
                            ),
                            ))
                        }
                    }
                }
                Ok(any)
            }
            pred => {
                let st = self.bool(pred, jb)?;
                found.items.push(match st {
                    B3::True => Item::Bool(true),
                    B3::False => Item::Bool(false),
                    B3::Unknown => Item::Null,
                });
                Ok(true)
            }
        }
    }

    fn path(&mut self, p: &Primary, steps: &[Step], jb: &Item, found: &mut Found) -> X<bool> {
        let v = match p {
            Primary::Root => self.root.clone(),
            Primary::Current => self.current.clone(),
            Primary::Last => {
                if self.innermost < 0 {
                    return Err(Ex::Hard(Error::Internal(
                        "jsonpath LAST outside of an array subscript".into(),
                    )));
                }
                Item::Num(Numeric::from_i64(self.innermost - 1))
            }
            Primary::Null => Item::Null,
            Primary::Bool(b) => Item::Bool(*b),
            Primary::Num(n) => Item::Num(n.clone()),
            Primary::Str(s) => Item::Str(s.clone()),
            Primary::Var(name) => match self.vars {
                Item::Object(o) => match o.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => v.clone(),
                    None => return Err(missing_var(name)),
                },
                _ => return Err(missing_var(name)),
            },
            Primary::Paren(e) => {
                let mut any = false;
                for v in self.seq(e, jb, false)? {
                    any |= self.steps(steps, &v, found, self.lax())?;
                    if found.full() {
                        break;
                    }
                }
                return Ok(any);
            }
        };
        let unwrap = self.lax();
        self.steps(steps, &v, found, unwrap)
    }

    /// Apply `steps` to `jb`; `unwrap`: an array may be unwrapped for the
    /// first step (lax mode).
    fn steps(&mut self, steps: &[Step], jb: &Item, found: &mut Found, unwrap: bool) -> X<bool> {
        let Some((step, rest)) = steps.split_first() else {
            found.items.push(jb.clone());
            return Ok(true);
        };
        let next_unwrap = self.lax();
        // Lax mode applies member accessors, filters and methods to each
        // element of an array.
        let per_element = unwrap
            && matches!(jb, Item::Array(_))
            && matches!(
                step,
                Step::Key(_)
                    | Step::AnyKey
                    | Step::Filter(_)
                    | Step::Method(Method::Abs)
                    | Step::Method(Method::Floor)
                    | Step::Method(Method::Ceiling)
                    | Step::Method(Method::Double)
            );
        if per_element {
            let Item::Array(elems) = jb else {
                return Ok(false);
            };
            let mut any = false;
            for e in elems {
                any |= self.steps(steps, e, found, false)?;
                if found.full() {
                    break;
                }
            }
            return Ok(any);
        }
        match step {
            Step::Key(k) => match jb {
                Item::Object(o) => match o.iter().find(|(key, _)| key == k) {
                    Some((_, v)) => self.steps(rest, v, found, next_unwrap),
                    None if self.ignore_structural => Ok(false),
                    None => {
                        Err(self.fail("2203A", format!("JSON object does not contain key \"{k}\"")))
                    }
                },
                _ if self.ignore_structural => Ok(false),
                _ => Err(self.fail(
                    "2203A",
                    "jsonpath member accessor can only be applied to an object",
                )),
            },
            Step::AnyKey => match jb {
                Item::Object(o) => self.each(rest, o.iter().map(|(_, v)| v), found),
                _ if self.ignore_structural => Ok(false),
                _ => Err(self.fail(
                    "2203C",
                    "jsonpath wildcard member accessor can only be applied to an object",
                )),
            },
            Step::AnyArray => match jb {
                Item::Array(a) => self.each(rest, a.iter(), found),
                _ if self.lax() => self.steps(rest, jb, found, next_unwrap),
                _ if self.ignore_structural => Ok(false),
                _ => Err(self.fail(
                    "22039",
                    "jsonpath wildcard array accessor can only be applied to an array",
                )),
            },
            Step::Index(list) => self.index(list, rest, jb, found),
            Step::Any { first, last } => self.any(*first, *last, rest, jb, found),
            Step::Filter(pred) => {
                let saved = std::mem::replace(&mut self.current, jb.clone());
                let st = self.bool(pred, jb);
                self.current = saved;
                match st? {
                    B3::True => self.steps(rest, jb, found, next_unwrap),
                    _ => Ok(false),
                }
            }
            Step::Method(m) => self.method(*m, rest, jb, found),
        }
    }

    fn each<'i>(
        &mut self,
        rest: &[Step],
        items: impl Iterator<Item = &'i Item>,
        found: &mut Found,
    ) -> X<bool> {
        let unwrap = self.lax();
        let mut any = false;
        for v in items {
            any |= self.steps(rest, v, found, unwrap)?;
            if found.full() {
                break;
            }
        }
        Ok(any)
    }

    fn index(
        &mut self,
        list: &[super::Subscript],
        rest: &[Step],
        jb: &Item,
        found: &mut Found,
    ) -> X<bool> {
        let elems: Vec<&Item> = match jb {
            Item::Array(a) => a.iter().collect(),
            _ if self.lax() => vec![jb],
            _ if self.ignore_structural => return Ok(false),
            _ => {
                return Err(self.fail(
                    "22039",
                    "jsonpath array accessor can only be applied to an array",
                ))
            }
        };
        let size = elems.len() as i64;
        let saved = std::mem::replace(&mut self.innermost, size);
        let r = (|| {
            let mut any = false;
            for s in list {
                let from = self.subscript(&s.from, jb)?;
                let to = match &s.to {
                    Some(t) => self.subscript(t, jb)?,
                    None => from,
                };
                if !self.ignore_structural && (from < 0 || from > to || to >= size) {
                    return Err(self.fail("22033", "jsonpath array subscript is out of bounds"));
                }
                let unwrap = self.lax();
                for i in from.max(0)..=to.min(size - 1) {
                    if let Some(v) = elems.get(i as usize) {
                        any |= self.steps(rest, v, found, unwrap)?;
                        if found.full() {
                            return Ok(any);
                        }
                    }
                }
            }
            Ok(any)
        })();
        self.innermost = saved;
        r
    }

    fn subscript(&mut self, e: &Expr, jb: &Item) -> X<i64> {
        let mut f = Found::all();
        self.exec(e, jb, &mut f)?;
        let [Item::Num(n)] = f.items.as_slice() else {
            return Err(self.fail(
                "22033",
                "jsonpath array subscript is not a single numeric value",
            ));
        };
        n.trunc(0)
            .and_then(|t| t.to_int(32))
            .map_err(|_| self.fail("22033", "jsonpath array subscript is out of integer range"))
    }

    fn any(
        &mut self,
        first: u32,
        last: u32,
        rest: &[Step],
        jb: &Item,
        found: &mut Found,
    ) -> X<bool> {
        let mut any = false;
        if first == 0 {
            let saved = std::mem::replace(&mut self.ignore_structural, true);
            let unwrap = self.lax();
            let r = self.steps(rest, jb, found, unwrap);
            self.ignore_structural = saved;
            any |= r?;
            if found.full() {
                return Ok(any);
            }
        }
        let saved = std::mem::replace(&mut self.ignore_structural, true);
        let r = self.descend(1, first, last, rest, jb, found);
        self.ignore_structural = saved;
        Ok(any | r?)
    }

    fn descend(
        &mut self,
        level: u32,
        first: u32,
        last: u32,
        rest: &[Step],
        jb: &Item,
        found: &mut Found,
    ) -> X<bool> {
        if level > last {
            return Ok(false);
        }
        let children: Vec<&Item> = match jb {
            Item::Array(a) => a.iter().collect(),
            Item::Object(o) => o.iter().map(|(_, v)| v).collect(),
            _ => return Ok(false),
        };
        let unwrap = self.lax();
        let mut any = false;
        for v in children {
            let container = matches!(v, Item::Array(_) | Item::Object(_));
            let leaves_only = first == u32::MAX && last == u32::MAX;
            if level >= first || (leaves_only && !container) {
                any |= self.steps(rest, v, found, unwrap)?;
                if found.full() {
                    return Ok(any);
                }
            }
            if level < last && container {
                any |= self.descend(level + 1, first, last, rest, v, found)?;
                if found.full() {
                    return Ok(any);
                }
            }
        }
        Ok(any)
    }

    fn method(&mut self, m: Method, rest: &[Step], jb: &Item, found: &mut Found) -> X<bool> {
        let unwrap = self.lax();
        let name = match m {
            Method::Type => "type",
            Method::Size => "size",
            Method::Double => "double",
            Method::Abs => "abs",
            Method::Floor => "floor",
            Method::Ceiling => "ceiling",
        };
        let v = match (m, jb) {
            (Method::Type, _) => Item::Str(jb.type_name().into()),
            (Method::Size, Item::Array(a)) => Item::Num(Numeric::from_i64(a.len() as i64)),
            (Method::Size, _) if self.lax() => Item::Num(Numeric::from_i64(1)),
            (Method::Size, _) if self.ignore_structural => return Ok(false),
            (Method::Size, _) => {
                return Err(self.fail(
                    "22039",
                    "jsonpath item method .size() can only be applied to an array",
                ))
            }
            (Method::Abs | Method::Floor | Method::Ceiling, Item::Num(n)) => {
                let r = match m {
                    Method::Abs => Ok(n.abs()),
                    Method::Floor => n.floor(),
                    _ => n.ceil(),
                };
                Item::Num(r.map_err(Ex::Hard)?)
            }
            (Method::Abs | Method::Floor | Method::Ceiling, _) => {
                return Err(self.fail(
                    "22036",
                    format!("jsonpath item method .{name}() can only be applied to a numeric value"),
                ))
            }
            (Method::Double, Item::Num(n)) => {
                if !n.to_f64().is_ok_and(f64::is_finite) {
                    return Err(self.fail(
                        "22036",
                        format!("numeric argument of jsonpath item method .{name}() is out of range for type double precision"),
                    ));
                }
                Item::Num(n.clone())
            }
            (Method::Double, Item::Str(s)) => {
                let parsed = crate::types::PgType::Float8.parse_text(s);
                let v = match parsed {
                    Ok(crate::types::Datum::Real(v)) if v.is_finite() => v,
                    _ => {
                        return Err(self.fail(
                            "22036",
                            format!("string argument of jsonpath item method .{name}() is not a valid representation of a double precision number"),
                        ))
                    }
                };
                Item::Num(Numeric::from_f64(v, 15).map_err(Ex::Hard)?)
            }
            (Method::Double, _) => {
                return Err(self.fail(
                    "22036",
                    format!("jsonpath item method .{name}() can only be applied to a string or numeric value"),
                ))
            }
        };
        self.steps(rest, &v, found, unwrap)
    }

    fn bool(&mut self, e: &Expr, jb: &Item) -> X<B3> {
        Ok(match e {
            Expr::And(l, r) => {
                let a = self.bool(l, jb)?;
                if a == B3::False {
                    return Ok(B3::False);
                }
                let b = self.bool(r, jb)?;
                if b == B3::True {
                    a
                } else {
                    b
                }
            }
            Expr::Or(l, r) => {
                let a = self.bool(l, jb)?;
                if a == B3::True {
                    return Ok(B3::True);
                }
                let b = self.bool(r, jb)?;
                if b == B3::False {
                    a
                } else {
                    b
                }
            }
            Expr::Not(x) => match self.bool(x, jb)? {
                B3::True => B3::False,
                B3::False => B3::True,
                B3::Unknown => B3::Unknown,
            },
            Expr::IsUnknown(x) => match self.bool(x, jb)? {
                B3::Unknown => B3::True,
                _ => B3::False,
            },
            Expr::Cmp(op, l, r) => self.predicate(l, Some(r), jb, true, &mut |a, b| {
                compare(*op, a, b.unwrap_or(&Item::Null))
            })?,
            Expr::StartsWith(l, r) => {
                self.predicate(l, Some(r), jb, false, &mut |a, b| match (a, b) {
                    (Item::Str(w), Some(Item::Str(p))) => {
                        if w.as_bytes().starts_with(p.as_bytes()) {
                            B3::True
                        } else {
                            B3::False
                        }
                    }
                    _ => B3::Unknown,
                })?
            }
            Expr::LikeRegex(l, pattern, flags) => {
                let re = like_regex(pattern, flags)?;
                self.predicate(l, None, jb, false, &mut |a, _| match a {
                    Item::Str(s) if re.is_match(s) => B3::True,
                    Item::Str(_) => B3::False,
                    _ => B3::Unknown,
                })?
            }
            Expr::Exists(x) => {
                let throw = std::mem::replace(&mut self.throw, false);
                let mut f = Found {
                    items: vec![],
                    first_only: !self.strict,
                };
                let r = self.exec(x, jb, &mut f);
                self.throw = throw;
                match r {
                    Ok(_) if f.items.is_empty() => B3::False,
                    Ok(_) => B3::True,
                    Err(Ex::Soft) => B3::Unknown,
                    Err(e) => return Err(e),
                }
            }
            other => {
                return Err(Ex::Hard(Error::Internal(format!(
                    "jsonpath boolean expected: {other:?}"
                ))))
            }
        })
    }

    /// PostgreSQL's `executePredicate`.
    fn predicate(
        &mut self,
        l: &Expr,
        r: Option<&Expr>,
        jb: &Item,
        unwrap_right: bool,
        test: &mut dyn FnMut(&Item, Option<&Item>) -> B3,
    ) -> X<B3> {
        let Some(ls) = self.seq_quiet(l, jb, true)? else {
            return Ok(B3::Unknown);
        };
        let rs = match r {
            Some(r) => match self.seq_quiet(r, jb, unwrap_right)? {
                Some(v) => Some(v),
                None => return Ok(B3::Unknown),
            },
            None => None,
        };
        let (mut error, mut found) = (false, false);
        for a in &ls {
            let rights: Vec<Option<&Item>> = match &rs {
                Some(v) => v.iter().map(Some).collect(),
                None => vec![None],
            };
            for b in rights {
                match test(a, b) {
                    B3::Unknown if self.strict => return Ok(B3::Unknown),
                    B3::Unknown => error = true,
                    B3::True if !self.strict => return Ok(B3::True),
                    B3::True => found = true,
                    B3::False => {}
                }
            }
        }
        Ok(if found {
            B3::True
        } else if error {
            B3::Unknown
        } else {
            B3::False
        })
    }
}

fn missing_var(name: &str) -> Ex {
    Ex::Hard(sqlstate_error(
        "42704",
        format!("could not find jsonpath variable \"{name}\""),
    ))
}

/// PostgreSQL's `compareItems`.
fn compare(op: Cmp, a: &Item, b: &Item) -> B3 {
    let ord = match (a, b) {
        (Item::Null, Item::Null) => Ordering::Equal,
        (Item::Null, _) | (_, Item::Null) => {
            return if op == Cmp::Ne { B3::True } else { B3::False };
        }
        (Item::Bool(x), Item::Bool(y)) => x.cmp(y),
        (Item::Num(x), Item::Num(y)) => x.total_cmp(y),
        (Item::Str(x), Item::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => return B3::Unknown,
    };
    let t = match op {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Ne => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    };
    if t {
        B3::True
    } else {
        B3::False
    }
}

/// A `like_regex` pattern with its flags (`i`, `s`, `m`, `q`; `x` is
/// refused: PostgreSQL's expanded syntax differs from the regex crate's).
fn like_regex(pattern: &str, flags: &str) -> X<regex::Regex> {
    if flags.contains('x') {
        return Err(Ex::Hard(Error::Unsupported("like_regex flag \"x\"".into())));
    }
    let quoted = flags.contains('q');
    if !quoted && (pattern.contains("\\b") || pattern.contains("\\B")) {
        return Err(Ex::Hard(Error::Unsupported(
            "\\b or \\B in like_regex (PostgreSQL reads \\b as a backspace)".into(),
        )));
    }
    let text = if quoted {
        regex::escape(pattern)
    } else {
        pattern.to_string()
    };
    regex::RegexBuilder::new(&text)
        .case_insensitive(flags.contains('i'))
        .dot_matches_new_line(flags.contains('s'))
        .multi_line(flags.contains('m'))
        .build()
        .map_err(|_| {
            Ex::Hard(Error::Unsupported(format!(
                "the regular expression \"{pattern}\" in like_regex (MosaicDB's regex engine does not read it)"
            )))
        })
}

/// Evaluate `path` over `target` (`vars`: an object of variables).
/// `first_only`: stop at the first item (an existence test). With
/// `silent`, suppressible errors end the evaluation with `error` set.
pub fn evaluate(
    path: &JsonPath,
    target: &Item,
    vars: &Item,
    silent: bool,
    first_only: bool,
) -> Result<Outcome> {
    if !matches!(vars, Item::Object(_)) {
        return Err(
            Error::InvalidParameter("\"vars\" argument is not an object".into()).with_detail(
                "Jsonpath parameters should be encoded as key-value pairs of \"vars\" object.",
            ),
        );
    }
    let mut cx = Cx {
        strict: path.strict,
        ignore_structural: !path.strict,
        throw: !silent,
        root: target,
        vars,
        current: target.clone(),
        innermost: -1,
    };
    // Strict mode looks at every item, to see that none is an error.
    let mut found = Found {
        items: vec![],
        first_only: first_only && !path.strict,
    };
    match cx.exec(&path.expr, target, &mut found) {
        Ok(_) => Ok(Outcome {
            items: found.items,
            error: false,
        }),
        Err(Ex::Soft) => Ok(Outcome {
            items: found.items,
            error: true,
        }),
        Err(Ex::Hard(e)) => Err(e),
    }
}
