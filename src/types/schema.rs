//! Schemas (namespaces). A schema is a catalog object (`RelKind::Schema`)
//! under its own key, journaled and spread like a table. A relation in
//! schema `s` is kept in the catalog, in the open segment and in every
//! message between nodes under its qualified name `s.t`; one in `public`
//! under its bare name `t`, as before schemas existed. So a relation's
//! catalog name says where it lives, and everything keyed by it (shards,
//! tombstones, settling after a split) needs nothing more.

/// The schema every database starts with; its relations keep bare names.
pub const PUBLIC: &str = "public";

/// Schemas that exist without being created, and cannot be dropped.
pub const BUILT_IN: &[&str] = &["public", "pg_catalog", "information_schema", "mosaic"];

/// What a schema's catalog key starts with (a character no identifier
/// written in SQL holds keeps it apart from relations).
pub const KEY_PREFIX: &str = "\u{1f}schema ";

/// The catalog key of schema `name`.
pub fn key(name: &str) -> String {
    format!("{KEY_PREFIX}{name}")
}

/// Whether schema `name` is a built-in one no statement changes (all but
/// `public`).
pub fn fixed(name: &str) -> bool {
    name != PUBLIC && BUILT_IN.contains(&name)
}

/// A built-in schema as a catalog object, as it is until a GRANT, REVOKE
/// or ALTER SCHEMA changes it (only `public`'s can be changed, and is then
/// recorded): owned by the database owner (`owner`), who holds USAGE and
/// CREATE, and usable by everyone (PUBLIC holds USAGE), as in PostgreSQL
/// 15.
pub fn built_in(name: &str, owner: &str, oid: u32) -> crate::types::table::TableDef {
    use crate::types::acl::{AclItem, CREATE, USAGE};
    let item = |grantee: &str, privs| AclItem {
        grantee: grantee.to_string(),
        grantor: owner.to_string(),
        privs,
    };
    let mut def = crate::types::table::TableDef {
        name: key(name),
        oid,
        kind: crate::types::table::RelKind::Schema(name.to_string()),
        ..Default::default()
    };
    def.access.owner = Some(owner.to_string());
    def.access.acl = Some(vec![item(owner, USAGE | CREATE), item("", USAGE)]);
    def
}

/// The schema and bare name of a relation's catalog name: `s.t` is `t` in
/// `s`, and a name without a schema is in `public`.
pub fn split(name: &str) -> (&str, &str) {
    match name.split_once('.') {
        Some((schema, rel)) => (schema, rel),
        None => (PUBLIC, name),
    }
}

/// The catalog name of relation `rel` in `schema`.
pub fn qualify(schema: &str, rel: &str) -> String {
    if schema == PUBLIC {
        rel.to_string()
    } else {
        format!("{schema}.{rel}")
    }
}

/// The catalog name of an object named `derived` that lives beside
/// relation `of` (in its schema): an index, a constraint's index, a
/// serial column's sequence.
pub fn beside(of: &str, derived: &str) -> String {
    qualify(split(of).0, derived)
}

/// The schemas a `search_path` setting names that hold user relations and
/// exist, in order: `public` and created schemas (`exists`), `"$user"`
/// being `role`'s schema. The system schemas are searched first anyway,
/// as `pg_catalog` is in PostgreSQL.
pub fn effective_path(setting: &str, role: &str, exists: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in path_entries(setting) {
        let s = if e == "$user" { role.to_string() } else { e };
        if (s == PUBLIC || exists(&s)) && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The entries of a `search_path` value: comma-separated names, each
/// folded to lower case unless double-quoted.
pub fn path_entries(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(
            |p| match p.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                Some(q) => q.replace("\"\"", "\""),
                None => p.to_lowercase(),
            },
        )
        .collect()
}

/// The parts of a name as text names it (`::regclass`, `nextval('…')`):
/// dot-separated, each folded to lower case unless double-quoted.
pub fn parse_name(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = text.trim().chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '.' if !quoted => {
                parts.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            c if quoted || was_quoted => cur.push(c),
            c => cur.extend(c.to_lowercase()),
        }
    }
    parts.push(cur);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_and_qualify_both_ways() {
        assert_eq!(split("t"), ("public", "t"));
        assert_eq!(split("s.t"), ("s", "t"));
        assert_eq!(qualify("public", "t"), "t");
        assert_eq!(qualify("s", "t"), "s.t");
        assert_eq!(beside("s.t", "t_pkey"), "s.t_pkey");
        assert_eq!(beside("t", "t_pkey"), "t_pkey");
    }

    #[test]
    fn paths_keep_existing_schemas_in_order() {
        let exists = |s: &str| s == "app" || s == "mosaic";
        assert_eq!(
            effective_path("\"$user\", public", "mosaic", exists),
            vec!["mosaic", "public"]
        );
        assert_eq!(
            effective_path("App, nope, public", "x", exists),
            vec!["app", "public"]
        );
        assert_eq!(effective_path("", "x", exists), Vec::<String>::new());
    }

    #[test]
    fn names_parse_as_identifiers() {
        assert_eq!(parse_name("S.T"), vec!["s", "t"]);
        assert_eq!(parse_name("\"My.Tab\""), vec!["My.Tab"]);
        assert_eq!(parse_name("s.\"a\"\"b\""), vec!["s", "a\"b"]);
    }
}
