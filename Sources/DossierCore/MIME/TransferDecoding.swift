/// Content-Transfer-Encoding decoders, tolerant: junk in base64 is skipped, broken soft line breaks
/// in quoted-printable are kept literally.
public enum TransferDecoding {
    /// Decodes `bytes` per `encoding` ("base64", "quoted-printable", anything else is identity).
    public static func decode(_ bytes: ArraySlice<UInt8>, encoding: String) -> [UInt8] {
        // TODO(MIME body)
        Array(bytes)
    }
}
