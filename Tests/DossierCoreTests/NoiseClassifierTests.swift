import DossierCore
import Foundation
import XCTest

/// The noise stage on machine mail of several systems and languages, and on the human mail that
/// only looks like it (which must never become noise).
final class NoiseClassifierTests: XCTestCase {
    private let classifier = NoiseClassifier(isInternalDomain: { $0 == "firm.example" || $0.hasSuffix(".firm.example") })

    private func verdict(_ text: String) -> NoiseVerdict? {
        let bytes = Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        return classifier.classify(MessageParser.parse(bytes), bytes: bytes)
    }

    private func assertNoise(_ text: String, _ kind: NoiseKind, decisive: Bool, file: StaticString = #filePath, line: UInt = #line) {
        let result = verdict(text)
        XCTAssertEqual(result?.kind, kind, "signals: \(result?.signals.map(\.description) ?? [])", file: file, line: line)
        XCTAssertEqual(result?.isDecisive, decisive, "signals: \(result?.signals.map(\.description) ?? [])", file: file, line: line)
    }

    private func assertNotNoise(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let result = verdict(text)
        XCTAssertNil(result?.kind, "signals: \(result?.signals.map(\.description) ?? [])", file: file, line: line)
    }

    private func message(from: String = "Client <c@client.example>", subject: String, headers: String = "", body: String,
                         contentType: String = "text/plain; charset=utf-8") -> String {
        """
        From: \(from)
        To: Alice <alice@firm.example>
        Subject: \(subject)
        Date: Mon, 4 Mar 2024 10:00:00 +0000
        Message-ID: <\(UUID().uuidString)@client.example>
        MIME-Version: 1.0
        \(headers.isEmpty ? "" : headers + "\n")Content-Type: \(contentType)

        \(body)
        """
    }

    // MARK: Bounces

    func testPostfixDeliveryStatusReportIsADecisiveBounce() {
        assertNoise("""
            Return-Path: <>
            From: MAILER-DAEMON@mx.firm.example (Mail Delivery System)
            To: alice@firm.example
            Subject: Undelivered Mail Returned to Sender
            Auto-Submitted: auto-replied
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="B"

            --B
            Content-Type: text/plain

            I'm sorry to have to inform you that your message could not be delivered.
            --B
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.firm.example

            Final-Recipient: rfc822; gone@client.example
            Action: failed
            Status: 5.1.1
            --B--
            """, .bounce, decisive: true)
    }

    func testNonStandardBouncesFromTheMailSystem() {
        // qmail: plain text from MAILER-DAEMON.
        assertNoise(message(from: "MAILER-DAEMON@mail.client.example", subject: "failure notice",
                            body: "Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.\nSorry, no mailbox here by that name. (#5.1.1)"),
                    .bounce, decisive: true)
        // Exim, with a null return path.
        assertNoise(message(from: "Mail Delivery System <Mailer-Daemon@mx.client.example>", subject: "Mail delivery failed: returning message to sender",
                            headers: "Return-Path: <>", body: "A message that you sent could not be delivered to one or more of its recipients. This is a permanent error."),
                    .bounce, decisive: true)
        // German Exchange, postmaster with null sender.
        assertNoise(message(from: "postmaster@client.example", subject: "Unzustellbar: Vertrag", headers: "Return-Path: <>",
                            body: "Ihre Nachricht konnte nicht zugestellt werden."), .bounce, decisive: true)
    }

    func testAForwardedBounceIsAPersonWriting() {
        assertNotNoise("""
            From: Client <c@client.example>
            To: alice@firm.example
            Subject: Fwd: Undelivered Mail Returned to Sender
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="OUT"

            --OUT
            Content-Type: text/plain

            Alice, my mail to your colleague bounced, see below. Can you forward it?
            --OUT
            Content-Type: message/rfc822

            From: MAILER-DAEMON@mx.client.example
            Subject: Undelivered Mail Returned to Sender
            Content-Type: multipart/report; report-type=delivery-status; boundary="IN"

            --IN
            Content-Type: message/delivery-status

            Final-Recipient: rfc822; bob@firm.example
            Action: failed
            --IN--
            --OUT--
            """)
    }

    // MARK: Read receipts

    func testDispositionNotificationIsADecisiveReadReceipt() {
        assertNoise(message(subject: "Gelesen: Vertrag", body: """
            --R
            Content-Type: text/plain

            Ihre Nachricht wurde gelesen.
            --R
            Content-Type: message/disposition-notification

            Final-Recipient: rfc822; c@client.example
            Disposition: manual-action/MDN-sent-manually; displayed
            --R--
            """, contentType: "multipart/report; report-type=disposition-notification; boundary=\"R\""), .readReceipt, decisive: true)
    }

