//! WKT/EWKT input (`geometry_in` = LWGEOM_in in postgis/lwgeom_inout.c, with
//! the flex/bison parser of liblwgeom/lwin_wkt_lex.l, lwin_wkt_parse.y,
//! lwin_wkt.c) and output (`lwgeom_to_wkt`, liblwgeom/lwout_wkt.c).

use super::format::format_double;
use super::wkb::{hex_to_bytes, parse_wkb};
use super::{clamp_srid, CodecResult as Result, Coord, GeomError, Geometry, Shape};

/// Maximum nesting accepted before reporting a parse error (bison's stack
/// limit plays this role in PostGIS).
const MAX_NESTING: usize = 500;

const MSG_OTHER: &str = "parse error - invalid geometry";
const MSG_MOREPOINTS: &str = "geometry requires more points";
const MSG_UNCLOSED: &str = "geometry contains non-closed rings";
const MSG_MIXDIMS: &str = "can not mix dimensionality in a geometry";
const MSG_LESSPOINTS: &str = "geometry has too many points";

/// `geometry_in` (LWGEOM_in): accepts `[SRID=n;]WKT`, `[SRID=n;]hex-(E)WKB`
/// (either case and byte order, parsed with LW_PARSER_CHECK_NONE so e.g. a
/// one-point LineString is accepted; trailing bytes are ignored) and
/// GeoJSON starting with `{` (SRID from its crs member, else 0).
/// WKT is parsed with all checks (min points, closed rings); errors carry
/// PostGIS's HINT `"<input up to error>" <-- parse error at position N within geometry`.
/// Out-of-range SRIDs are clamped (PostGIS also emits a NOTICE, not reproduced).
pub fn parse_text(s: &str) -> Result<Geometry> {
    if s.is_empty() {
        return Err(GeomError::internal(MSG_OTHER));
    }
    let mut body = s;
    let mut srid = 0i32;
    if s.len() >= 5 && s.as_bytes()[..5].eq_ignore_ascii_case(b"SRID=") {
        if let Some(semi) = s.find(';') {
            if s.as_bytes().get(semi + 1) == Some(&b'0') {
                body = &s[semi + 1..];
                srid = atoi(&s[5..semi]);
            }
        }
    }
    if body.starts_with('0') {
        let bytes = hex_to_bytes(body)?;
        let mut g = parse_wkb(&bytes, false)?;
        if srid != 0 {
            g.srid = clamp_srid(srid);
        }
        return Ok(g);
    }
    if body.starts_with('{') {
        return super::geojson::parse_geojson_text(body, false);
    }
    Parser::new(s).run()
}

/// C `atoi`: optional whitespace and sign, digits, stop at first non-digit.
fn atoi(s: &str) -> i32 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    (if neg { -v } else { v }) as i32
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Double(f64),
    Srid(i32),
    Kw(&'static str),
    Dim(u8), // number of extra dims: Z or M = 1, ZM = 2
    LParen,
    RParen,
    Comma,
    Semicolon,
    Eof,
}

const KEYWORDS: &[&str] = &[
    "GEOMETRYCOLLECTION",
    "MULTISURFACE",
    "MULTIPOLYGON",
    "MULTICURVE",
    "MULTILINESTRING",
    "MULTIPOINT",
    "CURVEPOLYGON",
    "POLYGON",
    "COMPOUNDCURVE",
    "CIRCULARSTRING",
    "LINESTRING",
    "POLYHEDRALSURFACE",
    "TRIANGLE",
    "TIN",
    "POINT",
    "EMPTY",
];

/// A parsed coordinate with its ordinate count (2, 3 or 4).
type Pt = (Coord, usize);

struct Parser<'a> {
    src: &'a [u8],
    input: &'a str,
    pos: usize,
    /// flex `wkt_yylloc.last_column` (1-based; note that flex counts the
    /// trailing-context character of a number twice, as PostGIS does).
    col: usize,
    err: Option<(&'static str, usize)>,
    tok: Tok,
    depth: usize,
    has_zm: bool,
}

