import Foundation
import Yams

/// Reads rules.yaml into `CRMRules`, collecting every problem with its line and column instead of
/// stopping at the first. Works on Yams' composed node tree (not Codable decoding) because the
/// nodes carry the marks that errors must name, and because an unknown key must be an error:
/// a misspelt `blacklst:` would otherwise silently turn the blacklist off.
enum CRMRulesParser {
    static let file = "rules.yaml"

    /// The keys rules.yaml may hold at its top level.
    static let topLevelKeys = ["internal_domains", "freemail_domains", "blacklist", "subject_tags", "tracking_codes",
                               "groups", "noise", "mode", "window", "plus_addressing"]

    /// Parses `text`; the rules are meaningful only when `errors` comes back empty.
    static func parse(_ text: String) -> (rules: CRMRules, errors: [CRMDiagnostic]) {
        var parser = Run()
        var rules = parser.parse(text)
        rules.source = text
        return (rules, parser.errors)
    }

    private struct Run {
        var errors: [CRMDiagnostic] = []

        mutating func error(_ node: Node?, _ message: String) {
            errors.append(CRMDiagnostic(file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, message: message))
        }

        mutating func parse(_ text: String) -> CRMRules {
            var rules = CRMRules()
            let root: Node?
            do {
                root = try Yams.compose(yaml: text)
            } catch let yamlError as YamlError {
                errors.append(Self.diagnostic(yamlError, text: text))
                return rules
            } catch {
                errors.append(CRMDiagnostic(file: file, line: 0, column: 0, message: "not valid YAML: \(error)"))
                return rules
            }
            guard let root, !Self.isNull(root) else { return rules }  // an empty file: every default
            guard let mapping = mapping(root, "rules.yaml") else { return rules }
            for (key, value) in mapping {
                switch key.string ?? "" {
                case "internal_domains": rules.internalDomains = domains(value, "internal_domains")
                case "freemail_domains": rules.freemailDomains = domains(value, "freemail_domains")
                case "blacklist":
                    guard let entries = self.mapping(value, "blacklist") else { continue }
                    for (subkey, subvalue) in entries {
                        switch subkey.string ?? "" {
                        case "domains": rules.blacklist.domains = domains(subvalue, "blacklist.domains")
                        case "addresses": rules.blacklist.addresses = addresses(subvalue, "blacklist.addresses")
                        default: unknownKey(subkey, in: "blacklist", expected: ["domains", "addresses"])
                        }
                    }
                case "subject_tags": rules.subjectTags = patterns(value, "subject_tags")
                case "tracking_codes": rules.trackingCodes = patterns(value, "tracking_codes")
                case "groups":
                    let names = strings(value, "groups")
                    var seen = Set<String>()
                    for (node, name) in names where !seen.insert(name.lowercased()).inserted {
                        error(node, "groups: '\(name)' is listed twice")
                    }
                    rules.groups = names.map(\.1)
                case "noise":
                    guard let entries = self.mapping(value, "noise") else { continue }
                    for (subkey, subvalue) in entries {
                        if subkey.string == "store" {
                            if let flag = bool(subvalue, "noise.store") { rules.noise.store = flag }
                        } else {
                            unknownKey(subkey, in: "noise", expected: ["store"])
                        }
                    }
                case "mode":
                    guard let text = scalar(value, "mode") else { continue }
                    if let mode = CRMMode(rawValue: text) { rules.mode = mode } else {
                        error(value, "mode must be all or matched_only, not '\(text)'")
                    }
                case "window": rules.window = window(value)
                case "plus_addressing":
                    if let flag = bool(value, "plus_addressing") { rules.plusAddressing = flag }
                default:
                    unknownKey(key, in: nil, expected: topLevelKeys)
                }
            }
            return rules
        }

        // MARK: Node shapes

        static func isNull(_ node: Node) -> Bool {
            if case .scalar = node { return node.null != nil }
            return false
        }

        mutating func unknownKey(_ key: Node, in parent: String?, expected: [String]) {
            let name = key.string ?? "?"
            let place = parent.map { " in \($0)" } ?? ""
            error(key, "unknown key '\(name)'\(place) (expected one of: \(expected.joined(separator: ", ")))")
        }

        /// The entries of a mapping. (Yams itself refuses duplicate keys, see `diagnostic`.)
        mutating func mapping(_ node: Node, _ what: String) -> [(Node, Node)]? {
            guard case .mapping(let mapping) = node else {
                error(node, "\(what) must be a mapping of keys to values")
                return nil
            }
            var entries: [(Node, Node)] = []
            for (key, value) in mapping {
                guard key.scalar != nil else {
                    error(key, "\(what): a key must be a plain name")
                    continue
                }
                entries.append((key, value))
            }
            return entries
        }

        mutating func sequence(_ node: Node, _ what: String) -> [Node] {
            if Self.isNull(node) { return [] }
            guard case .sequence(let sequence) = node else {
                error(node, "\(what) must be a list (e.g. [a, b] or one '- item' per line)")
                return []
            }
            return Array(sequence)
        }

        mutating func scalar(_ node: Node, _ what: String) -> String? {
            guard case .scalar(let scalar) = node, !Self.isNull(node) else {
                error(node, "\(what) must be a single value")
                return nil
            }
            return scalar.string.trimmingCharacters(in: .whitespaces)
        }

        mutating func strings(_ node: Node, _ what: String) -> [(Node, String)] {
            sequence(node, what).compactMap { item in
                guard let text = scalar(item, "each entry of \(what)") else { return nil }
                if text.isEmpty {
                    error(item, "\(what): an entry is empty")
                    return nil
                }
                return (item, text)
            }
        }

