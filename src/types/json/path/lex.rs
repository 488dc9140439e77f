//! The tokens of a jsonpath.

use super::syntax;
use crate::error::{Error, Result};
use crate::types::numeric::Numeric;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Dollar,
    At,
    Var(String),
    Str(String),
    Num(Numeric),
    Word(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Dot,
    Comma,
    Star,
    StarStar,
    Question,
    Plus,
    Minus,
    Slash,
    Percent,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
}

/// How a token reads in an error message.
pub fn text_of(t: Option<&Tok>) -> String {
    let Some(t) = t else {
        return String::new();
    };
    match t {
        Tok::Var(v) => format!("${v}"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Num(n) => n.to_string(),
        Tok::Word(w) => w.clone(),
        other => match other {
            Tok::Dollar => "$",
            Tok::At => "@",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Dot => ".",
            Tok::Comma => ",",
            Tok::Star => "*",
            Tok::StarStar => "**",
            Tok::Question => "?",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Eq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            _ => "!",
        }
        .to_string(),
    }
}

pub struct Lexer {
    toks: Vec<Tok>,
    at: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A double-quoted string's body, escapes read; `chars` is just past the
/// opening quote.
fn string(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Result<String> {
    let mut out = String::new();
    let bad = || Error::InvalidInput("invalid input syntax for type jsonpath".into());
    loop {
        let Some((_, c)) = chars.next() else {
            return Err(Error::Syntax(
                "unterminated quoted string in jsonpath input".into(),
            ));
        };
        match c {
            '"' => return Ok(out),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(bad());
                };
                match e {
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    'x' | 'u' => {
                        let braced = e == 'u' && chars.peek().is_some_and(|(_, c)| *c == '{');
                        if braced {
                            chars.next();
                        }
                        let want = match (e, braced) {
                            ('x', _) => 2,
                            (_, true) => 6,
                            _ => 4,
                        };
                        let mut hex = String::new();
                        while hex.len() < want {
                            match chars.peek() {
                                Some((_, h)) if h.is_ascii_hexdigit() => {
                                    hex.push(*h);
                                    chars.next();
                                }
                                _ => break,
                            }
                        }
                        if braced && chars.next().map(|(_, c)| c) != Some('}') {
                            return Err(bad());
                        }
                        if hex.is_empty() || (!braced && e == 'u' && hex.len() != 4) {
                            return Err(bad());
                        }
                        let code = u32::from_str_radix(&hex, 16).map_err(|_| bad())?;
                        match char::from_u32(code).filter(|c| *c != '\0') {
                            Some(c) => out.push(c),
                            None => {
                                return Err(Error::Unsupported(
                                    "this \\u escape in a jsonpath string (a surrogate or NUL)"
                                        .into(),
                                ))
                            }
                        }
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
}

impl Lexer {
    pub fn new(text: &str) -> Result<Lexer> {
        let mut toks = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let next = chars.peek().map(|(_, c)| *c);
            let two = |t: Tok, toks: &mut Vec<Tok>, chars: &mut std::iter::Peekable<_>| {
                let _: Option<(usize, char)> = Iterator::next(chars);
                toks.push(t);
            };
            match c {
                c if c.is_whitespace() => {}
                '$' => match next {
                    Some('"') => {
                        chars.next();
                        toks.push(Tok::Var(string(&mut chars)?));
                    }
                    Some(n) if is_ident_start(n) => {
                        let mut name = String::new();
                        while let Some((_, n)) = chars.peek().copied().filter(|(_, n)| is_ident(*n))
                        {
                            name.push(n);
                            chars.next();
                        }
                        toks.push(Tok::Var(name));
                    }
                    _ => toks.push(Tok::Dollar),
                },
                '@' => toks.push(Tok::At),
                '"' => toks.push(Tok::Str(string(&mut chars)?)),
                '(' => toks.push(Tok::LParen),
                ')' => toks.push(Tok::RParen),
                '[' => toks.push(Tok::LBracket),
                ']' => toks.push(Tok::RBracket),
                '{' => toks.push(Tok::LBrace),
                '}' => toks.push(Tok::RBrace),
                '.' => toks.push(Tok::Dot),
                ',' => toks.push(Tok::Comma),
                '?' => toks.push(Tok::Question),
                '+' => toks.push(Tok::Plus),
                '-' => toks.push(Tok::Minus),
                '/' => toks.push(Tok::Slash),
                '%' => toks.push(Tok::Percent),
                '*' if next == Some('*') => two(Tok::StarStar, &mut toks, &mut chars),
                '*' => toks.push(Tok::Star),
                '=' if next == Some('=') => two(Tok::Eq, &mut toks, &mut chars),
                '!' if next == Some('=') => two(Tok::Ne, &mut toks, &mut chars),
                '!' => toks.push(Tok::Bang),
                '<' if next == Some('>') => two(Tok::Ne, &mut toks, &mut chars),
                '<' if next == Some('=') => two(Tok::Le, &mut toks, &mut chars),
                '<' => toks.push(Tok::Lt),
                '>' if next == Some('=') => two(Tok::Ge, &mut toks, &mut chars),
                '>' => toks.push(Tok::Gt),
                '&' if next == Some('&') => two(Tok::AndAnd, &mut toks, &mut chars),
                '|' if next == Some('|') => two(Tok::OrOr, &mut toks, &mut chars),
                c if c.is_ascii_digit() => {
                    let start = i;
                    let mut end = i + 1;
                    let mut seen_dot = false;
                    let mut seen_exp = false;
                    while let Some(&(j, d)) = chars.peek() {
                        let ok = d.is_ascii_digit()
                            || (d == '.' && !seen_dot && !seen_exp && {
                                // A dot is the number's only before a digit.
                                text[j + 1..].starts_with(|x: char| x.is_ascii_digit())
                            })
                            || ((d == 'e' || d == 'E') && !seen_exp);
                        if !ok {
                            break;
                        }
                        if d == '.' {
                            seen_dot = true;
                        }
                        if d == 'e' || d == 'E' {
                            seen_exp = true;
                            chars.next();
                            end = j + 1;
                            if let Some(&(k, s)) = chars.peek() {
                                if s == '+' || s == '-' {
                                    chars.next();
                                    end = k + 1;
                                }
                            }
                            continue;
                        }
                        chars.next();
                        end = j + d.len_utf8();
                    }
                    let lexeme = &text[start..end];
                    if chars.peek().is_some_and(|(_, c)| is_ident_start(*c)) {
                        return Err(Error::Syntax(format!(
                            "trailing junk after numeric literal at or near \"{lexeme}\" of jsonpath input"
                        )));
                    }
                    let n = Numeric::parse(lexeme).map_err(|_| syntax(lexeme))?;
                    toks.push(Tok::Num(n));
                }
                c if is_ident_start(c) => {
                    let mut word = c.to_string();
                    while let Some((_, n)) = chars.peek().copied().filter(|(_, n)| is_ident(*n)) {
                        word.push(n);
                        chars.next();
                    }
                    toks.push(Tok::Word(word));
                }
                other => return Err(syntax(&other.to_string())),
            }
        }
        Ok(Lexer { toks, at: 0 })
    }

    pub fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    pub fn peek_text(&self) -> String {
        text_of(self.peek())
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    pub fn at_end(&self) -> bool {
        self.at >= self.toks.len()
    }

    pub fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// The word `w` (keywords: `strict` and `lax` in any case, the others
    /// in lower case, as PostgreSQL reads them).
    pub fn eat_word(&mut self, w: &str) -> bool {
        let any_case = matches!(w, "strict" | "lax");
        match self.peek() {
            Some(Tok::Word(x)) if x == w || (any_case && x.eq_ignore_ascii_case(w)) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }
}
