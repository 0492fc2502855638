/// HTML to plain text for the search index: tags removed, entities decoded, script/style dropped,
/// block elements turned into line breaks.
public enum HTMLText {
    public static func text(from html: String) -> String {
        // TODO(MIME body)
        html
    }
}
