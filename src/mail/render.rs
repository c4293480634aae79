//! Renders a [`Letter`] into a MIME message: `multipart/alternative` of a plain-text body and an
//! HTML body that shows the link's QR code as an inline (`cid:`) PNG. Bodies are base64 encoded, so
//! the Chinese text survives any relay; lettre encodes the subject and display names per RFC 2047.

use askama::Template;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::letter::{Letter, MessageKind, Sender};
use super::qr;

/// The Content-ID of the QR code image inside the HTML part.
const QR_CID: &str = "survey-qr";

/// Why a message could not be built; names the enterprise's address so the operator can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("邮件模板渲染失败: {0}")]
    Template(#[from] askama::Error),
    #[error("邮件地址无效 {address:?}: {message}")]
    Address { address: String, message: String },
    #[error(transparent)]
    Qr(#[from] qr::QrError),
    #[error("无法组装邮件: {0}")]
    Build(String),
    /// A header value with a line break or another control character: lettre cannot encode it
    /// (it panics on a line break in a display name), and a line break in a header is how mail
    /// headers are forged. The registry refuses such values; this catches any that got into the
    /// database another way.
    #[error(
        "邮件头「{header}」含换行或控制字符(U+{code:04X}),无法发送;请在名录中改正后重新发放链接"
    )]
    ControlCharacter { header: &'static str, code: u32 },
}

/// Refuses a header value with a control character or a line/paragraph separator.
pub(super) fn header_text<'a>(
    header: &'static str,
    value: &'a str,
) -> Result<&'a str, ComposeError> {
    match value
        .chars()
        .find(|&c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        Some(c) => Err(ComposeError::ControlCharacter {
            header,
            code: u32::from(c),
        }),
        None => Ok(value),
    }
}

macro_rules! message_templates {
    ($subject:ident, $text:ident, $html:ident, $s:literal, $t:literal, $h:literal) => {
        #[derive(Template)]
        #[template(path = $s)]
        struct $subject<'a> {
            l: &'a Letter,
        }
        #[derive(Template)]
        #[template(path = $t)]
        struct $text<'a> {
            l: &'a Letter,
            sender: &'a Sender,
        }
        #[derive(Template)]
        #[template(path = $h)]
        struct $html<'a> {
            l: &'a Letter,
            sender: &'a Sender,
            qr_cid: &'a str,
        }
    };
}

message_templates!(
    InvitationSubject,
    InvitationText,
    InvitationHtml,
    "invitation/subject.txt",
    "invitation/body.txt",
    "invitation/body.html"
);
message_templates!(
    ReminderSubject,
    ReminderText,
    ReminderHtml,
    "reminder/subject.txt",
    "reminder/body.txt",
    "reminder/body.html"
);
message_templates!(
    ExtensionSubject,
    ExtensionText,
    ExtensionHtml,
    "extension/subject.txt",
    "extension/body.txt",
    "extension/body.html"
);

/// Subject, text body and HTML body of a letter.
fn render(letter: &Letter, sender: &Sender) -> Result<(String, String, String), askama::Error> {
    let l = letter;
    let qr_cid = QR_CID;
    Ok(match letter.kind {
        MessageKind::Invitation => (
            InvitationSubject { l }.render()?,
            InvitationText { l, sender }.render()?,
            InvitationHtml { l, sender, qr_cid }.render()?,
        ),
        MessageKind::Reminder => (
            ReminderSubject { l }.render()?,
            ReminderText { l, sender }.render()?,
            ReminderHtml { l, sender, qr_cid }.render()?,
        ),
        MessageKind::Extension => (
            ExtensionSubject { l }.render()?,
            ExtensionText { l, sender }.render()?,
            ExtensionHtml { l, sender, qr_cid }.render()?,
        ),
    })
}

/// `name <address>`, both checked for control characters first (see
/// [`ComposeError::ControlCharacter`]).
pub(super) fn mailbox(
    header: &'static str,
    name: &str,
    address: &str,
) -> Result<Mailbox, ComposeError> {
    let name = header_text(header, name)?;
    let email =
        header_text(header, address)?
            .parse()
            .map_err(|e: lettre::address::AddressError| ComposeError::Address {
                address: address.to_owned(),
                message: e.to_string(),
            })?;
    Ok(Mailbox::new(Some(name.to_owned()), email))
}

