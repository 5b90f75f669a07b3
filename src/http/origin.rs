//! Which site sent a request. Browsers set `Origin` and `Sec-Fetch-Site` themselves and no page
//! can forge them, so they tell a request the shop's own pages made from one another site's page
//! made with the shopper's cookies (CSRF, cross-site WebSocket hijacking).
use actix_web::http::header;
use actix_web::{web, HttpRequest};

/// Origins besides the site's own that may use the session cookie and open live streams
/// (`allowed_origins`), kept in the form `normalize` gives.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn new(origins: &[String]) -> AllowedOrigins {
        AllowedOrigins(origins.iter().map(|o| normalize(o)).collect())
    }
}

/// `scheme://host[:port]`, lower-case, without the scheme's default port and any trailing slash,
/// so `https://Shop.example:443/` and `https://shop.example` compare equal.
fn normalize(origin: &str) -> String {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    for (scheme, port) in [("http://", ":80"), ("https://", ":443")] {
        if origin.starts_with(scheme) {
            if let Some(bare) = origin.strip_suffix(port) {
                return bare.to_owned();
            }
        }
    }
    origin
}

/// The origin the browser shows for this site: scheme and host of the request (a proxy's
/// `X-Forwarded-Proto`/`Host` count, since a page cannot set those on a cross-site request).
fn own_origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    normalize(&format!("{}://{}", info.scheme(), info.host()))
}

/// Why a request is taken to come from another site's page, if it is.
pub fn foreign_sender(req: &HttpRequest) -> Option<&'static str> {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let Ok(origin) = origin.to_str().map(normalize) else {
            return Some("its Origin header is not readable");
        };
        let allowed = req
            .app_data::<web::Data<AllowedOrigins>>()
            .is_some_and(|list| list.0.contains(&origin));
        if allowed {
            return None;
        }
        if origin != own_origin(req) {
            return Some("its Origin is another site");
        }
    }
    let fetch_site = req
        .headers()
        .get("Sec-Fetch-Site")
        .and_then(|v| v.to_str().ok());
    // `same-site` too: a sibling subdomain or another port is not this shop.
    match fetch_site {
        Some("cross-site" | "same-site") => Some("the browser says another site sent it"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn sender(headers: &[(&str, &str)], allowed: &[&str]) -> Option<&'static str> {
        let mut req = TestRequest::default()
            .insert_header(("Host", "shop.example:8080"))
            .app_data(web::Data::new(AllowedOrigins::new(
                &allowed.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )));
        for pair in headers {
            req = req.insert_header(*pair);
        }
        foreign_sender(&req.to_http_request())
    }

    #[test]
    fn own_and_allowed_origins_pass_others_do_not() {
        assert_eq!(sender(&[], &[]), None);
        assert_eq!(sender(&[("Origin", "http://shop.example:8080")], &[]), None);
        assert_eq!(
            sender(&[("Origin", "HTTP://Shop.example:8080/")], &[]),
            None
        );
        assert!(sender(&[("Origin", "http://shop.example:9999")], &[]).is_some());
        assert!(sender(&[("Origin", "https://shop.example:8080")], &[]).is_some());
        assert!(sender(&[("Origin", "null")], &[]).is_some());
        let app = [("Origin", "https://app.example")];
        assert!(sender(&app, &[]).is_some());
        assert_eq!(sender(&app, &["https://app.example:443"]), None);
    }

    #[test]
    fn fetch_metadata_naming_another_site_is_refused() {
        for site in ["cross-site", "same-site"] {
            assert!(sender(&[("Sec-Fetch-Site", site)], &[]).is_some(), "{site}");
        }
        for site in ["same-origin", "none"] {
            assert_eq!(sender(&[("Sec-Fetch-Site", site)], &[]), None, "{site}");
        }
    }
}
