//! Just enough of the W3C WebDriver protocol to drive Chromium through `chromedriver` (a child
//! process): a session, navigation, finding and clicking elements, typing, scripts, screenshots.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use base64::Engine;
use serde_json::{Value, json};

use super::http::{Http, free_port, wait_ready};

/// The key W3C WebDriver uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether the browser and its driver are installed.
pub fn available() -> bool {
    ["chromedriver", "chromium"].iter().all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// A headless Chromium at a phone's viewport; the driver is stopped when this is dropped.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", Value::Null);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    pub fn start(width: u32, height: u32) -> Browser {
        let port = free_port();
        let profile = tempfile::tempdir().unwrap();
        // The CJK font the project commits (`assets/fonts/`) beside the system's, so pages read
        // in Chinese — in screenshots above all — on a machine with no CJK font installed.
        let fonts = profile.path().join("fonts.conf");
        std::fs::write(
            &fonts,
            format!(
                "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig>\n\
                 <include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include>\n\
                 <dir>{}/assets/fonts</dir>\n<cachedir>{}/fontcache</cachedir>\n</fontconfig>\n",
                env!("CARGO_MANIFEST_DIR"),
                profile.path().display()
            ),
        )
        .unwrap();
        let driver = Command::new("chromedriver")
            .env("FONTCONFIG_FILE", &fonts)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        assert!(
            wait_ready(addr, "/status", 30),
            "chromedriver did not start"
        );
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
                // Headless windows are at least 500 px wide; a phone's viewport is emulated.
                "mobileEmulation": {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0}}
            }
        }}});
        let mut http = Http::connect(addr).unwrap();
        let (status, body) = http
            .post_json("/session", &capabilities.to_string())
            .unwrap();
        let answer: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 200, "new session: {answer}");
        let session = answer["value"]["sessionId"].as_str().unwrap().to_owned();
        Browser {
            driver,
            addr,
            session,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let mut http = Http::connect(self.addr).map_err(|e| e.to_string())?;
        let url = format!("/session/{}{path}", self.session);
        let payload = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (status, answer) = http
            .request(method, &url, Some("application/json"), payload.as_bytes())
            .map_err(|e| e.to_string())?;
        let value: Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
        if status == 200 {
            Ok(value["value"].clone())
        } else {
            Err(format!("{method} {path}: {status} {value}"))
        }
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).unwrap();
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", Value::Null)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits (up to 15 s) until the current URL ends with `suffix`: a click that submits a form
    /// returns before the browser has navigated, more so on a loaded machine.
    pub fn wait_for_url(&self, suffix: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let url = self.url();
            if url.ends_with(suffix) || std::time::Instant::now() > deadline {
                return url;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Waits (up to 20 s) until the text of the element matching `css` contains `needle`, and
    /// returns that text (the last one read, if it never came). Read in one script call, so a page
    /// that is replaced meanwhile (a form posted to the same address) is read again, not stale.
    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let source = format!(
            "const e = document.querySelector({}); return e ? e.innerText : '';",
            json!(css)
        );
        loop {
            let text = self
                .call(
                    "POST",
                    "/execute/sync",
                    json!({"script": source, "args": []}),
                )
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            if text.contains(needle) || std::time::Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// The element matching a CSS selector.
    pub fn find(&self, css: &str) -> String {
        let found = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        found[ELEMENT]
            .as_str()
            .or_else(|| found["ELEMENT"].as_str())
            .unwrap_or_else(|| panic!("{css}: {found}"))
            .to_owned()
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), json!({}))
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub fn type_text(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .unwrap();
    }

    pub fn is_selected(&self, css: &str) -> bool {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/selected"), Value::Null)
            .unwrap()
            .as_bool()
            .unwrap()
    }

    pub fn script(&self, source: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": source, "args": []}),
        )
        .unwrap()
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/text"), Value::Null)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The accessibility violations axe-core finds on the current page (WCAG 2.1 A and AA rules),
    /// one line each: rule, impact, the first elements. `None` when axe-core is not installed:
    /// `QIPING_AXE_JS` names its `axe.min.js` (`.ci/run` installs it with npm and sets it).
    pub fn axe_violations(&self) -> Option<Vec<String>> {
        let path = std::env::var("QIPING_AXE_JS").ok()?;
        let source =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("QIPING_AXE_JS={path}: {e}"));
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": format!("{source}\nreturn true;"), "args": []}),
        )
        .unwrap();
        let found = self
            .call(
                "POST",
                "/execute/async",
                json!({"script": "const done = arguments[arguments.length - 1];\
                    axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
                    .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + \
                        v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))\
                    .catch(e => done(['axe failed: ' + e]));", "args": []}),
            )
            .unwrap();
        Some(
            found
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect(),
        )
    }

    /// Asserts axe-core finds no violation on the current page (`what` names it), or says that
    /// the check was skipped.
    pub fn assert_accessible(&self, what: &str) {
        match self.axe_violations() {
            Some(violations) => {
                assert!(violations.is_empty(), "axe-core on {what}: {violations:#?}")
            }
            None => eprintln!("SKIPPED axe-core on {what}: QIPING_AXE_JS not set"),
        }
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = self.call("GET", "/screenshot", Value::Null).unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap()
    }
}
