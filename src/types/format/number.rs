//! `to_char` of a number, as PostgreSQL's formatting.c writes it: the
//! template read into digit positions (`9`, `0`), the decimal point (`.`,
//! `D`), group separators (`,`, `G`), signs (`S`, `MI`, `PL`, `SG`,
//! `PR`), `FM`, `V`, `EEEE`, `RN`, `TH` and copied text; the number
//! written into it position by position, with `#` where it does not fit.
//! The locale is C's (sessions run with `lc_numeric` and `lc_monetary`
//! `C`): `.` and `,`, the currency symbol a blank.

use crate::error::{Error, Result};
use crate::types::numeric::Numeric;

mod digits;
mod read;
use digits::digits;
pub use read::to_number;

/// A number to format, by the type `to_char` was called with.
#[derive(Debug, Clone)]
pub enum Number {
    /// smallint and integer (PostgreSQL's `int4_to_char`).
    Int4(i64),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    Numeric(Numeric),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Comma,
    Dec,
    Zero,
    Nine,
    B,
    C,
    D,
    Eeee,
    Fm,
    G,
    L,
    Mi,
    Pl,
    Pr,
    RnUpper,
    RnLower,
    Sg,
    Sp,
    S,
    ThUpper,
    ThLower,
    V,
}

/// PostgreSQL's keyword table, in its order (the first that matches wins).
const KEYWORDS: &[(&str, Key)] = &[
    (",", Key::Comma),
    (".", Key::Dec),
    ("0", Key::Zero),
    ("9", Key::Nine),
    ("B", Key::B),
    ("C", Key::C),
    ("D", Key::D),
    ("EEEE", Key::Eeee),
    ("FM", Key::Fm),
    ("G", Key::G),
    ("L", Key::L),
    ("MI", Key::Mi),
    ("PL", Key::Pl),
    ("PR", Key::Pr),
    ("RN", Key::RnUpper),
    ("SG", Key::Sg),
    ("SP", Key::Sp),
    ("S", Key::S),
    ("TH", Key::ThUpper),
    ("V", Key::V),
    ("b", Key::B),
    ("c", Key::C),
    ("d", Key::D),
    ("eeee", Key::Eeee),
    ("fm", Key::Fm),
    ("g", Key::G),
    ("l", Key::L),
    ("mi", Key::Mi),
    ("pl", Key::Pl),
    ("pr", Key::Pr),
    ("rn", Key::RnLower),
    ("sg", Key::Sg),
    ("sp", Key::Sp),
    ("s", Key::S),
    ("th", Key::ThLower),
    ("v", Key::V),
];

enum Node {
    Action(Key),
    Text(char),
}

const DECIMAL: u32 = 1 << 1;
const ZERO: u32 = 1 << 3;
const BLANK: u32 = 1 << 4;
const FILLMODE: u32 = 1 << 5;
const LSIGN: u32 = 1 << 6;
const BRACKET: u32 = 1 << 7;
const MINUS: u32 = 1 << 8;
const PLUS: u32 = 1 << 9;
const ROMAN: u32 = 1 << 10;
const MULTI: u32 = 1 << 11;
const EEEE: u32 = 1 << 14;

const LSIGN_PRE: i32 = -1;
const LSIGN_POST: i32 = 1;

/// PostgreSQL's NUMDesc: what the template asks.
#[derive(Debug, Default, Clone)]
struct Desc {
    pre: i32,
    post: i32,
    lsign: i32,
    flag: u32,
    pre_lsign_num: i32,
    multi: i32,
    zero_start: i32,
    zero_end: i32,
}

impl Desc {
    fn has(&self, f: u32) -> bool {
        self.flag & f != 0
    }
}

fn syntax(m: &str) -> Error {
    Error::Syntax(m.into())
}