        mutating func domains(_ node: Node, _ what: String) -> [String] {
            strings(node, what).compactMap { item, text in
                let domain = CRMAddress.normalizedDomain(text)
                guard CRMAddress.isPlausibleDomain(domain) else {
                    error(item, "\(what): '\(text)' is not a domain")
                    return nil
                }
                return domain
            }
        }

        mutating func addresses(_ node: Node, _ what: String) -> [String] {
            strings(node, what).compactMap { item, text in
                let address = CRMAddress.normalized(text)
                guard CRMAddress.isPlausibleAddress(address) else {
                    error(item, "\(what): '\(text)' is not an email address")
                    return nil
                }
                return address
            }
        }

        mutating func bool(_ node: Node, _ what: String) -> Bool? {
            guard let text = scalar(node, what) else { return nil }
            guard let flag = CRMValues.bool(text) else {
                error(node, "\(what) must be true or false, not '\(text)'")
                return nil
            }
            return flag
        }

        mutating func patterns(_ node: Node, _ what: String) -> [CRMPattern] {
            sequence(node, what).compactMap { item in
                guard let entries = mapping(item, "each entry of \(what)") else { return nil }
                var pattern: String?
                var kind: CRMRecordKind?
                var patternNode: Node?
                for (key, value) in entries {
                    switch key.string ?? "" {
                    case "pattern":
                        patternNode = value
                        guard case .scalar(let scalar) = value, !Self.isNull(value), !scalar.string.isEmpty else {
                            error(value, "\(what): pattern must be a non-empty regular expression")
                            continue
                        }
                        pattern = scalar.string  // not trimmed: spaces can be part of a pattern
                    case "kind":
                        guard let text = scalar(value, "\(what): kind") else { continue }
                        kind = CRMRecordKind(rawValue: text)
                        if kind == nil { error(value, "\(what): kind must be account, contact, lead or case, not '\(text)'") }
                    default:
                        unknownKey(key, in: what, expected: ["pattern", "kind"])
                    }
                }
                if patternNode == nil { error(item, "\(what): an entry has no pattern") }
                if !entries.contains(where: { $0.0.string == "kind" }) { error(item, "\(what): an entry has no kind") }
                guard let pattern, let patternNode else { return nil }
                do {
                    let regex = try NSRegularExpression(pattern: pattern)
                    if regex.numberOfCaptureGroups < 1 {
                        error(patternNode, "\(what): pattern '\(pattern)' has no capture group; group 1 must name the record, e.g. '\\[(CASE-[0-9]+)\\]'")
                        return nil
                    }
                } catch {
                    self.error(patternNode, "\(what): pattern '\(pattern)' is not a valid regular expression")
                    return nil
                }
                guard let kind else { return nil }
                return CRMPattern(pattern: pattern, kind: kind)
            }
        }

        mutating func window(_ node: Node) -> CRMWindow {
            var window = CRMWindow()
            if Self.isNull(node) { return window }
            guard let entries = mapping(node, "window") else { return window }
            var untilNode: Node?
            for (key, value) in entries {
                switch key.string ?? "" {
                case "since", "until":
                    let name = key.string!
                    if Self.isNull(value) { continue }
                    guard let text = scalar(value, "window.\(name)") else { continue }
                    guard let bounds = CRMValues.dateBounds(text) else {
                        error(value, "window.\(name): '\(text)' is not a date (YYYY-MM-DD or RFC 3339, e.g. 2024-01-31T18:00:00Z)")
                        continue
                    }
                    if name == "since" {
                        window.since = bounds.start
                        window.sinceText = text
                    } else {
                        window.before = bounds.end
                        window.untilText = text
                        untilNode = value
                    }
                default:
                    unknownKey(key, in: "window", expected: ["since", "until"])
                }
            }
            if let since = window.since, let before = window.before, since >= before {
                error(untilNode, "window: until (\(window.untilText ?? "")) is before since (\(window.sinceText ?? "")): the window is empty")
            }
            return window
        }

        static func diagnostic(_ error: YamlError, text: String) -> CRMDiagnostic {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                let detail = context.map { "\(problem) \($0.text)" } ?? problem
                return CRMDiagnostic(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(detail)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                // Yams only marks the mapping; find the repeated key in a block mapping by its
                // indentation, else point at the mapping.
                let name = duplicates.sorted().first ?? "?"
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                let indent = String(repeating: " ", count: max(0, context.mark.column - 1))
                let hits = lines.indices.dropFirst(max(0, context.mark.line - 1)).filter { index in
                    let line = lines[index]
                    guard line.hasPrefix(indent + name) else { return false }
                    return line.dropFirst(indent.count + name.count).drop(while: { $0 == " " }).hasPrefix(":")
                }
                let line = hits.count > 1 ? hits[1] + 1 : context.mark.line
                let column = hits.count > 1 ? indent.count + 1 : context.mark.column
                let names = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
                return CRMDiagnostic(file: file, line: line, column: column, message: "duplicate key \(names)")
            case .reader(let problem, let offset, _, _):
                var line = 0, column = 0
                if let offset {
                    let prefix = text.utf8.prefix(offset)
                    line = prefix.filter { $0 == 10 }.count + 1
                    column = prefix.reversed().prefix(while: { $0 != 10 }).count + 1
                }
                return CRMDiagnostic(file: file, line: line, column: column, message: "not valid YAML: \(problem)")
            default:
                return CRMDiagnostic(file: file, line: 0, column: 0, message: "not valid YAML: \(error)")
            }
        }
    }
}
