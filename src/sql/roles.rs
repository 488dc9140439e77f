//! Role statements the parser reads only in another spelling: `CREATE
//! USER name …` is PostgreSQL's `CREATE ROLE name LOGIN …` (the parser
//! takes CREATE USER for Snowflake's statement).

use std::borrow::Cow;

use sqlparser::tokenizer::Token;

use super::tokens;

/// `CREATE USER name` respelled `CREATE ROLE name LOGIN` (LOGIN left out
/// when the statement says LOGIN or NOLOGIN itself).
pub fn respell_create_user(sql: &str) -> Cow<'_, str> {
    if !sql
        .as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"user"))
    {
        return sql.into();
    }
    let Some((tokens, texts)) = tokens::with_text(sql) else {
        return sql.into();
    };
    let word = tokens::is_word;
    let solid = tokens::solid(&tokens);
    let mut out: Vec<Cow<str>> = texts.iter().map(|t| Cow::Borrowed(*t)).collect();
    let mut changed = false;
    for (k, &i) in solid.iter().enumerate() {
        let at = |n: usize| solid.get(k + n).map(|&j| &tokens[j]);
        let starts = k == 0 || matches!(tokens[solid[k - 1]], Token::SemiColon);
        if !starts || !word(&tokens[i], "CREATE") || !at(1).is_some_and(|t| word(t, "USER")) {
            continue;
        }
        if at(2).is_some_and(|t| word(t, "MAPPING")) {
            continue;
        }
        let Some(&name) = solid.get(k + 2) else {
            continue;
        };
        let rest = solid[k + 3..]
            .iter()
            .take_while(|&&j| !matches!(tokens[j], Token::SemiColon));
        let says_login = rest
            .clone()
            .any(|&j| word(&tokens[j], "LOGIN") || word(&tokens[j], "NOLOGIN"));
        out[solid[k + 1]] = Cow::Borrowed("ROLE");
        if !says_login {
            out[name] = Cow::Owned(format!("{} LOGIN", texts[name]));
        }
        changed = true;
    }
    if !changed {
        return sql.into();
    }
    out.concat().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_user_is_a_role_that_logs_in() {
        assert_eq!(
            respell_create_user("CREATE USER alice PASSWORD 'user'"),
            "CREATE ROLE alice LOGIN PASSWORD 'user'"
        );
        assert_eq!(
            respell_create_user("create user \"Bob\" nologin; CREATE USER c"),
            "create ROLE \"Bob\" nologin; CREATE ROLE c LOGIN"
        );
        assert_eq!(
            respell_create_user("SELECT user FROM t"),
            "SELECT user FROM t"
        );
        assert_eq!(
            respell_create_user("CREATE USER MAPPING FOR x SERVER s"),
            "CREATE USER MAPPING FOR x SERVER s"
        );
    }
}