/// `NUMDesc_prepare`: one keyword's effect on the description.
fn prepare(d: &mut Desc, k: Key) -> Result<()> {
    if d.has(EEEE) && k != Key::Eeee {
        return Err(syntax("\"EEEE\" must be the last pattern used"));
    }
    match k {
        Key::Nine => {
            if d.has(BRACKET) {
                return Err(syntax("\"9\" must be ahead of \"PR\""));
            }
            if d.has(MULTI) {
                d.multi += 1;
            } else if d.has(DECIMAL) {
                d.post += 1;
            } else {
                d.pre += 1;
            }
        }
        Key::Zero => {
            if d.has(BRACKET) {
                return Err(syntax("\"0\" must be ahead of \"PR\""));
            }
            if !d.has(ZERO) && !d.has(DECIMAL) {
                d.flag |= ZERO;
                d.zero_start = d.pre + 1;
            }
            if d.has(DECIMAL) {
                d.post += 1;
            } else {
                d.pre += 1;
            }
            d.zero_end = d.pre + d.post;
        }
        Key::B => {
            if d.pre == 0 && d.post == 0 && !d.has(ZERO) {
                d.flag |= BLANK;
            }
        }
        // `D` is the locale's point, C's `.` here.
        Key::D | Key::Dec => {
            if d.has(DECIMAL) {
                return Err(syntax("multiple decimal points"));
            }
            if d.has(MULTI) {
                return Err(syntax("cannot use \"V\" and decimal point together"));
            }
            d.flag |= DECIMAL;
        }
        Key::Fm => d.flag |= FILLMODE,
        Key::S => {
            if d.has(LSIGN) {
                return Err(syntax("cannot use \"S\" twice"));
            }
            if d.has(PLUS) || d.has(MINUS) || d.has(BRACKET) {
                return Err(syntax(
                    "cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together",
                ));
            }
            if !d.has(DECIMAL) {
                d.lsign = LSIGN_PRE;
                d.pre_lsign_num = d.pre;
                d.flag |= LSIGN;
            } else if d.lsign == 0 {
                d.lsign = LSIGN_POST;
                d.flag |= LSIGN;
            }
        }
        Key::Mi | Key::Pl | Key::Sg => {
            if d.has(LSIGN) {
                let what = match k {
                    Key::Mi => "MI",
                    Key::Pl => "PL",
                    _ => "SG",
                };
                return Err(syntax(&format!("cannot use \"S\" and \"{what}\" together")));
            }
            // PostgreSQL marks a sign after the decimal point too; to_char
            // places it where it stands either way.
            d.flag |= match k {
                Key::Mi => MINUS,
                Key::Pl => PLUS,
                _ => MINUS | PLUS,
            };
        }
        Key::Pr => {
            if d.has(LSIGN) || d.has(PLUS) || d.has(MINUS) {
                return Err(syntax(
                    "cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together",
                ));
            }
            d.flag |= BRACKET;
        }
        Key::RnUpper | Key::RnLower => d.flag |= ROMAN,
        Key::V => {
            if d.has(DECIMAL) {
                return Err(syntax("cannot use \"V\" and decimal point together"));
            }
            d.flag |= MULTI;
        }
        Key::Eeee => {
            if d.has(EEEE) {
                return Err(syntax("cannot use \"EEEE\" twice"));
            }
            if d.flag & (BLANK | FILLMODE | LSIGN | BRACKET | MINUS | PLUS | ROMAN | MULTI) != 0 {
                return Err(
                    syntax("\"EEEE\" is incompatible with other formats").with_detail(
                        "\"EEEE\" may only be used together with digit and decimal point patterns.",
                    ),
                );
            }
            d.flag |= EEEE;
        }
        Key::Comma | Key::C | Key::G | Key::L | Key::Sp | Key::ThUpper | Key::ThLower => {}
    }
    Ok(())
}

