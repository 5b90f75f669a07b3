//! The account page: profile and password; and the session check of the live script.
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::ctx::Shopper;
use super::html;
use super::session;
use super::sign_in::{errors_of, secure};
use crate::auth::CurrentUser;
use crate::domain::user::{Password, ProfileChange};
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::http::client_address::client_address;
use crate::http::views::account::{self, AccountView};
use crate::http::views::Ctx;
use crate::services::Services;

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
}

/// The order-email switch: a ticked box sends `order_emails=on`, an unticked one nothing.
#[derive(Deserialize)]
pub struct OrderEmailsForm {
    #[serde(default)]
    order_emails: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

fn account_page(ctx: &Ctx, status: StatusCode, view: AccountView) -> HttpResponse {
    html(status, account::account(ctx, &view))
}

pub async fn show(user: Shopper) -> HttpResponse {
    let view = AccountView::of(&user.user.user);
    account_page(&user.ctx, StatusCode::OK, view)
}

pub async fn update_profile(
    user: Shopper,
    services: web::Data<Services>,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let change = ProfileChange::parse(Some(&form.name), Some(&form.phone), Some(&form.address));
    let updated = match change {
        Ok(change) => {
            services
                .accounts
                .update_profile(&user.user.user, change)
                .await
        }
        Err(errors) => Err(AppError::from(errors)),
    };
    match updated {
        Ok(updated) => {
            let ctx = user.ctx.clone().with_flash("Profile saved.");
            let view = AccountView::of(&updated);
            Ok(account_page(&ctx, StatusCode::OK, view))
        }
        Err(e) => {
            let (status, errors) = errors_of(e)?;
            let typed = (
                form.name.as_str(),
                form.phone.as_str(),
                form.address.as_str(),
            );
            let view = AccountView {
                user: &user.user.user,
                profile: Some(typed),
                profile_errors: errors,
                password_errors: FieldErrors::new(),
            };
            Ok(account_page(&user.ctx, status, view))
        }
    }
}

/// Turns order emails on or off; htmx gets the card back, a plain form the whole page.
pub async fn update_order_emails(
    user: Shopper,
    services: web::Data<Services>,
    form: web::Form<OrderEmailsForm>,
) -> Result<HttpResponse, AppError> {
    let on = matches!(form.order_emails.as_deref(), Some("on" | "true" | "1"));
    let change = ProfileChange::default().with_order_emails(Some(on));
    let updated = services
        .accounts
        .update_profile(&user.user.user, change)
        .await?;
    let message = if on {
        "Order emails are on."
    } else {
        "Order emails are off."
    };
    if user.ctx.htmx.partial() {
        let card = account::order_emails(&user.ctx, &updated, Some(message));
        return Ok(html(StatusCode::OK, card));
    }
    let ctx = user.ctx.clone().with_flash(message);
    let view = AccountView::of(&updated);
    Ok(account_page(&ctx, StatusCode::OK, view))
}

/// Changes the password (which ends every session) and signs this browser in again.
pub async fn change_password(
    req: HttpRequest,
    user: Shopper,
    services: web::Data<Services>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let me = &user.user.user;
    let result = async {
        let new = Password::parse("new_password", &form.new_password)?;
        services
            .accounts
            .change_password(me, form.current_password, new)
            .await?;
        services
            .accounts
            .login(me.email.as_str(), form.new_password, &client_address(&req))
            .await
    }
    .await;
    let empty = FieldErrors::new;
    match result {
        Ok((_, pair)) => {
            let ctx = user
                .ctx
                .clone()
                .with_flash("Password changed. Other sessions were signed out.");
            let view = AccountView::of(me);
            let mut response = account_page(&ctx, StatusCode::OK, view);
            session::set_cookies(&mut response, &services, &pair, secure(&req));
            Ok(response)
        }
        Err(e) => {
            let (status, errors) = errors_of(e)?;
            let view = AccountView {
                user: me,
                profile: None,
                profile_errors: empty(),
                password_errors: errors,
            };
            Ok(account_page(&user.ctx, status, view))
        }
    }
}

/// For the live-update script before it reconnects: 204 when signed in (the middleware has
/// rotated an expired session by then), 401 when not.
pub async fn session(req: HttpRequest) -> HttpResponse {
    if req.extensions().get::<CurrentUser>().is_some() {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::Unauthorized()
            .content_type("text/plain; charset=utf-8")
            .body("signed out")
    }
}
