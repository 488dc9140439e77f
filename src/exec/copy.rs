//! COPY … FROM STDIN in text, CSV and binary formats, streaming into the
//! open segment inside one transaction (or the open transaction block).
//!
//! Data arrives in chunks that are not row-aligned; complete records are
//! parsed out of a buffer and inserted as they come, so memory stays
//! bounded by the chunk size. A failure is remembered and reported when the
//! client ends the copy, as PostgreSQL does.

use sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Statement,
};

use crate::error::{Error, Result};
use crate::exec::{Outcome, Session, TxnState};
use crate::sql::{ident_name, object_name};
use crate::types::quote;
use crate::types::{Datum, PgType};

mod batch;
mod records;
use records::*;

/// Spell the boolean values of COPY's FREEZE and HEADER options the way
/// sqlparser accepts them: `WITH (FREEZE ON)`, which pgbench -i sends, does
/// not parse, while `WITH (FREEZE true)` does. Other statements, and text
/// inside quotes, pass through unchanged.
pub fn normalize_options(sql: &str) -> std::borrow::Cow<'_, str> {
    let starts_copy = sql
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("copy"));
    if !starts_copy {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len());
    let (mut prev, mut word) = (String::new(), String::new());
    let mut quoted: Option<char> = None;
    let flush = |out: &mut String, prev: &mut String, word: &mut String| {
        if word.is_empty() {
            return;
        }
        let boolean_option = ["FREEZE", "HEADER"]
            .iter()
            .any(|o| prev.eq_ignore_ascii_case(o));
        match word.to_ascii_uppercase().as_str() {
            "ON" if boolean_option => out.push_str("true"),
            "OFF" if boolean_option => out.push_str("false"),
            _ => out.push_str(word),
        }
        *prev = std::mem::take(word);
    };
    for c in sql.chars() {
        if let Some(q) = quoted {
            out.push(c);
            if c == q {
                quoted = None;
            }
        } else if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut out, &mut prev, &mut word);
            if c == '\'' || c == '"' {
                quoted = Some(c);
                prev.clear();
            } else if !c.is_whitespace() {
                prev.clear();
            }
            out.push(c);
        }
    }
    flush(&mut out, &mut prev, &mut word);
    out.into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    /// PostgreSQL's binary COPY format (asyncpg's `copy_records_to_table`).
    Binary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CopySpec {
    /// COPY … TO STDOUT: the query whose rows go out.
    pub to: Option<Box<sqlparser::ast::Query>>,
    pub table: String,
    pub columns: Vec<String>,
    pub format: Format,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
    pub quote: char,
    pub escape: char,
}

impl CopySpec {
    /// `CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e']`, the pre-9.0
    /// spelling; FORCE options are refused.
    fn legacy_csv(&mut self, csv: &[CopyLegacyCsvOption], escape: &mut Option<char>) -> Result<()> {
        self.format = Format::Csv;
        for c in csv {
            match c {
                CopyLegacyCsvOption::Header => self.header = true,
                CopyLegacyCsvOption::Quote(q) => self.quote = *q,
                CopyLegacyCsvOption::Escape(e) => *escape = Some(*e),
                other => return Err(Error::Unsupported(format!("COPY option {other}"))),
            }
        }
        Ok(())
    }

    /// Generated columns: a COPY without a column list leaves them out, as
    /// PostgreSQL does, and one that names them is refused (42P10).
    pub fn leave_out_generated(&mut self, catalog: &dyn crate::sql::Schema) -> Result<()> {
        let Some(def) = catalog.table(&self.table) else {
            return Ok(());
        };
        if let Some(c) = self.columns.iter().find(|c| {
            def.column_index(c)
                .is_some_and(|i| def.columns[i].generated.is_some())
        }) {
            return Err(Error::InvalidColumnReference(format!(
                "column \"{c}\" is a generated column"
            ))
            .with_detail("Generated columns cannot be used in COPY."));
        }
        if !self.columns.is_empty() || def.columns.iter().all(|c| c.generated.is_none()) {
            return Ok(());
        }
        self.columns = (def.columns.iter())
            .filter(|c| c.generated.is_none())
            .map(|c| c.name.clone())
            .collect();
        if self.to.is_some() {
            self.to = Some(table_query(&self.table, &self.columns)?);
        }
        Ok(())
    }

