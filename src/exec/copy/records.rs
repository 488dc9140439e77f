//! COPY data, record by record: text and CSV lines, binary tuples, as
//! PostgreSQL writes them. Pure parsing; `copy` inserts what it yields.

use super::*;

/// One tuple from the front of `buf`: `Some((Some(values), used))`, or
/// `Some((None, used))` for the trailer; `None` when it is not complete.
pub(super) type BinaryTuple = Option<(Option<Vec<Datum>>, usize)>;

pub(super) fn binary_tuple(buf: &[u8], types: &[PgType]) -> Result<BinaryTuple> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let count = i16::from_be_bytes([buf[0], buf[1]]);
    if count == -1 {
        return Ok(Some((None, 2)));
    }
    if count < 0 || count as usize != types.len() {
        return Err(Error::BadCopyFormat(format!(
            "row field count is {count}, expected {}",
            types.len()
        )));
    }
    let mut pos = 2;
    let mut values = Vec::with_capacity(types.len());
    for ty in types {
        if buf.len() < pos + 4 {
            return Ok(None);
        }
        let len = be_i32(&buf[pos..]);
        pos += 4;
        if len < 0 {
            values.push(Datum::Null);
            continue;
        }
        let end = pos + len as usize;
        if buf.len() < end {
            return Ok(None);
        }
        values.push(ty.parse_binary(&buf[pos..end])?);
        pos = end;
    }
    Ok(Some((Some(values), pos)))
}

pub(super) fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// One record from the front of `buf`: `Some((Some(fields), used))`, or
/// `Some((None, used))` for the end marker `\.`; `None` when the buffer
/// holds no complete record yet. A NULL field is `None`.
pub(super) type Record = Option<(Option<Vec<Option<String>>>, usize)>;

pub(super) fn next_record(spec: &CopySpec, buf: &[u8], at_end: bool) -> Result<Record> {
    match spec.format {
        Format::Text => text_record(spec, buf, at_end),
        Format::Csv => csv_record(spec, buf, at_end),
        Format::Binary => Err(Error::Internal("binary COPY data parsed as text".into())),
    }
}

pub(super) fn line_end(buf: &[u8], at_end: bool) -> Option<(usize, usize)> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) => Some((
            if i > 0 && buf[i - 1] == b'\r' {
                i - 1
            } else {
                i
            },
            i + 1,
        )),
        None if at_end => Some((buf.len(), buf.len())),
        None => None,
    }
}

pub(super) fn utf8(b: &[u8]) -> Result<String> {
    String::from_utf8(b.to_vec())
        .map_err(|_| Error::InvalidInput("invalid byte sequence for encoding \"UTF8\"".into()))
}

pub(super) fn text_record(spec: &CopySpec, buf: &[u8], at_end: bool) -> Result<Record> {
    let Some((end, used)) = line_end(buf, at_end) else {
        return Ok(None);
    };
    let line = &buf[..end];
    if line == b"\\." {
        return Ok(Some((None, used)));
    }
    let delim = spec.delimiter as u8;
    let mut fields = Vec::new();
    for raw in line.split(|&b| b == delim) {
        let raw_str = utf8(raw)?;
        if raw_str == spec.null {
            fields.push(None);
            continue;
        }
        fields.push(Some(unescape_text(raw)?));
    }
    Ok(Some((Some(fields), used)))
}

pub(super) fn unescape_text(raw: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 >= raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let n = raw[i + 1];
        i += 2;
        match n {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (n - b'0') as u32;
                let mut k = 0;
                while k < 2 && i < raw.len() && (b'0'..=b'7').contains(&raw[i]) {
                    v = v * 8 + (raw[i] - b'0') as u32;
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && i < raw.len() && raw[i].is_ascii_hexdigit() {
                    v = v * 16 + (raw[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    utf8(&out)
}

pub(super) fn csv_record(spec: &CopySpec, buf: &[u8], at_end: bool) -> Result<Record> {
    let (delim, quote, escape) = (spec.delimiter as u8, spec.quote as u8, spec.escape as u8);
    if buf.starts_with(b"\\.\n") || buf.starts_with(b"\\.\r\n") || (at_end && buf == b"\\.") {
        let used = buf
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(buf.len());
        return Ok(Some((None, used)));
    }
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut i = 0;
    while i < buf.len() {
        let b = buf[i];
        if quoted {
            if b == escape
                && escape != quote
                && i + 1 < buf.len()
                && (buf[i + 1] == quote || buf[i + 1] == escape)
            {
                field.push(buf[i + 1]);
                i += 2;
                continue;
            }
            if b == quote {
                if i + 1 < buf.len() && buf[i + 1] == quote && escape == quote {
                    field.push(quote);
                    i += 2;
                    continue;
                }
                if i + 1 >= buf.len() && !at_end {
                    return Ok(None);
                }
                quoted = false;
                i += 1;
                continue;
            }
            field.push(b);
            i += 1;
            continue;
        }
        if b == quote {
            quoted = true;
            was_quoted = true;
            i += 1;
        } else if b == delim {
            fields.push(csv_field(spec, &field, was_quoted)?);
            field.clear();
            was_quoted = false;
            i += 1;
        } else if b == b'\n' || b == b'\r' {
            let used = if b == b'\r' && i + 1 < buf.len() && buf[i + 1] == b'\n' {
                i + 2
            } else {
                i + 1
            };
            if b == b'\r' && i + 1 >= buf.len() && !at_end {
                return Ok(None);
            }
            fields.push(csv_field(spec, &field, was_quoted)?);
            return Ok(Some((Some(fields), used)));
        } else {
            field.push(b);
            i += 1;
        }
    }
    if !at_end {
        return Ok(None);
    }
    if quoted {
        return Err(Error::InvalidInput("unterminated CSV quoted field".into()));
    }
    fields.push(csv_field(spec, &field, was_quoted)?);
    Ok(Some((Some(fields), buf.len())))
}

pub(super) fn csv_field(spec: &CopySpec, raw: &[u8], quoted: bool) -> Result<Option<String>> {
    let s = utf8(raw)?;
    if !quoted && s == spec.null {
        return Ok(None);
    }
    Ok(Some(s))
}
