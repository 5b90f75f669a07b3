//! The cart page and its actions; checkout places the order with the form's idempotency key.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use std::collections::HashMap;

use super::ctx::{Page, Shopper};
use super::{errors::referer_path, html, redirect, safe_next};
use crate::domain::cart::{parse_guest_lines, Quantity};
use crate::domain::ids::ProductId;
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::http::extract::{path_id, query_pairs, query_value};
use crate::http::views::cart::{self, CartPage};
use crate::http::views::Ctx;
use crate::services::orders::parse_idempotency_key;
use crate::services::Services;

#[derive(Deserialize)]
pub struct AddForm {
    product_id: String,
    #[serde(default)]
    quantity: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct QuantityForm {
    quantity: String,
}

#[derive(Deserialize)]
pub struct CheckoutForm {
    #[serde(default)]
    idempotency_key: String,
}

fn new_key() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn quantity(raw: &str) -> Result<Quantity, AppError> {
    let n: i64 = raw
        .trim()
        .parse()
        .map_err(|_| AppError::field("quantity", "must be a whole number"))?;
    Ok(Quantity::parse(n)?)
}

/// The cart as it stands, with nothing to report.
async fn render_current(services: &Services, user: &Shopper) -> Result<HttpResponse, AppError> {
    let (no_errors, no_shortages) = (FieldErrors::new(), HashMap::new());
    render(
        &user.ctx,
        services,
        user,
        StatusCode::OK,
        no_errors,
        no_shortages,
    )
    .await
}

/// The cart section (htmx) or the whole page, with the given status and messages.
async fn render(
    ctx: &Ctx,
    services: &Services,
    user: &Shopper,
    status: StatusCode,
    errors: FieldErrors,
    shortages: HashMap<ProductId, u32>,
) -> Result<HttpResponse, AppError> {
    let view = services.cart.view(user.user.user.id).await?;
    let page = CartPage {
        cart: &view,
        idempotency_key: new_key(),
        shortages,
        errors,
    };
    if ctx.htmx.partial() {
        return Ok(html(status, cart::section_update(ctx, &page)));
    }
    let mut ctx = ctx.clone();
    ctx.cart_count = view.quantity();
    Ok(html(status, cart::page(&ctx, &page)))
}

/// The signed-in shopper's cart; a visitor gets the page that shows the browser's guest cart.
pub async fn show(
    user: Option<Shopper>,
    Page(ctx): Page,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user else {
        return Ok(html(StatusCode::OK, cart::guest_page(&ctx)));
    };
    render_current(&services, &user).await
}

/// The inside of a visitor's cart, drawn from the lines the browser keeps (app.js asks for it
/// whenever they change): current prices, stock and totals, rendered like the signed-in cart.
pub async fn guest_lines(
    req: HttpRequest,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let lines = parse_guest_lines(query_value(&pairs, "items")?.unwrap_or(""))?;
    let ids = lines.iter().map(|(id, _)| *id).collect();
    let found = services.catalog.products(ids).await?;
    Ok(html(StatusCode::OK, cart::guest_lines(&lines, &found)))
}

/// Adds from the catalog or a product page: htmx updates the badge in place; without
/// JavaScript the browser goes back where it came from.
pub async fn add(
    req: HttpRequest,
    user: Shopper,
    services: web::Data<Services>,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let product: ProductId = path_id(&form.product_id)?;
    let quantity = quantity(form.quantity.as_deref().unwrap_or("1"))?;
    let view = services
        .cart
        .add(user.user.user.id, product, quantity)
        .await?;
    if user.ctx.htmx.partial() {
        let name = view
            .lines
            .iter()
            .find(|(p, _)| p.id == product)
            .map(|(p, _)| p.name.clone())
            .unwrap_or_default();
        return Ok(html(StatusCode::OK, cart::added(&view, &name)));
    }
    let back = safe_next(form.next.as_deref())
        .or_else(|| referer_path(&req))
        .unwrap_or_else(|| "/cart".into());
    Ok(redirect(false, &back))
}

pub async fn set(
    user: Shopper,
    services: web::Data<Services>,
    id: web::Path<String>,
    form: web::Form<QuantityForm>,
) -> Result<HttpResponse, AppError> {
    let product: ProductId = path_id(&id)?;
    let mut errors = FieldErrors::new();
    let set = match quantity(&form.quantity) {
        Ok(q) => services.cart.set(user.user.user.id, product, q).await,
        Err(e) => Err(e),
    };
    match set {
        Ok(_) => {}
        Err(AppError::Validation { errors: found, .. }) => {
            let messages = found.into_values().flatten().collect();
            errors.insert(format!("quantity-{product}"), messages);
        }
        Err(other) => return Err(other),
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if status == StatusCode::OK && !user.ctx.htmx.partial() {
        return Ok(redirect(false, "/cart"));
    }
    render(&user.ctx, &services, &user, status, errors, HashMap::new()).await
}

pub async fn remove(
    user: Shopper,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let product: ProductId = path_id(&id)?;
    match services.cart.remove(user.user.user.id, product).await {
        Ok(_) | Err(AppError::NotFound) => {}
        Err(other) => return Err(other),
    }
    if !user.ctx.htmx.partial() {
        return Ok(redirect(false, "/cart"));
    }
    render_current(&services, &user).await
}

/// Places the order; "only N left" and other refusals are shown in the cart, in place.
pub async fn checkout(
    user: Shopper,
    services: web::Data<Services>,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, AppError> {
    let key = parse_idempotency_key(&form.idempotency_key).ok();
    let (status, message, shortages) = match services.orders.place(user.user.user.id, key).await {
        Ok(placed) => {
            return Ok(redirect(
                user.ctx.htmx.request,
                &format!("/orders/{}", placed.order.id),
            ))
        }
        Err(AppError::OutOfStock(list)) => {
            let names: Vec<String> = list
                .iter()
                .map(|s| format!("{} (only {} left)", s.name, s.available))
                .collect();
            let shortages = list.iter().map(|s| (s.product_id, s.available)).collect();
            (
                StatusCode::CONFLICT,
                format!(
                    "Not enough stock for {}. Lower the quantity to continue.",
                    names.join(", ")
                ),
                shortages,
            )
        }
        Err(e @ (AppError::BadRequest(_) | AppError::Unprocessable(_))) => (
            ResponseError::status_code(&e),
            format!("{}.", capitalize(&e.to_string())),
            HashMap::new(),
        ),
        Err(other) => return Err(other),
    };
    let errors = FieldErrors::from([("non_field_errors".to_owned(), vec![message])]);
    render(&user.ctx, &services, &user, status, errors, shortages).await
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