    func testOutlookReadMailInSeveralLanguages() {
        for (subject, text) in [("Read: Contract", "Your message\n  To: c@client.example\nwas read on Monday."),
                                ("Lu : Contrat", "Votre message a été lu le lundi."),
                                ("Leído: Contrato", "Su mensaje fue leído el lunes."),
                                ("Gelezen: Contract", "Uw bericht is gelezen op maandag.")] {
            assertNoise(message(subject: subject, body: text), .readReceipt, decisive: false)
        }
        assertNotNoise(message(subject: "Read: the draft before our call", body: "Please read the attached draft before Thursday."))
    }

    // MARK: Meeting replies

    func testCalendarRepliesAreMeetingRepliesAndInvitationsAreNot() {
        let ics = Data("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=DECLINED:mailto:c@client.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".utf8).base64EncodedString()
        assertNoise(message(subject: "Abgelehnt: Besprechung", body: """
            --M
            Content-Type: text/plain; charset=utf-8

            Abgelehnt
            --M
            Content-Type: text/calendar; charset=utf-8
            Content-Transfer-Encoding: base64

            \(ics)
            --M--
            """, contentType: "multipart/alternative; boundary=\"M\""), .meetingReply, decisive: true)
        assertNoise(message(subject: "Accepted: Call", body: "--M\nContent-Type: text/calendar; method=REPLY\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n--M--",
                            contentType: "multipart/alternative; boundary=\"M\""), .meetingReply, decisive: true)
        assertNotNoise(message(subject: "Invitation: Call", body: "--M\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR\n--M--",
                               contentType: "multipart/alternative; boundary=\"M\""))
        assertNotNoise(message(subject: "Accepted: your offer", body: "We accept the offer as discussed. Signed copy follows."))
    }

    // MARK: Automatic replies

    func testAutoReplyHeadersDecide() {
        for header in ["Auto-Submitted: auto-replied", "X-Autoreply: yes", "X-Autorespond: Out of office", "Precedence: auto_reply",
                       "X-Autogenerated: Reply"] {
            assertNoise(message(subject: "Re: Contract", headers: header, body: "I will answer soon."), .autoreply, decisive: true)
        }
        assertNotNoise(message(subject: "Contract", headers: "Auto-Submitted: no", body: "Here is the contract."))
    }

    func testOutOfOfficeSubjectAndTextInNineLanguages() {
        let samples = [
            ("Automatic reply: Contract", "Thank you for your message. I am out of the office until Monday."),
            ("Abwesenheitsnotiz: Vertrag", "Vielen Dank für Ihre Nachricht. Ich bin bis zum 12. nicht im Büro."),
            ("Réponse automatique : Contrat", "Merci pour votre message. Je suis absent jusqu'au 12."),
            ("Respuesta automática: Contrato", "Gracias por su mensaje. Estaré fuera de la oficina hasta el día 12."),
            ("Risposta automatica: Contratto", "Grazie per il messaggio. Sono fuori ufficio fino al 12."),
            ("Automatisch antwoord: Contract", "Bedankt voor uw bericht. Ik ben afwezig tot en met de 12e."),
            ("Resposta automática: Contrato", "Obrigado pela sua mensagem. Estarei ausente até ao dia 12."),
            ("Autoodpowiedź: Umowa", "Dziękuję za wiadomość. Jestem poza biurem do 12."),
            ("自動応答: 契約書", "ご連絡ありがとうございます。12日まで不在にしております。"),
        ]
        for (subject, text) in samples {
            assertNoise(message(subject: subject, body: text), .autoreply, decisive: true)
        }
    }

    func testPeopleWritingAboutAbsencesAreNotAutoReplies() {
        // A reply quoting an auto-reply.
        assertNotNoise(message(subject: "Re: Automatic reply: Contract",
                               body: "Sorry, that auto-reply was wrong, I am back.\n\n> Thank you for your message. I am out of the office until Monday."))
        // Subjects that mention an absence.
        assertNotNoise(message(subject: "Out of office coverage over the holidays", body: "While I am away my colleague will handle it."))
        assertNotNoise(message(subject: "Abwesenheit im August – Vertretung", body: "Ich bin im Urlaub, bitte meine Kollegin fragen."))
        // An auto-reply subject with a person's text: recorded, not noise.
        let result = verdict(message(subject: "Automatic reply: settings", body: "Can you help me set up my phone?"))
        XCTAssertNil(result?.kind)
        XCTAssertEqual(result?.signals.first?.kind, .autoreply)
        // The out-of-office text is in the forwarded part only.
        assertNotNoise(message(subject: "Out of office: please check", body: "Is this right?\n\n---------- Forwarded message ---------\nI am out of the office until Monday."))
    }

    // MARK: Newsletters and no-reply senders

    func testNewslettersAreWeakNoise() {
        assertNoise(message(from: "News <news@mail.vendor.example>", subject: "Our spring offers",
                            headers: "List-Unsubscribe: <https://vendor.example/u>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\nPrecedence: bulk\nFeedback-ID: 1:2:news:esp",
                            body: "Offers."), .newsletter, decisive: false)
        assertNoise(message(from: "Shop <shop@vendor.example>", subject: "Sale", headers: "X-Mailer: MailChimp Mailer - **CID123**",
                            body: "Sale."), .newsletter, decisive: false)
    }

