//! SimpleJWT-shaped auth endpoints and the profile.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::json;
use crate::auth::{CurrentUser, MaybeUser};
use crate::domain::user::{Email, Password, ProfileChange};
use crate::error::AppError;
use crate::http::extract::ApiJson;
use crate::services::json::UserJson;
use crate::services::Services;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    email: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

pub async fn register(
    services: web::Data<Services>,
    body: ApiJson<RegisterBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let email = Email::parse(&body.email);
    let password = Password::parse("password", &body.password);
    let profile = ProfileChange::parse(body.name.as_deref(), None, None);
    let (email, password, profile) = match (email, password, profile) {
        (Ok(e), Ok(p), Ok(profile)) => (e, p, profile),
        (e, p, profile) => {
            let mut list: Vec<_> = [e.err(), p.err()].into_iter().flatten().collect();
            list.extend(profile.err().unwrap_or_default());
            return Err(list.into());
        }
    };
    let user = services
        .accounts
        .register(email, password, profile.name.unwrap_or_default())
        .await?;
    Ok(json(StatusCode::CREATED, &UserJson::from(&user)))
}

pub async fn token(
    req: HttpRequest,
    services: web::Data<Services>,
    body: ApiJson<TokenBody>,
) -> Result<HttpResponse, AppError> {
    let (_, pair) = services
        .accounts
        .login(&body.0.email, body.0.password, &client_address(&req))
        .await?;
    Ok(json(StatusCode::OK, &pair))
}

pub async fn refresh(
    services: web::Data<Services>,
    body: ApiJson<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    let (_, pair) = services.accounts.refresh(&body.0.refresh)?;
    Ok(json(StatusCode::OK, &pair))
}

/// Revokes the refresh token; the access token presented with it, if any, dies too.
pub async fn logout(
    services: web::Data<Services>,
    user: MaybeUser,
    body: ApiJson<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    services.accounts.logout(&body.0.refresh, user.0.as_ref())?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn me(user: CurrentUser) -> HttpResponse {
    json(StatusCode::OK, &UserJson::from(&user.user))
}

pub async fn update_me(
    services: web::Data<Services>,
    user: CurrentUser,
    body: ApiJson<ProfileBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let change = ProfileChange::parse(
        body.name.as_deref(),
        body.phone.as_deref(),
        body.address.as_deref(),
    )?;
    let updated = services.accounts.update_profile(&user.user, change)?;
    Ok(json(StatusCode::OK, &UserJson::from(&updated)))
}

pub async fn change_password(
    services: web::Data<Services>,
    user: CurrentUser,
    body: ApiJson<PasswordBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let new = Password::parse("new_password", &body.new_password)?;
    services
        .accounts
        .change_password(&user.user, body.current_password, new)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
