//! SQL text cut into sqlparser's tokens, each with the text it was read
//! from. The pre-parses that put a statement back together from its tokens
//! use that text: a token's own `Display` does not escape what it holds
//! (`'it''s'` would come back as `'it's'`).

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The tokens of `sql` and, for each, its source text; `None` when `sql`
/// does not tokenize. The texts put together are `sql`.
pub(crate) fn with_text(sql: &str) -> Option<(Vec<Token>, Vec<&str>)> {
    let spans = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let mut line_starts = vec![0];
    line_starts.extend(
        sql.bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1),
    );
    // Lines and columns count from 1, columns in characters.
    let offset = |line: u64, column: u64| -> Option<usize> {
        let start = *line_starts.get(usize::try_from(line.checked_sub(1)?).ok()?)?;
        let column = usize::try_from(column.checked_sub(1)?).ok()?;
        Some(match sql[start..].char_indices().nth(column) {
            Some((i, _)) => start + i,
            None => sql.len(),
        })
    };
    let mut starts = Vec::with_capacity(spans.len());
    for t in &spans {
        starts.push(offset(t.span.start.line, t.span.start.column)?);
    }
    if starts.first().is_some_and(|&s| s != 0) || starts.windows(2).any(|w| w[0] > w[1]) {
        return None;
    }
    let texts = (0..starts.len())
        .map(|i| &sql[starts[i]..starts.get(i + 1).copied().unwrap_or(sql.len())])
        .collect();
    Some((spans.into_iter().map(|t| t.token).collect(), texts))
}

/// Whether `t` is the unquoted keyword or name `w` (any case).
pub(crate) fn is_word(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w))
}

/// The positions of the tokens that are not whitespace, to match words
/// across spaces and comments.
pub(crate) fn solid(tokens: &[Token]) -> Vec<usize> {
    (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_the_source() {
        let sql = "SELECT 'it''s', E'a\\'b', \"we\"\"ird\", $$x$$\n  FROM  t -- é\n;";
        let (tokens, texts) = with_text(sql).expect("tokenizes");
        assert_eq!(tokens.len(), texts.len());
        assert_eq!(texts.concat(), sql);
        assert!(texts.contains(&"'it''s'"));
        assert!(texts.contains(&"\"we\"\"ird\""));
    }
}
