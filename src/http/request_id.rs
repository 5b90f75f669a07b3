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
/// `HEADER` as a header name made once: looking a header up by `&str` parses the name each time.
pub const HEADER_NAME: HeaderName = HeaderName::from_static(HEADER);
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

thread_local! {
    /// Per thread: a random seed and a counter. Ids only have to be distinct, for log
    /// correlation (a caller may choose its own anyway, so nothing relies on them being secret);
    /// drawing 12 bytes from the CSPRNG for each request cost more than the rest of a cached
    /// answer's id handling.
    static NEXT_ID: std::cell::Cell<(u64, u64)> = std::cell::Cell::new(rand::random());
}

/// SplitMix64's output function: consecutive counters give unrelated-looking values.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 24 lower-case hex digits (96 bits): the per-thread random seed, mixed with a counter.
fn generate() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let (seed, counter) = NEXT_ID.with(|next| {
        let (seed, counter) = next.get();
        next.set((seed, counter.wrapping_add(1)));
        (seed, counter)
    });
    let high = mix(seed ^ counter);
    let low = mix(high ^ seed.rotate_left(32)) as u32;
    let mut digits = [0u8; 24];
    for (i, digit) in digits.iter_mut().enumerate() {
        let nibble = if i < 16 {
            high >> (60 - 4 * i)
        } else {
            u64::from(low) >> (28 - 4 * (i - 16))
        };
        *digit = HEX[(nibble & 0xf) as usize];
    }
    // Hex digits are ASCII.
    String::from_utf8(digits.to_vec()).expect("hex digits")
}

/// The id for a request with these headers: the caller's own when it is sane, else a fresh one.
pub fn choose(headers: &HeaderMap) -> String {
    headers
        .get(HEADER_NAME)
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
        .copied()
        .unwrap_or(crate::http::client_address::ClientAddress(None));
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
        let many: std::collections::HashSet<String> = (0..10_000).map(|_| generate()).collect();
        assert_eq!(many.len(), 10_000);
        assert_eq!(loggable("/api/x/"), "/api/x/");
        assert_eq!(loggable(&"é".repeat(300)).chars().count(), 101);
    }
}
