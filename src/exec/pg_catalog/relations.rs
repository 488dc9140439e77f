//! The columns of every `pg_catalog` relation MosaicDB answers, with
//! PostgreSQL's names and types, one line per relation. Types: `oid`,
//! `int2`, `int4`, `int8`, `float4`, `bool`, `timestamptz` are typed;
//! `name`, `text`, `char` and arrays (`text[]`, kept in PostgreSQL's text
//! form `{a,b}`) are text. `information_schema`'s domains are their base
//! types.

use crate::types::table::{Column, TableDef};
use crate::types::PgType;

/// (relation, columns) for each catalog relation, by unqualified name.
pub const RELATIONS: &[(&str, &str)] = &[
    ("pg_namespace", "oid oid, nspname name, nspowner oid, nspacl text[]"),
    ("pg_class", "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid int8, relminmxid int8, relacl text[], reloptions text[], relpartbound text"),
    ("pg_attribute", "attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, attgenerated char, attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, attacl text[], attoptions text[], attfdwoptions text[], attmissingval text"),
    ("pg_type", "oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript text, typelem oid, typarray oid, typinput text, typoutput text, typreceive text, typsend text, typmodin text, typmodout text, typanalyze text, typalign char, typstorage char, typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin text, typdefault text, typacl text[]"),
    ("pg_index", "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey text, indcollation text, indclass text, indoption text, indexprs text, indpred text"),
    ("pg_constraint", "oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, connoinherit bool, conkey text[], confkey text[], conpfeqop text[], conppeqop text[], conffeqop text[], confdelsetcols text[], conexclop text[], conbin text"),
    ("pg_attrdef", "oid oid, adrelid oid, adnum int2, adbin text"),
    ("pg_depend", "classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype char"),
    ("pg_database", "oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid int8, datminmxid int8, dattablespace oid, datcollate text, datctype text, daticulocale text, datcollversion text, datacl text[]"),
    ("pg_roles", "rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, rolbypassrls bool, rolconfig text[], oid oid"),
    ("pg_user", "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd text, valuntil timestamptz, useconfig text[]"),
    ("pg_auth_members", "oid oid, roleid oid, member oid, grantor oid, admin_option bool"),
    ("pg_am", "oid oid, amname name, amhandler text, amtype char"),
    ("pg_description", "objoid oid, classoid oid, objsubid int4, description text"),
    ("pg_shdescription", "objoid oid, classoid oid, description text"),
    ("pg_settings", "name text, setting text, unit text, category text, short_desc text, extra_desc text, context text, vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text, reset_val text, sourcefile text, sourceline int4, pending_restart bool"),
    ("pg_collation", "oid oid, collname name, collnamespace oid, collowner oid, collprovider char, collisdeterministic bool, collencoding int4, collcollate text, collctype text, colliculocale text, collversion text"),
    ("pg_range", "rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, rngcanonical text, rngsubdiff text"),
    ("pg_enum", "oid oid, enumtypid oid, enumsortorder float4, enumlabel name"),
    ("pg_inherits", "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool"),
    ("pg_tablespace", "oid oid, spcname name, spcowner oid, spcacl text[], spcoptions text[]"),
    ("pg_trigger", "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, tginitdeferred bool, tgnargs int2, tgattr text, tgargs text, tgqual text, tgoldtable name, tgnewtable name"),
    ("pg_policy", "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles text[], polqual text, polwithcheck text"),
    ("pg_statistic_ext", "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, stxkeys text, stxkind text[]"),
    ("pg_publication", "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool"),
    ("pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid"),
    ("pg_publication_rel", "oid oid, prpubid oid, prrelid oid, prqual text, prattrs text"),
    ("pg_foreign_table", "ftrelid oid, ftserver oid, ftoptions text[]"),
    ("pg_extension", "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text, extconfig text[], extcondition text[]"),
    ("pg_proc", "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, prokind char, prorettype oid, proargtypes text, proretset bool, prosrc text, provolatile char, proisstrict bool, pronargs int2, proargnames text[]"),
    ("pg_opclass", "oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, opcintype oid, opcdefault bool, opckeytype oid"),
    ("pg_sequence", "seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, seqcache int8, seqcycle bool"),
    ("pg_tables", "schemaname name, tablename name, tableowner name, tablespace name, hasindexes bool, hasrules bool, hastriggers bool, rowsecurity bool"),
    ("pg_indexes", "schemaname name, tablename name, indexname name, tablespace name, indexdef text"),
    ("pg_views", "schemaname name, viewname name, viewowner name, definition text"),
    ("pg_stat_activity", "datid oid, datname name, pid int4, leader_pid int4, usesysid oid, usename name, application_name text, client_addr text, client_hostname text, client_port int4, backend_start timestamptz, xact_start timestamptz, query_start timestamptz, state_change timestamptz, wait_event_type text, wait_event text, state text, backend_xid int8, backend_xmin int8, query_id int8, query text, backend_type text"),
    ("pg_locks", "locktype text, database oid, relation oid, page int4, tuple int2, virtualxid text, transactionid int8, classid oid, objid oid, objsubid int2, virtualtransaction text, pid int4, mode text, granted bool, fastpath bool, waitstart timestamptz"),
    ("pg_matviews", "schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes bool, ispopulated bool, definition text"),
];

/// The rows of a relation, in column order.
pub type Rows = Vec<Vec<crate::types::Datum>>;

fn pg_type(name: &str) -> PgType {
    match name {
        // information_schema's domains, as their base types.
        "cardinal_number" => PgType::Int4,
        "character_data" | "yes_or_no" => PgType::Varchar(None),
        "oid" => PgType::Oid,
        "int8" => PgType::Int8,
        "int2" => PgType::Int2,
        "int4" => PgType::Int4,
        "float4" => PgType::Float4,
        "bool" => PgType::Bool,
        "timestamptz" => PgType::Timestamptz,
        "char" => PgType::Char,
        _ => PgType::Text,
    }
}

/// The definition of a catalog relation by unqualified name.
pub fn definition(name: &str) -> Option<TableDef> {
    let (_, spec) = RELATIONS.iter().find(|(n, _)| *n == name)?;
    Some(spec_definition(&format!("pg_catalog.{name}"), spec))
}

/// A relation named `name` with the columns of `spec` (`a oid, b text`).
pub fn spec_definition(name: &str, spec: &str) -> TableDef {
    let columns = spec
        .split(", ")
        .map(|c| {
            let (name, ty) = c.split_once(' ').unwrap_or((c, "text"));
            Column {
                name: name.into(),
                ty: pg_type(ty),
                not_null: false,
                default: None,
                identity: None,
                comment: None,
                missing: None,
                former_names: vec![],
                sequence: None,
                generated: None,
                earlier_types: vec![],
                domain: None,
            }
        })
        .collect();
    TableDef {
        name: name.to_string(),
        oid: 0,
        columns,
        primary_key: vec![],
        unique: vec![],
        checks: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        comment: None,
        kind: Default::default(),
        altered: Default::default(),
        temp: None,
        access: Default::default(),
    }
}