fn is_ctx(b: Option<&u8>) -> bool {
    matches!(b, Some(b' ' | b',' | b')' | b'\t' | b'\n' | b'\r'))
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser {
            src: input.as_bytes(),
            input,
            pos: 0,
            col: 1,
            err: None,
            tok: Tok::Eof,
            depth: 0,
            has_zm: false,
        }
    }

    fn run(mut self) -> Result<Geometry> {
        self.advance();
        let res = self.geometry();
        match (res, self.err) {
            (Ok(g), None) => {
                if self.has_zm {
                    Err(GeomError::zm())
                } else {
                    Ok(g)
                }
            }
            (Err(GeomErrorOrSyntax::NotSupported(e)), None) => Err(e),
            (_, Some((msg, loc))) => Err(self.error(msg, loc)),
            (Err(_), None) => Err(self.error(MSG_OTHER, self.col)),
        }
    }

    /// `pg_parser_errhint` + `lwmessage_truncate(input, 0, loc-1, 40, 0)`.
    fn error(&self, msg: &str, loc: usize) -> GeomError {
        let end = loc.saturating_sub(1);
        let n = self.src.len();
        let shown: Vec<u8> = if end < 40 {
            self.src[..(end + 1).min(n)].to_vec()
        } else {
            let start = end + 1 - 37;
            let mut v = b"...".to_vec();
            if start < n {
                v.extend_from_slice(&self.src[start..(start + 37).min(n)]);
            }
            v
        };
        GeomError::Internal {
            message: msg.to_string(),
            hint: Some(format!(
                "\"{}\" <-- parse error at position {} within geometry",
                String::from_utf8_lossy(&shown),
                loc
            )),
        }
    }

    /// The flex scanner: sets `self.tok`.
    fn advance(&mut self) {
        let s = self.src;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = s.get(self.pos) {
            self.pos += 1;
            self.col += 1;
        }
        let Some(&c) = s.get(self.pos) else {
            self.tok = Tok::Eof;
            return;
        };
        // Number: -?(([0-9]+\.?)|([0-9]*\.?[0-9]+)([eE][-+]?[0-9]+)?) / [ ,)\t\n\r]
        if let Some(len) = self.number_len() {
            let text = &self.input[self.pos..self.pos + len];
            let v = text.parse::<f64>().unwrap_or(0.0);
            self.pos += len;
            self.col += len + 1;
            self.tok = Tok::Double(v);
            return;
        }
        if s.len() >= self.pos + 3
            && s[self.pos..self.pos + 3].eq_ignore_ascii_case(b"nan")
            && is_ctx(s.get(self.pos + 3))
        {
            self.pos += 3;
            self.col += 4;
            self.tok = Tok::Double(f64::NAN);
            return;
        }
        if s.len() >= self.pos + 5 && s[self.pos..self.pos + 5].eq_ignore_ascii_case(b"SRID=") {
            let mut e = self.pos + 5;
            if s.get(e) == Some(&b'-') {
                e += 1;
            }
            let ds = e;
            while s.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
            if e > ds {
                // strtol then (int32_t) cast, then clamp_srid
                let txt = &self.input[self.pos + 5..e];
                let l: i64 = txt.parse::<i64>().unwrap_or(if txt.starts_with('-') {
                    i64::MIN
                } else {
                    i64::MAX
                });
                self.col += e - self.pos;
                self.pos = e;
                self.tok = Tok::Srid(clamp_srid(l as i32));
                return;
            }
        }
        // keywords / dimensionality: longest match, case-insensitive
        let mut best: Option<(usize, Tok)> = None;
        for kw in KEYWORDS {
            let k = kw.as_bytes();
            if s.len() >= self.pos + k.len()
                && s[self.pos..self.pos + k.len()].eq_ignore_ascii_case(k)
                && best.as_ref().is_none_or(|(l, _)| k.len() > *l)
            {
                best = Some((k.len(), Tok::Kw(kw)));
            }
        }
        if best.is_none() {
            let up = |i: usize| s.get(self.pos + i).map(u8::to_ascii_uppercase);
            match (up(0), up(1)) {
                (Some(b'Z'), Some(b'M')) => best = Some((2, Tok::Dim(2))),
                (Some(b'Z' | b'M'), _) => best = Some((1, Tok::Dim(1))),
                _ => {}
            }
        }
        if let Some((len, t)) = best {
            self.pos += len;
            self.col += len;
            self.tok = t;
            return;
        }
        let t = match c {
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b',' => Tok::Comma,
            b';' => Tok::Semicolon,
            _ => {
                // unknown character: error, then behave as end of input
                self.pos += 1;
                self.col += 1;
                self.err = Some((MSG_OTHER, self.col));
                self.pos = s.len();
                self.tok = Tok::Eof;
                return;
            }
        };
        self.pos += 1;
        self.col += 1;
        self.tok = t;
    }

    fn number_len(&self) -> Option<usize> {
        let s = &self.src[self.pos..];
        let mut i = usize::from(s.first() == Some(&b'-'));
        let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
        let exp_len = |from: usize| -> usize {
            if matches!(s.get(from), Some(b'e' | b'E')) {
                let mut j = from + 1;
                if matches!(s.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                let d = digits(j);
                if d > 0 {
                    return j + d - from;
                }
            }
            0
        };
        let a = digits(i);
        let mut cands: Vec<usize> = Vec::new();
        if a > 0 {
            cands.push(i + a);
            cands.push(i + a + exp_len(i + a));
            if s.get(i + a) == Some(&b'.') {
                cands.push(i + a + 1);
            }
        }
        if s.get(i + a) == Some(&b'.') {
            let b = digits(i + a + 1);
            if b > 0 {
                let e = i + a + 1 + b;
                cands.push(e);
                cands.push(e + exp_len(e));
            }
        }
        i = 0;
        for c in cands {
            if is_ctx(s.get(c)) && c > i {
                i = c;
            }
        }
        (i > 0).then_some(i)
    }

    fn syntax<T>(&mut self) -> std::result::Result<T, GeomErrorOrSyntax> {
        if self.err.is_none() {
            self.err = Some((MSG_OTHER, self.col));
        }
        Err(GeomErrorOrSyntax::Syntax)
    }

    fn semantic<T>(&mut self, msg: &'static str) -> std::result::Result<T, GeomErrorOrSyntax> {
        self.err = Some((msg, self.col));
        Err(GeomErrorOrSyntax::Syntax)
    }

    fn expect(&mut self, t: Tok) -> std::result::Result<(), GeomErrorOrSyntax> {
        if self.tok == t {
            self.advance();
            Ok(())
        } else {
            self.syntax()
        }
    }

    /// Checks that the current token is `)` without consuming it: bison runs
    /// the semantic action (and its checks) before reading the next token.
    fn at_rparen(&mut self) -> std::result::Result<(), GeomErrorOrSyntax> {
        if self.tok == Tok::RParen {
            Ok(())
        } else {
            self.syntax()
        }
    }

    fn geometry(&mut self) -> std::result::Result<Geometry, GeomErrorOrSyntax> {
        let mut srid = 0;
        if let Tok::Srid(s) = self.tok {
            srid = s;
            self.advance();
            self.expect(Tok::Semicolon)?;
        }
        let shape = self.geometry_no_srid()?;
        if self.tok != Tok::Eof {
            return self.syntax();
        }
        Ok(Geometry { srid, shape })
    }

    /// Optional dimensionality tag; returns extra ordinate count (0 = none).
    fn dim_tag(&mut self) -> usize {
        if let Tok::Dim(n) = self.tok {
            self.has_zm = true;
            self.advance();
            usize::from(n)
        } else {
            0
        }
    }

    fn geometry_no_srid(&mut self) -> std::result::Result<Shape, GeomErrorOrSyntax> {
        let Tok::Kw(kw) = self.tok else {
            return self.syntax();
        };
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.syntax();
        }
        self.advance();
        let tag = self.dim_tag();
        let r = match kw {
            "POINT" => self.point(tag),
            "LINESTRING" => self.tagged(
                tag,
                |p| p.linestring_body().map(Shape::LineString),
                Shape::LineString(vec![]),
            ),
            "POLYGON" => self.tagged(
                tag,
                |p| p.polygon_body().map(Shape::Polygon),
                Shape::Polygon(vec![]),
            ),
            "MULTIPOINT" => self.tagged(
                tag,
                |p| p.multipoint_body().map(Shape::MultiPoint),
                Shape::MultiPoint(vec![]),
            ),
            "MULTILINESTRING" => self.tagged(
                tag,
                |p| {
                    p.list(|p| {
                        if p.tok == Tok::Kw("EMPTY") {
                            p.advance();
                            Ok(vec![])
                        } else {
                            p.linestring_body()
                        }
                    })
                    .map(Shape::MultiLineString)
                },
                Shape::MultiLineString(vec![]),
            ),
            "MULTIPOLYGON" => self.tagged(
                tag,
                |p| {
                    p.list(|p| {
                        if p.tok == Tok::Kw("EMPTY") {
                            p.advance();
                            Ok(vec![])
                        } else {
                            p.polygon_body()
                        }
                    })
                    .map(Shape::MultiPolygon)
                },
                Shape::MultiPolygon(vec![]),
            ),
            "GEOMETRYCOLLECTION" => self.tagged(
                tag,
                |p| {
                    p.list(|p| p.geometry_no_srid())
                        .map(Shape::GeometryCollection)
                },
                Shape::GeometryCollection(vec![]),
            ),
            "EMPTY" => self.syntax(),
            other => {
                let name = match other {
                    "CIRCULARSTRING" => "CircularString",
                    "COMPOUNDCURVE" => "CompoundCurve",
                    "CURVEPOLYGON" => "CurvePolygon",
                    "MULTICURVE" => "MultiCurve",
                    "MULTISURFACE" => "MultiSurface",
                    "POLYHEDRALSURFACE" => "PolyhedralSurface",
                    "TRIANGLE" => "Triangle",
                    _ => "Tin",
                };
                Err(GeomErrorOrSyntax::NotSupported(
                    GeomError::unsupported_type(name),
                ))
            }
        };
        self.depth -= 1;
        r
    }

    /// `X EMPTY` or `X ( body )` (the parenthesised body parsed by `f`).
    fn tagged(
        &mut self,
        _tag: usize,
        f: impl FnOnce(&mut Self) -> std::result::Result<Shape, GeomErrorOrSyntax>,
        empty: Shape,
    ) -> std::result::Result<Shape, GeomErrorOrSyntax> {
        if self.tok == Tok::Kw("EMPTY") {
            self.advance();
            return Ok(empty);
        }
        if self.tok != Tok::LParen {
            return self.syntax();
        }
        f(self)
    }

    /// `( item , item … )`
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> std::result::Result<T, GeomErrorOrSyntax>,
    ) -> std::result::Result<Vec<T>, GeomErrorOrSyntax> {
        self.expect(Tok::LParen)?;
        let mut v = vec![item(self)?];
        while self.tok == Tok::Comma {
            self.advance();
            v.push(item(self)?);
        }
        self.expect(Tok::RParen)?;
        Ok(v)
    }

    fn coordinate(&mut self) -> std::result::Result<Pt, GeomErrorOrSyntax> {
        let mut vals = Vec::with_capacity(4);
        while let Tok::Double(v) = self.tok {
            if vals.len() == 4 {
                break;
            }
            vals.push(v);
            self.advance();
        }
        if vals.len() < 2 {
            return self.syntax();
        }
        if vals.len() > 2 {
            self.has_zm = true;
        }
        Ok((
            Coord {
                x: vals[0],
                y: vals[1],
            },
            vals.len(),
        ))
    }

    /// `ptarray` with the mixed-dimension check of `wkt_parser_ptarray_add_coord`.
    fn ptarray(&mut self) -> std::result::Result<(Vec<Coord>, usize), GeomErrorOrSyntax> {
        let (c, nd) = self.coordinate()?;
        let mut v = vec![c];
        while self.tok == Tok::Comma {
            self.advance();
            let (c, n) = self.coordinate()?;
            if n != nd {
                return self.semantic(MSG_MIXDIMS);
            }
            v.push(c);
        }
        Ok((v, nd))
    }

    fn point(&mut self, tag: usize) -> std::result::Result<Shape, GeomErrorOrSyntax> {
        if self.tok == Tok::Kw("EMPTY") {
            self.advance();
            return Ok(Shape::Point(None));
        }
        self.expect(Tok::LParen)?;
        let (v, nd) = self.ptarray()?;
        self.at_rparen()?;
        if tag > 0 && nd != 2 + tag {
            return self.semantic(MSG_MIXDIMS);
        }
        if v.len() != 1 {
            return self.semantic(MSG_LESSPOINTS);
        }
        self.advance();
        Ok(Shape::Point(v.first().copied()))
    }

    fn linestring_body(&mut self) -> std::result::Result<Vec<Coord>, GeomErrorOrSyntax> {
        self.expect(Tok::LParen)?;
        let (v, _) = self.ptarray()?;
        self.at_rparen()?;
        if v.len() < 2 {
            return self.semantic(MSG_MOREPOINTS);
        }
        self.advance();
        Ok(v)
    }

    fn polygon_body(&mut self) -> std::result::Result<Vec<Vec<Coord>>, GeomErrorOrSyntax> {
        self.list(|p| {
            p.expect(Tok::LParen)?;
            let (v, _) = p.ptarray()?;
            p.at_rparen()?;
            if v.len() < 4 {
                return p.semantic(MSG_MOREPOINTS);
            }
            let (a, b) = (v[0], v[v.len() - 1]);
            // ptarray_is_closed_2d compares with memcmp; NaN == NaN there.
            if a.x.to_bits() != b.x.to_bits() && a.x != b.x
                || a.y.to_bits() != b.y.to_bits() && a.y != b.y
            {
                return p.semantic(MSG_UNCLOSED);
            }
            p.advance();
            Ok(v)
        })
    }

    fn multipoint_body(&mut self) -> std::result::Result<Vec<Option<Coord>>, GeomErrorOrSyntax> {
        self.list(|p| match p.tok {
            Tok::Kw("EMPTY") => {
                p.advance();
                Ok(None)
            }
            Tok::LParen => {
                p.advance();
                let (c, _) = p.coordinate()?;
                p.expect(Tok::RParen)?;
                Ok(Some(c))
            }
            _ => Ok(Some(p.coordinate()?.0)),
        })
    }
}

