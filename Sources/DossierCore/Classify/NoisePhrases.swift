/// The words machine-made mail is written in, by kind and language. Subject prefixes are matched
/// at the very start of the Subject (so "Re: Automatic reply: ..." from a person is not one);
/// body phrases only in the text the sender wrote themselves (not in quoted or forwarded text).
/// Everything is lower case with single spaces (see `PhraseMatcher`).
///
/// Sources: what Exchange/Outlook, Gmail, Thunderbird, Postfix, Exim, Sendmail and common
/// marketing and notification systems put in their mail, in English, German, French, Spanish,
/// Italian, Dutch, Portuguese, Polish and Japanese (and a few more where they are common).
enum NoisePhrases {
    // MARK: Subject prefixes

    /// Out-of-office and other automatic replies.
    static let autoreplySubjects = [
        "automatic reply:", "auto reply:", "auto-reply:", "autoreply:", "auto response:", "autoresponse:",
        "auto-response:", "out of office:", "out of office reply:", "out of the office:", "ooo:", "away from the office:",
        "abwesenheitsnotiz:", "abwesenheitsnotiz :", "automatische antwort:", "abwesend:", "automatische antwort :",
        "réponse automatique :", "réponse automatique:", "reponse automatique :", "reponse automatique:",
        "absence :", "absent :", "message d'absence :",
        "respuesta automática:", "respuesta automatica:", "fuera de la oficina:", "ausencia:",
        "risposta automatica:", "fuori ufficio:", "risposta automatica :",
        "automatisch antwoord:", "afwezig:", "automatisch antwoord :",
        "resposta automática:", "resposta automatica:", "ausente:", "fora do escritório:",
        "autoodpowiedź:", "automatyczna odpowiedź:", "odpowiedź automatyczna:", "nieobecność:",
        "自動応答:", "自動応答：", "自動返信:", "自動返信：", "不在:", "不在：",
        "автоответ:", "自动回复:", "自动回复：", "자동 회신:",
    ]

    /// Non-standard delivery failure reports.
    static let bounceSubjects = [
        "undelivered mail returned to sender", "undeliverable:", "undeliverable mail", "undelivered mail",
        "undelivered:", "delivery status notification", "mail delivery failed", "mail delivery failure",
        "delivery failure", "delivery has failed", "delivery notification: delivery has failed", "failure notice",
        "returned mail:", "mail system error", "message not delivered", "could not send message",
        "warning: could not send message", "delivery failed", "non remis :", "non remis:", "non distribuable",
        "unzustellbar:", "nicht zustellbar", "no se puede entregar:", "no entregado", "onbestelbaar:",
        "impossibile recapitare", "não é possível entregar", "nao e possivel entregar", "niedostarczalne",
        "nie można dostarczyć", "配信不能", "送信できませんでした",
    ]

    /// Read receipts written as ordinary mail (Outlook's "Read: ..." and its translations).
    static let readReceiptSubjects = [
        "read:", "read receipt:", "return receipt", "displayed:", "gelesen:", "lu :", "lu:", "leído:", "leido:",
        "gelezen:", "letto:", "lida:", "lido:", "przeczytano:", "przeczytane:", "przeczytana:", "開封済み:",
        "開封済み：", "已读:", "прочитано:",
    ]

    /// Calendar answers: a signal only where a text/calendar METHOD:REPLY part confirms it.
    static let meetingReplySubjects = [
        "accepted:", "declined:", "tentative:", "tentatively accepted:", "akzeptiert:", "abgelehnt:",
        "mit vorbehalt angenommen:", "mit vorbehalt:", "accepté :", "accepté:", "refusé :", "refusé:", "provisoire :",
        "aceptado:", "rechazado:", "provisional:", "accettato:", "rifiutato:", "provvisorio:", "geaccepteerd:",
        "geweigerd:", "voorlopig:", "aceito:", "recusado:", "provisório:", "zaakceptowano:", "odrzucono:",
        "wstępnie zaakceptowano:", "承諾:", "辞退:", "仮承諾:",
    ]

    // MARK: Body phrases (the sender's own text)

    /// Out-of-office wording: confirms an automatic-reply subject.
    static let outOfOffice = [
        "out of the office", "out of office", "away from the office", "away from my desk", "on annual leave",
        "on leave", "on vacation", "on holiday", "limited access to email", "limited access to e-mail",
        "currently away", "i will be back", "i am away", "i'm away", "back in the office",
        "nicht im büro", "außer haus", "ausser haus", "abwesend", "im urlaub", "keinen zugriff auf meine e-mails",
        "nicht erreichbar",
        "absent", "absente", "en congé", "hors du bureau", "pas accès à mes e-mails", "de retour le",
        "fuera de la oficina", "de vacaciones", "ausente", "estaré fuera",
        "fuori ufficio", "fuori sede", "in ferie", "assente",
        "afwezig", "niet op kantoor", "met vakantie", "buiten kantoor",
        "fora do escritório", "de férias", "estarei fora",
        "poza biurem", "na urlopie", "nieobecn",
        "不在", "休暇", "外出",
        "в отпуске", "不在办公室", "부재",
    ]