/// `parse_format` for numbers: keywords, double-quoted text (a backslash
/// quoting the next character), `\"` outside quotes, any other character.
fn parse(fmt: &str) -> Result<(Vec<Node>, Desc)> {
    let mut nodes = Vec::new();
    let mut desc = Desc::default();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        if let Some((name, k)) = KEYWORDS.iter().find(|(n, _)| rest.starts_with(n)) {
            prepare(&mut desc, *k)?;
            nodes.push(Node::Action(*k));
            rest = &rest[name.len()..];
            continue;
        }
        if c == '"' {
            let mut chars = rest[1..].char_indices();
            let mut end = rest.len();
            while let Some((i, ch)) = chars.next() {
                if ch == '"' {
                    end = i + 2;
                    break;
                }
                let ch = match ch {
                    '\\' => match chars.clone().next() {
                        Some((_, n)) => {
                            chars.next();
                            n
                        }
                        None => ch,
                    },
                    _ => ch,
                };
                nodes.push(Node::Text(ch));
            }
            rest = &rest[end.min(rest.len())..];
            continue;
        }
        let skip = if c == '\\' && rest[1..].starts_with('"') {
            1
        } else {
            0
        };
        let ch = rest[skip..].chars().next().unwrap_or(c);
        nodes.push(Node::Text(ch));
        rest = &rest[skip + ch.len_utf8()..];
    }
    Ok((nodes, desc))
}

/// The ordinal suffix of the digits `num` (PostgreSQL's `get_th`).
fn ordinal(num: &str, upper: bool) -> Result<&'static str> {
    let b = num.as_bytes();
    let Some(&last) = b.last().filter(|c| c.is_ascii_digit()) else {
        return Err(Error::InvalidParameter(format!(
            "\"{num}\" is not a number"
        )));
    };
    let teen = b.len() > 1 && b[b.len() - 2] == b'1';
    let s = match (teen, last) {
        (false, b'1') => "st",
        (false, b'2') => "nd",
        (false, b'3') => "rd",
        _ => "th",
    };
    Ok(match (upper, s) {
        (false, s) => s,
        (true, "st") => "ST",
        (true, "nd") => "ND",
        (true, "rd") => "RD",
        (true, _) => "TH",
    })
}

/// PostgreSQL's `to_char(number, template)`.
pub fn to_char(value: &Number, template: &str) -> Result<String> {
    if template.is_empty() {
        return Ok(String::new());
    }
    let (nodes, mut d) = parse(template)?;
    let (number, sign, out_pre_spaces) = digits(value, &mut d)?;
    // EEEE writes the number alone, whatever else the template holds.
    if d.has(EEEE) {
        return Ok(String::from_utf8_lossy(&number).into_owned());
    }
    let mut out = Writer::new(d, number, sign, out_pre_spaces).write(&nodes);
    // PostgreSQL writes into a C string: a digit place past the number's
    // end (a double cut to its 15 digits) writes its terminating NUL.
    if let Some(end) = out.find('\0') {
        out.truncate(end);
    }
    Ok(out)
}

/// `NUM_processor` writing: the number's digits into the template.
struct Writer {
    d: Desc,
    number: Vec<u8>,
    /// Where the next digit is read from `number`.
    at: usize,
    sign: u8,
    sign_wrote: bool,
    num_count: i32,
    num_in: bool,
    num_curr: i32,
    out_pre_spaces: i32,
    last_relevant: Option<usize>,
    out: String,
}

impl Writer {
    fn new(mut d: Desc, number: Vec<u8>, sign: u8, out_pre_spaces: i32) -> Writer {
        if d.zero_start > 0 {
            d.zero_start -= 1;
        }
        let mut out_pre_spaces = out_pre_spaces;
        let mut sign = sign;
        if d.has(ROMAN) {
            d.lsign = 0;
            d.pre_lsign_num = 0;
            d.post = 0;
            d.pre = 0;
            out_pre_spaces = 0;
            sign = 0;
            d.flag = (d.flag & FILLMODE) | ROMAN;
        }
        let sign_wrote = if d.has(PLUS) || d.has(MINUS) {
            !d.has(PLUS) || d.has(MINUS)
        } else {
            if sign != b'-' && d.has(FILLMODE) {
                d.flag &= !BRACKET;
            }
            if d.lsign == LSIGN_PRE && d.pre == d.pre_lsign_num {
                d.lsign = LSIGN_POST;
            }
            sign == b'+' && d.has(FILLMODE) && !d.has(LSIGN)
        };
        let mut w = Writer {
            num_count: d.post + d.pre - 1,
            d,
            number,
            at: 0,
            sign,
            sign_wrote,
            num_in: false,
            num_curr: 0,
            out_pre_spaces,
            last_relevant: None,
            out: String::new(),
        };
        if w.d.has(FILLMODE) && w.d.has(DECIMAL) {
            w.last_relevant = w.last_relevant_decimal();
            if let Some(last) = w.last_relevant {
                if w.d.zero_end > w.out_pre_spaces {
                    let last_zero = (w.number.len() as i32 - 1)
                        .min(w.d.zero_end - w.out_pre_spaces)
                        .max(0) as usize;
                    if last < last_zero {
                        w.last_relevant = Some(last_zero);
                    }
                }
            }
        }
        if !w.sign_wrote && w.out_pre_spaces == 0 {
            w.num_count += 1;
        }
        w
    }