enum GeomErrorOrSyntax {
    Syntax,
    NotSupported(GeomError),
}

/// `ST_AsText(geometry[, maxdecimaldigits])` (WKT_ISO): no SRID, MULTIPOINT
/// members in parentheses (`MULTIPOINT((1 2),EMPTY)`).  Default precision 15.
pub fn to_wkt(g: &Geometry, precision: i32) -> String {
    let mut s = String::new();
    write_shape(&mut s, &g.shape, precision, true);
    s
}

/// `ST_AsEWKT(geometry[, maxdecimaldigits])` (WKT_EXTENDED): `SRID=n;` prefix
/// when srid != 0, MULTIPOINT members without parentheses (`MULTIPOINT(1 2,EMPTY)`).
pub fn to_ewkt(g: &Geometry, precision: i32) -> String {
    let mut s = String::new();
    if g.srid != 0 {
        s.push_str(&format!("SRID={};", g.srid));
    }
    write_shape(&mut s, &g.shape, precision, false);
    s
}

fn write_pts(s: &mut String, pts: &[Coord], p: i32) {
    write_list(s, pts, |s, c| {
        s.push_str(&format_double(c.x, p));
        s.push(' ');
        s.push_str(&format_double(c.y, p));
    });
}

/// `(a,b,…)`: each item written by `item`, separated by commas.
fn write_list<T>(s: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    s.push('(');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        item(s, x);
    }
    s.push(')');
}