/// The complete message for one letter.
pub fn compose(letter: &Letter, sender: &Sender) -> Result<Message, ComposeError> {
    let (subject, text, html) = render(letter, sender)?;
    let qr_png = qr::png(&letter.url)?;
    let text_part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::Base64)
        .body(text);
    let html_part = SinglePart::builder()
        .header(ContentType::TEXT_HTML)
        .header(ContentTransferEncoding::Base64)
        .body(html);
    let png_type =
        ContentType::parse("image/png").map_err(|e| ComposeError::Build(e.to_string()))?;
    let qr_part = Attachment::new_inline(QR_CID.to_owned()).body(qr_png, png_type);
    let message_id = header_text("Message-ID", &letter.message_id)?;
    Message::builder()
        .from(mailbox("From", &sender.name, &sender.address)?)
        .reply_to(mailbox("Reply-To", &sender.name, &sender.address)?)
        .to(mailbox("To", &letter.enterprise_name, &letter.email)?)
        .subject(header_text("Subject", subject.trim())?)
        .message_id(Some(format!("<{message_id}>")))
        .multipart(
            MultiPart::alternative().singlepart(text_part).multipart(
                MultiPart::related()
                    .singlepart(html_part)
                    .singlepart(qr_part),
            ),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(units: Vec<String>) -> Letter {
        Letter {
            kind: MessageKind::Invitation,
            enterprise_name: "徐州<测试>有限公司".into(),
            email: "a@example.com".into(),
            period_label: "2019年下半年".into(),
            units,
            deadline: "2019年11月30日 24:00(北京时间)".into(),
            url: "http://127.0.0.1:8080/s/abc".into(),
            message_id: "2019H2.1.invitation.1@qiping".into(),
            weighted: false,
        }
    }

    fn sender() -> Sender {
        Sender {
            name: "营商环境办公室".into(),
            address: "noreply@example.org".into(),
        }
    }

    #[test]
    fn the_bodies_name_the_units_or_ask_to_choose_and_escape_html() {
        let (subject, text, html) =
            render(&letter(vec!["市税务局 · 纳税服务科".into()]), &sender()).expect("render");
        assert!(subject.contains("2019年下半年"), "{subject}");
        assert!(text.contains("市税务局 · 纳税服务科"), "{text}");
        assert!(text.contains("http://127.0.0.1:8080/s/abc"), "{text}");
        assert!(text.contains("匿名"), "{text}");
        assert!(
            html.contains("徐州&#60;测试&#62;") || html.contains("徐州&lt;测试&gt;"),
            "{html}"
        );
        assert!(html.contains("cid:survey-qr"), "{html}");
        let (_, text, _) = render(&letter(vec![]), &sender()).expect("render");
        assert!(text.contains("自行选择"), "{text}");
    }

    #[test]
    fn every_kind_composes_a_message() {
        for kind in [
            MessageKind::Invitation,
            MessageKind::Reminder,
            MessageKind::Extension,
        ] {
            let mut l = letter(vec![]);
            l.kind = kind;
            let message = compose(&l, &sender()).expect("compose");
            let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
            assert!(
                raw.contains("Message-ID: <2019H2.1.invitation.1@qiping>"),
                "{raw}"
            );
            assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        }
    }

    #[test]
    fn a_name_with_a_line_break_is_refused_not_a_panic() {
        for name in [
            "徐州\n测试有限公司",
            "徐州\r\nBcc: x@evil.example",
            "a\u{2028}b",
            "a\0b",
        ] {
            let mut l = letter(vec![]);
            l.enterprise_name = name.into();
            match compose(&l, &sender()) {
                Err(ComposeError::ControlCharacter { header: "To", .. }) => {}
                other => panic!("{name:?}: {other:?}"),
            }
        }
        let mut l = letter(vec![]);
        l.email = "a@example.com\n".into();
        assert!(matches!(
            compose(&l, &sender()),
            Err(ComposeError::ControlCharacter { .. })
        ));
    }
}
