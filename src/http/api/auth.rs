//! SimpleJWT-shaped auth endpoints and the profile.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::json;
use crate::auth::CurrentUser;
use crate::domain::user::{Password, ProfileChange, Registration};
use crate::domain::user::{MAX_ADDRESS_CHARS, MAX_NAME_CHARS};
use crate::error::AppError;
use crate::http::client_address::client_address;
use crate::http::extract::ApiJson;
use crate::http::openapi::responses::{BodyErrors, SignedInBodyErrors};
use crate::http::openapi::schemas::optional_text;
use crate::http::user_extract::MaybeUser;
use crate::services::json::UserJson;
use crate::services::Services;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    email: String,
    #[schema(min_length = 8, max_length = 128, example = "correct horse battery")]
    password: String,
    #[serde(default)]
    #[schema(schema_with = optional_text::<{ MAX_NAME_CHARS }>)]
    name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    #[schema(format = Email, example = "ada@example.com")]
    email: String,
    #[schema(example = "correct horse battery")]
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh: String,
}

/// The fields to change; absent (or null) ones keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    #[serde(default)]
    #[schema(schema_with = optional_text::<{ MAX_NAME_CHARS }>)]
    name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 32, pattern = r"^[0-9 +().-]*$")]
    phone: Option<String>,
    #[serde(default)]
    #[schema(schema_with = optional_text::<{ MAX_ADDRESS_CHARS }>)]
    address: Option<String>,
    /// Turns order emails (placed, shipped, delivered, cancelled) on or off.
    #[serde(default)]
    order_emails: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

#[utoipa::path(
    post,
    path = "/api/auth/register/",
    operation_id = "auth_register",
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The new user's profile", body = UserJson),
        BodyErrors,
        (status = 409, response = crate::http::openapi::schemas::Conflict),
        (status = 429, response = crate::http::openapi::schemas::TooManyRequests),
    )
)]
pub async fn register(
    req: HttpRequest,
    services: web::Data<Services>,
    body: ApiJson<RegisterBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let Registration {
        email,
        password,
        name,
    } = Registration::parse(&body.email, &body.password, body.name.as_deref())?;
    let user = services
        .accounts
        .register(email, password, name, &client_address(&req))
        .await?;
    Ok(json(StatusCode::CREATED, &UserJson::from(&user)))
}

#[utoipa::path(
    post,
    path = "/api/auth/token/",
    operation_id = "auth_token",
    tag = "auth",
    request_body = TokenBody,
    responses(
        (status = 200, description = "A token pair", body = crate::services::accounts::TokenPair),
        SignedInBodyErrors,
        (status = 429, response = crate::http::openapi::schemas::TooManyRequests),
    )
)]
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

#[utoipa::path(
    post,
    path = "/api/auth/token/refresh/",
    operation_id = "auth_refresh",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "A new pair; the refresh token rotates", body = crate::services::accounts::TokenPair),
        SignedInBodyErrors,
    )
)]
pub async fn refresh(
    services: web::Data<Services>,
    body: ApiJson<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    let (_, pair) = services.accounts.refresh(&body.0.refresh).await?;
    Ok(json(StatusCode::OK, &pair))
}

#[utoipa::path(
    post,
    path = "/api/auth/logout/",
    operation_id = "auth_logout",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 204, description = "The refresh token (and the access token sent along) is revoked"),
        SignedInBodyErrors,
    ),
    security((), ("bearer" = []))
)]
/// Revokes the refresh token; the access token presented with it, if any, dies too.
pub async fn logout(
    services: web::Data<Services>,
    user: MaybeUser,
    body: ApiJson<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    services
        .accounts
        .logout(&body.0.refresh, user.0.as_ref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/api/me/",
    operation_id = "me_get",
    tag = "auth",
    responses(
        (status = 200, description = "The caller's profile", body = UserJson),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn me(user: CurrentUser) -> HttpResponse {
    json(StatusCode::OK, &UserJson::from(&user.user))
}

#[utoipa::path(
    patch,
    path = "/api/me/",
    operation_id = "me_update",
    tag = "auth",
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The updated profile", body = UserJson),
        SignedInBodyErrors,
    ),
    security(("bearer" = []))
)]
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
    )?
    .with_order_emails(body.order_emails);
    let updated = services.accounts.update_profile(&user.user, change).await?;
    Ok(json(StatusCode::OK, &UserJson::from(&updated)))
}

#[utoipa::path(
    post,
    path = "/api/me/password/",
    operation_id = "me_change_password",
    tag = "auth",
    request_body = PasswordBody,
    responses(
        (status = 204, description = "Changed; every refresh token of the user is revoked"),
        SignedInBodyErrors,
        (status = 429, response = crate::http::openapi::schemas::TooManyRequests),
    ),
    security(("bearer" = []))
)]
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
