/// What the build knows about where it came from.
///
/// scripts/package writes `BuildStamp.generated.swift` beside this file (ignored by git) with the
/// git revision, and builds with `-Xswiftc -DDOSSIER_STAMPED`; every other build (`swift build`
/// in a clone, a tarball of the sources without .git) has no stamp and needs no file or tool,
/// so nothing breaks where git or .git is missing.
enum BuildStamp {
    #if DOSSIER_STAMPED
    static let revision: String? = stampedRevision
    #else
    static let revision: String? = nil
    #endif
}
