//! A real SMTP server on loopback for the mail tests and the benchmark: the `mailin` crate's
//! protocol state machine behind a thread-per-connection TCP listener. It records every accepted
//! message and can answer a recipient with 4xx (a given number of times) or 5xx on demand, and
//! can be stopped (its port refuses connections, open sessions are cut) and started again.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mailin::{Action, Handler, Response, SessionBuilder};

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: Vec<u8>,
    pub at: Instant,
}

impl Received {
    /// The raw message as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// What the server answers to RCPT TO for one address.
#[derive(Debug, Clone)]
enum Rule {
    /// Answer `code` this many more times, then accept.
    Temporary { code: u16, remaining: u32 },
    /// Always answer `code`.
    Permanent { code: u16 },
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    rules: HashMap<String, Rule>,
    connections: usize,
    /// Stopped: the listener is closed and open sessions are cut at their next line.
    down: bool,
}

/// A running server; it lives until the test process ends.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    /// Starts a server on a free loopback port.
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || accept(listener, addr, shared));
        SmtpSink { addr, state }
    }

    /// Stops the server as a crashed relay would: its port refuses connections and every open
    /// session is cut before its next reply (a message whose final `.` was not answered is not
    /// kept).
    pub fn stop(&self) {
        self.state.lock().unwrap().down = true;
        // Wakes the blocking accept so that it closes the listener.
        let _ = TcpStream::connect(self.addr);
        while TcpStream::connect(self.addr).is_ok() {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// Starts it again on the same port.
    pub fn start_again(&self) {
        self.state.lock().unwrap().down = false;
        while TcpStream::connect(self.addr).is_err() {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// `address` gets a 4xx reply `times` times, then is accepted.
    pub fn fail_temporarily(&self, address: &str, code: u16, times: u32) {
        self.state.lock().unwrap().rules.insert(
            address.to_lowercase(),
            Rule::Temporary {
                code,
                remaining: times,
            },
        );
    }

    /// `address` always gets a 5xx reply.
    pub fn reject(&self, address: &str, code: u16) {
        self.state
            .lock()
            .unwrap()
            .rules
            .insert(address.to_lowercase(), Rule::Permanent { code });
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// How many TCP connections were opened.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }
}

#[derive(Clone)]
struct Recorder {
    state: Arc<Mutex<State>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn rcpt(&mut self, to: &str) -> Response {
        let key = to.trim_matches(|c| c == '<' || c == '>').to_lowercase();
        let mut state = self.state.lock().unwrap();
        match state.rules.get_mut(&key) {
            Some(Rule::Permanent { code }) => {
                Response::custom(*code, "5.1.1 mailbox unavailable (test)".into())
            }
            Some(Rule::Temporary { code, remaining }) if *remaining > 0 => {
                *remaining -= 1;
                Response::custom(*code, "4.2.0 try again later (test)".into())
            }
            _ => mailin::response::OK,
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = Received {
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
            at: Instant::now(),
        };
        self.state.lock().unwrap().received.push(message);
        mailin::response::OK
    }
}

/// Acknowledges received data at once instead of after Linux's delayed-ACK timer (up to 40 ms).
/// lettre writes a message body and its terminating `.` in two writes without `TCP_NODELAY`, so
/// with a delayed ACK every message would wait for the timer (Nagle's algorithm); a production
/// relay may behave like that (see the README, Performance), the benchmark measures qiping.
#[cfg(target_os = "linux")]
fn quick_ack(stream: &std::io::BufWriter<TcpStream>) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a pointer to a live c_int of the size passed.
    unsafe {
        libc::setsockopt(
            stream.get_ref().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn quick_ack(_stream: &std::io::BufWriter<TcpStream>) {}

/// Accepts connections; while the server is stopped the listener is closed, and it is bound
/// again on the same address once started.
fn accept(mut listener: TcpListener, addr: SocketAddr, state: Arc<Mutex<State>>) {
    loop {
        for stream in listener.incoming().flatten() {
            if state.lock().unwrap().down {
                break;
            }
            let state = state.clone();
            state.lock().unwrap().connections += 1;
            std::thread::spawn(move || {
                let _ = serve(stream, state);
            });
        }
        drop(listener);
        listener = loop {
            std::thread::sleep(std::time::Duration::from_millis(5));
            if state.lock().unwrap().down {
                continue;
            }
            // std sets SO_REUSEADDR, so the port can be bound again at once.
            if let Ok(l) = TcpListener::bind(addr) {
                break l;
            }
        };
    }
}

fn serve(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let remote: IpAddr = stream.peer_addr()?.ip();
    // Replies go out whole (mailin writes a line in pieces), and at once: with Nagle's algorithm
    // and delayed ACKs every reply would wait ~40 ms.
    stream.set_nodelay(true)?;
    let mut writer = std::io::BufWriter::new(stream.try_clone()?);
    let mut reader = BufReader::new(stream);
    let handler = Recorder {
        state: state.clone(),
        to: Vec::new(),
        data: Vec::new(),
    };
    let mut session = SessionBuilder::new("sink.test").build(remote, handler);
    session.greeting().write_to(&mut writer)?;
    writer.flush()?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if state.lock().unwrap().down {
            return Ok(()); // cut, without a reply
        }
        quick_ack(&writer);
        let response = session.process(&line);
        match response.action {
            Action::Reply => response.write_to(&mut writer)?,
            Action::Close => {
                response.write_to(&mut writer)?;
                writer.flush()?;
                return Ok(());
            }
            Action::UpgradeTls => return Ok(()),
            Action::NoReply => {}
        }
        writer.flush()?;
    }
}
