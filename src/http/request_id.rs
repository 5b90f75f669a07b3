//! Request ids: every response carries `X-Request-Id` (the caller's own when it is sane, else a
//! fresh one), and everything logged while handling the request is inside a span naming it.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use std::time::Instant;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 64;

/// The id of the request being handled, for handlers that want to mention it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// An incoming id is reused only if it is 1..=64 characters of `[A-Za-z0-9._:-]`: anything else
/// (log injection, huge values) is replaced.
fn sane(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= MAX_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// At most 200 bytes of a path in logs (a long one is cut at a character boundary, marked `…`).
pub fn loggable(path: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 200;
    if path.len() <= MAX {
        return path.into();
    }
    let mut end = MAX;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &path[..end]).into()
}

fn generate() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes: [u8; 12] = rand::random();
    let mut id = String::with_capacity(24);
    for b in bytes {
        id.push(HEX[usize::from(b >> 4)] as char);
        id.push(HEX[usize::from(b & 0xf)] as char);
    }
    id
}

/// The id for a request with these headers: the caller's own when it is sane, else a fresh one.
pub fn choose(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_owned)
        .unwrap_or_else(generate)
}

pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = choose(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    let client = req
        .extensions()
        .get::<crate::http::client_address::ClientAddress>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        client = %client,
        method = %req.method(),
        path = %loggable(req.path()),
    );
    let started = Instant::now();
    // (No clone of the request may be held across the call: NormalizePath rewrites its head.)
    let answer = next.call(req).instrument(span.clone()).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let mut res = match answer {
        Ok(res) => res,
        // An error no handler answered (the answer deadline): still one id and one log line.
        Err(error) => {
            let mut response = error.error_response();
            if let Ok(value) = HeaderValue::from_str(&id) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(HEADER), value);
            }
            let status = response.status().as_u16();
            span.in_scope(|| tracing::info!(status, elapsed_ms, "answered"));
            return Err(InternalError::from_response(error, response).into());
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    let status = res.status().as_u16();
    span.in_scope(|| tracing::info!(status, elapsed_ms, "answered"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_reused() {
        assert!(sane("abc-123_x.y:z"));
        assert!(!sane(""));
        assert!(!sane(&"a".repeat(65)));
        assert!(!sane("evil\nline"));
        assert!(!sane("spaces are out"));
        assert_eq!(generate().len(), 24);
        assert!(generate().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(generate(), generate());
        assert_eq!(loggable("/api/x/"), "/api/x/");
        assert_eq!(loggable(&"é".repeat(300)).chars().count(), 101);
    }
}
