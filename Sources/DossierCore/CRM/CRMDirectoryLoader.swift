import Foundation

/// Loads a CRM directory folder (shared/spec/crm-directory.md) and checks it whole: every error of
/// every file is collected before anything is decided, so one run shows all that needs fixing, and
/// a directory with any error is not used at all (the previous one stays in force).
public enum CRMDirectoryLoader {
    /// The files of a directory, in the order their diagnostics are listed.
    public static let files = ["accounts.csv", "contacts.csv", "leads.csv", "cases.csv", "staff.csv", "rules.yaml"]

    /// Loads the folder at `url`.
    /// - Returns: the directory and its warnings (e.g. an address shared by two contacts).
    /// - Throws: `SourceError` when the folder is missing or unreadable; `CRMLoadError` with every
    ///   error, each `file:line:column: message`.
    public static func load(from url: URL) throws -> (CRMDirectory, warnings: [CRMDiagnostic]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw SourceError.notFound(path: url.path)
        }
        guard isDirectory.boolValue else {
            throw SourceError.unreadable(path: url.path, reason: "not a directory (give the folder holding accounts.csv)")
        }
        var loading = Loading(folder: url)
        let directory = loading.run()
        let errors = sorted(loading.errors)
        let warnings = sorted(loading.warnings)
        guard errors.isEmpty, let directory else {
            throw CRMLoadError(errors: errors, warnings: warnings, rulesSource: loading.rulesSource)
        }
        return (directory, warnings)
    }

    /// File order, then line, then column; diagnostics at one place keep the order they were found in.
    static func sorted(_ diagnostics: [CRMDiagnostic]) -> [CRMDiagnostic] {
        func rank(_ file: String) -> Int { files.firstIndex(of: file) ?? files.count }
        return diagnostics.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if rank(x.file) != rank(y.file) { return rank(x.file) < rank(y.file) }
            if x.line != y.line { return x.line < y.line }
            if x.column != y.column { return x.column < y.column }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// One load in progress: reads each file, turns rows into records and checks references.
private struct Loading {
    let folder: URL
    var errors: [CRMDiagnostic] = []
    var warnings: [CRMDiagnostic] = []
    var rulesSource: String?

    init(folder: URL) { self.folder = folder }

    mutating func error(_ file: String, _ field: CSVField?, _ message: String) {
        errors.append(CRMDiagnostic(file: file, line: field?.line ?? 0, column: field?.column ?? 0, message: message))
    }

    mutating func warning(_ file: String, _ field: CSVField?, _ message: String) {
        warnings.append(CRMDiagnostic(file: file, line: field?.line ?? 0, column: field?.column ?? 0, message: message))
    }

    /// The directory, or nil when a file could not be read at all (then `errors` says why).
    mutating func run() -> CRMDirectory? {
        var rules = CRMRules()
        var rulesUsable = true
        switch read("rules.yaml") {
        case .missing: break
        case .unreadable: rulesUsable = false
        case .bytes(let bytes):
            var body = bytes[...]
            if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
            guard let text = String(bytes: body, encoding: .utf8) else {
                errors.append(CRMDiagnostic(file: "rules.yaml", line: 0, column: 0, message: "not valid UTF-8 (save the file as UTF-8)"))
                rulesUsable = false
                break
            }
            rulesSource = text
            let parsed = CRMRulesParser.parse(text)
            rules = parsed.rules
            errors += parsed.errors
            rulesUsable = parsed.errors.isEmpty
        }

        let accountsTable = table("accounts.csv", required: ["id", "name"], mustExist: true)
        let accounts = accountsTable.map { readAccounts($0, rules: rules) }
        // References are checked against every id in accounts.csv, even of rows with errors of
        // their own, and not at all when the file is unreadable: otherwise one mistake would be
        // reported again at every reference to it, hiding the real error.
        let knownAccount: (String) -> Bool = { accounts == nil || accounts!.ids[$0] != nil }

        let contacts = table("contacts.csv", required: ["id", "account_id", "emails"]).map { readContacts($0, knownAccount: knownAccount) }
        let leads = table("leads.csv", required: ["id"]).map { readLeads($0) }
        let cases = table("cases.csv", required: ["id", "account_id"]).map { readCases($0, knownAccount: knownAccount) }
        let staff = table("staff.csv", required: ["id", "email"]).map { readStaff($0, groups: rulesUsable ? rules.groups : nil) }

        guard let accounts, let contacts, let leads, let cases, let staff, rulesUsable else { return nil }
        return CRMDirectory(accounts: accounts.accounts, contacts: contacts, leads: leads, cases: cases,
                            staff: staff, rules: rules)
    }

    // MARK: Files

    enum FileContents { case missing, unreadable, bytes([UInt8]) }

    mutating func read(_ file: String) -> FileContents {
        let path = folder.appendingPathComponent(file).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            errors.append(CRMDiagnostic(file: file, line: 0, column: 0,
                                        message: isDirectory.boolValue ? "is a directory, not a file" : "cannot be read (permissions?)"))
            return .unreadable
        }
        return .bytes(Array(data))
    }

    /// A CSV file with its header resolved; an absent optional file is an empty table. Nil when
    /// the file cannot be read as a table (the errors say why).
    mutating func table(_ file: String, required: [String], mustExist: Bool = false) -> CRMTable? {
        let bytes: [UInt8]
        switch read(file) {
        case .unreadable: return nil
        case .missing:
            guard mustExist else { return .empty(file) }
            errors.append(CRMDiagnostic(file: file, line: 0, column: 0, message: "missing: a CRM directory needs \(file)"))
            return nil
        case .bytes(let contents): bytes = contents
        }
        let records: [CSVRecord]
        do {
            records = try CSVReader.records(bytes)
        } catch let csv as CSVError {
            errors.append(CRMDiagnostic(file: file, line: csv.line, column: csv.column, message: csv.message))
            return nil
        } catch {
            errors.append(CRMDiagnostic(file: file, line: 0, column: 0, message: "\(error)"))
            return nil
        }
        // An empty optional file is as good as an absent one.
        if records.isEmpty && !mustExist { return .empty(file) }
        var found: [CRMDiagnostic] = []
        let table = CRMTable.resolve(file: file, records: records, required: required) { found.append($0) }
        errors += found
        return table
    }

    // MARK: Cells

    /// A required cell, trimmed; an error when it is empty.
    mutating func required(_ table: CRMTable, _ column: String, _ row: CSVRecord) -> (String, CSVField)? {
        guard let field = table.cell(column, in: row) else { return nil }
        let value = CRMValues.trimmed(field.value)
        if value.isEmpty {
            error(table.file, field, "empty value in required column '\(column)'")
            return nil
        }
        return (value, field)
    }

    /// An optional cell, trimmed; nil when absent or empty.
    func optional(_ table: CRMTable, _ column: String, _ row: CSVRecord) -> String? {
        guard let value = table.cell(column, in: row).map({ CRMValues.trimmed($0.value) }),
              !value.isEmpty else { return nil }
        return value
    }

    /// A `;`-separated cell of addresses, lowercased, without repeats.
    mutating func addresses(_ table: CRMTable, _ column: String, _ row: CSVRecord, required: Bool = false) -> [String] {
        guard let field = table.cell(column, in: row) else { return [] }
        let values = CRMValues.list(field.value)
        if values.isEmpty {
            if required { error(table.file, field, "empty value in required column '\(column)'") }
            return []
        }
        var result: [String] = []
        for value in values {
            let address = CRMAddress.normalized(value)
            guard CRMAddress.isPlausibleAddress(address) else {
                error(table.file, field, "'\(value)' is not an email address")
                continue
            }
            if !result.contains(address) { result.append(address) }
        }
        return result
    }

    /// A single address cell (the `;` of a list is not allowed here).
    mutating func address(_ table: CRMTable, _ column: String, _ row: CSVRecord) -> String? {
        guard let field = table.cell(column, in: row), let value = optional(table, column, row) else { return nil }
        let address = CRMAddress.normalized(value)
        guard CRMAddress.isPlausibleAddress(address) else {
            error(table.file, field, "'\(value)' is not an email address" + (value.contains(";") ? " (this column takes one)" : ""))
            return nil
        }
        return address
    }

    mutating func bool(_ table: CRMTable, _ column: String, _ row: CSVRecord) -> Bool {
        guard let field = table.cell(column, in: row), let value = optional(table, column, row) else { return false }
        guard let flag = CRMValues.bool(value) else {
            error(table.file, field, "'\(value)' in column '\(column)' is not a boolean (true/false, yes/no, 1/0)")
            return false
        }
        return flag
    }

    /// Reports a repeated id; true when `id` is new.
    mutating func unique(_ id: String, _ field: CSVField, in seen: inout [String: Int], file: String) -> Bool {
        if let first = seen[id] {
            error(file, field, "duplicate id '\(id)' (first on line \(first))")
            return false
        }
        seen[id] = field.line
        return true
    }

    // MARK: Records

    /// The accounts, and every id in the file (with its first line), readable row or not.
    mutating func readAccounts(_ table: CRMTable, rules: CRMRules) -> (accounts: [Account], ids: [String: Int]) {
        var result: [Account] = []
        var parentCells: [CSVField?] = []
        var seen: [String: Int] = [:]
        var domainOwners: [String: (id: String, line: Int)] = [:]
        let freemail = FreemailDomains(extra: rules.freemailDomains)
        for row in table.rows {
            let id = required(table, "id", row)
            let name = required(table, "name", row)
            var domains: [String] = []
            if let field = table.cell("domains", in: row) {
                for value in CRMValues.list(field.value) {
                    let domain = CRMAddress.normalizedDomain(value)
                    guard CRMAddress.isPlausibleDomain(domain) else {
                        error(table.file, field, "'\(value)' is not a domain")
                        continue
                    }
                    if domains.contains(domain) { continue }
                    domains.append(domain)
                    if freemail.contains(domain) {
                        warning(table.file, field, "\(domain) is a free-mail domain, which is never matched by domain (list the client's addresses instead)")
                    } else if rules.internalDomains.contains(where: { domain == $0 || domain.hasSuffix("." + $0) }) {
                        warning(table.file, field, "\(domain) is one of the firm's internal domains: mail from it is internal, never filed by domain")
                    }
                    if let id, let owner = domainOwners[domain], owner.id != id.0 {
                        warning(table.file, field, "domain \(domain) is also a domain of account '\(owner.id)' (line \(owner.line)): mail from it files to both")
                    } else if let id {
                        domainOwners[domain] = (id.0, row.line)
                    }
                }
            }
            let mainEmail = address(table, "main_email", row)
            let parentID = optional(table, "parent_id", row)
            let isNew = id.map { unique($0.0, $0.1, in: &seen, file: table.file) } ?? false
            guard let id, let name, isNew else { continue }
            result.append(Account(id: id.0, name: name.0, domains: domains, mainEmail: mainEmail, parentID: parentID))
            parentCells.append(table.cell("parent_id", in: row))
        }
        checkParents(result, cells: parentCells, allIDs: seen, file: table.file)
        return (result, seen)
    }

    /// Unknown parents and parent cycles (a cycle is reported once, at the parent_id of its
    /// first account in the file, naming every id on it).
    mutating func checkParents(_ accounts: [Account], cells: [CSVField?], allIDs: [String: Int], file: String) {
        let index = Dictionary(accounts.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
        for (position, account) in accounts.enumerated() {
            if let parent = account.parentID, allIDs[parent] == nil {
                error(file, cells[position], "unknown parent account '\(parent)'")
            }
        }
        // 0 unvisited, 1 on the current path, 2 done.
        var state = [Int](repeating: 0, count: accounts.count)
        for start in accounts.indices where state[start] == 0 {
            var path: [Int] = []
            var current: Int? = start
            while let node = current, state[node] == 0 {
                state[node] = 1
                path.append(node)
                current = accounts[node].parentID.flatMap { index[$0] }
            }
            if let node = current, state[node] == 1, let from = path.firstIndex(of: node) {
                let cycle = Array(path[from...])
                let first = cycle.min()!
                // Name the ids from the first account in the file, around the cycle back to it.
                let rotated = Array(cycle[cycle.firstIndex(of: first)!...] + cycle[..<cycle.firstIndex(of: first)!])
                let names = (rotated + [first]).map { accounts[$0].id }.joined(separator: " -> ")
                error(file, cells[first], "parent cycle: \(names)")
            }
            for node in path { state[node] = 2 }
        }
    }

    mutating func readContacts(_ table: CRMTable, knownAccount: (String) -> Bool) -> [Contact] {
        var result: [Contact] = []
        var seen: [String: Int] = [:]
        var addressOwners: [String: (id: String, line: Int)] = [:]
        for row in table.rows {
            let id = required(table, "id", row)
            let account = required(table, "account_id", row)
            if let account, !knownAccount(account.0) { error(table.file, account.1, "unknown account '\(account.0)'") }
            let emails = addresses(table, "emails", row, required: true)
            let excluded = bool(table, "excluded", row)
            let isNew = id.map { unique($0.0, $0.1, in: &seen, file: table.file) } ?? false
            guard let id, let account, isNew else { continue }
            for email in emails {
                if let owner = addressOwners[email] {
                    warning(table.file, table.cell("emails", in: row),
                            "address \(email) is also an address of contact '\(owner.id)' (line \(owner.line)): mail with it files to both")
                } else {
                    addressOwners[email] = (id.0, row.line)
                }
            }
            result.append(Contact(id: id.0, accountID: account.0, name: optional(table, "name", row), emails: emails, excluded: excluded))
        }
        return result
    }

    mutating func readLeads(_ table: CRMTable) -> [Lead] {
        var result: [Lead] = []
        var seen: [String: Int] = [:]
        for row in table.rows {
            let id = required(table, "id", row)
            let email = address(table, "email", row)
            let contactEmails = addresses(table, "contact_emails", row)
            let isNew = id.map { unique($0.0, $0.1, in: &seen, file: table.file) } ?? false
            guard let id, isNew else { continue }
            result.append(Lead(id: id.0, company: optional(table, "company", row), name: optional(table, "name", row),
                               email: email, contactEmails: contactEmails))
        }
        return result
    }

    mutating func readCases(_ table: CRMTable, knownAccount: (String) -> Bool) -> [Case] {
        var result: [Case] = []
        var seen: [String: Int] = [:]
        var codes: [String: (id: String, line: Int)] = [:]
        for row in table.rows {
            let id = required(table, "id", row)
            let account = required(table, "account_id", row)
            if let account, !knownAccount(account.0) { error(table.file, account.1, "unknown account '\(account.0)'") }
            let code = optional(table, "code", row)
            let isNew = id.map { unique($0.0, $0.1, in: &seen, file: table.file) } ?? false
            guard let id, let account, isNew else { continue }
            if let code {
                if let owner = codes[code.lowercased()] {
                    warning(table.file, table.cell("code", in: row),
                            "code \(code) is also the code of case '\(owner.id)' (line \(owner.line)): a tag with it files to both")
                } else {
                    codes[code.lowercased()] = (id.0, row.line)
                }
            }
            result.append(Case(id: id.0, accountID: account.0, code: code, title: optional(table, "title", row)))
        }
        return result
    }

    /// `groups`: rules.yaml's groups, or nil when rules.yaml has errors (then groups are not checked,
    /// rather than every staff row being reported for a YAML typo).
    mutating func readStaff(_ table: CRMTable, groups: [String]?) -> [StaffMember] {
        var result: [StaffMember] = []
        var seen: [String: Int] = [:]
        for row in table.rows {
            let id = required(table, "id", row)
            let emailCell = required(table, "email", row)
            var email: String?
            if let emailCell {
                let address = CRMAddress.normalized(emailCell.0)
                if CRMAddress.isPlausibleAddress(address) { email = address } else {
                    error(table.file, emailCell.1, "'\(emailCell.0)' is not an email address")
                }
            }
            var group = optional(table, "group", row)
            if let name = group, let groups {
                if let match = groups.first(where: { $0.lowercased() == name.lowercased() }) {
                    group = match
                } else {
                    let known = groups.isEmpty ? "rules.yaml lists no groups" : "rules.yaml groups: \(groups.joined(separator: ", "))"
                    error(table.file, table.cell("group", in: row), "unknown group '\(name)' (\(known))")
                }
            }
            let mailboxes = table.cell("mailbox", in: row).map { CRMValues.list($0.value) } ?? []
            let isNew = id.map { unique($0.0, $0.1, in: &seen, file: table.file) } ?? false
            guard let id, let email, isNew else { continue }
            result.append(StaffMember(id: id.0, name: optional(table, "name", row), email: email, mailboxes: mailboxes, group: group))
        }
        return result
    }
}
