//! Who sent a request. Behind a reverse proxy every TCP peer is the proxy, so the client's
//! address comes from the hops the proxies recorded (`X-Forwarded-For`, else RFC 7239
//! `Forwarded: for=`), but only from proxies listed in `trusted_proxies`: anyone else could
//! write any address there and get a fresh login budget per request.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, FORWARDED};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// What a proxy may tell about a request; ignored from anyone but a trusted proxy.
const PROXY_HEADERS: [HeaderName; 4] = [
    FORWARDED,
    X_FORWARDED_FOR,
    HeaderName::from_static("x-forwarded-host"),
    HeaderName::from_static("x-forwarded-proto"),
];

/// The networks whose forwarding headers are believed (`trusted_proxies`); empty by default.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

/// The client's address as decided once per request, for throttles and logs. Kept as an
/// address and written out only when used: formatting it for every request was a tenth of the
/// cost of a cached answer, which never uses it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("unknown"),
        }
    }
}

impl TrustedProxies {
    /// CIDRs (`10.0.0.0/8`, `fd00::/8`) or single addresses (`127.0.0.1`).
    pub fn parse(list: &[String]) -> Result<TrustedProxies, String> {
        list.iter()
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: {item:?} is not a CIDR or an address"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The right-most hop that is not a trusted proxy: each trusted proxy appends the address
    /// it was connected from, so hops left of the first untrusted one are the client's own claims.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = peer?;
        if !self.trusts(client) {
            return Some(client);
        }
        for hop in hops(headers).into_iter().rev() {
            // An unreadable hop ("unknown", an obfuscated name) ends the walk at the last
            // address a trusted proxy vouched for.
            let Some(hop) = hop else { break };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        Some(client)
    }
}

/// The recorded hops, left (first) to right (nearest): `X-Forwarded-For` when present (what
/// nginx, Caddy and Traefik write), else the `for=` of `Forwarded`. Only one of the two: a proxy
/// that writes one passes the other through untouched from the client.
fn hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &HeaderName| {
        headers
            .get_all(name)
            .flat_map(|v| v.to_str().unwrap_or("unreadable").split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded_for = values(&X_FORWARDED_FOR);
    if !forwarded_for.is_empty() {
        return forwarded_for.into_iter().map(parse_node).collect();
    }
    values(&FORWARDED)
        .into_iter()
        .map(|element| {
            let node = element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim().eq_ignore_ascii_case("for").then_some(value)
            })?;
            parse_node(node.trim().trim_matches('"'))
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| node.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// Outermost middleware: decides the client address once, and drops the forwarding headers of
/// untrusted peers so nothing later (the site's own origin, absolute links) believes them.
pub async fn decide(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let trusted = req
        .app_data::<web::Data<TrustedProxies>>()
        .map(|t| t.get_ref().clone())
        .unwrap_or_default();
    let peer = req.peer_addr().map(|a| a.ip());
    if !peer.is_some_and(|ip| trusted.trusts(ip)) {
        let headers = req.headers_mut();
        for name in &PROXY_HEADERS {
            headers.remove(name);
        }
    }
    let client = trusted
        .client(peer, req.headers())
        .map(|ip| ip.to_canonical());
    req.extensions_mut().insert(ClientAddress(client));
    next.call(req).await
}

/// The address throttles count: the one `decide` chose, else the TCP peer's.
pub fn client_address(req: &HttpRequest) -> String {
    if let Some(address) = req.extensions().get::<ClientAddress>() {
        return address.to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn client(trusted: &[&str], peer: &str, headers: &[(&str, &str)]) -> String {
        let trusted =
            TrustedProxies::parse(&trusted.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        trusted
            .client(Some(peer.parse().unwrap()), &map)
            .unwrap()
            .to_string()
    }

    #[test]
    fn forwarded_hops_count_only_from_a_trusted_peer() {
        let xff = [("x-forwarded-for", "1.1.1.1, 2.2.2.2")];
        assert_eq!(client(&[], "10.0.0.1", &xff), "10.0.0.1");
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.1", &xff), "2.2.2.2");
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.1", &[]), "10.0.0.1");
        let chain = [("x-forwarded-for", "6.6.6.6, 3.3.3.3, 10.0.0.9")];
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.1", &chain), "3.3.3.3");
        let split = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "4.4.4.4"),
        ];
        assert_eq!(client(&["10.0.0.1"], "10.0.0.1", &split), "4.4.4.4");
        let all_trusted = [("x-forwarded-for", "10.0.0.3, 10.0.0.2")];
        assert_eq!(
            client(&["10.0.0.0/8"], "10.0.0.1", &all_trusted),
            "10.0.0.3"
        );
        let garbage = [("x-forwarded-for", "5.5.5.5, unknown, 10.0.0.2")];
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.1", &garbage), "10.0.0.2");
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = ["::1/128"];
        let rfc = [(
            "forwarded",
            r#"for=1.1.1.1;proto=https, for="[2001:db8::7]:4711""#,
        )];
        assert_eq!(client(&trusted, "::1", &rfc), "2001:db8::7");
        let port = [("forwarded", "for=192.0.2.1:80;by=x")];
        assert_eq!(client(&trusted, "::1", &port), "192.0.2.1");
        let both = [("forwarded", "for=9.9.9.9"), ("x-forwarded-for", "8.8.8.8")];
        assert_eq!(client(&trusted, "::1", &both), "8.8.8.8");
    }

    #[test]
    fn the_list_takes_networks_and_single_addresses() {
        assert!(TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).is_ok());
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
        let v4_mapped = TrustedProxies::parse(&["127.0.0.1".into()]).unwrap();
        assert!(v4_mapped.trusts("::ffff:127.0.0.1".parse().unwrap()));
    }
}
