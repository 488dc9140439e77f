//! `to_number(text, template)`: the input read by the template as
//! PostgreSQL's NUM processor reads it (a digit per `9`/`0`, a decimal
//! point, signs before or after the digits, group separators and other
//! template characters skipping input), then made a numeric of the
//! precision and scale the template and the digits read give.

use super::{
    parse, Key, Node, BRACKET, DECIMAL, EEEE, FILLMODE, LSIGN, LSIGN_PRE, MINUS, MULTI, PLUS, ROMAN,
};
use crate::error::{Error, Result};
use crate::types::numeric::Numeric;

struct Reader<'a> {
    input: &'a [u8],
    at: usize,
    /// The sign (`' '`, `-`, `+`) and the digits and point read.
    number: Vec<u8>,
    read_dec: bool,
    read_pre: i32,
    read_post: i32,
    post: i32,
    flag: u32,
    lsign: i32,
}

impl Reader<'_> {
    fn done(&self) -> bool {
        self.at >= self.input.len()
    }

    fn byte(&self, i: usize) -> u8 {
        self.input.get(i).copied().unwrap_or(0)
    }

    fn has(&self, f: u32) -> bool {
        self.flag & f != 0
    }

    /// `NUM_eat_non_data_chars`: skip up to `n` characters that are not
    /// part of a number.
    fn eat_non_data(&mut self, n: usize) {
        for _ in 0..n {
            if self.done() || b"0123456789.,+-".contains(&self.byte(self.at)) {
                break;
            }
            self.at += utf8_len(self.byte(self.at));
        }
    }

    /// `NUM_numpart_from_char`: a digit place or the decimal point.
    fn numpart(&mut self, k: Key) {
        if self.done() {
            return;
        }
        if self.byte(self.at) == b' ' {
            self.at += 1;
        }
        if self.done() {
            return;
        }
        let digit_place = matches!(k, Key::Zero | Key::Nine);
        if self.number[0] == b' ' && digit_place && self.read_pre + self.read_post == 0 {
            let c = self.byte(self.at);
            if self.has(LSIGN) && self.lsign == LSIGN_PRE {
                if c == b'-' || c == b'+' {
                    self.at += 1;
                    self.number[0] = c;
                }
            } else if c == b'-' || (self.has(BRACKET) && c == b'<') {
                self.number[0] = b'-';
                self.at += 1;
            } else if c == b'+' {
                self.number[0] = b'+';
                self.at += 1;
            }
        }
        if self.done() {
            return;
        }
        let mut read = false;
        let c = self.byte(self.at);
        if c.is_ascii_digit() {
            if self.read_dec && self.read_post == self.post {
                return;
            }
            self.number.push(c);
            if self.read_dec {
                self.read_post += 1;
            } else {
                self.read_pre += 1;
            }
            read = true;
        } else if self.has(DECIMAL) && !self.read_dec && c == b'.' {
            self.number.push(b'.');
            self.read_dec = true;
            read = true;
        }
        if self.done() {
            return;
        }
        if self.number[0] == b' ' && self.read_pre + self.read_post > 0 {
            if self.has(LSIGN)
                && read
                && self.at + 1 < self.input.len()
                && !self.byte(self.at + 1).is_ascii_digit()
            {
                let next = self.byte(self.at + 1);
                if next == b'-' || next == b'+' {
                    self.at += 1;
                    self.number[0] = next;
                }
            } else if !read && !self.has(LSIGN) && (self.has(PLUS) || self.has(MINUS)) {
                let c = self.byte(self.at);
                if c == b'-' || c == b'+' {
                    self.number[0] = c;
                }
            }
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// PostgreSQL's `to_number(text, template)`.
pub fn to_number(input: &str, template: &str) -> Result<Numeric> {
    let (nodes, d) = parse(template)?;
    if d.has(EEEE) {
        return Err(Error::NotSupported(
            "\"EEEE\" not supported for input".into(),
        ));
    }
    if d.has(ROMAN) {
        return Err(Error::NotSupported("\"RN\" not supported for input".into()));
    }
    if d.has(MULTI) {
        return Err(Error::Unsupported("to_number with \"V\"".into()));
    }
    let mut r = Reader {
        input: input.as_bytes(),
        at: 0,
        number: vec![b' '],
        read_dec: false,
        read_pre: 0,
        read_post: 0,
        post: d.post,
        flag: d.flag,
        lsign: d.lsign,
    };
    for n in &nodes {
        if r.done() {
            break;
        }
        let k = match n {
            Node::Text(_) => {
                r.at += utf8_len(r.byte(r.at));
                continue;
            }
            Node::Action(k) => *k,
        };
        match k {
            Key::Nine | Key::Zero | Key::Dec | Key::D => r.numpart(k),
            Key::Comma | Key::G => {
                if r.has(FILLMODE) || r.byte(r.at) != b',' {
                    continue;
                }
            }
            Key::L => {
                r.eat_non_data(1);
                continue;
            }
            Key::ThUpper | Key::ThLower => {
                if !r.has(DECIMAL) {
                    r.eat_non_data(2);
                }
                continue;
            }
            Key::Mi | Key::Pl | Key::Sg => {
                let c = r.byte(r.at);
                let takes = match k {
                    Key::Mi => c == b'-',
                    Key::Pl => c == b'+',
                    _ => c == b'-' || c == b'+',
                };
                if !takes {
                    r.eat_non_data(1);
                    continue;
                }
                r.number[0] = c;
            }
            _ => continue,
        }
        r.at += 1;
    }
    if r.number.last() == Some(&b'.') {
        r.number.pop();
    }
    let text = String::from_utf8_lossy(&r.number).into_owned();
    let precision = d.pre + d.multi + r.read_post;
    let value = Numeric::parse(&text)?;
    match (u32::try_from(precision), u32::try_from(r.read_post)) {
        (Ok(p), Ok(s)) if p > 0 => value.apply_typmod(p, s),
        _ => Ok(value),
    }
}
