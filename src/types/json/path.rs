//! SQL/JSON path expressions (`jsonb_path_query(doc, '$.a[*] ? (@ > 1)')`)
//! as PostgreSQL 15 reads them: `lax` (the default) or `strict`, the
//! accessors `.key`, `."key"`, `.*`, `[i]`, `[i to j]`, `[last]`, `[*]`,
//! `.**{m to n}`, filters `? (…)`, arithmetic, comparisons, `&&`, `||`,
//! `!`, `exists (…)`, `(…) is unknown`, `starts with`, `like_regex`, `$var`
//! variables and the methods `type()`, `size()`, `double()`, `abs()`,
//! `floor()`, `ceiling()`. `keyvalue()` and `datetime()` are refused with
//! 0A000. The evaluation is `path::exec`'s.

mod exec;
mod item;
mod lex;

pub use exec::{evaluate, Item, Outcome};

use crate::error::{Error, Result};
use crate::types::numeric::Numeric;
use lex::{Lexer, Tok};

/// A parsed path: its mode and its expression.
#[derive(Debug, Clone)]
pub struct JsonPath {
    pub strict: bool,
    pub expr: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Type,
    Size,
    Double,
    Abs,
    Floor,
    Ceiling,
}

/// One subscript of `[…]`: an index or a range.
#[derive(Debug, Clone)]
pub struct Subscript {
    pub from: Expr,
    pub to: Option<Expr>,
}

/// A step after a primary.
#[derive(Debug, Clone)]
pub enum Step {
    Key(String),
    AnyKey,
    AnyArray,
    Index(Vec<Subscript>),
    /// `.**{first to last}`; `u32::MAX` is `last`.
    Any {
        first: u32,
        last: u32,
    },
    Filter(Box<Expr>),
    Method(Method),
}

