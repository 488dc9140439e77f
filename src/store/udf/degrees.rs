//! The trigonometric functions in degrees (`sind`, `cosd`, `tand`,
//! `cotd`, `asind`, `acosd`, `atand`, `atan2d`), computed as PostgreSQL
//! computes them (float.c): each reduced to the first quadrant and built
//! from the C library's sin, cos, asin, acos and atan scaled by their
//! values at 30, 45 and 60 degrees, so that those angles give exact
//! answers (`sind(30)` is 0.5, `tand(45)` 1) and every other answer is the
//! same double PostgreSQL gives.

use std::sync::LazyLock;

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

/// PostgreSQL's RADIANS_PER_DEGREE.
#[allow(clippy::excessive_precision)]
const RADIANS_PER_DEGREE: f64 = 0.017_453_292_519_943_295_769_2;

/// float.c's scaling constants, computed once by the same library calls
/// the functions make at run time.
static SIN_30: LazyLock<f64> = LazyLock::new(|| (30.0 * RADIANS_PER_DEGREE).sin());
static ONE_MINUS_COS_60: LazyLock<f64> = LazyLock::new(|| 1.0 - (60.0 * RADIANS_PER_DEGREE).cos());
static ASIN_0_5: LazyLock<f64> = LazyLock::new(|| 0.5f64.asin());
static ACOS_0_5: LazyLock<f64> = LazyLock::new(|| 0.5f64.acos());
static ATAN_1_0: LazyLock<f64> = LazyLock::new(|| 1.0f64.atan());
static TAN_45: LazyLock<f64> = LazyLock::new(|| sind_q1(45.0) / cosd_q1(45.0));
static COT_45: LazyLock<f64> = LazyLock::new(|| cosd_q1(45.0) / sind_q1(45.0));

fn sind_0_to_30(x: f64) -> f64 {
    ((x * RADIANS_PER_DEGREE).sin() / *SIN_30) / 2.0
}

fn cosd_0_to_60(x: f64) -> f64 {
    let one_minus_cos_x = 1.0 - (x * RADIANS_PER_DEGREE).cos();
    1.0 - (one_minus_cos_x / *ONE_MINUS_COS_60) / 2.0
}

fn sind_q1(x: f64) -> f64 {
    if x <= 30.0 {
        sind_0_to_30(x)
    } else {
        cosd_0_to_60(90.0 - x)
    }
}

fn cosd_q1(x: f64) -> f64 {
    if x <= 60.0 {
        cosd_0_to_60(x)
    } else {
        sind_0_to_30(90.0 - x)
    }
}

fn asind_q1(x: f64) -> f64 {
    if x <= 0.5 {
        (x.asin() / *ASIN_0_5) * 30.0
    } else {
        90.0 - (x.acos() / *ACOS_0_5) * 60.0
    }
}

fn acosd_q1(x: f64) -> f64 {
    if x <= 0.5 {
        90.0 - (x.asin() / *ASIN_0_5) * 30.0
    } else {
        (x.acos() / *ACOS_0_5) * 60.0
    }
}

fn out_of_range() -> rusqlite::Error {
    super::fail(crate::error::Error::NumericOutOfRange(
        "input is out of range".into(),
    ))
}

/// An angle in degrees reduced to [0, 90], with the signs the sine and
/// cosine take in its quadrant; infinities are out of range.
fn reduce(x: f64) -> rusqlite::Result<(f64, f64, f64)> {
    if x.is_infinite() {
        return Err(out_of_range());
    }
    let (mut x, mut sin_sign, mut cos_sign) = (x % 360.0, 1.0, 1.0);
    if x < 0.0 {
        x = -x;
        sin_sign = -sin_sign;
    }
    if x > 180.0 {
        x = 360.0 - x;
        sin_sign = -sin_sign;
    }
    if x > 90.0 {
        x = 180.0 - x;
        cos_sign = -cos_sign;
    }
    Ok((x, sin_sign, cos_sign))
}

fn sind(x: f64) -> rusqlite::Result<f64> {
    if x.is_nan() {
        return Ok(x);
    }
    let (x, s, _) = reduce(x)?;
    Ok(s * sind_q1(x))
}

fn cosd(x: f64) -> rusqlite::Result<f64> {
    if x.is_nan() {
        return Ok(x);
    }
    let (x, _, c) = reduce(x)?;
    Ok(c * cosd_q1(x))
}

