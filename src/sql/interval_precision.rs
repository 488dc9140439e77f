//! `INTERVAL(p) '…'`: the seconds precision written before the literal,
//! which sqlparser reads and drops. Respelled `INTERVAL '…' SECOND(p)`
//! before parsing, which reads the text the same way (a bare number
//! counts seconds either way, and SECOND drops no field) and keeps the
//! precision (`rewrite::expr`'s `interval_literal` rounds to it).

use sqlparser::tokenizer::Token;

/// The statement text with each `INTERVAL ( n ) 'text'` as
/// `INTERVAL 'text' SECOND(n)`; unchanged when it has none.
pub(super) fn respell(sql: &str) -> std::borrow::Cow<'_, str> {
    // Cheap test first, without a copy: every statement passes here.
    let written = (sql.as_bytes().windows(8).enumerate()).any(|(i, w)| {
        w.eq_ignore_ascii_case(b"interval")
            && sql
                .get(i + 8..)
                .is_some_and(|r| r.trim_start().starts_with('('))
    });
    if !written {
        return sql.into();
    }
    let Some((tokens, texts)) = super::tokens::with_text(sql) else {
        return sql.into();
    };
    let solid = super::tokens::solid(&tokens);
    let shape = |k: usize| {
        super::tokens::is_word(&tokens[solid[k]], "INTERVAL")
            && matches!(tokens[solid[k + 1]], Token::LParen)
            && matches!(tokens[solid[k + 2]], Token::Number(..))
            && matches!(tokens[solid[k + 3]], Token::RParen)
            && matches!(tokens[solid[k + 4]], Token::SingleQuotedString(_))
    };
    let at: Vec<usize> = (0..solid.len().saturating_sub(4))
        .filter(|&k| shape(k))
        .collect();
    if at.is_empty() {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    for k in at {
        out.extend(texts[i..=solid[k]].iter().copied());
        out.push(' ');
        out.push_str(texts[solid[k + 4]]);
        out.push_str(" SECOND(");
        out.push_str(texts[solid[k + 2]]);
        out.push(')');
        i = solid[k + 4] + 1;
    }
    out.extend(texts[i..].iter().copied());
    out.into()
}
