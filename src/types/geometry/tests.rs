//! Expected strings copied from PostgreSQL 15 + PostGIS 3.3.2.
use super::*;

fn err(s: &str) -> (String, Option<String>) {
    match parse_text(s) {
        Err(GeomError::Internal { message, hint }) => (message, hint),
        other => panic!("{s}: {other:?}"),
    }
}

fn hint(s: &str, h: &str) -> String {
    format!("\"{h}\" <-- parse error at position {} within geometry", s)
}

#[test]
fn wkt_errors() {
    let cases = [
        ("POINT(1", "parse error - invalid geometry", "POINT(1", 8),
        (
            "POINT(1 2",
            "parse error - invalid geometry",
            "POINT(1 2",
            11,
        ),
        ("garbage", "parse error - invalid geometry", "ga", 2),
        (
            "LINESTRING(1 1)",
            "geometry requires more points",
            "LINESTRING(1 1)",
            18,
        ),
        (
            "POLYGON((0 0,1 0,1 1,0 1))",
            "geometry contains non-closed rings",
            "POLYGON((0 0,1 0,1 1,0 1))",
            34,
        ),
        (
            "POLYGON((0 0,1 0,0 0))",
            "geometry requires more points",
            "POLYGON((0 0,1 0,0 0))",
            28,
        ),
        (
            "POINT(1 2)x",
            "parse error - invalid geometry",
            "POINT(1 2)x",
            14,
        ),
        (
            "POINT(inf 1)",
            "parse error - invalid geometry",
            "POINT(in",
            8,
        ),
        (
            "POINT(.5 +1)",
            "parse error - invalid geometry",
            "POINT(.5 +1)",
            12,
        ),
        (
            "SRID=4326;",
            "parse error - invalid geometry",
            "SRID=4326;",
            11,
        ),
        (
            "SRID=abc;POINT(1 2)",
            "parse error - invalid geometry",
            "SR",
            2,
        ),
        (
            "SRID = 4326 ; POINT(1 2)",
            "parse error - invalid geometry",
            "SR",
            2,
        ),
    ];
    for (s, m, h, pos) in cases {
        assert_eq!(
            err(s),
            (m.to_string(), Some(hint(&pos.to_string(), h))),
            "{s}"
        );
    }
    assert_eq!(err(""), ("parse error - invalid geometry".into(), None));
    assert_eq!(
        err("0").0,
        "Invalid hex string, length (1) has to be a multiple of two!"
    );
    assert_eq!(err("0x").0, "Invalid hex character (x) encountered");
    assert_eq!(err("01").0, "WKB structure does not match expected size!");
    assert_eq!(
        err("0199000000").0,
        "Unknown WKB type (153)! Full WKB type number was (153)."
    );
    assert_eq!(
        err("0201000000").0,
        "Invalid endian flag value encountered."
    );
    assert_eq!(
        err("01040000000100000001020000000000000000").0,
        "MultiPoint cannot contain LineString element"
    );
    assert_eq!(
        err("010300000001000000FFFFFFFF").0,
        "Pointarray length (-1) is too large"
    );
    for s in [
        "POINT(1 2 3)",
        "POINT Z (1 2 3)",
        "POINTM(1 2 3)",
        "POINT(1 2 3 4)",
        "0101000080000000000000F03F00000000000000400000000000000840",
    ] {
        assert_eq!(
            parse_text(s),
            Err(GeomError::NotSupported(
                "geometry with Z or M coordinates is not supported".into()
            )),
            "{s}"
        );
    }
    assert!(matches!(
        parse_text("CIRCULARSTRING(0 0,1 1,2 0)"),
        Err(GeomError::NotSupported(_))
    ));
}