fn write_rings(s: &mut String, rings: &[Vec<Coord>], p: i32) {
    write_list(s, rings, |s, r| write_pts(s, r, p));
}

fn write_body(s: &mut String, shape: &Shape, p: i32, iso: bool) {
    if shape_is_empty_for_wkt(shape) {
        s.push_str(" EMPTY");
        return;
    }
    match shape {
        Shape::Point(Some(c)) => write_pts(s, std::slice::from_ref(c), p),
        Shape::Point(None) => {}
        Shape::LineString(v) => write_pts(s, v, p),
        Shape::Polygon(r) => write_rings(s, r, p),
        Shape::MultiPoint(v) => write_list(s, v, |s, pt| match pt {
            None => s.push_str("EMPTY"),
            Some(c) if iso => write_pts(s, std::slice::from_ref(c), p),
            Some(c) => {
                s.push_str(&format_double(c.x, p));
                s.push(' ');
                s.push_str(&format_double(c.y, p));
            }
        }),
        Shape::MultiLineString(v) => write_list(s, v, |s, l| match l.is_empty() {
            true => s.push_str("EMPTY"),
            false => write_pts(s, l, p),
        }),
        Shape::MultiPolygon(v) => write_list(s, v, |s, r| match r.is_empty() {
            true => s.push_str("EMPTY"),
            false => write_rings(s, r, p),
        }),
        Shape::GeometryCollection(v) => write_list(s, v, |s, g| write_shape(s, g, p, iso)),
    }
}

/// lwout_wkt prints EMPTY for a geometry with no members/points (not for a
/// collection whose members are all empty).
fn shape_is_empty_for_wkt(shape: &Shape) -> bool {
    match shape {
        Shape::Point(p) => p.is_none(),
        Shape::LineString(v) => v.is_empty(),
        Shape::Polygon(v) => v.is_empty(),
        Shape::MultiPoint(v) => v.is_empty(),
        Shape::MultiLineString(v) => v.is_empty(),
        Shape::MultiPolygon(v) => v.is_empty(),
        Shape::GeometryCollection(v) => v.is_empty(),
    }
}

fn write_shape(s: &mut String, shape: &Shape, p: i32, iso: bool) {
    s.push_str(shape.wkt_name());
    write_body(s, shape, p, iso);
}
