import ArgumentParser

// PLACEHOLDER, replaced at merge: `dossier verify PATH` (verifying a client export) is another
// engineer's work. This file only keeps the command's export branch compiling until then; the
// archive's own check (`verify --archive`) lives in VerifyCommand.swift and does not depend on it.

/// Verifies the export at `path` (printing JSON when `json`). Not built yet.
func verifyExport(path: String, json: Bool) throws {
    throw ValidationError("verifying an export is not available in this build yet; use --archive [DIR] to verify the archive")
}