    pub fn from_statement(stmt: &Statement) -> Result<CopySpec> {
        let Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            ..
        } = stmt
        else {
            return Err(Error::Internal("not a COPY".into()));
        };
        let expected = if *to {
            CopyTarget::Stdout
        } else {
            CopyTarget::Stdin
        };
        if *target != expected {
            return Err(Error::Unsupported(
                "COPY to or from a file or program (use STDIN / STDOUT)".into(),
            ));
        }
        let (table_name, columns, query) = match source {
            CopySource::Table {
                table_name,
                columns,
            } => (
                object_name(table_name),
                columns.iter().map(ident_name).collect::<Vec<_>>(),
                None,
            ),
            CopySource::Query(q) if *to => (String::new(), vec![], Some(q.clone())),
            CopySource::Query(_) => {
                return Err(Error::Syntax("COPY FROM cannot read from a query".into()))
            }
        };
        let query = match (to, query) {
            (false, _) => None,
            (true, Some(q)) => Some(q),
            (true, None) => Some(table_query(&table_name, &columns)?),
        };
        let mut spec = CopySpec {
            to: query,
            table: table_name,
            columns,
            format: Format::Text,
            delimiter: '\t',
            null: "\\N".into(),
            header: false,
            quote: '"',
            escape: '"',
        };
        let mut delimiter = None;
        let mut null = None;
        let mut escape = None;
        for o in options {
            match o {
                CopyOption::Format(f) => {
                    spec.format = match f.value.to_lowercase().as_str() {
                        "text" => Format::Text,
                        "csv" => Format::Csv,
                        "binary" => Format::Binary,
                        other => return Err(Error::Unsupported(format!("COPY format {other}"))),
                    }
                }
                CopyOption::Delimiter(c) => delimiter = Some(*c),
                CopyOption::Null(n) => null = Some(n.clone()),
                CopyOption::Header(h) => spec.header = *h,
                CopyOption::Quote(c) => spec.quote = *c,
                CopyOption::Escape(c) => escape = Some(*c),
                CopyOption::Freeze(_) | CopyOption::Encoding(_) => {}
                other => return Err(Error::Unsupported(format!("COPY option {other}"))),
            }
        }
        for o in legacy_options {
            match o {
                CopyLegacyOption::Csv(csv) => spec.legacy_csv(csv, &mut escape)?,
                CopyLegacyOption::Binary => spec.format = Format::Binary,
                CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
                CopyLegacyOption::Null(n) => null = Some(n.clone()),
                CopyLegacyOption::Header => spec.header = true,
                other => return Err(Error::Unsupported(format!("COPY option {other}"))),
            }
        }
        if spec.format == Format::Csv {
            spec.delimiter = ',';
            spec.null = String::new();
        }
        if let Some(d) = delimiter {
            spec.delimiter = d;
        }
        if let Some(n) = null {
            spec.null = n;
        }
        spec.escape = escape.unwrap_or(spec.quote);
        if spec.to.is_some() && spec.format == Format::Binary {
            return Err(Error::Unsupported("COPY TO in binary format".into()));
        }
        Ok(spec)
    }

    /// One row as a line of COPY TO output, in the spec's format.
    pub fn encode_line(&self, fields: &[Option<String>], out: &mut Vec<u8>) {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.extend(self.delimiter.to_string().as_bytes());
            }
            match (f, self.format) {
                (None, _) => out.extend(self.null.as_bytes()),
                (Some(v), Format::Csv) => {
                    let needs = v.is_empty()
                        || v == &self.null
                        || v.contains([self.delimiter, self.quote, '\n', '\r']);
                    if needs {
                        let q = self.quote.to_string();
                        let doubled = format!("{}{}", self.escape, self.quote);
                        out.extend(q.as_bytes());
                        out.extend(v.replace(&q, &doubled).as_bytes());
                        out.extend(q.as_bytes());
                    } else {
                        out.extend(v.as_bytes());
                    }
                }
                (Some(v), _) => {
                    for c in v.chars() {
                        match c {
                            '\\' => out.extend(b"\\\\"),
                            '\n' => out.extend(b"\\n"),
                            '\r' => out.extend(b"\\r"),
                            '\t' => out.extend(b"\\t"),
                            c if c == self.delimiter => {
                                out.push(b'\\');
                                out.extend(c.to_string().as_bytes());
                            }
                            c => out.extend(c.to_string().as_bytes()),
                        }
                    }
                }
            }
        }
        out.push(b'\n');
    }
}

