/// Free-mail domains: anyone can have an address there, so a shared domain says nothing about
/// which client a sender belongs to, and these domains are never matched by domain (an address
/// there still matches a contact, an account's main_email or a lead). The built-in list plus
/// rules.yaml's `freemail_domains`; subdomains count too (`mail.yahoo.com`).
public struct FreemailDomains: Sendable, Equatable {
    /// Providers with one domain per country (`yahoo.co.uk`, `gmx.de`, `hotmail.fr`): the brand
    /// label followed by a country or generic suffix of one or two labels.
    public static let builtInBrands: Set<String> = ["yahoo", "hotmail", "gmx", "yandex"]

    /// Single domains of the large consumer providers (about 100), by region.
    public static let builtIn: Set<String> = [
        // Global
        "gmail.com", "googlemail.com", "outlook.com", "outlook.de", "outlook.fr", "outlook.es", "outlook.it",
        "live.com", "live.co.uk", "live.de", "live.fr", "live.nl", "live.it", "live.ca", "live.com.au",
        "msn.com", "passport.com", "windowslive.com", "icloud.com", "me.com", "mac.com", "aol.com", "aim.com",
        "ymail.com", "rocketmail.com", "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
        "tutanota.com", "tutanota.de", "tuta.io", "zoho.com", "zohomail.com", "mail.com", "email.com",
        "usa.com", "fastmail.com", "fastmail.fm", "hushmail.com", "gmx.com", "gmx.net",
        // Europe
        "web.de", "t-online.de", "freenet.de", "arcor.de", "posteo.de", "mailbox.org",
        "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "neuf.fr",
        "libero.it", "virgilio.it", "tiscali.it", "alice.it", "tin.it",
        "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com", "blueyonder.co.uk",
        "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "telenet.be", "skynet.be", "ziggo.nl",
        "bluewin.ch", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "rambler.ru", "ya.ru", "ukr.net",
        // Americas and Oceania
        "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net",
        "earthlink.net", "shaw.ca", "rogers.com", "sympatico.ca", "bigpond.com", "optusnet.com.au",
        "uol.com.br", "bol.com.br", "terra.com.br", "prodigy.net.mx",
        // Asia
        "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "aliyun.com",
        "naver.com", "daum.net", "hanmail.net", "nate.com", "rediffmail.com",
    ]

    private let domains: Set<String>

    /// The built-in list plus `extra` (rules.yaml `freemail_domains`, already normalized).
    public init(extra: [String] = []) {
        domains = Self.builtIn.union(extra)
    }

    /// True when `domain` (lowercased) or a parent domain of it is a free-mail domain.
    public func contains(_ domain: String) -> Bool { contains(Substring(domain)) }

    public func contains(_ domain: Substring) -> Bool {
        for suffix in CRMAddress.suffixes(of: domain) {
            if domains.contains(String(suffix)) { return true }
            if let dot = suffix.firstIndex(of: "."), Self.builtInBrands.contains(String(suffix[..<dot])),
               Self.isCountryOrGenericSuffix(suffix[suffix.index(after: dot)...]) {
                return true
            }
        }
        return false
    }

    /// `de`, `com`, `co.uk`, `com.br`: what follows a provider's brand label. Kept this narrow so
    /// that a client's `yahoo.acme.example` is not taken for free-mail.
    static func isCountryOrGenericSuffix(_ rest: Substring) -> Bool {
        let labels = rest.split(separator: ".", omittingEmptySubsequences: false)
        let isTopLevel = { (label: Substring) in (2...3).contains(label.count) && label.allSatisfy(\.isLetter) }
        switch labels.count {
        case 1: return isTopLevel(labels[0])
        case 2: return ["co", "com", "ne", "or", "net", "org"].contains(labels[0]) && labels[1].count == 2 && isTopLevel(labels[1])
        default: return false
        }
    }
}
