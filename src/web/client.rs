//! Who is asking: the client's address behind trusted reverse proxies (issue 42).
//!
//! `server.trusted_proxies` lists the proxies' addresses or ranges (empty by default). When the
//! connection's peer is one of them, the client is the right-most address of `X-Forwarded-For`
//! that is not itself a trusted proxy — each proxy appends the address it was connected from, so
//! everything left of the first untrusted hop may have been written by the client. `Forwarded`
//! (RFC 7239) is read only when `X-Forwarded-For` is absent. When the peer is not a trusted proxy,
//! both headers are ignored: a client talking to qiping directly cannot choose its address.
//! A header that cannot be read is not trusted: the peer (the proxy) is the address then.
//!
//! This address is what the survey's rate limit, the sign-in limits and the audit rows count.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// An entry of `server.trusted_proxies` that is neither an address nor a range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server.trusted_proxies 中的「{0}」不是 IP 地址或网段(例如 10.0.0.5、10.0.0.0/8、::1)")]
pub struct BadProxy(pub String);

impl TrustedProxies {
    /// From the configured entries: `10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, BadProxy> {
        entries
            .iter()
            .map(|e| {
                crate::config::parse_proxy(e.as_ref())
                    .ok_or_else(|| BadProxy(e.as_ref().trim().to_owned()))
            })
            .collect::<Result<Vec<IpNet>, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client address of a request (`None` only when the peer is unknown).
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = canonical(req.peer_addr()?.ip());
        let headers = req.headers();
        let forwarded_for: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let forwarded: Vec<&str> = headers
            .get_all("forwarded")
            .filter_map(|v| v.to_str().ok())
            .collect();
        Some(self.client_of(peer, &forwarded_for, &forwarded))
    }

    /// The rule on plain values: the peer and the header values as received (several headers of
    /// one name are one list, in order).
    pub fn client_of(&self, peer: IpAddr, forwarded_for: &[&str], forwarded: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Option<Vec<IpAddr>> = if !forwarded_for.is_empty() {
            forwarded_for
                .iter()
                .flat_map(|v| v.split(','))
                .map(parse_hop)
                .collect()
        } else if !forwarded.is_empty() {
            forwarded
                .iter()
                .flat_map(|v| v.split(','))
                .map(|element| {
                    element
                        .split(';')
                        .find_map(|pair| {
                            let (k, v) = pair.split_once('=')?;
                            k.trim().eq_ignore_ascii_case("for").then_some(v)
                        })
                        .and_then(|v| parse_hop(v.trim().trim_matches('"')))
                })
                .collect()
        } else {
            return peer;
        };
        let Some(hops) = hops.filter(|h| !h.is_empty()) else {
            return peer;
        };
        hops.iter()
            .rev()
            .copied()
            .find(|ip| !self.contains(*ip))
            .unwrap_or(hops[0])
    }

    /// Whether the request reached its proxy over HTTPS: `X-Forwarded-Proto: https` from a
    /// trusted proxy.
    pub fn forwarded_https(&self, req: &HttpRequest) -> bool {
        let Some(peer) = req.peer_addr() else {
            return false;
        };
        self.contains(peer.ip())
            && req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    }
}

/// One hop of a forwarding header: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`; anything else (`unknown`, an obfuscated name, garbage) is `None`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = t.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse::<IpAddr>().ok().map(canonical);
    }
    let (host, port) = t.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.5", "192.168.0.0/16", "fd00::/8"]).unwrap()
    }

    #[test]
    fn a_direct_client_cannot_choose_its_address() {
        let p = proxies();
        let peer = ip("203.0.113.9");
        assert_eq!(p.client_of(peer, &["1.2.3.4"], &[]), peer);
        assert_eq!(p.client_of(peer, &[], &["for=1.2.3.4"]), peer);
        // Nothing trusted by default.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_of(ip("10.0.0.5"), &["1.2.3.4"], &[]),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let p = proxies();
        let proxy = ip("10.0.0.5");
        assert_eq!(
            p.client_of(proxy, &["198.51.100.7"], &[]),
            ip("198.51.100.7")
        );
        // A client that forges a hop is one hop further left: it is ignored.
        assert_eq!(
            p.client_of(proxy, &["6.6.6.6, 198.51.100.7"], &[]),
            ip("198.51.100.7")
        );
        // Two trusted proxies in a row; several header lines are one list.
        assert_eq!(
            p.client_of(proxy, &["6.6.6.6, 198.51.100.7", "192.168.1.1"], &[]),
            ip("198.51.100.7")
        );
        // Every hop trusted: the left-most.
        assert_eq!(
            p.client_of(proxy, &["192.168.3.3, 10.0.0.5"], &[]),
            ip("192.168.3.3")
        );
        // Ports and IPv6.
        assert_eq!(
            p.client_of(proxy, &["198.51.100.7:5555"], &[]),
            ip("198.51.100.7")
        );
        assert_eq!(p.client_of(proxy, &["2001:db8::1"], &[]), ip("2001:db8::1"));
        assert_eq!(
            p.client_of(proxy, &["[2001:db8::1]:80"], &[]),
            ip("2001:db8::1")
        );
        assert_eq!(
            p.client_of(ip("fd00::1"), &["2001:db8::2"], &[]),
            ip("2001:db8::2")
        );
        // An IPv4-mapped peer is its IPv4 address.
        assert_eq!(
            p.client_of(ip("::ffff:10.0.0.5"), &["198.51.100.7"], &[]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn forwarded_is_read_only_without_x_forwarded_for() {
        let p = proxies();
        let proxy = ip("10.0.0.5");
        assert_eq!(
            p.client_of(
                proxy,
                &[],
                &["for=198.51.100.7;proto=https, for=\"[2001:db8::1]:4711\""]
            ),
            ip("2001:db8::1")
        );
        assert_eq!(
            p.client_of(proxy, &["198.51.100.7"], &["for=203.0.113.1"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn an_unreadable_header_is_not_believed() {
        let p = proxies();
        let proxy = ip("10.0.0.5");
        for bad in [
            "",
            "garbage",
            "1.2.3.4, nonsense",
            "unknown",
            "300.1.1.1",
            "[::1",
        ] {
            assert_eq!(p.client_of(proxy, &[bad], &[]), proxy, "{bad:?}");
        }
        assert_eq!(p.client_of(proxy, &[], &["for=unknown"]), proxy);
        assert_eq!(p.client_of(proxy, &[], &["by=1.2.3.4"]), proxy);
    }

    #[test]
    fn entries_are_addresses_or_ranges() {
        assert!(TrustedProxies::parse(&["10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"]).is_ok());
        let err = TrustedProxies::parse(&["10.0.0.0/33"]).unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/33"));
        assert!(TrustedProxies::parse(&["nginx"]).is_err());
    }
}