/// A COPY in progress on a session.
#[derive(Debug)]
pub struct CopyState {
    spec: CopySpec,
    types: Vec<PgType>,
    batch: batch::Batch,
    buf: Vec<u8>,
    rows: usize,
    skip_header: bool,
    done: bool,
    failed: Option<Error>,
    own_txn: bool,
    def: std::sync::Arc<crate::types::table::TableDef>,
}

/// `SELECT columns FROM table` (all of them when `columns` is empty), what
/// COPY table TO runs.
fn table_query(table: &str, columns: &[String]) -> Result<Box<sqlparser::ast::Query>> {
    let cols = if columns.is_empty() {
        "*".to_string()
    } else {
        columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match crate::sql::parse(&format!("SELECT {cols} FROM {}", quote(table)))?.pop() {
        Some(Statement::Query(q)) => Ok(q),
        _ => Err(Error::Internal("COPY TO query did not parse".into())),
    }
}

pub fn begin(sess: &mut Session, spec: CopySpec) -> Result<Outcome> {
    let def = sess
        .catalog()
        .table(&spec.table)
        .ok_or_else(|| Error::NoSuchTable(spec.table.clone()))?;
    let cols: Vec<usize> = if spec.columns.is_empty() {
        (0..def.columns.len()).collect()
    } else {
        spec.columns
            .iter()
            .map(|c| {
                def.column_index(c)
                    .ok_or_else(|| Error::NoSuchColumn(format!("{c}\" of relation \"{}", def.name)))
            })
            .collect::<Result<_>>()?
    };
    let names: Vec<String> = cols.iter().map(|&i| quote(&def.columns[i].name)).collect();
    let batch = batch::Batch::new(&def.segment(), &names);
    let own_txn = sess.txn == TxnState::Idle;
    sess.stmt_ver_begin();
    let begin = if own_txn {
        "BEGIN IMMEDIATE"
    } else {
        "SAVEPOINT mosaic_copy"
    };
    sess.conn.batch(begin)?;
    let ncols = cols.len();
    let st_binary = spec.format == Format::Binary;
    sess.copy = Some(CopyState {
        types: cols.iter().map(|&i| def.columns[i].ty.clone()).collect(),
        // The binary format always starts with a header.
        skip_header: spec.header || spec.format == Format::Binary,
        spec,
        batch,
        buf: Vec::new(),
        rows: 0,
        done: false,
        failed: None,
        own_txn,
        def,
    });
    Ok(Outcome::CopyIn {
        columns: ncols,
        binary: st_binary,
    })
}

/// Feed a chunk of COPY data.
pub fn data(sess: &mut Session, chunk: &[u8]) {
    let Some(mut st) = sess.copy.take() else {
        return;
    };
    if st.failed.is_none() && !st.done {
        st.buf.extend_from_slice(chunk);
        if let Err(e) = drain(sess, &mut st, false) {
            st.failed = Some(crate::exec::write::name_violated_key(sess, e));
            st.buf.clear();
        }
    }
    sess.copy = Some(st);
}

/// The client ended the copy: finish it, returning the number of rows.
pub fn done(sess: &mut Session) -> Result<usize> {
    let Some(mut st) = sess.copy.take() else {
        return Err(Error::ProtocolViolation("no COPY in progress".into()));
    };
    let mut r = match st.failed.take() {
        Some(e) => Err(e),
        None => drain(sess, &mut st, true)
            .and_then(|()| st.batch.flush(&sess.conn))
            .map_err(|e| crate::exec::write::name_violated_key(sess, e)),
    };
    if r.is_ok() {
        r = crate::exec::write::check_unique(sess, &st.def.clone(), &[]);
    }
    if r.is_ok() {
        r = crate::exec::write::foreign::check_references(sess, &st.def.clone());
    }
    finish(sess, &st, r.is_ok())?;
    sess.stmt_ver_end();
    r?;
    sess.note_write(&st.def.name);
    sess.after_write()?;
    Ok(st.rows)
}

/// The client aborted the copy.
pub fn fail(sess: &mut Session) {
    if let Some(st) = sess.copy.take() {
        let _ = finish(sess, &st, false);
        sess.stmt_ver_end();
    }
}

fn finish(sess: &mut Session, st: &CopyState, ok: bool) -> Result<()> {
    let sql = match (st.own_txn, ok) {
        (true, true) => "COMMIT",
        (true, false) => "ROLLBACK",
        (false, true) => "RELEASE mosaic_copy",
        (false, false) => "ROLLBACK TO mosaic_copy; RELEASE mosaic_copy",
    };
    if !ok && !st.own_txn {
        sess.txn = TxnState::Failed;
    }
    sess.publish_txn_state();
    let ended = match sql {
        "COMMIT" => sess.conn.commit(),
        _ => sess.conn.batch(sql),
    };
    if st.own_txn {
        sess.held.release();
    }
    ended?;
    if sql == "COMMIT" && !sess.temps.is_empty() {
        crate::exec::ddl::temp::after_commit(sess);
    }
    Ok(())
}

/// Parse and insert every complete record in the buffer (all of it at the end).
fn drain(sess: &mut Session, st: &mut CopyState, at_end: bool) -> Result<()> {
    let zone = sess.zone();
    if st.spec.format == Format::Binary {
        return drain_binary(&sess.conn, st, at_end);
    }
    let mut pos = 0;
    loop {
        let rest = &st.buf[pos..];
        if rest.is_empty() {
            break;
        }
        let Some((fields, used)) = next_record(&st.spec, rest, at_end)? else {
            break;
        };
        pos += used;
        let Some(fields) = fields else {
            st.done = true;
            break;
        };
        if st.skip_header {
            st.skip_header = false;
            continue;
        }
        if fields.len() != st.types.len() {
            return Err(Error::InvalidInput(format!(
                "COPY {}, line {}: expected {} columns, got {}",
                st.spec.table,
                st.rows + 1,
                st.types.len(),
                fields.len()
            )));
        }
        let mut values = Vec::with_capacity(fields.len());
        for (f, ty) in fields.into_iter().zip(&st.types) {
            values.push(match f {
                None => Datum::Null,
                Some(text) => ty
                    .parse_text_in(&text, zone)
                    .map_err(|e| in_copy(e, &st.spec.table, st.rows + 1))?,
            });
        }
        st.batch.push(&sess.conn, values)?;
        st.rows += 1;
    }
    st.buf.drain(..pos);
    Ok(())
}

/// A field's input error with the COPY line it came from, its SQLSTATE
/// kept (a vector of the wrong length is 22000, a string too long 22001).
fn in_copy(e: Error, table: &str, line: usize) -> Error {
    let msg = format!("{}: {e} (COPY {table}, line {line})", e.sqlstate());
    // The marker round trip knows most input errors' codes; for another,
    // the error goes as it is, without the line, rather than recoded.
    match crate::store::errors::error_from_message(&msg) {
        Some(with_line) if with_line.sqlstate() == e.sqlstate() => with_line,
        _ => e,
    }
}

/// The signature that starts binary COPY data.
const BINARY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Insert every complete tuple of binary COPY data in the buffer: after
/// the header (signature, flags, extension area), each tuple is a 16-bit
/// field count (-1 ends the data) and per field a 32-bit length (-1 for
/// NULL) and the value in its type's binary send format.
fn drain_binary(conn: &crate::store::Conn, st: &mut CopyState, at_end: bool) -> Result<()> {
    let bad = |what: &str| Error::BadCopyFormat(what.to_string());
    let mut pos = 0;
    if st.skip_header {
        let fixed = BINARY_SIGNATURE.len() + 8;
        if st.buf.len() < fixed {
            return if at_end {
                Err(bad("invalid COPY file header (missing length)"))
            } else {
                Ok(())
            };
        }
        if &st.buf[..BINARY_SIGNATURE.len()] != BINARY_SIGNATURE {
            return Err(bad("COPY file signature not recognized"));
        }
        let ext = be_i32(&st.buf[BINARY_SIGNATURE.len() + 4..]);
        let ext =
            usize::try_from(ext).map_err(|_| bad("invalid COPY file header (wrong length)"))?;
        if st.buf.len() < fixed + ext {
            return if at_end {
                Err(bad("invalid COPY file header (missing length)"))
            } else {
                Ok(())
            };
        }
        st.skip_header = false;
        pos = fixed + ext;
    }
    while !st.done {
        let Some((values, used)) = binary_tuple(&st.buf[pos..], &st.types)? else {
            break;
        };
        pos += used;
        let Some(values) = values else {
            st.done = true;
            break;
        };
        st.batch.push(conn, values)?;
        st.rows += 1;
    }
    st.buf.drain(..pos);
    if at_end && !st.done && !st.buf.is_empty() {
        return Err(bad("unexpected EOF in COPY data"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_boolean_options_normalized() {
        let n = |s| normalize_options(s).into_owned();
        assert_eq!(
            n("copy pgbench_accounts from stdin with (freeze on)"),
            "copy pgbench_accounts from stdin with (freeze true)"
        );
        assert_eq!(
            n("COPY t FROM STDIN (FORMAT csv, HEADER off)"),
            "COPY t FROM STDIN (FORMAT csv, HEADER false)"
        );
        assert_eq!(
            n("copy t from stdin (delimiter 'on', freeze)"),
            "copy t from stdin (delimiter 'on', freeze)"
        );
        assert_eq!(n("select 1 where freeze on"), "select 1 where freeze on");
        assert!(crate::sql::parse(&n("copy t from stdin with (freeze on)")).is_ok());
    }

    fn spec(format: Format) -> CopySpec {
        CopySpec {
            to: None,
            table: "t".into(),
            columns: vec![],
            format,
            delimiter: if format == Format::Csv { ',' } else { '\t' },
            null: if format == Format::Csv {
                String::new()
            } else {
                "\\N".into()
            },
            header: false,
            quote: '"',
            escape: '"',
        }
    }

    fn records(format: Format, data: &[u8]) -> Vec<Vec<Option<String>>> {
        let s = spec(format);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            match next_record(&s, &data[pos..], true).unwrap() {
                Some((Some(f), used)) => {
                    out.push(f);
                    pos += used;
                }
                _ => break,
            }
        }
        out
    }

    #[test]
    fn text_format_escapes_and_nulls() {
        let r = records(Format::Text, b"1\ta\\tb\t\\N\n2\tx\\\\y\t\n\\.\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], vec![Some("1".into()), Some("a\tb".into()), None]);
        assert_eq!(
            r[1],
            vec![Some("2".into()), Some("x\\y".into()), Some("".into())]
        );
    }

    #[test]
    fn csv_quotes_newlines_and_nulls() {
        let r = records(
            Format::Csv,
            b"1,\"a,b\",\n2,\"line\nbreak\",\"\"\n3,\"say \"\"hi\"\"\",x\n",
        );
        assert_eq!(r[0], vec![Some("1".into()), Some("a,b".into()), None]);
        assert_eq!(
            r[1],
            vec![
                Some("2".into()),
                Some("line\nbreak".into()),
                Some("".into())
            ]
        );
        assert_eq!(
            r[2],
            vec![
                Some("3".into()),
                Some("say \"hi\"".into()),
                Some("x".into())
            ]
        );
    }

    #[test]
    fn incomplete_records_wait_for_more_data() {
        let s = spec(Format::Csv);
        assert!(next_record(&s, b"1,\"open", false).unwrap().is_none());
        assert!(next_record(&s, b"1,2", false).unwrap().is_none());
        assert!(next_record(&s, b"1,2\n", false).unwrap().is_some());
    }
}
