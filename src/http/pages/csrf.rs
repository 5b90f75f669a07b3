//! CSRF protection for every state-changing page request: a random token in an HttpOnly
//! cookie must come back in the `csrf` form field or the `X-CSRF-Token` header (htmx sends
//! it from `hx-headers` on <body>). Browsers' Fetch Metadata refuses cross-site posts early.
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::ServiceRequest;
use actix_web::http::{header, Method};
use actix_web::web;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

pub const COOKIE: &str = "os_csrf";
pub const HEADER: &str = "X-CSRF-Token";
pub const FIELD: &str = "csrf";

/// The request's CSRF token, available to handlers and views through request extensions.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The token from the cookie, or a new one (true) to be set on the response.
pub fn token(req: &ServiceRequest) -> (String, bool) {
    match req.cookie(COOKIE) {
        Some(c) if c.value().len() == 43 && c.value().bytes().all(is_token_byte) => {
            (c.value().to_owned(), false)
        }
        _ => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            (URL_SAFE_NO_PAD.encode(bytes), true)
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

pub fn cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish()
}

/// True for safe methods, and for unsafe ones that carry the cookie's token. Reads (and puts
/// back) a form body to find the field.
pub async fn verify(req: &mut ServiceRequest) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let fetch_site = req
        .headers()
        .get("Sec-Fetch-Site")
        .and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    let Some(expected) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
        return false;
    };
    if let Some(sent) = req.headers().get(HEADER) {
        return same(sent.as_bytes(), expected.as_bytes());
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return false;
    }
    let Ok(body) = req.extract::<web::Bytes>().await else {
        return false;
    };
    let sent = form_field(&body, FIELD);
    req.set_payload(body.into());
    sent.is_some_and(|sent| same(sent.as_bytes(), expected.as_bytes()))
}

/// True when the `X-CSRF-Token` header equals the token cookie (htmx sends it on every
/// request, so the pages' calls to the API carry it too).
pub fn header_matches_cookie(req: &actix_web::HttpRequest) -> bool {
    match (req.headers().get(HEADER), req.cookie(COOKIE)) {
        (Some(sent), Some(expected)) if !expected.value().is_empty() => {
            same(sent.as_bytes(), expected.value().as_bytes())
        }
        _ => false,
    }
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Compares without an early exit, so the time taken says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
