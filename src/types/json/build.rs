//! JSON built from SQL values: the one conversion from a stored value of a
//! known PostgreSQL type to its JSON text (PostgreSQL's `datum_to_json`),
//! and the assembly of `json_build_object`/`json_build_array` and the
//! JSON aggregates with json's own spacing (jsonb's is its normal form).

use serde_json::Value;

use super::normalize_jsonb;
use crate::error::{Error, Result};
use crate::types::{Datum, PgType};

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The JSON text of the stored value `v` of type `ty`; `None` for NULL.
/// Numbers stay numbers with their scale (NaN and the infinities become
/// strings), booleans are `true`/`false`, timestamps ISO 8601 as
/// PostgreSQL writes them in JSON, json as written, everything else its
/// text output as a string.
pub fn datum_json(ty: &PgType, v: &Datum) -> Result<Option<String>> {
    let Some(text) = ty.render_text(v) else {
        return Ok(None);
    };
    let special = |t: &str| {
        matches!(
            t.to_ascii_lowercase().as_str(),
            "nan" | "infinity" | "-infinity" | "inf" | "-inf"
        )
    };
    Ok(Some(match ty {
        PgType::Bool => match text.as_str() {
            "t" | "true" | "1" => "true".into(),
            _ => "false".into(),
        },
        PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Numeric(_) => {
            if special(&text) {
                quoted(&text)
            } else {
                text
            }
        }
        PgType::Float4 | PgType::Float8 => {
            if special(&text) {
                quoted(&text)
            } else {
                text
            }
        }
        PgType::Json | PgType::Jsonb => text,
        PgType::Date | PgType::Timestamp | PgType::Timestamptz => quoted(&iso(ty, &text)?),
        // An array (of one dimension, as MosaicDB stores them): `[1,2]`.
        PgType::Array(elem) => {
            let items = crate::types::array::elements_of(elem, v)
                .iter()
                .map(|d| Ok(datum_json(elem, d)?.unwrap_or_else(|| "null".into())))
                .collect::<Result<Vec<_>>>()?;
            format!("[{}]", items.join(","))
        }
        _ => quoted(&text),
    }))
}

/// A date or timestamp as PostgreSQL writes it inside JSON (XSD style:
/// `2024-01-01T10:00:00`, `+02:00` for the offset in the session's zone).
fn iso(ty: &PgType, text: &str) -> Result<String> {
    if text.ends_with(" BC") {
        return Err(Error::Unsupported("JSON of a date before Christ".into()));
    }
    if text.contains("infinity") {
        return Ok(text.to_string());
    }
    let t = text.replacen(' ', "T", 1);
    // An offset of whole hours gets its minutes (`+02:00`).
    let hours_only = t.len() > 3 && matches!(t.as_bytes()[t.len() - 3], b'+' | b'-');
    Ok(match ty {
        PgType::Timestamptz if hours_only => format!("{t}:00"),
        _ => t,
    })
}

/// A JSON value's text as an object key: a string's own text, any other
/// scalar's JSON text (numbers, booleans).
fn key_text(frag: &str) -> String {
    serde_json::from_str::<String>(frag).unwrap_or_else(|_| frag.to_string())
}

fn finish(text: String, jsonb: bool) -> Result<String> {
    if !jsonb {
        return Ok(text);
    }
    normalize_jsonb(&text)
        .ok_or_else(|| Error::InvalidInput("invalid input syntax for type json".into()))
}

/// `json_build_object`/`jsonb_build_object` over the arguments' JSON texts
/// (`None` for NULL).
pub fn build_object(args: &[Option<String>], jsonb: bool) -> Result<String> {
    let name = if jsonb {
        "jsonb_build_object"
    } else {
        "json_build_object"
    };
    if !args.len().is_multiple_of(2) {
        return Err(Error::InvalidParameter(
            "argument list must have even number of elements".into(),
        )
        .with_hint(format!(
            "The arguments of {name}() must consist of alternating keys and values."
        )));
    }
    let mut b = ObjectBuilder::default();
    for (i, pair) in args.chunks(2).enumerate() {
        let Some(k) = &pair[0] else {
            return Err(null_key(2 * i + 1, jsonb));
        };
        b.push(k, pair[1].as_deref());
    }
    finish(b.text(" : ", "{", "}"), jsonb)
}