    /// Wording of delivery failures: confirms a bounce subject or sender.
    static let deliveryFailure = [
        "could not be delivered", "couldn't be delivered", "delivery has failed", "permanent error",
        "permanent fatal error", "user unknown", "recipient address rejected", "mailbox unavailable",
        "address not found", "unable to deliver", "undeliverable", "was not delivered", "message could not be sent",
        "konnte nicht zugestellt werden", "unzustellbar", "n'a pas pu être remis", "n'a pas pu etre remis",
        "no se pudo entregar", "non è stato possibile recapitare", "kon niet worden bezorgd",
        "não pôde ser entregue", "nie może zostać dostarczona", "配信できませんでした",
    ]

    /// Wording of a read receipt: confirms a "Read:" subject.
    static let wasRead = [
        "was read on", "was read at", "has been read", "was displayed", "were read", "gelesen", "a été lu",
        "a été lu le", "fue leído", "se leyó", "is gelezen", "è stato letto", "foi lida", "foi lido",
        "została przeczytana", "開封されました", "已读",
    ]

    /// A sender saying its mail is automatic: enough to call it notification mail (noreply).
    static let automated = [
        "this is an automated message", "this is an automated email", "this is an automated e-mail",
        "this is an automated notification", "this is an automatically generated", "this message was automatically generated",
        "this email was automatically generated", "this e-mail was automatically generated", "this email was sent automatically",
        "this message was sent automatically", "this e-mail was sent automatically", "automatically generated message",
        "this mailbox is not monitored", "this mailbox is unmonitored", "this email address is not monitored",
        "this address is not monitored", "this inbox is not monitored",
        "diese e-mail wurde automatisch", "diese nachricht wurde automatisch", "automatisch generierte nachricht",
        "automatisch erstellte nachricht", "automatisch generierte e-mail",
        "ceci est un message automatique", "ce message a été généré automatiquement", "message généré automatiquement",
        "cet e-mail a été envoyé automatiquement", "ce courriel a été généré automatiquement",
        "este es un mensaje automático", "este es un mensaje automatico", "mensaje generado automáticamente",
        "este correo ha sido generado automáticamente", "este correo se ha generado automáticamente",
        "questo è un messaggio automatico", "messaggio generato automaticamente", "questa e-mail è stata generata automaticamente",
        "dit is een automatisch gegenereerd bericht", "dit is een automatisch bericht", "automatisch gegenereerde e-mail",
        "esta é uma mensagem automática", "esta e uma mensagem automatica", "mensagem gerada automaticamente",
        "wiadomość została wygenerowana automatycznie", "wiadomość wygenerowana automatycznie",
        "このメールは送信専用", "このメールは自動送信", "自動配信メール", "自動送信されています",
    ]

    /// "Do not reply": recorded for `why`, but people write it too, so it decides nothing alone.
    static let doNotReply = [
        "please do not reply", "do not reply to this", "don't reply to this", "bitte antworten sie nicht",
        "merci de ne pas répondre", "ne pas répondre", "por favor, no responda", "no responda a este",
        "si prega di non rispondere", "non rispondere a questa", "gelieve niet te antwoorden", "niet beantwoorden",
        "por favor, não responda", "não responda", "prosimy nie odpowiadać", "nie odpowiadaj", "返信しないで",
        "返信できません", "ご返信いただいても",
    ]

    // MARK: Senders and headers

    /// Local parts (lower case) of senders that take no replies, matched anywhere in the local part.
    static let noReplyFragments = [
        "noreply", "no-reply", "no_reply", "no.reply", "donotreply", "do-not-reply", "do_not_reply", "do.not.reply",
        "dontreply", "dont-reply", "nepasrepondre", "ne-pas-repondre", "ne_pas_repondre", "nicht-antworten",
        "nichtantworten", "keine-antwort", "keineantwort", "noresponder", "no-responder", "naoresponda", "nao-responda",
        "nao_responda", "nonrispondere", "non-rispondere", "niet-antwoorden", "nietantwoorden", "nieodpowiadaj",
        "nie-odpowiadaj",
    ]

    /// Whole local parts of notification-only senders.
    static let notificationLocalParts: Set<String> = [
        "notification", "notifications", "notify", "notifier", "alerts", "automated", "automailer", "auto-confirm",
        "autoconfirm", "mailer",
    ]

    /// Local parts of the mail system itself.
    static let mailDaemons: Set<String> = ["mailer-daemon", "mailerdaemon", "mail-daemon", "maildaemon"]

    /// Header fields marketing and list platforms add (lower case; a trailing `-` is a prefix).
    static let bulkHeaders = [
        "list-unsubscribe", "list-unsubscribe-post", "list-id", "list-post", "feedback-id", "x-campaign", "x-campaignid",
        "x-campaign-id", "x-mailchimp-", "x-mc-user", "x-sfmc-stack", "x-sg-eid", "x-csa-complaints", "x-newsletter",
        "x-marketoid", "x-mailjet-campaign", "x-sib-id", "x-ems-tracking", "x-cmae-", "x-hubspot-",
    ]

    /// X-Mailer values of marketing platforms (lower case, matched anywhere).
    static let bulkMailers = [
        "mailchimp", "sendinblue", "brevo", "hubspot", "mailjet", "campaign monitor", "constant contact", "klaviyo",
        "phplist", "mailpoet", "acumbamail", "marketing cloud", "newsletter",
    ]
}
