//! The letter that asks an enterprise whether the unit's answer resolved the problem it reported
//! (实名反映). Plain text and HTML, both base64 UTF-8; the link is rendered at send time from the
//! secret and never stored (like the survey links).

use askama::Template;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{MultiPart, SinglePart};

use super::letter::Sender;
use super::render::{ComposeError, header_text, mailbox};

/// One confirmation request.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemLetter {
    pub reporter_name: String,
    pub email: String,
    pub unit_name: String,
    /// The problem as the enterprise wrote it (its first lines).
    pub problem: String,
    pub answer: String,
    /// e.g. `2026年10月16日`: the last day to answer.
    pub due: String,
    pub url: String,
    pub message_id: String,
}

#[derive(Template)]
#[template(path = "problem_confirm/subject.txt")]
struct Subject<'a> {
    l: &'a ProblemLetter,
}

#[derive(Template)]
#[template(path = "problem_confirm/body.txt")]
struct Text<'a> {
    l: &'a ProblemLetter,
    sender: &'a Sender,
}

#[derive(Template)]
#[template(path = "problem_confirm/body.html")]
struct Html<'a> {
    l: &'a ProblemLetter,
    sender: &'a Sender,
}

/// The complete message.
pub fn compose_problem_letter(
    letter: &ProblemLetter,
    sender: &Sender,
) -> Result<Message, ComposeError> {
    let l = letter;
    let subject = Subject { l }.render()?;
    let text = Text { l, sender }.render()?;
    let html = Html { l, sender }.render()?;
    let message_id = header_text("Message-ID", &letter.message_id)?;
    Message::builder()
        .from(mailbox("From", &sender.name, &sender.address)?)
        .reply_to(mailbox("Reply-To", &sender.name, &sender.address)?)
        .to(mailbox("To", &letter.reporter_name, &letter.email)?)
        .subject(header_text("Subject", subject.trim())?)
        .message_id(Some(format!("<{message_id}>")))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .header(ContentTransferEncoding::Base64)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .header(ContentTransferEncoding::Base64)
                        .body(html),
                ),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letter_names_the_unit_the_answer_and_the_link() {
        let letter = ProblemLetter {
            reporter_name: "张<经理>".into(),
            email: "zhang@example.com".into(),
            unit_name: "市市场监管局".into(),
            problem: "营业执照变更拖了两个月".into(),
            answer: "已于 10 月 9 日办结变更".into(),
            due: "2026年10月16日".into(),
            url: "http://127.0.0.1:8080/p/abc".into(),
            message_id: "problem.7.1@qiping".into(),
        };
        let sender = Sender {
            name: "营商环境办公室".into(),
            address: "noreply@example.org".into(),
        };
        let text = Text {
            l: &letter,
            sender: &sender,
        }
        .render()
        .expect("text");
        assert!(text.contains("市市场监管局") && text.contains("已于 10 月 9 日办结变更"));
        assert!(text.contains("http://127.0.0.1:8080/p/abc"), "{text}");
        let html = Html {
            l: &letter,
            sender: &sender,
        }
        .render()
        .expect("html");
        assert!(html.contains("张&#60;经理&#62;") || html.contains("张&lt;经理&gt;"));
        let raw = String::from_utf8_lossy(
            &compose_problem_letter(&letter, &sender)
                .expect("compose")
                .formatted(),
        )
        .into_owned();
        assert!(raw.contains("Message-ID: <problem.7.1@qiping>"), "{raw}");
    }
}