/// A row as `row_to_json` and `to_json` of a record write it
/// (`{"a":1,"b":"x"}`; jsonb's normal form for `to_jsonb`): `args` are
/// column names and their values' JSON texts, alternating, `separator`
/// between the fields (`row_to_json`'s pretty form puts `,\n ` there).
pub fn build_row(args: &[Option<String>], jsonb: bool, separator: &str) -> Result<String> {
    let pairs: Vec<String> = args
        .chunks(2)
        .map(|pair| {
            let key = quoted(pair[0].as_deref().unwrap_or_default());
            let value = pair.get(1).and_then(|v| v.as_deref()).unwrap_or("null");
            format!("{key}:{value}")
        })
        .collect();
    finish(format!("{{{}}}", pairs.join(separator)), jsonb)
}

/// PostgreSQL's error for the NULL key argument `at` of
/// `json_build_object` (or jsonb's, whose words differ).
pub fn null_key(at: usize, jsonb: bool) -> Error {
    if jsonb {
        Error::InvalidParameter(format!("argument {at}: key must not be null"))
    } else {
        Error::InvalidParameter(format!("argument {at} cannot be null"))
            .with_hint("Object keys should be text.")
    }
}

/// `json_build_array`/`jsonb_build_array`.
pub fn build_array(args: &[Option<String>], jsonb: bool) -> Result<String> {
    let items: Vec<&str> = args
        .iter()
        .map(|a| a.as_deref().unwrap_or("null"))
        .collect();
    finish(format!("[{}]", items.join(", ")), jsonb)
}

/// The pairs of an object being built, key text JSON-quoted.
#[derive(Default)]
pub struct ObjectBuilder {
    pairs: Vec<(String, String)>,
}

impl ObjectBuilder {
    /// Add the pair of key `k` and value `v` (JSON texts; `None` is null).
    pub fn push(&mut self, k: &str, v: Option<&str>) {
        self.pairs
            .push((quoted(&key_text(k)), v.unwrap_or("null").to_string()));
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn text(&self, colon: &str, open: &str, close: &str) -> String {
        let body: Vec<String> = self
            .pairs
            .iter()
            .map(|(k, v)| format!("{k}{colon}{v}"))
            .collect();
        format!("{open}{}{close}", body.join(", "))
    }

    /// `json_object_agg`'s text (`{ "a" : 1 }`), or jsonb's.
    pub fn aggregate(&self, jsonb: bool) -> Result<String> {
        finish(self.text(" : ", "{ ", " }"), jsonb)
    }
}

/// Columns `cols` of a row of a table with `columns` as a JSON object, as
/// `row_to_json` writes it but with jsonb's spacing.
pub fn row_object(
    columns: &[crate::types::table::Column],
    cols: &[usize],
    values: &[Datum],
) -> Result<String> {
    let mut fields = Vec::new();
    for &c in cols {
        let Some(col) = columns.get(c) else { continue };
        let v = values.get(c).cloned().unwrap_or(Datum::Null);
        let json = datum_json(&col.ty, &v)?.unwrap_or_else(|| "null".into());
        fields.push(format!("{}: {json}", quoted(&col.name)));
    }
    Ok(format!("{{{}}}", fields.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(ty: PgType, d: Datum) -> String {
        datum_json(&ty, &d).unwrap().unwrap()
    }

    #[test]
    fn values_as_postgresql_writes_them_in_json() {
        assert_eq!(j(PgType::Bool, Datum::Int(1)), "true");
        assert_eq!(j(PgType::Numeric(None), Datum::Text("1.50".into())), "1.50");
        assert_eq!(
            j(PgType::Numeric(None), Datum::Text("NaN".into())),
            "\"NaN\""
        );
        assert_eq!(j(PgType::Float8, Datum::Real(1e100)), "1e+100");
        assert_eq!(
            j(PgType::Text, Datum::Text("a\"\u{1}".into())),
            r#""a\"\u0001""#
        );
        assert_eq!(
            j(
                PgType::Timestamptz,
                Datum::Text("2024-01-01 10:00:00".into())
            ),
            r#""2024-01-01T10:00:00+00:00""#
        );
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            build_object(&[s("\"a\""), s("true"), s("1.50"), None], false).unwrap(),
            r#"{"a" : true, "1.50" : null}"#
        );
        assert_eq!(
            build_object(&[s("\"b\""), s("1"), s("\"a\""), s("[1,2]")], true).unwrap(),
            r#"{"a": [1, 2], "b": 1}"#
        );
        assert_eq!(build_array(&[None, s("1")], false).unwrap(), "[null, 1]");
        assert!(build_object(&[None, s("1")], false).is_err());
    }
}