    func testTheFirmsOwnListServerIsNotMarketing() {
        assertNotNoise(message(subject: "Re: Acme matter", headers: "List-Id: <acme-team.lists.firm.example>\nList-Post: <mailto:acme-team@lists.firm.example>\nPrecedence: list",
                               body: "Thanks, agreed on all points."))
        assertNoise(message(subject: "Re: [dev] patch", headers: "List-Id: Developers <dev.lists.project.example>\nPrecedence: list",
                            body: "Looks good."), .newsletter, decisive: false)
    }

    func testNoReplySendersAndAutomatedText() {
        for sender in ["noreply@portal.example", "no-reply@portal.example", "DoNotReply@portal.example", "billing-noreply@firm.example",
                       "ne-pas-repondre@impots.example", "nicht-antworten@bank.example", "notifications@service.example"] {
            assertNoise(message(from: sender, subject: "Your statement", body: "Statement attached."), .noreply, decisive: false)
        }
        assertNoise(message(from: "dse@esign.example", subject: "Completed: NDA", body: "This is an automated message. Please do not reply to this e-mail."),
                    .noreply, decisive: false)
        assertNoise(message(from: "portal@behoerde.example", subject: "Bescheid", body: "Diese E-Mail wurde automatisch erstellt."),
                    .noreply, decisive: false)
        assertNoise(message(from: "system@vendor.example", subject: "Report", headers: "Auto-Submitted: auto-generated", body: "Your report."),
                    .noreply, decisive: false)
        // "Do not reply" from a person decides nothing.
        assertNotNoise(message(subject: "Contract", body: "Please do not reply to this email, call me instead."))
    }

    func testTheMostSpecificKindWinsAndDecisiveBeatsWeak() {
        // An Exchange out-of-office from a no-reply looking sender with list headers: autoreply.
        assertNoise(message(from: "noreply@client.example", subject: "Automatic reply: Contract", headers: "Auto-Submitted: auto-replied\nPrecedence: bulk",
                            body: "I am out of the office."), .autoreply, decisive: true)
    }

    func testWeakVerdictsYieldToATrackingCodeOrAThread() {
        let weak = NoiseVerdict(kind: .newsletter, isDecisive: false, signals: [])
        XCTAssertEqual(weak.standingKind(trackingCode: false, thread: false), .newsletter)
        XCTAssertNil(weak.standingKind(trackingCode: true, thread: false))
        XCTAssertNil(weak.standingKind(trackingCode: false, thread: true))
        let decisive = NoiseVerdict(kind: .bounce, isDecisive: true, signals: [])
        XCTAssertEqual(decisive.standingKind(trackingCode: true, thread: true), .bounce)
    }

    func testHumanMailWithoutSignalsHasNoVerdict() {
        XCTAssertNil(verdict(message(subject: "Contract", body: "Dear Alice,\n\nplease find the signed contract attached.\n\nBest, Carol")))
    }

    // MARK: Real machine mail (shared corpora)

    func testMimeKitReportsAreBouncesAndReadReceipts() throws {
        let dir = try SharedCorpora.path("mimekit/messages")
        let expected: [String: NoiseKind] = [
            "bounce.txt": .bounce, "delivery-status.txt": .bounce, "delivery-status2.txt": .bounce,
            "delivery-status-multiple-blank-lines.txt": .bounce, "delivery-status-no-blank-line.txt": .bounce,
            "delivery-status.anonymized.eml": .bounce,
            "disposition-notification.txt": .readReceipt, "disposition-notification.anonymized.eml": .readReceipt,
        ]
        for (name, kind) in expected {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            let result = classifier.classify(MessageParser.parse(bytes), bytes: bytes)
            XCTAssertEqual(result?.kind, kind, name)
            XCTAssertEqual(result?.isDecisive, true, name)
        }
    }

    func testNotmuchHumanMailOutsideListTrafficIsNeverNoise() throws {
        let root = try SharedCorpora.path("notmuch")
        var checked = 0
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }
        for relative in files.sorted() {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  !["README", "COPYING"].contains((relative as NSString).lastPathComponent) else { continue }
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            guard MessageParser.rejectionReason(bytes) == nil else { continue }
            let parsed = MessageParser.parse(bytes)
            // List traffic (mailing-list headers, or the bulk precedence lists set) may be newsletter noise.
            let listTraffic = parsed.root.headers.fields.contains { field in
                let name = field.name.lowercased()
                return name.hasPrefix("list-") || (name == "precedence" && ["bulk", "list"].contains(field.text.lowercased().trimmingCharacters(in: .whitespaces)))
            }
            guard !listTraffic else { continue }
            checked += 1
            let result = classifier.classify(parsed, bytes: bytes)
            XCTAssertNil(result?.kind, "\(relative): \(result?.signals.map(\.description) ?? [])")
        }
        XCTAssertGreaterThan(checked, 80, "the corpus should hold about 90 messages outside list traffic")
    }
}