    /// The last digit after the point that is not 0 (or the point).
    fn last_relevant_decimal(&self) -> Option<usize> {
        let point = self.number.iter().position(|&c| c == b'.')?;
        let last = self.number[point + 1..]
            .iter()
            .rposition(|&c| c != b'0')
            .map_or(point, |i| point + 1 + i);
        Some(last)
    }

    fn byte(&self, i: usize) -> u8 {
        self.number.get(i).copied().unwrap_or(0)
    }

    fn relevant_is_point(&self) -> bool {
        self.last_relevant.is_some_and(|i| self.byte(i) == b'.')
    }

    /// A `0` before the point of a template without `0`s: written blank.
    fn predec_space(&self) -> bool {
        !self.d.has(ZERO) && self.at == 0 && self.byte(0) == b'0' && self.d.post != 0
    }

    fn write(mut self, nodes: &[Node]) -> String {
        let sign_char = |s: u8| if s == b'-' { "-" } else { "+" };
        for n in nodes {
            let k = match n {
                Node::Text(c) => {
                    self.out.push(*c);
                    continue;
                }
                Node::Action(k) => *k,
            };
            let fill = self.d.has(FILLMODE);
            match k {
                Key::Nine | Key::Zero | Key::Dec | Key::D => self.digit(k),
                Key::Comma | Key::G => match (self.num_in, fill) {
                    (true, _) => self.out.push(','),
                    (false, false) => self.out.push(' '),
                    (false, true) => {}
                },
                Key::L => self.out.push(' '),
                Key::RnUpper | Key::RnLower => {
                    let text =
                        String::from_utf8_lossy(&self.number[self.at.min(self.number.len())..])
                            .into_owned();
                    let text = if k == Key::RnLower {
                        text.to_ascii_lowercase()
                    } else {
                        text
                    };
                    if fill {
                        self.out.push_str(&text);
                    } else {
                        self.out.push_str(&format!("{text:>15}"));
                    }
                }
                Key::ThUpper | Key::ThLower => {
                    if self.d.has(ROMAN)
                        || self.byte(0) == b'#'
                        || self.sign == b'-'
                        || self.d.has(DECIMAL)
                    {
                        continue;
                    }
                    let num = String::from_utf8_lossy(&self.number).into_owned();
                    if let Ok(th) = ordinal(&num, k == Key::ThUpper) {
                        self.out.push_str(th);
                    }
                }
                Key::Mi => match (self.sign == b'-', fill) {
                    (true, _) => self.out.push('-'),
                    (false, false) => self.out.push(' '),
                    (false, true) => {}
                },
                Key::Pl => match (self.sign == b'+', fill) {
                    (true, _) => self.out.push('+'),
                    (false, false) => self.out.push(' '),
                    (false, true) => {}
                },
                Key::Sg => match self.sign {
                    0 => self.out.push('\0'),
                    s => self.out.push_str(sign_char(s)),
                },
                _ => {}
            }
        }
        self.out
    }

