use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{json, path_id};
use crate::auth::CurrentUser;
use crate::domain::cart::Quantity;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::http::extract::ApiJson;
use crate::services::Services;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    product_id: i64,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    quantity: i64,
}

pub async fn get(
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    Ok(json(
        StatusCode::OK,
        &services.cart.view(user.user.id)?.to_json(),
    ))
}

pub async fn add(
    services: web::Data<Services>,
    user: CurrentUser,
    body: ApiJson<AddBody>,
) -> Result<HttpResponse, AppError> {
    let quantity = Quantity::parse(body.0.quantity)?;
    if body.0.product_id < 1 {
        return Err(AppError::field("product_id", "must be a positive integer"));
    }
    let product = ProductId::new(body.0.product_id as u64);
    let cart = services.cart.add(user.user.id, product, quantity)?;
    Ok(json(StatusCode::CREATED, &cart.to_json()))
}

pub async fn set(
    services: web::Data<Services>,
    user: CurrentUser,
    product: web::Path<String>,
    body: ApiJson<SetBody>,
) -> Result<HttpResponse, AppError> {
    let product: ProductId = path_id(&product)?;
    let quantity = Quantity::parse(body.0.quantity)?;
    Ok(json(
        StatusCode::OK,
        &services
            .cart
            .set(user.user.id, product, quantity)?
            .to_json(),
    ))
}

pub async fn remove(
    services: web::Data<Services>,
    user: CurrentUser,
    product: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let product: ProductId = path_id(&product)?;
    services.cart.remove(user.user.id, product)?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn clear(
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    services.cart.clear(user.user.id)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeLine {
    product_id: i64,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    items: Vec<MergeLine>,
}

/// Merges a guest cart (kept by the browser) into the caller's cart. An extension of API.md:
/// `{items: [{product_id, quantity}]}` → the cart plus `skipped` (ids that could not be added).
pub async fn merge(services: web::Data<Services>, user: CurrentUser, body: ApiJson<MergeBody>) -> Result<HttpResponse, AppError> {
    if body.0.items.len() > crate::domain::cart::MAX_CART_LINES {
        return Err(AppError::field("items", "at most 100 lines"));
    }
    let lines: Vec<(ProductId, i64)> = body
        .0
        .items
        .iter()
        .filter(|l| l.product_id > 0)
        .map(|l| (ProductId::new(l.product_id as u64), l.quantity))
        .collect();
    let (cart, skipped) = services.cart.merge(user.user.id, &lines)?;
    let mut body = serde_json::to_value(cart.to_json()).map_err(AppError::internal)?;
    body["skipped"] = serde_json::json!(skipped);
    Ok(json(StatusCode::OK, &body))
}
