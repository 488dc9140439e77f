//! `ALTER SEQUENCE`, which sqlparser does not read: a small parser of its
//! own over sqlparser's tokens, placed before sqlparser like the other
//! pre-parses. Bad syntax gets PostgreSQL's 42601 at the token it trips on.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Word};

use crate::error::{Error, Result};
use crate::types::sequence::SeqOption;
use crate::types::PgType;

/// A parsed ALTER SEQUENCE.
#[derive(Debug, Clone, PartialEq)]
pub struct AlterSequence {
    pub if_exists: bool,
    pub name: String,
    pub options: Vec<SeqOption>,
    /// `OWNER TO role` (the role as written: a name, `current_user`,
    /// `current_role` or `session_user`), instead of options.
    pub owner: Option<String>,
}

/// Whether `sql` starts with `ALTER SEQUENCE`.
pub fn is_alter_sequence(sql: &str) -> bool {
    let mut words = sql.split_whitespace();
    matches!(
        (words.next(), words.next()),
        (Some(a), Some(s)) if a.eq_ignore_ascii_case("alter")
            && s.trim_end_matches(';').eq_ignore_ascii_case("sequence")
    )
}

/// A script holding a pre-parsed ALTER or domain statement (`pre_parsed`
/// says which) among other statements, cut into its statements (each
/// pre-parsed or parsed on its own); `None` for any other text.
pub fn split_script(sql: &str, pre_parsed: impl Fn(&str) -> bool) -> Option<Vec<String>> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("alter") && !lower.contains("domain") {
        return None;
    }
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    // Cut the text itself at each semicolon token (a token printed back
    // would not keep its quoting).
    let cuts: Vec<usize> = tokens
        .iter()
        .filter(|t| t.token == Token::SemiColon)
        .map(|t| {
            super::char_position(
                sql,
                t.span.start.line as usize,
                t.span.start.column as usize,
            )
        })
        .collect();
    let mut pieces = vec![String::new()];
    for (i, ch) in sql.chars().enumerate() {
        if cuts.contains(&(i + 1)) {
            pieces.push(String::new());
        } else {
            pieces.last_mut()?.push(ch);
        }
    }
    pieces.retain(|p| !p.trim().is_empty());
    (pieces.len() > 1 && pieces.iter().any(|p| pre_parsed(p))).then_some(pieces)
}

/// The words that begin an option (and end an `AS type`).
const OPTION_WORDS: &[&str] = &[
    "as",
    "increment",
    "minvalue",
    "maxvalue",
    "no",
    "start",
    "restart",
    "cache",
    "cycle",
    "owned",
];

pub(super) struct Cursor<'a> {
    sql: &'a str,
    pub(super) tokens: Vec<TokenWithSpan>,
    pub(super) at: usize,
}

