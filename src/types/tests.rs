use super::*;
use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

#[test]
fn sql_type_names_map_to_pg_types() {
    let sql = "CREATE TABLE t (a serial, b bigserial, c timestamptz, \
               d timestamp with time zone, e varchar(10), f char(3), g float(10), \
               h numeric(10,2), i int2, j double precision, k bpchar, \
               l character varying(5), m smallserial, n timestamp without time zone, \
               o int8, p real, q float, r boolean, s bytea, u uuid, v jsonb, w json, \
               x date, y text, z character, aa decimal, ab bool, ac int4, ad float8)";
    let stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
    let Statement::CreateTable(ct) = &stmts[0] else {
        panic!("not a CREATE TABLE")
    };
    let got: Vec<PgType> = ct
        .columns
        .iter()
        .map(|c| PgType::from_sql(&c.data_type).unwrap())
        .collect();
    use PgType::*;
    let want = vec![
        Int4,
        Int8,
        Timestamptz,
        Timestamptz,
        Varchar(Some(10)),
        Bpchar(Some(3)),
        Float4,
        Numeric(Some((10, 2))),
        Int2,
        Float8,
        Bpchar(None),
        Varchar(Some(5)),
        Int2,
        Timestamp,
        Int8,
        Float4,
        Float8,
        Bool,
        Bytea,
        Uuid,
        Jsonb,
        Json,
        Date,
        Text,
        Bpchar(Some(1)),
        Numeric(None),
        Bool,
        Int4,
        Float8,
    ];
    assert_eq!(got, want);
    let serial: Vec<bool> = ct.columns.iter().map(|c| is_serial(&c.data_type)).collect();
    assert_eq!(&serial[..3], &[true, true, false]);
    assert_eq!(serial_type(&ct.columns[12].data_type), Some(Int2));
    let bad = Parser::parse_sql(
        &PostgreSqlDialect {},
        "CREATE TABLE t (a interval day to second)",
    )
    .unwrap();
    let Statement::CreateTable(ct) = &bad[0] else {
        panic!("not a CREATE TABLE")
    };
    let err = PgType::from_sql(&ct.columns[0].data_type).unwrap_err();
    assert_eq!(err.sqlstate(), "0A000");
}
