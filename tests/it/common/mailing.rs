//! Set-up shared by the mail tests: a registry of generated enterprises, an open campaign, a
//! dispatcher aimed at a loopback SMTP server, and MIME helpers to read what arrived.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qiping::config::{MailConfig, TlsMode};
use qiping::db::Conn;
use qiping::mail::Mailer;
use qiping::service::Actor;
use qiping::service::dispatch::{DispatchReport, Dispatcher, Until};

use super::{no_progress, uscc};

pub use super::scenario::secret;

pub const BASE_URL: &str = "https://qiping.test";

/// The address of generated enterprise `i`.
pub fn email(i: u32) -> String {
    format!("e{i}@firm{i}.example.com")
}

/// `n` enterprises over 3 districts × 2 industries × 2 sizes, plus two units and interactions of
/// enterprise 0 with both in `period`.
pub fn registry(conn: &mut Conn, n: u32, period: &str) {
    let mut csv = String::from("uscc,name,email,district,industry,size\n");
    let districts = ["鼓楼区", "云龙区", "铜山区"];
    let industries = ["制造业", "批发和零售业"];
    let sizes = ["small", "medium"];
    for i in 0..n {
        csv.push_str(&format!(
            "{},徐州测试企业{i}有限公司,{},{},{},{}\n",
            uscc(i),
            email(i),
            districts[i as usize % 3],
            industries[(i as usize / 3) % 2],
            sizes[(i as usize / 6) % 2]
        ));
    }
    qiping::service::import::import_enterprises(
        conn,
        &Actor::cli(),
        csv.as_bytes(),
        &mut no_progress(),
    )
    .unwrap();
    qiping::service::import::import_units(
        conn,
        &Actor::cli(),
        &super::fixture("import/units_good.csv"),
        &mut no_progress(),
    )
    .unwrap();
    let interactions = format!("uscc,unit_code\n{},FGW\n{},SWJ\n", uscc(0), uscc(0));
    qiping::service::import::import_interactions(
        conn,
        &Actor::cli(),
        &period.parse().unwrap(),
        interactions.as_bytes(),
        &mut no_progress(),
    )
    .unwrap();
}

/// Creates (optionally sampled: `(size, seed)`) and opens a campaign.
pub fn open(conn: &mut Conn, period: &str, sample: Option<(u64, u64)>) {
    super::scenario::open_campaign(conn, period, sample);
}

/// Mail settings aimed at a loopback server, with no rate limit unless set.
pub fn smtp_settings(addr: std::net::SocketAddr) -> MailConfig {
    MailConfig {
        smtp_host: Some(addr.ip().to_string()),
        smtp_port: addr.port(),
        tls: TlsMode::None,
        rate_per_second: 0.0,
        backoff_seconds: 0,
        from_address: "yingshang@xuzhou.example.gov.cn".into(),
        ..MailConfig::default()
    }
}

/// Sends everything queued with these settings.
pub fn dispatch(conn: &mut Conn, settings: &MailConfig) -> DispatchReport {
    let mailer = Mailer::from_config(settings).unwrap();
    let secret = secret();
    Dispatcher {
        mailer: &mailer,
        secret: &secret,
        base_url: BASE_URL,
        settings,
        weighted_by_default: false,
        before_compose: None,
    }
    .run(conn, Until::Drained, &mut |_, _| {}, &mut |_| true)
    .unwrap()
}

/// Unfolds a header of a raw message and decodes its RFC 2047 encoded words.
pub fn header(raw: &str, name: &str) -> Option<String> {
    let prefix = format!("{name}:");
    let mut lines = raw.split("\r\n");
    let first = lines.find(|l| l.starts_with(&prefix))?;
    let mut value = first[prefix.len()..].to_owned();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            value.push_str(line);
        } else {
            break;
        }
    }
    Some(value.trim().to_owned())
}

/// Decodes `=?utf-8?b?…?=` words (the form lettre writes), dropping the whitespace between them.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            let bytes = STANDARD.decode(&word[10..word.len() - 2]).unwrap();
            out.push_str(&String::from_utf8(bytes).unwrap());
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// The decoded body of the first part with this content type (base64 bodies, as qiping sends).
pub fn part(raw: &str, content_type: &str) -> Option<Vec<u8>> {
    let start = raw.find(&format!("Content-Type: {content_type}"))?;
    let rest = &raw[start..];
    let body_start = rest.find("\r\n\r\n")? + 4;
    let body: String = rest[body_start..]
        .split("\r\n")
        .take_while(|l| !l.is_empty() && !l.starts_with("--"))
        .collect();
    STANDARD.decode(body).ok()
}

/// The survey token in the text body of a message.
pub fn token_in(raw: &str) -> String {
    let text = String::from_utf8(part(raw, "text/plain").expect("text part")).unwrap();
    let at = text
        .find(&format!("{BASE_URL}/s/"))
        .expect("link in the text");
    text[at + BASE_URL.len() + 3..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
