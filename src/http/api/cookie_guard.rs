//! The API's defence for requests that sign in with the pages' session cookie: the browser
//! attaches that cookie to requests other sites' pages make, so a state-changing one must
//! show it came from this site (the pages' CSRF rule). A request with an `Authorization`
//! header never carries the cookie's authority and passes untouched. Personal answers are
//! marked `no-store` so no shared cache or back button shows them to someone else.
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse};

use crate::error::Problem;
use crate::http::origin::foreign_sender;
use crate::http::pages::csrf;
use crate::http::user_extract::ACCESS_COOKIE;

/// Paths whose answers belong to the caller (prefixes of whole segments).
const PERSONAL: [&str; 5] = [
    "/api/auth",
    "/api/me",
    "/api/cart",
    "/api/orders",
    "/api/notifications",
];

pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(reason) = refusal(req.request()) {
        tracing::warn!(path = %req.path(), reason, "refused a cookie-authenticated API request");
        let response = forbidden(reason);
        return Ok(req.into_response(response));
    }
    let personal = is_personal(req.path());
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    if personal && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

fn is_personal(path: &str) -> bool {
    PERSONAL.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Why a state-changing request that relies on the cookie is refused, if it is.
fn refusal(req: &HttpRequest) -> Option<&'static str> {
    let by_cookie =
        !req.headers().contains_key(header::AUTHORIZATION) && req.cookie(ACCESS_COOKIE).is_some();
    if req.method().is_safe() || !by_cookie {
        return None;
    }
    if let Some(reason) = foreign_sender(req) {
        return Some(reason);
    }
    // For browsers that send neither header: another site's form can only post a simple body,
    // so a JSON body (which needs a CORS preflight) or the pages' CSRF token proves the sender.
    if is_json(req) || csrf::header_matches_cookie(req) {
        return None;
    }
    Some("it has neither a JSON body nor the X-CSRF-Token header")
}

fn is_json(req: &HttpRequest) -> bool {
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn forbidden(reason: &str) -> HttpResponse {
    let problem = Problem::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!(
            "this request signs in with the session cookie but {reason}; API clients send \
             Authorization: Bearer <access>"
        ),
    );
    HttpResponse::Forbidden()
        .content_type("application/problem+json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(problem.body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_paths_are_whole_segments() {
        for path in [
            "/api/me",
            "/api/me/password",
            "/api/orders/3",
            "/api/auth/token",
        ] {
            assert!(is_personal(path), "{path}");
        }
        for path in [
            "/api/products",
            "/api/categories/1",
            "/api/metoo",
            "/api/openapi.json",
        ] {
            assert!(!is_personal(path), "{path}");
        }
    }
}
