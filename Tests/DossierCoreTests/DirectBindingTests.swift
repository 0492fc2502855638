@testable import DossierCore
import GRDB
import XCTest

/// The import writer's statements bind values through SQLite's C API (Store/DirectBinding.swift):
/// what they store must be what GRDB's own binding stores.
final class DirectBindingTests: XCTestCase {
    func testValuesAreStoredAsGRDBWouldStoreThem() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t (s TEXT, i INTEGER, b INTEGER, n TEXT)")
            let direct = try db.cachedStatement(sql: "INSERT INTO t (s, i, b, n) VALUES (?, ?, ?, ?)")
            let values: [(String?, Int?, Bool?)] = [
                ("", 0, false), ("é\u{0}x", Int(Int64.max), true), ("\u{0}", Int(Int64.min), false), (nil, nil, nil),
                ("🙂 long " + String(repeating: "a", count: 10_000), -1, true), (String(decoding: [0xFF, 0x41], as: UTF8.self), 7, nil),
            ]
            for (s, i, b) in values {
                try direct.run { row in row.add(s); row.add(i); row.add(b); row.add(nil as String?) }
                try db.execute(sql: "INSERT INTO t (s, i, b, n) VALUES (?, ?, ?, ?)", arguments: [s, i, b, nil as String?])
            }
            // Each direct row (odd rowid) equals the GRDB row after it, bytes and types alike.
            let pairs = try Row.fetchAll(db, sql: """
                SELECT a.s IS b.s AND typeof(a.s) = typeof(b.s) AND length(CAST(a.s AS BLOB)) IS length(CAST(b.s AS BLOB)),
                       a.i IS b.i AND a.b IS b.b AND typeof(a.b) = typeof(b.b) AND a.n IS NULL AND b.n IS NULL, a.s
                FROM t a JOIN t b ON b.rowid = a.rowid + 1 WHERE a.rowid % 2 = 1 ORDER BY a.rowid
                """)
            XCTAssertEqual(pairs.count, values.count)
            for (row, value) in zip(pairs, values) {
                XCTAssertEqual(row[0] as Bool, true, "text of \(String(describing: value.0).prefix(20))")
                XCTAssertEqual(row[1] as Bool, true, "numbers of \(value)")
            }
            // An empty string is '', not NULL.
            XCTAssertEqual(pairs[0][2] as String?, "")
        }
    }

    func testQueriesReadRowsAndErrorsAreDatabaseErrors() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, name) VALUES (?, ?)")
            try insert.run { $0.add(1); $0.add("a") }
            try insert.run { $0.add(2); $0.add(nil as String?) }
            XCTAssertThrowsError(try insert.run { $0.add(3); $0.add("a") }) { error in
                XCTAssertEqual((error as? DatabaseError)?.resultCode, .SQLITE_CONSTRAINT, "\(error)")
            }
            // The statement is usable again after a failure.
            try insert.run { $0.add(3); $0.add("c") }
            let select = try db.cachedStatement(sql: "SELECT id, name FROM t WHERE id >= ? ORDER BY id")
            XCTAssertEqual(try select.firstRow(binding: { $0.add(2) }) { ($0.int64(0), $0.string(1)) }?.0, 2)
            XCTAssertNil(try select.firstRow(binding: { $0.add(2) }) { $0.string(1) } ?? nil)
            XCTAssertNil(try select.firstRow(binding: { $0.add(9) }) { $0.int64(0) })
            var seen: [String?] = []
            try select.forEachRow(binding: { $0.add(1) }) { seen.append($0.string(1)) }
            XCTAssertEqual(seen, ["a", nil, "c"])
            // GRDB's own API on the same cached statement still works alongside.
            XCTAssertEqual(try Int64.fetchAll(select, arguments: [0]), [1, 2, 3])
        }
    }
}
