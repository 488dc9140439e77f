// The PostgreSQL JDBC driver against MosaicDB, the way Java applications and
// BI tools (DBeaver, Metabase) use it: PreparedStatement with parameters of
// several types, batches, ResultSet getters, transactions, SQLSTATEs, and
// the DatabaseMetaData calls that browse schemas, tables and columns.
// getPrimaryKeys, getImportedKeys/getExportedKeys and getTypeInfo send the
// driver's own catalog queries (information_schema._pg_expandarray, array
// subscripts, current_schemas, pg_constraint joined to pg_class).
//
// tests/compat_jdbc.rs compiles this file and runs it with
// MOSAIC_JDBC_URL, MOSAIC_USER and MOSAIC_PASSWORD set. Every check runs;
// each failure is printed, and the exit status is 1 if there was one.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

public class Compat {
    interface Check {
        void run(Connection c) throws Exception;
    }

    static final List<String> failures = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        String url = System.getenv("MOSAIC_JDBC_URL");
        if (url == null) {
            throw new IllegalStateException("MOSAIC_JDBC_URL is not set (run through cargo test --test compat_jdbc)");
        }
        try (Connection c = DriverManager.getConnection(url, System.getenv("MOSAIC_USER"), System.getenv("MOSAIC_PASSWORD"))) {
            System.out.println("driver " + c.getMetaData().getDriverVersion()
                    + ", server " + c.getMetaData().getDatabaseProductVersion());
            setup(c);
            check(c, "prepared statements and getters", Compat::preparedAndGetters);
            check(c, "server-side prepared statement reuse", Compat::reuse);
            check(c, "batch insert", Compat::batch);
            check(c, "commit and rollback", Compat::transactions);
            check(c, "SQLSTATEs", Compat::errors);
            check(c, "getTables", Compat::tables);
            check(c, "getColumns", Compat::columns);
            check(c, "getSchemas", Compat::schemas);
            check(c, "getPrimaryKeys", Compat::primaryKeys);
            check(c, "getTypeInfo", Compat::typeInfo);
            check(c, "getImportedKeys and getExportedKeys", Compat::foreignKeys);
            check(c, "views and sequences in getTables", Compat::viewsAndSequences);
        }
        if (!failures.isEmpty()) {
            System.out.println(failures.size() + " check(s) failed: " + failures);
            System.exit(1);
        }
        System.out.println("all checks passed");
    }

    static void check(Connection c, String name, Check check) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
            check.run(c);
            System.out.println("ok   " + name);
        } catch (Throwable e) {
            failures.add(name);
            System.out.println("FAIL " + name + ": " + e);
            e.printStackTrace(System.out);
        }
    }

    static void expect(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void expectEq(Object got, Object want, String what) {
        if (!Objects.equals(got, want)) {
            throw new AssertionError(what + ": got " + got + ", want " + want);
        }
    }

    static void setup(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id integer PRIMARY KEY, name text NOT NULL, score double precision, "
                    + "active boolean, created timestamp, amount numeric(10,2), big bigint, note varchar(50))");
            s.execute("CREATE TABLE batch_items (id integer PRIMARY KEY, label varchar(20), qty integer)");
        }
    }

    static void preparedAndGetters(Connection c) throws SQLException {
        Timestamp created = Timestamp.valueOf("2024-01-02 03:04:05.678");
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO t (id, name, score, active, created, amount, big, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setInt(1, 1);
            ps.setString(2, "héllo 'world'");
            ps.setDouble(3, 2.5);
            ps.setBoolean(4, true);
            ps.setTimestamp(5, created);
            ps.setBigDecimal(6, new BigDecimal("1234.50"));
            ps.setLong(7, 9_000_000_000L);
            ps.setNull(8, Types.VARCHAR);
            expectEq(ps.executeUpdate(), 1, "insert count");

            ps.setInt(1, 2);
            ps.setString(2, "second");
            ps.setDouble(3, -0.125);
            ps.setBoolean(4, false);
            ps.setNull(5, Types.TIMESTAMP);
            ps.setNull(6, Types.NUMERIC);
            ps.setNull(7, Types.BIGINT);
            ps.setString(8, "a note");
            expectEq(ps.executeUpdate(), 1, "insert count");
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, name, score, active, created, amount, big, note FROM t WHERE id = ?")) {
            ps.setInt(1, 1);
            try (ResultSet rs = ps.executeQuery()) {
                expect(rs.next(), "row 1");
                expectEq(rs.getInt("id"), 1, "id");
                expectEq(rs.getString("name"), "héllo 'world'", "name");
                expectEq(rs.getDouble("score"), 2.5, "score");
                expectEq(rs.getBoolean("active"), true, "active");
                expectEq(rs.getTimestamp("created"), created, "created");
                expectEq(rs.getBigDecimal("amount"), new BigDecimal("1234.50"), "amount");
                expectEq(rs.getLong("big"), 9_000_000_000L, "big");
                expectEq(rs.getString("note"), null, "note");
                expect(rs.wasNull(), "note was null");
                expectEq(rs.getMetaData().getColumnCount(), 8, "column count");
                expectEq(rs.getMetaData().getColumnLabel(5), "created", "column label");
                expect(!rs.next(), "one row");
            }
            ps.setInt(1, 2);
            try (ResultSet rs = ps.executeQuery()) {
                expect(rs.next(), "row 2");
                expectEq(rs.getBoolean("active"), false, "active");
                expectEq(rs.getTimestamp("created"), null, "created");
                expectEq(rs.getObject("big"), null, "big");
                expectEq(rs.getString("note"), "a note", "note");
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM t WHERE active = ? AND score < ? AND name LIKE ? ORDER BY id")) {
            ps.setBoolean(1, false);
            ps.setDouble(2, 0);
            ps.setString(3, "sec%");
            try (ResultSet rs = ps.executeQuery()) {
                expect(rs.next(), "a match");
                expectEq(rs.getInt(1), 2, "id");
                expect(!rs.next(), "one match");
            }
        }
    }

    /** Past prepareThreshold (5) the driver switches to a named server-side
     *  statement, and to binary results for the types it knows. */
    static void reuse(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT ? + 1 AS n, name FROM t WHERE id = ?")) {
            for (int i = 0; i < 12; i++) {
                ps.setInt(1, i);
                ps.setInt(2, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    expect(rs.next(), "row at execution " + i);
                    expectEq(rs.getInt("n"), i + 1, "n at execution " + i);
                    expectEq(rs.getString("name"), "héllo 'world'", "name at execution " + i);
                }
            }
        }
    }

    static void batch(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_items (id, label, qty) VALUES (?, ?, ?)")) {
            for (int i = 0; i < 100; i++) {
                ps.setInt(1, i);
                ps.setString(2, "item " + i);
                ps.setInt(3, i * 2);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            expectEq(counts.length, 100, "batch results");
            for (int n : counts) {
                expect(n == 1 || n == Statement.SUCCESS_NO_INFO, "batch count " + n);
            }
        }
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*), sum(qty), max(label) FROM batch_items")) {
            expect(rs.next(), "aggregate row");
            expectEq(rs.getLong(1), 100L, "count");
            expectEq(rs.getLong(2), 9900L, "sum");
            expectEq(rs.getString(3), "item 99", "max label");
        }
    }

    static void transactions(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, name) VALUES (?, ?)")) {
            ps.setInt(1, 10);
            ps.setString(2, "rolled back");
            ps.executeUpdate();
            c.rollback();
            ps.setInt(1, 11);
            ps.setString(2, "committed");
            ps.executeUpdate();
            c.commit();
        }
        c.setAutoCommit(true);
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id FROM t WHERE id >= 10 ORDER BY id")) {
            expect(rs.next(), "a row");
            expectEq(rs.getInt(1), 11, "committed id");
            expect(!rs.next(), "only the committed row");
        }
    }

    static String sqlState(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            return e.getSQLState();
        }
        throw new AssertionError("no error from " + sql);
    }

    static void errors(Connection c) throws SQLException {
        expectEq(sqlState(c, "INSERT INTO t (id, name) VALUES (1, 'dup')"), "23505", "duplicate key");
        expectEq(sqlState(c, "INSERT INTO t (id, name) VALUES (99, NULL)"), "23502", "not null");
        expectEq(sqlState(c, "SELECT * FROM no_such_table"), "42P01", "missing table");
        expectEq(sqlState(c, "SELEC 1"), "42601", "syntax error");
        c.setAutoCommit(false);
        expectEq(sqlState(c, "SELECT * FROM no_such_table"), "42P01", "missing table in a transaction");
        expectEq(sqlState(c, "SELECT 1"), "25P02", "aborted transaction");
        c.rollback();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
            expect(rs.next(), "count row");
            expectEq(rs.getLong(1), 3L, "rows in t");
        }
    }

    /** Rows of a metadata ResultSet as maps from column label to getObject. */
    static List<Map<String, Object>> rows(ResultSet rs) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            Map<String, Object> row = new HashMap<>();
            for (int i = 1; i <= n; i++) {
                row.put(rs.getMetaData().getColumnLabel(i).toUpperCase(), rs.getObject(i));
            }
            out.add(row);
        }
        rs.close();
        return out;
    }

    static void tables(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        List<Map<String, Object>> all = rows(md.getTables(null, null, "%", new String[] {"TABLE"}));
        List<String> names = new ArrayList<>();
        for (Map<String, Object> row : all) {
            expectEq(row.get("TABLE_TYPE"), "TABLE", "TABLE_TYPE of " + row);
            if ("public".equals(row.get("TABLE_SCHEM"))) {
                names.add((String) row.get("TABLE_NAME"));
            }
        }
        expectEq(names, List.of("batch_items", "t"), "tables in public");
    }

    static void columns(Connection c) throws SQLException {
        List<Map<String, Object>> cols = rows(c.getMetaData().getColumns(null, "public", "t", "%"));
        Object[][] want = {
            // name, DATA_TYPE, TYPE_NAME, NULLABLE
            {"id", Types.INTEGER, "int4", DatabaseMetaData.columnNoNulls},
            {"name", Types.VARCHAR, "text", DatabaseMetaData.columnNoNulls},
            {"score", Types.DOUBLE, "float8", DatabaseMetaData.columnNullable},
            {"active", Types.BIT, "bool", DatabaseMetaData.columnNullable},
            {"created", Types.TIMESTAMP, "timestamp", DatabaseMetaData.columnNullable},
            {"amount", Types.NUMERIC, "numeric", DatabaseMetaData.columnNullable},
            {"big", Types.BIGINT, "int8", DatabaseMetaData.columnNullable},
            {"note", Types.VARCHAR, "varchar", DatabaseMetaData.columnNullable},
        };
        expectEq(cols.size(), want.length, "columns of t: " + cols);
        for (int i = 0; i < want.length; i++) {
            Map<String, Object> col = cols.get(i);
            String what = "column " + want[i][0] + " " + col;
            expectEq(col.get("TABLE_SCHEM"), "public", what);
            expectEq(col.get("TABLE_NAME"), "t", what);
            expectEq(col.get("COLUMN_NAME"), want[i][0], what);
            expectEq(((Number) col.get("DATA_TYPE")).intValue(), want[i][1], what + " DATA_TYPE");
            expectEq(col.get("TYPE_NAME"), want[i][2], what + " TYPE_NAME");
            expectEq(((Number) col.get("NULLABLE")).intValue(), want[i][3], what + " NULLABLE");
            expectEq(col.get("IS_NULLABLE"), (int) want[i][3] == DatabaseMetaData.columnNoNulls ? "NO" : "YES",
                    what + " IS_NULLABLE");
            expectEq(((Number) col.get("ORDINAL_POSITION")).intValue(), i + 1, what + " ORDINAL_POSITION");
        }
        expectEq(((Number) cols.get(7).get("COLUMN_SIZE")).intValue(), 50, "varchar(50) COLUMN_SIZE");
        expectEq(((Number) cols.get(5).get("COLUMN_SIZE")).intValue(), 10, "numeric(10,2) COLUMN_SIZE");
        expectEq(((Number) cols.get(5).get("DECIMAL_DIGITS")).intValue(), 2, "numeric(10,2) DECIMAL_DIGITS");
    }

    static void schemas(Connection c) throws SQLException {
        List<String> names = new ArrayList<>();
        for (Map<String, Object> row : rows(c.getMetaData().getSchemas())) {
            names.add((String) row.get("TABLE_SCHEM"));
        }
        expect(names.contains("public"), "public in " + names);
        expect(names.contains("pg_catalog"), "pg_catalog in " + names);
        expect(names.contains("information_schema"), "information_schema in " + names);
    }

    static void primaryKeys(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        List<Map<String, Object>> t = rows(md.getPrimaryKeys(null, "public", "t"));
        expectEq(t.size(), 1, "primary key columns of t: " + t);
        expectEq(t.get(0).get("TABLE_SCHEM"), "public", "TABLE_SCHEM " + t);
        expectEq(t.get(0).get("TABLE_NAME"), "t", "TABLE_NAME " + t);
        expectEq(t.get(0).get("COLUMN_NAME"), "id", "COLUMN_NAME " + t);
        expectEq(((Number) t.get(0).get("KEY_SEQ")).intValue(), 1, "KEY_SEQ " + t);
        expectEq(t.get(0).get("PK_NAME"), "t_pkey", "PK_NAME " + t);

        // A composite key lists its columns in key order, not table order.
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE pk2 (a integer, b text, c integer, PRIMARY KEY (c, a))");
        }
        try {
            List<Map<String, Object>> pk = rows(md.getPrimaryKeys(null, "public", "pk2"));
            expectEq(pk.size(), 2, "primary key columns of pk2: " + pk);
            String[] names = {"c", "a"};
            for (int i = 0; i < names.length; i++) {
                expectEq(pk.get(i).get("COLUMN_NAME"), names[i], "COLUMN_NAME " + pk);
                expectEq(((Number) pk.get(i).get("KEY_SEQ")).intValue(), i + 1, "KEY_SEQ " + pk);
                expectEq(pk.get(i).get("PK_NAME"), "pk2_pkey", "PK_NAME " + pk);
            }
            expectEq(rows(md.getPrimaryKeys(null, "public", "no_such_table")).size(), 0, "no table, no key");
        } finally {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE pk2");
            }
        }
    }

    static void typeInfo(Connection c) throws SQLException {
        Map<String, Integer> dataType = new HashMap<>();
        for (Map<String, Object> row : rows(c.getMetaData().getTypeInfo())) {
            dataType.put((String) row.get("TYPE_NAME"), ((Number) row.get("DATA_TYPE")).intValue());
        }
        Object[][] want = {
            {"int2", Types.SMALLINT},
            {"int4", Types.INTEGER},
            {"int8", Types.BIGINT},
            {"text", Types.VARCHAR},
            {"varchar", Types.VARCHAR},
            {"bool", Types.BIT},
            {"float8", Types.DOUBLE},
            {"numeric", Types.NUMERIC},
            {"timestamp", Types.TIMESTAMP},
            {"date", Types.DATE},
            {"bytea", Types.BINARY},
            {"_int4", Types.ARRAY},
        };
        for (Object[] w : want) {
            expectEq(dataType.get(w[0]), w[1], "DATA_TYPE of " + w[0] + " in " + dataType);
        }
    }

    static void foreignKeys(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE fk_parent (id integer PRIMARY KEY, a integer, b integer, UNIQUE (a, b))");
            s.execute("CREATE TABLE fk_child (id integer PRIMARY KEY, "
                    + "parent_id integer CONSTRAINT fk_child_parent REFERENCES fk_parent ON DELETE CASCADE, "
                    + "x integer, y integer, "
                    + "CONSTRAINT fk_child_pair FOREIGN KEY (y, x) REFERENCES fk_parent (a, b) "
                    + "ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED)");
        }
        try {
            DatabaseMetaData md = c.getMetaData();
            // Ordered by the referenced table, then KEY_SEQ: both keys
            // point at fk_parent, so by FK_NAME as the driver sorts ties.
            List<Map<String, Object>> imported = rows(md.getImportedKeys(null, "public", "fk_child"));
            Object[][] want = {
                // FK_NAME, KEY_SEQ, PKCOLUMN, FKCOLUMN, PK_NAME, UPDATE_RULE, DELETE_RULE, DEFERRABILITY
                {"fk_child_pair", 1, "a", "y", "fk_parent_a_b_key", DatabaseMetaData.importedKeySetNull,
                    DatabaseMetaData.importedKeyNoAction, DatabaseMetaData.importedKeyInitiallyDeferred},
                {"fk_child_pair", 2, "b", "x", "fk_parent_a_b_key", DatabaseMetaData.importedKeySetNull,
                    DatabaseMetaData.importedKeyNoAction, DatabaseMetaData.importedKeyInitiallyDeferred},
                {"fk_child_parent", 1, "id", "parent_id", "fk_parent_pkey", DatabaseMetaData.importedKeyNoAction,
                    DatabaseMetaData.importedKeyCascade, DatabaseMetaData.importedKeyNotDeferrable},
            };
            expectEq(imported.size(), want.length, "imported keys of fk_child: " + imported);
            List<Map<String, Object>> exported = rows(md.getExportedKeys(null, "public", "fk_parent"));
            expectEq(exported.size(), want.length, "exported keys of fk_parent: " + exported);
            for (List<Map<String, Object>> keys : List.of(imported, exported)) {
                List<String> seen = new ArrayList<>();
                for (Map<String, Object> k : keys) {
                    seen.add(k.get("FK_NAME") + "/" + k.get("KEY_SEQ"));
                }
                for (int i = 0; i < want.length; i++) {
                    Map<String, Object> k = keys.get(seen.indexOf(want[i][0] + "/" + want[i][1]));
                    String what = "key " + k;
                    expectEq(k.get("PKTABLE_SCHEM"), "public", what);
                    expectEq(k.get("PKTABLE_NAME"), "fk_parent", what);
                    expectEq(k.get("PKCOLUMN_NAME"), want[i][2], what + " PKCOLUMN_NAME");
                    expectEq(k.get("FKTABLE_SCHEM"), "public", what);
                    expectEq(k.get("FKTABLE_NAME"), "fk_child", what);
                    expectEq(k.get("FKCOLUMN_NAME"), want[i][3], what + " FKCOLUMN_NAME");
                    expectEq(k.get("PK_NAME"), want[i][4], what + " PK_NAME");
                    expectEq(((Number) k.get("UPDATE_RULE")).intValue(), want[i][5], what + " UPDATE_RULE");
                    expectEq(((Number) k.get("DELETE_RULE")).intValue(), want[i][6], what + " DELETE_RULE");
                    expectEq(((Number) k.get("DEFERRABILITY")).intValue(), want[i][7], what + " DEFERRABILITY");
                }
            }
            expectEq(rows(md.getImportedKeys(null, "public", "fk_parent")).size(), 0, "fk_parent imports nothing");
            expectEq(rows(md.getExportedKeys(null, "public", "fk_child")).size(), 0, "fk_child exports nothing");
        } finally {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE fk_child, fk_parent");
            }
        }
    }

    static void viewsAndSequences(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE vs_base (id serial PRIMARY KEY, name text)");
            s.execute("CREATE VIEW vs_names AS SELECT name FROM vs_base");
            s.execute("CREATE SEQUENCE vs_counter");
        }
        try {
            DatabaseMetaData md = c.getMetaData();
            List<String> views = new ArrayList<>();
            for (Map<String, Object> row : rows(md.getTables(null, "public", "vs%", new String[] {"VIEW"}))) {
                expectEq(row.get("TABLE_TYPE"), "VIEW", "TABLE_TYPE of " + row);
                views.add((String) row.get("TABLE_NAME"));
            }
            expectEq(views, List.of("vs_names"), "views");
            List<String> sequences = new ArrayList<>();
            for (Map<String, Object> row : rows(md.getTables(null, "public", "vs%", new String[] {"SEQUENCE"}))) {
                expectEq(row.get("TABLE_TYPE"), "SEQUENCE", "TABLE_TYPE of " + row);
                sequences.add((String) row.get("TABLE_NAME"));
            }
            expectEq(sequences, List.of("vs_base_id_seq", "vs_counter"), "sequences");
            List<Map<String, Object>> cols = rows(md.getColumns(null, "public", "vs_names", "%"));
            expectEq(cols.size(), 1, "columns of the view: " + cols);
            expectEq(cols.get(0).get("COLUMN_NAME"), "name", "view column");
            expectEq(cols.get(0).get("TYPE_NAME"), "text", "view column type");
            List<Map<String, Object>> id = rows(md.getColumns(null, "public", "vs_base", "id"));
            expectEq(id.get(0).get("TYPE_NAME"), "serial", "a serial column is reported as serial");
            expectEq(id.get(0).get("IS_AUTOINCREMENT"), "YES", "a serial column autoincrements");
        } finally {
            try (Statement s = c.createStatement()) {
                s.execute("DROP VIEW vs_names");
                s.execute("DROP TABLE vs_base");
                s.execute("DROP SEQUENCE vs_counter");
            }
        }
    }
}
