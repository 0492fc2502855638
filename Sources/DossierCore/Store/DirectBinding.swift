#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB
import GRDBSQLite

// The import writer runs about fifteen statements per message on one thread, and that thread
// is the pipeline's critical path. GRDB's `execute(arguments:)` builds a `StatementArguments`
// array of `DatabaseValue`s for every row and checks it against the statement; in a `perf`
// profile of a 100k import that bookkeeping, not SQLite, was about 2 s of the writer's 23 s.
// These helpers bind values straight through SQLite's C API onto GRDB's cached statements.
// GRDB documents raw use of its statement handles; what they skip is its statement
// observation, and nothing observes the database while an import writes.

extension Statement {
    /// Runs this statement (an INSERT, UPDATE or DELETE) once, with `bind` giving its parameters
    /// in order.
    /// - Throws: `DatabaseError` as GRDB would, e.g. for a constraint violation; a count of bound
    ///   values that differs from the statement's parameters is a programming error and traps.
    func run(binding bind: (inout SQLiteBindings) -> Void) throws {
        let handle = prepareDirect(bind)
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code) }
        sqlite3_reset(handle)
    }

    /// Runs this query with `bind` giving its parameters and returns `read` of its first row, or
    /// nil when it has none.
    func firstRow<T>(binding bind: (inout SQLiteBindings) -> Void, read: (SQLiteColumns) -> T) throws -> T? {
        let handle = prepareDirect(bind)
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return read(SQLiteColumns(handle: handle))
        case SQLITE_DONE: return nil
        case let code: throw failure(code)
        }
    }

    /// Calls `body` with each row of this query, `bind` giving its parameters.
    func forEachRow(binding bind: (inout SQLiteBindings) -> Void, _ body: (SQLiteColumns) throws -> Void) throws {
        let handle = prepareDirect(bind)
        defer { sqlite3_reset(handle) }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: try body(SQLiteColumns(handle: handle))
            case SQLITE_DONE: return
            case let code: throw failure(code)
            }
        }
    }

    private func prepareDirect(_ bind: (inout SQLiteBindings) -> Void) -> OpaquePointer {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        var bindings = SQLiteBindings(handle: handle)
        bind(&bindings)
        precondition(bindings.next - 1 == sqlite3_bind_parameter_count(handle),
                     "\(bindings.next - 1) values bound to \(sqlite3_bind_parameter_count(handle)) parameters: \(sql)")
        return handle
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let handle = sqliteStatement
        // sqlite3_reset returns the error of the failed step with its extended code.
        let extended = sqlite3_reset(handle)
        let message = sqlite3_errmsg(sqlite3_db_handle(handle)).map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: extended != SQLITE_OK ? extended : code), message: message, sql: sql)
    }
}

/// The parameters of one run of a statement, bound in order.
struct SQLiteBindings {
    fileprivate let handle: OpaquePointer
    fileprivate var next: Int32 = 1

    fileprivate init(handle: OpaquePointer) {
        self.handle = handle
    }

    mutating func add(_ value: String?) {
        defer { next += 1 }
        guard var value else {
            sqlite3_bind_null(handle, next)
            return
        }
        value.withUTF8 { bytes in
            // An empty buffer may have no address, and a NULL pointer would bind NULL, not ''.
            guard let base = bytes.baseAddress else {
                sqlite3_bind_text(handle, next, "", 0, sqliteTransient)
                return
            }
            // Up to the first NUL, as GRDB binds strings (as C strings): a value must be stored
            // the same whichever API wrote it, or lookups through the other would miss it.
            let length = memchr(base, 0, bytes.count).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? bytes.count
            _ = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(handle, next, $0, Int32(length), sqliteTransient)
            }
        }
    }

    mutating func add(_ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, next, value) } else { sqlite3_bind_null(handle, next) }
        next += 1
    }

    mutating func add(_ value: Int?) {
        add(value.map(Int64.init))
    }

    mutating func add(_ value: Bool?) {
        add(value.map { $0 ? Int64(1) : 0 })
    }
}

/// The columns of the current row of a query run through `Statement.firstRow` or `forEachRow`.
struct SQLiteColumns {
    fileprivate let handle: OpaquePointer

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: text)
    }
}

/// SQLITE_TRANSIENT: SQLite copies the bytes before the bind call returns.
private let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