    /// `NUM_numpart_to_char`: a digit place or the decimal point.
    fn digit(&mut self, k: Key) {
        if self.d.has(ROMAN) {
            return;
        }
        let fill = self.d.has(FILLMODE);
        self.num_in = false;
        let zero = self.d.has(ZERO);
        if !self.sign_wrote
            && (self.num_curr >= self.out_pre_spaces
                || (zero && self.d.zero_start == self.num_curr))
            && (!self.predec_space() || self.relevant_is_point())
        {
            if self.d.has(LSIGN) {
                if self.d.lsign == LSIGN_PRE {
                    self.out.push(if self.sign == b'-' { '-' } else { '+' });
                    self.sign_wrote = true;
                }
            } else if self.d.has(BRACKET) {
                self.out.push(if self.sign == b'+' { ' ' } else { '<' });
                self.sign_wrote = true;
            } else if self.sign == b'+' {
                if !fill {
                    self.out.push(' ');
                }
                self.sign_wrote = true;
            } else if self.sign == b'-' {
                self.out.push('-');
                self.sign_wrote = true;
            }
        }
        if self.num_curr < self.out_pre_spaces && (self.d.zero_start > self.num_curr || !zero) {
            if !fill {
                self.out.push(' ');
            }
        } else if zero && self.num_curr < self.out_pre_spaces && self.d.zero_start <= self.num_curr
        {
            self.out.push('0');
            self.num_in = true;
        } else {
            if self.byte(self.at) == b'.' {
                // PostgreSQL writes the point whether or not FM drops the
                // digits after it.
                self.out.push('.');
            } else if self.last_relevant.is_some_and(|l| self.at > l) && k != Key::Zero {
            } else if self.predec_space() {
                if !fill {
                    self.out.push(' ');
                } else if self.relevant_is_point() {
                    self.out.push('0');
                }
            } else {
                self.out.push(char::from(self.byte(self.at)));
                self.num_in = true;
            }
            if self.at < self.number.len() {
                self.at += 1;
            }
        }
        let mut end =
            self.num_count + i32::from(self.out_pre_spaces > 0) + i32::from(self.d.has(DECIMAL));
        if self.last_relevant == Some(self.at) {
            end = self.num_curr;
        }
        if self.num_curr + 1 == end {
            if self.sign_wrote && self.d.has(BRACKET) {
                self.out.push(if self.sign == b'+' { ' ' } else { '>' });
            } else if self.d.has(LSIGN) && self.d.lsign == LSIGN_POST {
                self.out.push(if self.sign == b'-' { '-' } else { '+' });
            }
        }
        self.num_curr += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str, f: &str) -> String {
        to_char(&Number::Numeric(Numeric::parse(s).unwrap()), f).unwrap()
    }

    #[test]
    fn templates_write_as_postgresql_does() {
        assert_eq!(to_char(&Number::Int4(12), "999").unwrap(), "  12");
        assert_eq!(to_char(&Number::Int4(-12), "999").unwrap(), " -12");
        assert_eq!(to_char(&Number::Int4(1234), "999").unwrap(), " ###");
        assert_eq!(n("0.5", "9.99"), "  .50");
        assert_eq!(n("0.5", "0.99"), " 0.50");
        assert_eq!(n("0.5", "FM9.99"), ".5");
        assert_eq!(n("1234.5", "9,999.00"), " 1,234.50");
        assert_eq!(n("-1234.5", "FM9,999.00PR"), "<1,234.50>");
        assert_eq!(to_char(&Number::Int4(3), "FMRN").unwrap(), "III");
        assert_eq!(to_char(&Number::Int4(22), "FM99th").unwrap(), "22nd");
        assert_eq!(
            to_char(&Number::Float8(12345.678), "9.99EEEE").unwrap(),
            " 1.23e+04"
        );
    }

    #[test]
    fn v_multiplies_integers_with_an_overflow_check() {
        let err = |n: Number, f: &str| to_char(&n, f).unwrap_err().sqlstate();
        assert_eq!(to_char(&Number::Int4(12), "99V99").unwrap(), " 1200");
        assert_eq!(err(Number::Int4(2147483647), "99V99"), "22003");
        assert_eq!(err(Number::Int4(0), "99V9999999999"), "22003");
        assert_eq!(err(Number::Int8(1), "99V9999999999999999999"), "22003");
    }
}
