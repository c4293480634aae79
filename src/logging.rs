//! Logging with secrets scrubbed. The code logs no secret on purpose (secret values are
//! [`crate::domain::Secret`], whose `Debug` prints `***`); this writer is the second line: every
//! line written is passed through [`redact`], which masks what looks like a password field, a
//! session or CSRF cookie, a bearer or API token, a survey link token or a database password.

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

/// `key=value` pairs whose value is masked up to the next delimiter.
const KEYED: &[&str] = &[
    "password=",
    "password\":\"",
    "csrf_token=",
    "qiping_session=",
    "qiping_login_csrf=",
    "link_secret=",
    "link_secret\":\"",
    "token=",
    "token\":\"",
];

/// Prefixes followed by a base64url value that is masked.
const PREFIXED: &[&str] = &["Bearer ", "bearer ", "qp_", "/s/", "/api/v1/survey/"];

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '%' | '.' | '~' | '+' | '=')
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '&' | ';' | ',' | '"' | '\'' | ')' | '}' | ']')
}

/// Masks `rest`'s leading run of characters accepted by `keep`, writing `***` instead.
fn mask_run(out: &mut String, rest: &str, take: impl Fn(char) -> bool) -> usize {
    let len: usize = rest
        .chars()
        .take_while(|c| take(*c))
        .map(char::len_utf8)
        .sum();
    if len > 0 {
        out.push_str("***");
    }
    len
}

/// The line without ANSI colour codes, which would otherwise split `key=value` apart.
fn strip_ansi(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ parameters final-byte
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The line with every secret-looking value replaced by `***` (and colour codes removed).
pub fn redact(line: &str) -> String {
    let line = strip_ansi(line);
    let line = line.as_ref();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    'scan: while i < line.len() {
        let rest = &line[i..];
        for key in KEYED {
            if rest.starts_with(key) {
                out.push_str(key);
                i += key.len();
                i += mask_run(&mut out, &line[i..], |c| !is_delimiter(c));
                continue 'scan;
            }
        }
        for prefix in PREFIXED {
            if rest.starts_with(prefix) {
                out.push_str(prefix);
                i += prefix.len();
                i += mask_run(&mut out, &line[i..], is_token_char);
                continue 'scan;
            }
        }
        // A postgres://user:password@host URL.
        if rest.starts_with("://")
            && let Some(at) = rest.find('@')
            && let Some(colon) = rest[3..at].find(':')
            && !rest[3..at].contains(['/', ' '])
        {
            out.push_str("://");
            out.push_str(&rest[3..3 + colon]);
            out.push_str(":***");
            i += at;
            continue 'scan;
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A writer that redacts each write (the fmt layer writes one whole event per call).
pub struct Redacting<W>(pub W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Wraps a `MakeWriter` so that everything it writes is redacted.
pub struct RedactingMakeWriter<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = Redacting<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        Redacting(self.0.make_writer())
    }
}

/// Installs the process's subscriber: `filter`, redacted, to stderr (stdout is for `--json`).
pub fn init(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(RedactingMakeWriter(std::io::stderr))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_log_lines_are_masked() {
        let line = "POST /login password=hunter2secret&csrf_token=abcDEF123 \
                    cookie: qiping_session=Zm9vYmFy; other=1 Authorization: Bearer qp_SECRETVALUE1 \
                    GET /s/AAAAbbbbCCCCdddd/x postgres://q:pw@db/x";
        let out = redact(line);
        for secret in [
            "hunter2secret",
            "abcDEF123",
            "Zm9vYmFy",
            "SECRETVALUE1",
            "AAAAbbbb",
            ":pw@",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("other=1"));
        assert!(out.contains("/x"));
        assert!(out.contains("postgres://q:***@db/x"), "{out}");
    }

    #[test]
    fn colour_codes_do_not_hide_a_field_from_redaction() {
        let line = "\u{1b}[3mpassword\u{1b}[0m\u{1b}[2m=\u{1b}[0mhunter2secret done";
        let out = redact(line);
        assert_eq!(out, "password=*** done");
    }

    #[test]
    fn plain_text_and_chinese_pass_unchanged() {
        let line = "用户 alice 登录成功 user=alice";
        assert_eq!(redact(line), line);
    }
}