#[derive(Debug, Clone)]
pub enum Primary {
    Root,
    Current,
    Last,
    Null,
    Bool(bool),
    Num(Numeric),
    Str(String),
    Var(String),
    /// A parenthesized expression or predicate followed by steps.
    Paren(Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Expr {
    Path(Primary, Vec<Step>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    Cmp(Cmp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    IsUnknown(Box<Expr>),
    Exists(Box<Expr>),
    StartsWith(Box<Expr>, Box<Expr>),
    LikeRegex(Box<Expr>, String, String),
}

impl Expr {
    /// Whether it is a predicate (its value is true, false or unknown).
    pub fn is_predicate(&self) -> bool {
        matches!(
            self,
            Expr::Cmp(..)
                | Expr::And(..)
                | Expr::Or(..)
                | Expr::Not(_)
                | Expr::IsUnknown(_)
                | Expr::Exists(_)
                | Expr::StartsWith(..)
                | Expr::LikeRegex(..)
        )
    }
}

pub(crate) fn syntax(near: &str) -> Error {
    if near.is_empty() {
        Error::Syntax("syntax error at end of jsonpath input".into())
    } else {
        Error::Syntax(format!(
            "syntax error at or near \"{near}\" of jsonpath input"
        ))
    }
}

impl JsonPath {
    /// Read `text` as PostgreSQL's jsonpath input does.
    pub fn parse(text: &str) -> Result<JsonPath> {
        let mut p = PathParser {
            lex: Lexer::new(text)?,
            in_filter: 0,
            in_subscript: 0,
        };
        let strict = if p.lex.eat_word("strict") {
            true
        } else {
            p.lex.eat_word("lax");
            false
        };
        let expr = p.or()?;
        if !p.lex.at_end() {
            return Err(syntax(&p.lex.peek_text()));
        }
        Ok(JsonPath { strict, expr })
    }
}

struct PathParser {
    lex: Lexer,
    in_filter: usize,
    in_subscript: usize,
}

impl PathParser {
    /// `e` where a predicate must stand (the operands of `&&`, `||` and
    /// `!`, a filter).
    fn predicate(&self, e: Expr) -> Result<Expr> {
        if e.is_predicate() {
            Ok(e)
        } else {
            Err(syntax(&self.lex.peek_text()))
        }
    }

    fn or(&mut self) -> Result<Expr> {
        let mut l = self.and()?;
        while self.lex.eat(&Tok::OrOr) {
            let r = self.and()?;
            l = Expr::Or(Box::new(self.predicate(l)?), Box::new(self.predicate(r)?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut l = self.not()?;
        while self.lex.eat(&Tok::AndAnd) {
            let r = self.not()?;
            l = Expr::And(Box::new(self.predicate(l)?), Box::new(self.predicate(r)?));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.lex.eat(&Tok::Bang) {
            // `!` takes a parenthesized predicate or `exists (…)`.
            if !matches!(self.lex.peek(), Some(Tok::LParen))
                && !matches!(self.lex.peek(), Some(Tok::Word(w)) if w == "exists")
            {
                return Err(syntax(&self.lex.peek_text()));
            }
            let e = self.accessor()?;
            return Ok(Expr::Not(Box::new(self.predicate(e)?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr> {
        let l = self.additive()?;
        let op = match self.lex.peek() {
            Some(Tok::Eq) => Cmp::Eq,
            Some(Tok::Ne) => Cmp::Ne,
            Some(Tok::Lt) => Cmp::Lt,
            Some(Tok::Le) => Cmp::Le,
            Some(Tok::Gt) => Cmp::Gt,
            Some(Tok::Ge) => Cmp::Ge,
            _ => return self.postfix_predicate(l),
        };
        self.lex.next();
        let r = self.additive()?;
        Ok(Expr::Cmp(op, Box::new(l), Box::new(r)))
    }

    /// `expr starts with …`, `expr like_regex …`, `(pred) is unknown`.
    fn postfix_predicate(&mut self, l: Expr) -> Result<Expr> {
        if self.lex.eat_word("starts") {
            if !self.lex.eat_word("with") {
                return Err(syntax(&self.lex.peek_text()));
            }
            let r = match self.lex.next() {
                Some(Tok::Str(s)) => Expr::Path(Primary::Str(s), vec![]),
                Some(Tok::Var(v)) => Expr::Path(Primary::Var(v), vec![]),
                other => return Err(syntax(&lex::text_of(other.as_ref()))),
            };
            return Ok(Expr::StartsWith(Box::new(l), Box::new(r)));
        }
        if self.lex.eat_word("like_regex") {
            let Some(Tok::Str(pattern)) = self.lex.next() else {
                return Err(syntax(&self.lex.peek_text()));
            };
            let flags = if self.lex.eat_word("flag") {
                match self.lex.next() {
                    Some(Tok::Str(f)) => f,
                    other => return Err(syntax(&lex::text_of(other.as_ref()))),
                }
            } else {
                String::new()
            };
            if let Some(c) = flags.chars().find(|c| !"isxmq".contains(*c)) {
                return Err(Error::InvalidParameter(format!(
                    "invalid input syntax for type jsonpath: unrecognized flag character \"{c}\" in LIKE_REGEX predicate"
                )));
            }
            return Ok(Expr::LikeRegex(Box::new(l), pattern, flags));
        }
        if l.is_predicate() && self.lex.eat_word("is") {
            if !self.lex.eat_word("unknown") {
                return Err(syntax(&self.lex.peek_text()));
            }
            return Ok(Expr::IsUnknown(Box::new(l)));
        }
        Ok(l)
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut l = self.multiplicative()?;
        loop {
            let op = match self.lex.peek() {
                Some(Tok::Plus) => Arith::Add,
                Some(Tok::Minus) => Arith::Sub,
                _ => return Ok(l),
            };
            self.lex.next();
            let r = self.multiplicative()?;
            l = Expr::Arith(op, Box::new(l), Box::new(r));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        let mut l = self.unary()?;
        loop {
            let op = match self.lex.peek() {
                Some(Tok::Star) => Arith::Mul,
                Some(Tok::Slash) => Arith::Div,
                Some(Tok::Percent) => Arith::Mod,
                _ => return Ok(l),
            };
            self.lex.next();
            let r = self.unary()?;
            l = Expr::Arith(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.lex.eat(&Tok::Minus) {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.lex.eat(&Tok::Plus) {
            return Ok(Expr::Plus(Box::new(self.unary()?)));
        }
        self.accessor()
    }

    fn accessor(&mut self) -> Result<Expr> {
        let primary = match self.lex.next() {
            Some(Tok::Dollar) => Primary::Root,
            Some(Tok::At) => {
                if self.in_filter == 0 {
                    return Err(Error::Syntax("@ is not allowed in root expressions".into()));
                }
                Primary::Current
            }
            Some(Tok::Var(v)) => Primary::Var(v),
            Some(Tok::Str(s)) => Primary::Str(s),
            Some(Tok::Num(n)) => Primary::Num(n),
            Some(Tok::Word(w)) if w == "null" => Primary::Null,
            Some(Tok::Word(w)) if w == "true" => Primary::Bool(true),
            Some(Tok::Word(w)) if w == "false" => Primary::Bool(false),
            Some(Tok::Word(w)) if w == "last" => {
                if self.in_subscript == 0 {
                    return Err(Error::Syntax(
                        "LAST is allowed only in array subscripts".into(),
                    ));
                }
                Primary::Last
            }
            Some(Tok::Word(w)) if w == "exists" => {
                self.expect(&Tok::LParen)?;
                let e = self.or()?;
                self.expect(&Tok::RParen)?;
                return Ok(Expr::Exists(Box::new(e)));
            }
            Some(Tok::LParen) => {
                let e = self.or()?;
                self.expect(&Tok::RParen)?;
                Primary::Paren(Box::new(e))
            }
            other => return Err(syntax(&lex::text_of(other.as_ref()))),
        };
        let mut steps = Vec::new();
        loop {
            match self.lex.peek() {
                Some(Tok::Dot) => {
                    self.lex.next();
                    steps.push(self.dot_step()?);
                }
                Some(Tok::LBracket) => {
                    self.lex.next();
                    steps.push(self.subscripts()?);
                }
                Some(Tok::Question) => {
                    self.lex.next();
                    self.expect(&Tok::LParen)?;
                    self.in_filter += 1;
                    let e = self.or();
                    self.in_filter -= 1;
                    let e = self.predicate(e?)?;
                    self.expect(&Tok::RParen)?;
                    steps.push(Step::Filter(Box::new(e)));
                }
                _ => break,
            }
        }
        // A parenthesized expression without steps is the expression.
        match primary {
            Primary::Paren(e) if steps.is_empty() => Ok(*e),
            primary => Ok(Expr::Path(primary, steps)),
        }
    }

    fn dot_step(&mut self) -> Result<Step> {
        match self.lex.next() {
            Some(Tok::Star) => Ok(Step::AnyKey),
            Some(Tok::StarStar) => self.any_levels(),
            Some(Tok::Str(s)) => Ok(Step::Key(s)),
            Some(Tok::Word(w)) => {
                if self.lex.peek() != Some(&Tok::LParen) {
                    return Ok(Step::Key(w));
                }
                let method = match w.to_ascii_lowercase().as_str() {
                    "type" => Method::Type,
                    "size" => Method::Size,
                    "double" => Method::Double,
                    "abs" => Method::Abs,
                    "floor" => Method::Floor,
                    "ceiling" => Method::Ceiling,
                    "keyvalue" | "datetime" => {
                        return Err(Error::Unsupported(format!("jsonpath item method .{w}()")))
                    }
                    _ => return Err(syntax("(")),
                };
                self.lex.next();
                self.expect(&Tok::RParen)?;
                Ok(Step::Method(method))
            }
            other => Err(syntax(&lex::text_of(other.as_ref()))),
        }
    }

    fn any_levels(&mut self) -> Result<Step> {
        if !self.lex.eat(&Tok::LBrace) {
            return Ok(Step::Any {
                first: 0,
                last: u32::MAX,
            });
        }
        let first = self.level()?;
        let last = if self.lex.eat_word("to") {
            self.level()?
        } else {
            first
        };
        self.expect(&Tok::RBrace)?;
        Ok(Step::Any { first, last })
    }

    fn level(&mut self) -> Result<u32> {
        match self.lex.next() {
            Some(Tok::Word(w)) if w == "last" => Ok(u32::MAX),
            Some(Tok::Num(n)) => n
                .to_int(32)
                .ok()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| syntax(&n.to_string())),
            other => Err(syntax(&lex::text_of(other.as_ref()))),
        }
    }

    fn subscripts(&mut self) -> Result<Step> {
        if self.lex.eat(&Tok::Star) {
            self.expect(&Tok::RBracket)?;
            return Ok(Step::AnyArray);
        }
        self.in_subscript += 1;
        let r = self.subscript_list();
        self.in_subscript -= 1;
        r
    }

    fn subscript_list(&mut self) -> Result<Step> {
        let mut list = Vec::new();
        loop {
            let from = self.or()?;
            let to = if self.lex.eat_word("to") {
                Some(self.or()?)
            } else {
                None
            };
            list.push(Subscript { from, to });
            if self.lex.eat(&Tok::Comma) {
                continue;
            }
            self.expect(&Tok::RBracket)?;
            return Ok(Step::Index(list));
        }
    }

    fn expect(&mut self, t: &Tok) -> Result<()> {
        if self.lex.eat(t) {
            Ok(())
        } else {
            Err(syntax(&self.lex.peek_text()))
        }
    }
}

/// What a path function answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// `jsonb_path_exists`, `@?`.
    Exists,
    /// `jsonb_path_match`, `@@`.
    Match,
    /// `jsonb_path_query_array` (and `jsonb_path_query`'s rows).
    Array,
    /// `jsonb_path_query_first`.
    First,
}

/// A path function's answer: a boolean or jsonb text, NULL as `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Bool(Option<bool>),
    Json(Option<String>),
}

fn item_of(text: &str) -> Result<Item> {
    let node = super::parse(text)
        .ok_or_else(|| Error::InvalidInput("invalid input syntax for type json".into()))?;
    Item::of(&node)
}

fn text_of(item: &Item) -> String {
    let mut out = String::new();
    super::write(&item.node(), &mut out);
    out
}

/// `want` of the path `path` over the jsonb `target`, with the variables
/// of the jsonb object `vars`, as PostgreSQL's functions answer.
pub fn answer(want: Want, target: &str, path: &str, vars: &str, silent: bool) -> Result<Answer> {
    let path = JsonPath::parse(path)?;
    let target = item_of(target)?;
    let vars = item_of(vars)?;
    let first_only = want == Want::Exists;
    let out = evaluate(&path, &target, &vars, silent, first_only)?;
    Ok(match want {
        Want::Exists if out.error => Answer::Bool(None),
        Want::Exists => Answer::Bool(Some(!out.items.is_empty())),
        Want::Match => match out.items.as_slice() {
            [Item::Bool(b)] => Answer::Bool(Some(*b)),
            [Item::Null] => Answer::Bool(None),
            _ if silent => Answer::Bool(None),
            _ => {
                return Err(Error::JsonPath(
                    "22038",
                    "single boolean result is expected".into(),
                ))
            }
        },
        Want::Array => Answer::Json(Some(text_of(&Item::Array(out.items)))),
        Want::First => Answer::Json(out.items.first().map(text_of)),
    })
}