#[test]
fn round_trips() {
    let cases = [
        ("POINT(1 2)", "POINT(1 2)", "0101000000000000000000F03F0000000000000040"),
        ("  point ( 1   2 )  ", "POINT(1 2)", "0101000000000000000000F03F0000000000000040"),
        ("SRID=4326;POINT(1 2)", "SRID=4326;POINT(1 2)", "0101000020E6100000000000000000F03F0000000000000040"),
        ("srid=4326;point(1 2)", "SRID=4326;POINT(1 2)", "0101000020E6100000000000000000F03F0000000000000040"),
        ("SRID=999999999;POINT(1 2)", "SRID=999000;POINT(1 2)", "0101000020583E0F00000000000000F03F0000000000000040"),
        ("SRID=-5;POINT(1 2)", "POINT(1 2)", "0101000000000000000000F03F0000000000000040"),
        ("MULTIPOINT((1 2),(3 4))", "MULTIPOINT(1 2,3 4)", "0104000000020000000101000000000000000000F03F0000000000000040010100000000000000000008400000000000001040"),
        ("MULTIPOINT(EMPTY,1 2)", "MULTIPOINT(EMPTY,1 2)", "0104000000020000000101000000000000000000F87F000000000000F87F0101000000000000000000F03F0000000000000040"),
        ("LINESTRING EMPTY", "LINESTRING EMPTY", "010200000000000000"),
        ("GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION(LINESTRING(0 0,1 1)))", "GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION(LINESTRING(0 0,1 1)))", "0107000000020000000101000000000000000000F03F000000000000004001070000000100000001020000000200000000000000000000000000000000000000000000000000F03F000000000000F03F"),
        ("POINT(1e3 -2.5E-2)", "POINT(1000 -0.025)", "01010000000000000000408F409A999999999999BF"),
        ("POINT(nan 1)", "POINT(NaN 1)", "0101000000000000000000F87F000000000000F03F"),
        ("POINT(1. 2)", "POINT(1 2)", "0101000000000000000000F03F0000000000000040"),
        ("POINT EMPTY", "POINT EMPTY", "0101000000000000000000F87F000000000000F87F"),
        ("0101000000000000000000F03F000000000000004000", "POINT(1 2)", "0101000000000000000000F03F0000000000000040"),
        ("00000000013FF00000000000004000000000000000", "POINT(1 2)", "0101000000000000000000F03F0000000000000040"),
        ("SRID=4326;0101000000000000000000F03F0000000000000040", "SRID=4326;POINT(1 2)", "0101000020E6100000000000000000F03F0000000000000040"),
        ("0102000000010000000000000000000000000000000000F03F", "LINESTRING(0 1)", "0102000000010000000000000000000000000000000000F03F"),
        ("MULTILINESTRING((0 0,1 1),EMPTY)", "MULTILINESTRING((0 0,1 1),EMPTY)", "01050000000200000001020000000200000000000000000000000000000000000000000000000000F03F000000000000F03F010200000000000000"),
        ("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),EMPTY)", "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),EMPTY)", "0106000000020000000103000000010000000400000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F00000000000000000000000000000000010300000000000000"),
    ];
    for (input, ewkt, hex) in cases {
        let g = parse_text(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!(to_ewkt(&g, 15), ewkt, "{input}");
        assert_eq!(to_hex(&g), hex, "{input}");
        if ewkt != "LINESTRING(0 1)" {
            assert_eq!(
                from_ewkb(&to_ewkb(&g)).ok().map(|g2| to_hex(&g2)),
                Some(hex.to_string())
            );
        }
        assert_eq!(
            parse_text(hex).map(|g| to_ewkt(&g, 15)),
            Ok(ewkt.to_string())
        );
    }
    let g = parse_text("MULTIPOINT(1 2,EMPTY)").unwrap();
    assert_eq!(to_wkt(&g, 15), "MULTIPOINT((1 2),EMPTY)");
    assert_eq!(type_name(&g), "ST_MultiPoint");
    assert_eq!(geometry_type(&g), "MULTIPOINT");
    assert_eq!(bbox(&g), Some((1.0, 2.0, 1.0, 2.0)));
    assert_eq!(bbox(&parse_text("POINT EMPTY").unwrap()), None);
}

#[test]
fn ewkb_input() {
    let b = |h: &str| {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
    };
    assert_eq!(
        from_ewkb(&[]),
        Err(GeomError::Internal {
            message: "Unable to parse WKB".into(),
            hint: None
        })
    );
    assert_eq!(
        from_ewkb(&b("01010000")).unwrap_err().to_string(),
        "WKB structure does not match expected size!"
    );
    assert_eq!(
        from_ewkb(&b("0101000020E6100000000000000000F03F0000000000000040"))
            .unwrap()
            .srid,
        4326
    );
    assert_eq!(
        from_ewkb(&b("0102000000010000000000000000000000000000000000F03F"))
            .unwrap_err()
            .to_string(),
        "LineString must have at least two points"
    );
}

#[test]
fn geojson() {
    let g = |s: &str| parse_text(s).unwrap();
    assert_eq!(
        to_geojson(&g("POINT(1 2)"), 9, 1).unwrap(),
        r#"{"type":"Point","bbox":[1.000000000,2.000000000,1.000000000,2.000000000],"coordinates":[1,2]}"#
    );
    let p = g("SRID=4326;POINT(1.123456789123 2)");
    assert_eq!(
        to_geojson(&p, 9, 8).unwrap(),
        r#"{"type":"Point","coordinates":[1.123456789,2]}"#
    );
    assert_eq!(
        to_geojson(&p, 9, 2).unwrap(),
        r#"{"type":"Point","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"coordinates":[1.123456789,2]}"#
    );
    assert_eq!(
        to_geojson(&p, 9, 5).unwrap(),
        r#"{"type":"Point","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4326"}},"bbox":[1.123456789,2.000000000,1.123456789,2.000000000],"coordinates":[1.123456789,2]}"#
    );
    assert_eq!(
        to_geojson(&g("SRID=3857;LINESTRING(1 2,3 4)"), 9, 8).unwrap(),
        r#"{"type":"LineString","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"coordinates":[[1,2],[3,4]]}"#
    );
    assert_eq!(
        to_geojson(&g("POINT EMPTY"), 9, 1).unwrap(),
        r#"{"type":"Point","bbox":[0.000000000,0.000000000,0.000000000,0.000000000],"coordinates":[]}"#
    );
    assert_eq!(
        to_geojson(&g("MULTIPOINT(1 2,EMPTY)"), 9, 0).unwrap(),
        r#"{"type":"MultiPoint","coordinates":[[1,2],]}"#
    );
    assert_eq!(
        to_geojson(&g("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),EMPTY)"), 9, 0).unwrap(),
        r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[]]}"#
    );
    assert_eq!(
        to_geojson(&g("GEOMETRYCOLLECTION EMPTY"), 9, 1).unwrap(),
        r#"{"type":"GeometryCollection","geometries":[]}"#
    );
    assert_eq!(
        to_geojson(&g("GEOMETRYCOLLECTION(POINT(1 2),LINESTRING EMPTY)"), 9, 1).unwrap(),
        r#"{"type":"GeometryCollection","bbox":[1.000000000,2.000000000,1.000000000,2.000000000],"geometries":[{"type":"Point","coordinates":[1,2]},{"type":"LineString","coordinates":[]}]}"#
    );
    assert_eq!(
        to_geojson(&g("POINT(1.5 2)"), -1, 1).unwrap(),
        r#"{"type":"Point","bbox":[1.500000,2.000000,1.500000,2.000000],"coordinates":[2,2]}"#
    );
    assert_eq!(
        to_geojson(
            &g("GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION EMPTY)"),
            9,
            8
        )
        .unwrap_err()
        .to_string(),
        "GeoJson: geometry not supported."
    );

    let f = |s: &str| from_geojson(s).map(|g| to_ewkt(&g, 15));
    let e = |s: &str| from_geojson(s).unwrap_err().to_string();
    assert_eq!(
        f(r#"{"type":"Point","coordinates":[1,2]}"#),
        Ok("SRID=4326;POINT(1 2)".into())
    );
    assert_eq!(
        f(r#"{"type":"Point","coordinates":[]}"#),
        Ok("SRID=4326;POINT EMPTY".into())
    );
    assert_eq!(
        e(r#"{"type":"Point"}"#),
        "Unable to find 'coordinates' in GeoJSON string"
    );
    assert_eq!(
        e(r#"{"type":"Point","coordinates":[1]}"#),
        "Too few ordinates in GeoJSON"
    );
    assert_eq!(
        f(r#"{"type":"Point","coordinates":["a",2]}"#),
        Ok("SRID=4326;POINT(0 2)".into())
    );
    assert_eq!(
        e(r#"{"type":"Foo","coordinates":[1,2]}"#),
        "invalid GeoJson representation"
    );
    assert_eq!(e(r#"{"coordinates":[1,2]}"#), "unknown GeoJSON type");
    assert_eq!(
        f(
            r#"{"type":"Point","coordinates":[1,2],"crs":{"type":"name","properties":{"name":"EPSG:3857"}}}"#
        ),
        Ok("SRID=3857;POINT(1 2)".into())
    );
    assert_eq!(
        f(
            r#"{"type":"Point","coordinates":[1,2],"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}}}"#
        ),
        Ok("SRID=3857;POINT(1 2)".into())
    );
    assert_eq!(
        f(r#"{"type":"LineString","coordinates":[[1,2]]}"#),
        Ok("SRID=4326;LINESTRING(1 2)".into())
    );
    assert_eq!(
        f(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}"#),
        Ok("SRID=4326;POLYGON((0 0,1 0,1 1))".into())
    );
    assert_eq!(
        f(r#"{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[]]}"#),
        Ok("SRID=4326;MULTILINESTRING((1 2,3 4),EMPTY)".into())
    );
    assert_eq!(
        f(
            r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"GeometryCollection","geometries":[]}]}"#
        ),
        Ok("SRID=4326;GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION EMPTY)".into())
    );
    assert_eq!(
        e(r#"{"type":"GeometryCollection"}"#),
        "Unable to find 'geometries' in GeoJSON string"
    );
    assert_eq!(
        e(r#"{"type":"Point","coordinates":1}"#),
        "The 'coordinates' in GeoJSON are not an array"
    );
    assert_eq!(
        e(r#"{"type":"LineString","coordinates":[1,2]}"#),
        "The 'coordinates' in GeoJSON are not sufficiently nested"
    );
    assert_eq!(
        f(r#"{"type":"point","coordinates":[1,2]}"#),
        Ok("SRID=4326;POINT(1 2)".into())
    );
    assert_eq!(
        parse_text(r#"{"type":"Point","coordinates":[1,2]}"#).map(|g| to_ewkt(&g, 15)),
        Ok("POINT(1 2)".into())
    );
    assert!(matches!(
        from_geojson(r#"{"type":"Point","coordinates":[1,2,3]}"#),
        Err(GeomError::NotSupported(_))
    ));
}

#[test]
fn typmods() {
    assert_eq!(typmod_in(&["Point"]), Ok(4));
    assert_eq!(typmod_in(&["Point", "4326"]), Ok(1107460));
    assert_eq!(typmod_in(&["Geometry", "4326"]), Ok(1107456));
    assert_eq!(typmod_in(&["Geometry", "0"]), Ok(0));
    assert_eq!(typmod_in(&["MultiPolygon", "3857"]), Ok(987416));
    assert_eq!(typmod_in(&["GeometryCollection"]), Ok(28));
    assert_eq!(typmod_in(&["point", "4326"]), Ok(1107460));
    assert!(matches!(
        typmod_in(&["POINTZ", "4326"]),
        Err(GeomError::NotSupported(_))
    ));
    assert_eq!(
        typmod_in(&["foo"]),
        Err(GeomError::InvalidParameter(
            "Invalid geometry type modifier: foo".into()
        ))
    );
    assert_eq!(
        typmod_in(&["4326"]),
        Err(GeomError::InvalidParameter(
            "Invalid geometry type modifier: 4326".into()
        ))
    );
    assert_eq!(typmod_out(1107460), "(Point,4326)");
    assert_eq!(typmod_out(4), "(Point)");
    assert_eq!(typmod_out(1107456), "(Geometry,4326)");
    assert_eq!(typmod_out(0), "");
    assert_eq!(typmod_out(-1), "");
    let srid99 = typmod_in(&["Point", "99999999"]).unwrap();
    assert_eq!(typmod_out(srid99), "(Point,999099)");
    let mut g = parse_text("POINT EMPTY").unwrap();
    assert_eq!(check_typmod(&mut g, 4), Ok(()));
    let mut g = parse_text("LINESTRING(0 0,1 1)").unwrap();
    assert_eq!(
        check_typmod(&mut g, 4),
        Err(GeomError::InvalidParameter(
            "Geometry type (LineString) does not match column type (Point)".into()
        ))
    );
    let mut g = parse_text("POINT(1 2)").unwrap();
    assert_eq!(check_typmod(&mut g, 1107456), Ok(()));
    assert_eq!(g.srid, 4326);
    let mut g = parse_text("SRID=3857;POINT(1 2)").unwrap();
    assert_eq!(
        check_typmod(&mut g, 1107460),
        Err(GeomError::InvalidParameter(
            "Geometry SRID (3857) does not match column SRID (4326)".into()
        ))
    );
    let mut g = parse_text("SRID=4326;POINT(1 2)").unwrap();
    assert_eq!(check_typmod(&mut g, 0), Ok(()));
    let mut g = parse_text("MULTIPOINT EMPTY").unwrap();
    assert_eq!(check_typmod(&mut g, 4), Ok(()));
    assert_eq!(g.shape, Shape::Point(None));
    let mut g = parse_text("POINT(1 2)").unwrap();
    assert_eq!(
        check_typmod(&mut g, 28),
        Err(GeomError::InvalidParameter(
            "Geometry type (Point) does not match column type (GeometryCollection)".into()
        ))
    );
}

#[test]
fn fuzz_no_panic() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds: Vec<Vec<u8>> = ["0107000000020000000101000000000000000000F03F000000000000004001070000000100000001020000000200000000000000000000000000000000000000000000000000F03F000000000000F03F", "0106000000020000000103000000010000000400000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F00000000000000000000000000000000010300000000000000"]
        .iter()
        .map(|h| (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0)).collect())
        .collect();
    for i in 0..20000 {
        let mut b = seeds[i % 2].clone();
        let cut = (next() as usize) % (b.len() + 1);
        b.truncate(cut);
        if !b.is_empty() && i % 3 == 0 {
            let k = (next() as usize) % b.len();
            b[k] = next() as u8;
        }
        let _ = from_ewkb(&b);
        let rnd: Vec<u8> = (0..(next() % 40)).map(|_| next() as u8).collect();
        let _ = from_ewkb(&rnd);
    }
    let alphabet = b"POINTLINESTRGMUYCE()(),, ;.-e0123456789=SRIDZnaN{}\"[]:";
    for _ in 0..20000 {
        let len = (next() % 40) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(next() as usize) % alphabet.len()] as char)
            .collect();
        let _ = parse_text(&s);
        let _ = parse_text(&format!("POINT({s}"));
        let _ = from_geojson(&s);
    }
    let deep = "GEOMETRYCOLLECTION(".repeat(5000);
    assert!(parse_text(&deep).is_err());
}
