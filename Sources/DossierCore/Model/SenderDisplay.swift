/// A message summary with a sender, shown the way mail programs do: `Name <address>`.
public protocol SenderDisplaying {
    var fromAddress: String? { get }
    var fromName: String? { get }
}

extension SenderDisplaying {
    /// `Name <address>`, the address alone, the name alone, or nil.
    public var from: String? {
        guard let fromAddress else { return fromName }
        if let fromName, !fromName.isEmpty { return "\(fromName) <\(fromAddress)>" }
        return fromAddress
    }
}
