//! Log in, register, log out: the session cookies are set and cleared here.
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::ctx::Page;
use super::{html, redirect, safe_next, session, CookiePolicy};
use crate::auth::CurrentUser;
use crate::domain::user::Registration;
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::http::client_address::client_address;
use crate::http::user_extract::REFRESH_COOKIE;
use crate::http::views::account::{self, LoginForm};
use crate::services::accounts::TokenPair;
use crate::services::Services;

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub(super) fn secure(req: &HttpRequest) -> bool {
    req.app_data::<web::Data<CookiePolicy>>()
        .is_some_and(|p| p.secure)
}

pub(super) fn errors_of(e: AppError) -> Result<(StatusCode, FieldErrors), AppError> {
    let status = actix_web::ResponseError::status_code(&e);
    let non_field = |m: String| FieldErrors::from([("non_field_errors".to_owned(), vec![m])]);
    match e {
        AppError::Validation { errors, .. } => Ok((StatusCode::UNPROCESSABLE_ENTITY, errors)),
        AppError::Unauthorized(m) => Ok((status, non_field(as_sentence(&m)))),
        AppError::Conflict(m) => Ok((status, FieldErrors::from([("email".to_owned(), vec![m])]))),
        e @ AppError::TooManyRequests { .. } => Ok((status, non_field(e.to_string()))),
        other => Err(other),
    }
}

/// "wrong email or password" → "Wrong email or password.", by characters, not bytes: a
/// message may start with a multi-byte letter (or be empty).
fn as_sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Signed in: both cookies set, on to `next` (a path on this site) or the catalog.
fn signed_in(
    req: &HttpRequest,
    services: &Services,
    pair: &TokenPair,
    next: Option<&str>,
) -> HttpResponse {
    let mut response = redirect(false, &safe_next(next).unwrap_or_else(|| "/".into()));
    session::set_cookies(&mut response, services, pair, secure(req));
    response
}

pub async fn login_form(Page(ctx): Page, query: web::Query<NextQuery>) -> HttpResponse {
    let next = safe_next(query.next.as_deref()).unwrap_or_default();
    let form = LoginForm::blank(&next);
    html(StatusCode::OK, account::login(&ctx, &form))
}

pub async fn login(
    req: HttpRequest,
    Page(ctx): Page,
    services: web::Data<Services>,
    form: web::Form<Credentials>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    match services
        .accounts
        .login(&form.email, form.password, &client_address(&req))
        .await
    {
        Ok((_, pair)) => Ok(signed_in(&req, &services, &pair, form.next.as_deref())),
        Err(e) => {
            let (status, errors) = errors_of(e)?;
            let next = safe_next(form.next.as_deref()).unwrap_or_default();
            let view = LoginForm {
                email: &form.email,
                name: "",
                next: &next,
                errors,
            };
            Ok(html(status, account::login(&ctx, &view)))
        }
    }
}

pub async fn register_form(Page(ctx): Page, query: web::Query<NextQuery>) -> HttpResponse {
    let next = safe_next(query.next.as_deref()).unwrap_or_default();
    let form = LoginForm::blank(&next);
    html(StatusCode::OK, account::register(&ctx, &form))
}

pub async fn register(
    req: HttpRequest,
    Page(ctx): Page,
    services: web::Data<Services>,
    form: web::Form<Credentials>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let result = async {
        let Registration {
            email,
            password,
            name,
        } = Registration::parse(&form.email, &form.password, Some(&form.name))?;
        let user = services
            .accounts
            .register(email, password, name, &client_address(&req))
            .await?;
        services
            .accounts
            .login(
                user.email.as_str(),
                form.password.clone(),
                &client_address(&req),
            )
            .await
    }
    .await;
    match result {
        Ok((_, pair)) => Ok(signed_in(&req, &services, &pair, form.next.as_deref())),
        Err(e) => {
            let (status, errors) = errors_of(e)?;
            let next = safe_next(form.next.as_deref()).unwrap_or_default();
            let view = LoginForm {
                email: &form.email,
                name: &form.name,
                next: &next,
                errors,
            };
            Ok(html(status, account::register(&ctx, &view)))
        }
    }
}

/// Revokes the session (refresh family and access token) and clears the cookies.
pub async fn logout(
    req: HttpRequest,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let current = req.extensions().get::<CurrentUser>().cloned();
    if let Some(refresh) = req.cookie(REFRESH_COOKIE) {
        services
            .accounts
            .logout(refresh.value(), current.as_ref())
            .await?;
    }
    let mut response = redirect(false, "/");
    session::clear_cookies(&mut response, secure(&req));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_becomes_a_sentence_whatever_its_first_letter() {
        assert_eq!(as_sentence("wrong password"), "Wrong password.");
        assert_eq!(as_sentence("échec de connexion"), "Échec de connexion.");
        assert_eq!(as_sentence("ßig"), "SSig.");
        assert_eq!(as_sentence("€ off"), "€ off.");
        assert_eq!(as_sentence(""), "");
    }

    #[test]
    fn an_unauthorized_error_with_a_multi_byte_start_does_not_panic() {
        let (_, errors) = errors_of(AppError::Unauthorized("ünknown token".into())).unwrap();
        assert_eq!(
            errors["non_field_errors"],
            vec!["Ünknown token.".to_owned()]
        );
    }
}
