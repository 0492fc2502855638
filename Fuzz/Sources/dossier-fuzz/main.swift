// The fuzz driver: one libFuzzer binary, the target named by the first argument.
//
//     dossier-fuzz TARGET [libFuzzer flags] CORPUS_DIR...
//     dossier-fuzz --seeds OUT_DIR FILE...    (header, address, date, params seeds from messages)
//
// SwiftPM links an executable's top-level code as `<module>_main` and points `main` at it, so
// libFuzzer's own `main` is never used: this file picks the target, then hands the remaining
// arguments to `LLVMFuzzerRunDriver`. Built only by scripts/fuzz (see docs/FUZZING.md).
import Foundation

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: FuzzCallback) -> CInt

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    let names = FuzzTargets.all.keys.sorted().joined(separator: ", ")
    FileHandle.standardError.write("usage: dossier-fuzz TARGET [libFuzzer flags] [CORPUS...]\ntargets: \(names)\n".data(using: .utf8)!)
    exit(2)
}
if arguments[1] == "--seeds" {
    exit(SeedExtractor.run(Array(arguments.dropFirst(2))))
}
// The target is the first argument, or DOSSIER_FUZZ_TARGET when libFuzzer runs the binary again
// itself (-minimize_crash, -fork, -merge) with only its own flags; the variable is set for those.
var passed = Array(arguments.dropFirst(2))
var name = arguments[1]
if FuzzTargets.all[name] == nil, let inherited = ProcessInfo.processInfo.environment["DOSSIER_FUZZ_TARGET"] {
    name = inherited
    passed = Array(arguments.dropFirst(1))
}
guard let target = FuzzTargets.all[name] else {
    FileHandle.standardError.write("unknown target \(name)\n".data(using: .utf8)!)
    exit(2)
}
setenv("DOSSIER_FUZZ_TARGET", name, 1)
FuzzTargets.selected = target

// argv for libFuzzer: the program name, then everything after the target name.
var driverArguments: [UnsafeMutablePointer<CChar>?] = [strdup(arguments[0])]
for argument in passed { driverArguments.append(strdup(argument)) }
driverArguments.append(nil)
var argc = CInt(driverArguments.count - 1)
let status = driverArguments.withUnsafeMutableBufferPointer { buffer -> CInt in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        FuzzTargets.selected(bytes)
        return 0
    }
}
exit(status)

/// libFuzzer's entry point, for the case where its own `main` is the one linked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    FuzzTargets.selected(bytes)
    return 0
}
