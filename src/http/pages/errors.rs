//! Errors of page requests become HTML: a page in the site's style, an htmx fragment shown in
//! the flash area, or (when the visitor must sign in) a redirect to the login page.
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::{ctx, html};
use crate::error::AppError;
use crate::http::views;

/// Replaces an error response (an error value, or an empty 4xx/5xx such as 405) by HTML.
pub fn to_html(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let has_type = res.headers().contains_key(header::CONTENT_TYPE);
    if status.as_u16() < 400 || (res.response().error().is_none() && has_type) {
        return res;
    }
    let (req, response) = res.into_parts();
    let app_error = response.error().and_then(|e| e.as_error::<AppError>());
    let page = match app_error {
        Some(e) => render(&req, e),
        None => render_status(&req, status, None),
    };
    ServiceResponse::new(req, page)
}

pub fn render(req: &HttpRequest, error: &AppError) -> HttpResponse {
    let status = error.status_code();
    if let AppError::Unauthorized(_) = error {
        return to_login(req);
    }
    let message = match error {
        AppError::Internal(_) | AppError::Unavailable => None,
        other => Some(other.problem().detail),
    };
    let mut response = render_status(req, status, message);
    if let AppError::TooManyRequests {
        retry_after_seconds,
    } = error
    {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(*retry_after_seconds.max(&1)),
        );
    }
    response
}

pub fn render_status(
    req: &HttpRequest,
    status: StatusCode,
    message: Option<String>,
) -> HttpResponse {
    let (title, default) = match status.as_u16() {
        400 => ("Bad request", "The request could not be understood."),
        403 => ("Forbidden", "You are not allowed to do that."),
        404 => ("Page not found", "There is nothing at this address."),
        405 => (
            "Method not allowed",
            "This address does not accept that kind of request.",
        ),
        409 => ("Conflict", "That conflicts with the current state."),
        413 => ("Too large", "The request was too large."),
        429 => ("Too many attempts", "Please wait a moment and try again."),
        s if s < 500 => ("Request refused", "The request was refused."),
        _ => (
            "Something went wrong",
            "An unexpected error occurred. Please try again later.",
        ),
    };
    let message = match (status.as_u16(), message) {
        (404, _) => default.to_owned(),
        (_, Some(m)) if !m.is_empty() && m != "not found" => sentence(&m),
        _ => default.to_owned(),
    };
    let ctx = ctx::build(req);
    if ctx.htmx.partial() {
        let mut response = html(status, views::errors::fragment(&message));
        response.headers_mut().insert(
            header::HeaderName::from_static("hx-retarget"),
            header::HeaderValue::from_static("#flash"),
        );
        response.headers_mut().insert(
            header::HeaderName::from_static("hx-reswap"),
            header::HeaderValue::from_static("innerHTML"),
        );
        return response;
    }
    html(
        status,
        views::errors::page(&ctx, status.as_u16(), title, &message),
    )
}

/// To the login page, coming back here afterwards (for a form post: the page it was sent from).
fn to_login(req: &HttpRequest) -> HttpResponse {
    let back = if req.method() == Method::GET {
        req.uri().path_and_query().map(|p| p.as_str().to_owned())
    } else {
        referer_path(req)
    };
    let location = match back.as_deref() {
        Some(path) if path != "/" => format!("/login?next={}", urlencoding::encode(path)),
        _ => "/login".to_owned(),
    };
    super::redirect(ctx::htmx(req).request, &location)
}

/// The path of a same-site Referer, if any.
pub fn referer_path(req: &HttpRequest) -> Option<String> {
    let referer = req.headers().get(header::REFERER)?.to_str().ok()?;
    let host = req.connection_info().host().to_owned();
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?;
    let path = rest.strip_prefix(host.as_str())?;
    super::safe_next(Some(path))
}

/// "you are not allowed to do that" → "You are not allowed to do that."
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    let text = first + chars.as_str();
    if text.ends_with(['.', '!', '?']) {
        text
    } else {
        text + "."
    }
}
