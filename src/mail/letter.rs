//! What one message says: everything the templates need, gathered by the service at send time.

/// Which message of a campaign this is; the outbox column `kind`, and the template folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Invitation,
    Reminder,
    Extension,
}

impl MessageKind {
    /// The stored name (`outbox.kind`) and template folder.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Reminder => "reminder",
            Self::Extension => "extension",
        }
    }

    /// Parses the stored name.
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "invitation" => Some(Self::Invitation),
            "reminder" => Some(Self::Reminder),
            "extension" => Some(Self::Extension),
            _ => None,
        }
    }
}

/// One message to one enterprise, ready to render. The link is rendered from the token derived at
/// send time; it is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub kind: MessageKind,
    pub enterprise_name: String,
    pub email: String,
    /// e.g. `2019年下半年`.
    pub period_label: String,
    /// Units the enterprise is asked about, as `部门 · 处室` lines; empty means "choose on the form".
    pub units: Vec<String>,
    /// The deadline in Beijing time, e.g. `2019年11月30日 24:00(北京时间)`.
    pub deadline: String,
    pub url: String,
    /// Stable across retries, so a receiving system can recognise a repeat (RFC 5322 `Message-ID`).
    pub message_id: String,
    /// The campaign is weighted: the letter says what the stored weights leave.
    pub weighted: bool,
}

/// Who the messages come from; replies about broken links go back to this address.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    pub name: String,
    pub address: String,
}