impl Cursor<'_> {
    /// The tokens of `sql` (no whitespace).
    pub(super) fn new(sql: &str) -> Result<Cursor<'_>> {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .map_err(|e| Error::Syntax(e.message))?
            .into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .collect();
        Ok(Cursor { sql, tokens, at: 0 })
    }

    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|t| &t.token)
    }

    pub(super) fn word(&self) -> Option<&Word> {
        match self.peek() {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    /// Whether the next token is the unquoted keyword `kw`.
    pub(super) fn is(&self, kw: &str) -> bool {
        self.word()
            .is_some_and(|w| w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
    }

    pub(super) fn eat(&mut self, kw: &str) -> bool {
        let yes = self.is(kw);
        if yes {
            self.at += 1;
        }
        yes
    }

    /// Nothing but a final `;` is left.
    pub(super) fn finish(&mut self) -> Result<()> {
        if self.peek().is_some() && self.at + 1 < self.tokens.len() {
            self.at += 1;
            return Err(self.error());
        }
        Ok(())
    }

    /// The 1-based character position of the next token.
    pub(super) fn position(&self) -> usize {
        match self.tokens.get(self.at) {
            Some(t) => super::char_position(
                self.sql,
                t.span.start.line as usize,
                t.span.start.column as usize,
            ),
            None => self.sql.trim_end().trim_end_matches(';').chars().count() + 1,
        }
    }

    /// PostgreSQL's syntax error at the next token.
    pub(super) fn error(&self) -> Error {
        let msg = match self.peek() {
            Some(t) => format!("syntax error at or near \"{t}\""),
            None => "syntax error at end of input".into(),
        };
        Error::Syntax(msg).at_position(self.position())
    }

    pub(super) fn expect(&mut self, kw: &str) -> Result<()> {
        if self.eat(kw) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub(super) fn ident(&mut self) -> Result<String> {
        let Some(w) = self.word().cloned() else {
            return Err(self.error());
        };
        self.at += 1;
        let name = match w.quote_style {
            Some(_) => w.value,
            None => w.value.to_lowercase(),
        };
        Ok(super::truncate_identifier(name))
    }

    /// `a`, `a.b`, `a.b.c`.
    pub(super) fn dotted(&mut self) -> Result<Vec<String>> {
        let mut parts = vec![self.ident()?];
        while self.peek() == Some(&Token::Period) {
            self.at += 1;
            parts.push(self.ident()?);
        }
        Ok(parts)
    }

    /// An integer, possibly signed.
    fn number(&mut self) -> Result<i64> {
        let negative = match self.peek() {
            Some(Token::Minus) => true,
            Some(Token::Plus) => false,
            _ => return self.unsigned(),
        };
        self.at += 1;
        let n = self.unsigned_text()?;
        let text = if negative { format!("-{n}") } else { n };
        parse_bigint(&text)
    }

    fn unsigned(&mut self) -> Result<i64> {
        let n = self.unsigned_text()?;
        parse_bigint(&n)
    }

    fn unsigned_text(&mut self) -> Result<String> {
        match self.peek() {
            Some(Token::Number(n, _)) if n.bytes().all(|b| b.is_ascii_digit()) => {
                let n = n.clone();
                self.at += 1;
                Ok(n)
            }
            _ => Err(self.error()),
        }
    }
}

fn parse_bigint(text: &str) -> Result<i64> {
    text.parse::<i64>().map_err(|_| {
        Error::NumericOutOfRange(format!("value \"{text}\" is out of range for type bigint"))
    })
}

/// Parse `ALTER SEQUENCE [IF EXISTS] name option …` or `… OWNER TO role`.
/// RENAME, SET SCHEMA and SET [UN]LOGGED are refused (0A000).
pub fn parse(sql: &str) -> Result<AlterSequence> {
    let mut c = Cursor::new(sql)?;
    c.expect("alter")?;
    c.expect("sequence")?;
    let if_exists = if c.eat("if") {
        c.expect("exists")?;
        true
    } else {
        false
    };
    let name = match c.dotted()?.as_slice() {
        [n] => n.clone(),
        [s, n] => crate::types::schema::qualify(s, n),
        other => {
            return Err(Error::Syntax(format!(
                "improper qualified name (too many dotted names): {}",
                other.join(".")
            )))
        }
    };
    if c.eat("owner") {
        c.expect("to")?;
        let owner = c.ident()?;
        c.finish()?;
        return Ok(AlterSequence {
            if_exists,
            name,
            options: vec![],
            owner: Some(owner),
        });
    }
    for what in ["rename", "set"] {
        if c.is(what) {
            return Err(Error::Unsupported(format!(
                "ALTER SEQUENCE … {}",
                what.to_uppercase()
            )));
        }
    }
    let mut options: Vec<SeqOption> = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    loop {
        if matches!(c.peek(), None | Some(Token::SemiColon)) && !options.is_empty() {
            break;
        }
        let at = c.position();
        let (key, option) = option(&mut c)?;
        if seen.contains(&key) {
            return Err(Error::Syntax("conflicting or redundant options".into()).at_position(at));
        }
        seen.push(key);
        options.push(option);
    }
    c.finish()?;
    Ok(AlterSequence {
        if_exists,
        name,
        options,
        owner: None,
    })
}

/// One option, with the key that a repeat of it conflicts on.
pub(super) fn option(c: &mut Cursor<'_>) -> Result<(&'static str, SeqOption)> {
    Ok(if c.eat("as") {
        ("as", SeqOption::Type(data_type(c)?))
    } else if c.eat("increment") {
        c.eat("by");
        ("increment", SeqOption::Increment(c.number()?))
    } else if c.eat("minvalue") {
        ("minvalue", SeqOption::Min(Some(c.number()?)))
    } else if c.eat("maxvalue") {
        ("maxvalue", SeqOption::Max(Some(c.number()?)))
    } else if c.eat("no") {
        if c.eat("minvalue") {
            ("minvalue", SeqOption::Min(None))
        } else if c.eat("maxvalue") {
            ("maxvalue", SeqOption::Max(None))
        } else if c.eat("cycle") {
            ("cycle", SeqOption::Cycle(false))
        } else {
            return Err(c.error());
        }
    } else if c.eat("start") {
        c.eat("with");
        ("start", SeqOption::Start(c.number()?))
    } else if c.eat("restart") {
        let with = c.eat("with");
        let number = matches!(
            c.peek(),
            Some(Token::Number(..) | Token::Minus | Token::Plus)
        );
        let value = if with || number {
            Some(c.number()?)
        } else {
            None
        };
        ("restart", SeqOption::Restart(value))
    } else if c.eat("cache") {
        ("cache", SeqOption::Cache(c.number()?))
    } else if c.eat("cycle") {
        ("cycle", SeqOption::Cycle(true))
    } else if c.eat("owned") {
        c.expect("by")?;
        ("owned", SeqOption::OwnedBy(owned_by(c)?))
    } else {
        return Err(c.error());
    })
}

/// `OWNED BY NONE | [public.]table.column`.
fn owned_by(c: &mut Cursor<'_>) -> Result<Option<(String, String)>> {
    let parts = c.dotted()?;
    match parts.as_slice() {
        [none] if none == "none" => Ok(None),
        [t, col] => Ok(Some((t.clone(), col.clone()))),
        [s, t, col] => Ok(Some((crate::types::schema::qualify(s, t), col.clone()))),
        _ => Err(Error::Syntax("invalid OWNED BY option".into())
            .with_hint("Specify OWNED BY table.column or OWNED BY NONE.")),
    }
}

/// The type after `AS`: its tokens up to the next option.
fn data_type(c: &mut Cursor<'_>) -> Result<PgType> {
    let start = c.at;
    let mut depth = 0i32;
    while let Some(t) = c.peek() {
        match t {
            Token::SemiColon => break,
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if depth == 0 && OPTION_WORDS.iter().any(|w| c.is(w)) => break,
            _ => {}
        }
        c.at += 1;
    }
    if c.at == start {
        return Err(c.error());
    }
    let text = c.tokens[start..c.at]
        .iter()
        .map(|t| t.token.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let dt = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&text)
        .and_then(|mut p| p.parse_data_type())
        .map_err(|_| {
            Error::Syntax(format!(
                "syntax error at or near \"{}\"",
                c.tokens[start].token
            ))
        })?;
    PgType::from_sql(&dt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let a = parse("ALTER SEQUENCE IF EXISTS S restart with 5 increment by -2 no maxvalue as int cycle owned by public.t.c;")
            .unwrap();
        assert!(a.if_exists);
        assert_eq!(a.name, "s");
        assert_eq!(
            a.options,
            vec![
                SeqOption::Restart(Some(5)),
                SeqOption::Increment(-2),
                SeqOption::Max(None),
                SeqOption::Type(PgType::Int4),
                SeqOption::Cycle(true),
                SeqOption::OwnedBy(Some(("t".into(), "c".into()))),
            ]
        );
        assert_eq!(
            parse("alter sequence s restart").unwrap().options,
            vec![SeqOption::Restart(None)]
        );
    }

    #[test]
    fn bad_syntax_is_42601() {
        for sql in [
            "alter sequence s",
            "alter sequence s foo",
            "alter sequence s restart with",
            "alter sequence s increment 1 increment 2",
            "alter sequence s owned by c",
        ] {
            assert_eq!(parse(sql).unwrap_err().sqlstate(), "42601", "{sql}");
        }
        assert!(is_alter_sequence("  ALTER  sequence s restart"));
        assert_eq!(
            split_script(
                "select 'a;''b'; ALTER SEQUENCE s RESTART;",
                is_alter_sequence
            )
            .unwrap(),
            vec!["select 'a;''b'", " ALTER SEQUENCE s RESTART"]
        );
        assert!(!is_alter_sequence("alter table s"));
    }
}
