//! The page middleware: CSRF token, cookie session with transparent rotation, CSRF check,
//! HTML errors, and the cookies the response needs.
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};

use super::csrf::{self, CsrfToken};
use super::session::{self, CookieAction};
use super::{errors, CookiePolicy};
use crate::error::AppError;
use crate::services::Services;

pub async fn pages(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let services = req
        .app_data::<web::Data<Services>>()
        .cloned()
        .ok_or_else(|| AppError::internal("services missing"))?;
    let secure = req
        .app_data::<web::Data<CookiePolicy>>()
        .map(|p| p.secure)
        .unwrap_or(false);
    let (token, new_token) = csrf::token(&req);
    // A new token cookie only on safe requests: a refused cross-site post must not replace it.
    let safe = req.method().is_safe();
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let action = session::resolve(&req, &services).await;
    super::ctx::load_nav_counts(req.request(), &services).await;
    let mut res = if csrf::verify(&mut req).await {
        errors::to_html(next.call(req).await?.map_into_boxed_body())
    } else {
        tracing::warn!(path = %req.path(), "refused a state-changing request without a valid CSRF token");
        let (http, _) = req.into_parts();
        let message =
            "This form has expired or was sent from another site. Reload the page and try again.";
        let page = errors::render_status(&http, StatusCode::FORBIDDEN, Some(message.into()));
        ServiceResponse::new(http, page)
    };
    let handled = session::handler_set_cookies(res.response());
    let response = res.response_mut();
    if new_token && safe {
        let _ = response.add_cookie(&csrf::cookie(&token, secure));
    }
    match action {
        CookieAction::Set(pair) if !handled => {
            session::set_cookies(response, &services, &pair, secure)
        }
        CookieAction::Clear if !handled => session::clear_cookies(response, secure),
        _ => {}
    }
    let headers = response.headers_mut();
    headers.insert(
        header::VARY,
        header::HeaderValue::from_static("HX-Request, HX-Target, Cookie"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(res)
}
