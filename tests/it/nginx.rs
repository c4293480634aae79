//! Issue 42: production as the README describes it — Debian's nginx in front of two `qiping
//! serve` processes sharing one PostgreSQL, with the README's server block. 500 enterprises, each
//! from its own loopback address, view and submit through nginx while one process is killed
//! half-way: nobody is refused 429, every acknowledged answer is stored exactly once, and the other
//! process carries on. A client talking to a process directly cannot dodge the survey limit with
//! a forged `X-Forwarded-For`.
//!
//! Needs `nginx` (`.ci/run` installs Debian's package); skipped with a message without it, never
//! in CI.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::TestDb;
use crate::survey_support::http::{Http, free_port, wait_ready};
use crate::survey_support::{asked_codes, data, server};

const ENTERPRISES: usize = 500;

/// The README's server block (section "Production deployment", after `<!-- nginx-block -->`),
/// with the test's upstreams, port and log path put in.
pub fn server_block(listen: SocketAddr, upstreams: &[SocketAddr]) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = readme
        .split("<!-- nginx-block -->")
        .nth(1)
        .expect("README has the nginx block");
    let block = after
        .split("```nginx\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a fenced nginx block");
    let mut out = String::new();
    let mut servers_written = false;
    for line in block.lines() {
        let line = line.strip_prefix("  ").unwrap_or(line);
        let t = line.trim();
        if t.starts_with("server ") && t.contains(':') && t.ends_with(';') {
            if !servers_written {
                for u in upstreams {
                    out.push_str(&format!("    server {u} max_fails=1 fail_timeout=30s;\n"));
                }
                servers_written = true;
            }
        } else if t.starts_with("listen ") {
            out.push_str(&format!("    listen {listen};\n"));
        } else if t.starts_with("access_log ") {
            out.push_str(&t.replace("/var/log/nginx/qiping.access.log", "logs/access.log"));
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(servers_written, "the block has upstream servers");
    out
}

/// nginx in the foreground on `listen`, its files under `dir`; stopped when dropped.
struct Nginx {
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn start_nginx(binary: &Path, dir: &Path, listen: SocketAddr, upstreams: &[SocketAddr]) -> Nginx {
    for sub in ["logs", "temp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {pid};\nerror_log logs/error.log warn;\n\
         events {{ worker_connections 2048; }}\nhttp {{\n\
         client_body_temp_path temp/body;\nproxy_temp_path temp/proxy;\n\
         fastcgi_temp_path temp/fastcgi;\nuwsgi_temp_path temp/uwsgi;\nscgi_temp_path temp/scgi;\n{}}}\n",
        server_block(listen, upstreams),
        pid = dir.join("nginx.pid").display(),
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(binary)
        .args(["-p", &format!("{}/", dir.display()), "-c", "nginx.conf"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    assert!(wait_ready(listen, "/healthz", 30), "nginx did not start");
    Nginx { child }
}

/// The address enterprise `i` answers from: 127.0.1.1 … 127.0.2.250.
fn client_address(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        1 + (i / 250) as u8,
        1 + (i % 250) as u8,
    ))
}

#[test]
fn five_hundred_enterprises_through_nginx_with_a_process_killed_half_way() {
    let Some(binary) = nginx_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is not installed, and CI must run this test (.ci/run installs it)"
        );
        eprintln!("SKIPPED: nginx not installed (apt-get install nginx)");
        return;
    };
    let Some(db) = TestDb::empty_postgres() else {
        return;
    };
    let started = std::time::Instant::now();
    let trusted = [("QIPING_TRUSTED_PROXIES", "127.0.0.1")];
    let first = server::start_with(Some(db.url.clone()), ENTERPRISES, 3, 120, &trusted);
    let second = first.another();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _nginx = start_nginx(&binary, dir.path(), listen, &[first.addr, second.addr]);
    let tokens = Arc::new(first.tokens());
    assert_eq!(tokens.len(), ENTERPRISES);
    let codes = Arc::new(asked_codes());

    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    // Per enterprise: the statuses it saw, in order.
    let seen: Arc<Mutex<Vec<Vec<u16>>>> = Arc::new(Mutex::new(vec![Vec::new(); ENTERPRISES]));
    let first = Arc::new(Mutex::new(first));
    let killed = Arc::new(std::sync::Once::new());
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (tokens, codes, next, done, seen, first, killed) = (
                tokens.clone(),
                codes.clone(),
                next.clone(),
                done.clone(),
                seen.clone(),
                first.clone(),
                killed.clone(),
            );
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= ENTERPRISES {
                        return;
                    }
                    if done.load(Ordering::SeqCst) >= ENTERPRISES / 2 {
                        killed.call_once(|| first.lock().unwrap().kill());
                    }
                    let token = &tokens[i];
                    let body = data::submission_json(token, &codes);
                    let mut statuses = Vec::new();
                    // View, then submit; a request cut off by the kill is tried again, as a
                    // phone would on a failed page.
                    for _ in 0..5 {
                        let view = Http::connect_from(client_address(i), listen)
                            .and_then(|mut h| h.get(&format!("/s/{token}")));
                        match view {
                            Ok((status, _)) => {
                                statuses.push(status);
                                if status == 200 || status == 409 {
                                    break;
                                }
                            }
                            Err(_) => statuses.push(0),
                        }
                    }
                    for _ in 0..5 {
                        let post = Http::connect_from(client_address(i), listen)
                            .and_then(|mut h| h.post_json("/api/v1/responses", &body));
                        match post {
                            Ok((status, _)) => {
                                statuses.push(status);
                                if status == 201 || status == 409 {
                                    break;
                                }
                            }
                            Err(_) => statuses.push(0),
                        }
                    }
                    seen.lock().unwrap()[i] = statuses;
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        killed.is_completed(),
        "the first process was killed half-way"
    );
    let seen = seen.lock().unwrap();
    let refused: Vec<usize> = (0..ENTERPRISES)
        .filter(|&i| seen[i].contains(&429))
        .collect();
    assert!(
        refused.is_empty(),
        "refused 429: {} enterprises",
        refused.len()
    );
    let acknowledged = seen.iter().filter(|s| s.contains(&201)).count();
    // A 409 right after a cut-off attempt: the first attempt was stored before the kill.
    let stored_unacknowledged = seen
        .iter()
        .filter(|s| !s.contains(&201) && s.last() == Some(&409))
        .count();
    assert_eq!(
        acknowledged + stored_unacknowledged,
        ENTERPRISES,
        "every enterprise's answer ended stored: {:?}",
        seen.iter()
            .filter(|s| !matches!(s.last(), Some(201 | 409)))
            .take(5)
            .collect::<Vec<_>>()
    );
    let retried = seen.iter().filter(|s| s.len() > 2).count();
    eprintln!(
        "nginx test: {acknowledged} acknowledged, {stored_unacknowledged} stored before a cut-off \
         and then 409, {retried} enterprises had to try again after the kill"
    );
    let stored = {
        let mut conn = qiping::db::DatabaseUrl::parse(&db.url)
            .unwrap()
            .connect()
            .unwrap();
        crate::common::keys::ballots(&mut conn)
    };
    assert_eq!(
        stored as usize, ENTERPRISES,
        "each answer stored exactly once"
    );

    // A client talking to the surviving process directly, forging a new address each time, is
    // one client: its forged headers are not believed.
    let direct = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 1));
    let mut limited = 0;
    for n in 0..300 {
        let answer = Http::connect_from(direct, second.addr).and_then(|h| {
            h.with_header("X-Forwarded-For", &format!("198.51.100.{}", n % 250))
                .get(&format!("/s/{}", tokens[0]))
        });
        if matches!(answer, Ok((429, _))) {
            limited += 1;
        }
    }
    eprintln!("nginx test: {limited} of 300 forged direct requests limited");
    assert!(
        limited >= 150,
        "only {limited} of 300 forged requests limited"
    );
    // nginx logged no token.
    let log = std::fs::read_to_string(dir.path().join("logs/access.log")).unwrap();
    assert!(
        log.contains("/healthz"),
        "nginx logs the other requests: {log}"
    );
    assert!(
        !log.contains(&tokens[0][..20]),
        "a token reached nginx's access log"
    );
    // Speed is for the benches; the time is printed so a slow run shows in the log.
    eprintln!("nginx test: {:?}", started.elapsed());
}
