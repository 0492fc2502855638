// Placeholder until the site renderer (branch export-site) is merged: replaced by ExportSite.swift.
import Foundation

public enum ExportSite {
    public static func indexPage(_ overview: ExportOverview) -> String {
        "<!doctype html><title>\(overview.record)</title><p>\(overview.messageCount) messages</p>"
    }

    public static func messagePage(_ message: ExportedMessage, thread: [ExportedMessageSummary], overview: ExportOverview) -> String {
        "<!doctype html><title>\(message.key)</title>"
    }
}