/// `tand` (`cot` false) and `cotd`: the quotient of the first quadrant's
/// sine and cosine over its value at 45 degrees, never minus zero
/// (`tand(180)`).
fn tan_or_cot(x: f64, cot: bool) -> rusqlite::Result<f64> {
    if x.is_nan() {
        return Ok(x);
    }
    let (x, s, c) = reduce(x)?;
    let r = match cot {
        false => s * c * ((sind_q1(x) / cosd_q1(x)) / *TAN_45),
        true => s * c * ((cosd_q1(x) / sind_q1(x)) / *COT_45),
    };
    Ok(if r == 0.0 { 0.0 } else { r })
}

fn tand(x: f64) -> rusqlite::Result<f64> {
    tan_or_cot(x, false)
}

fn cotd(x: f64) -> rusqlite::Result<f64> {
    tan_or_cot(x, true)
}

fn asind(x: f64) -> rusqlite::Result<f64> {
    if x.is_nan() {
        return Ok(x);
    }
    if !(-1.0..=1.0).contains(&x) {
        return Err(out_of_range());
    }
    Ok(if x >= 0.0 { asind_q1(x) } else { -asind_q1(-x) })
}

fn acosd(x: f64) -> rusqlite::Result<f64> {
    if x.is_nan() {
        return Ok(x);
    }
    if !(-1.0..=1.0).contains(&x) {
        return Err(out_of_range());
    }
    Ok(if x >= 0.0 {
        acosd_q1(x)
    } else {
        90.0 + asind_q1(-x)
    })
}

fn atand(x: f64) -> rusqlite::Result<f64> {
    Ok((x.atan() / *ATAN_1_0) * 45.0)
}

fn atan2d(y: f64, x: f64) -> f64 {
    (y.atan2(x) / *ATAN_1_0) * 45.0
}

/// `degrees(x)`: x divided by RADIANS_PER_DEGREE, as PostgreSQL divides
/// (SQLite's own multiplies by 180/pi, a last bit apart at times).
fn degrees(x: f64) -> rusqlite::Result<f64> {
    super::math::checked(x, x / RADIANS_PER_DEGREE, x == 0.0)
}

fn radians(x: f64) -> rusqlite::Result<f64> {
    super::math::checked(x, x * RADIANS_PER_DEGREE, x == 0.0)
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    type Unary = fn(f64) -> rusqlite::Result<f64>;
    let one: [(&str, Unary); 9] = [
        ("degrees", degrees),
        ("radians", radians),
        ("sind", sind),
        ("cosd", cosd),
        ("tand", tand),
        ("cotd", cotd),
        ("asind", asind),
        ("acosd", acosd),
        ("atand", atand),
    ];
    for (name, f) in one {
        super::math::unary(conn, name, det, f)?;
    }
    conn.create_scalar_function("atan2d", 2, det, |c| -> super::FnResult {
        Ok(
            match (super::math::float(c, 0)?, super::math::float(c, 1)?) {
                (Some(y), Some(x)) => rusqlite::types::Value::Real(atan2d(y, x)),
                _ => rusqlite::types::Value::Null,
            },
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact answers PostgreSQL guarantees, and its signs.
    #[test]
    fn special_angles_are_exact() {
        for (x, want) in [
            (0.0, 0.0),
            (30.0, 0.5),
            (90.0, 1.0),
            (150.0, 0.5),
            (-30.0, -0.5),
        ] {
            assert_eq!(sind(x).ok(), Some(want), "sind({x})");
        }
        for (x, want) in [
            (0.0, 1.0),
            (60.0, 0.5),
            (90.0, 0.0),
            (120.0, -0.5),
            (180.0, -1.0),
        ] {
            assert_eq!(cosd(x).ok(), Some(want), "cosd({x})");
        }
        assert_eq!(tand(45.0).ok(), Some(1.0));
        assert_eq!(tand(180.0).ok().map(f64::is_sign_positive), Some(true));
        assert_eq!(cotd(45.0).ok(), Some(1.0));
        assert_eq!(asind(0.5).ok(), Some(30.0));
        assert_eq!(acosd(0.5).ok(), Some(60.0));
        assert_eq!(acosd(-1.0).ok(), Some(180.0));
        assert_eq!(atand(1.0).ok(), Some(45.0));
        assert_eq!(atan2d(1.0, 1.0), 45.0);
        assert!(sind(f64::INFINITY).is_err() && asind(1.5).is_err());
    }
}
