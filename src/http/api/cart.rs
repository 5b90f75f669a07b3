use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{json, path_id};
use crate::auth::CurrentUser;
use crate::domain::cart::Quantity;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::http::extract::ApiJson;
use crate::http::openapi::responses::SignedInBodyErrors;
use crate::services::json::CartJson;
use crate::services::Services;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    #[schema(minimum = 1, example = 1)]
    product_id: i64,
    #[schema(minimum = 1, maximum = 10_000)]
    quantity: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    #[schema(minimum = 1, maximum = 10_000)]
    quantity: i64,
}

#[utoipa::path(
    get,
    path = "/api/cart/",
    operation_id = "cart_get",
    tag = "cart",
    responses(
        (status = 200, description = "The cart", body = CartJson),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    Ok(json(
        StatusCode::OK,
        &services.cart.view(user.user.id).await?.to_json(),
    ))
}

#[utoipa::path(
    post,
    path = "/api/cart/items/",
    operation_id = "cart_add",
    tag = "cart",
    request_body = AddBody,
    responses(
        (status = 201, description = "The cart with the line added to", body = CartJson,
         links(
            ("SetLine" = (operation_id = "cart_set", parameters(("product_id" = "$request.body#/product_id")))),
            ("RemoveLine" = (operation_id = "cart_remove", parameters(("product_id" = "$request.body#/product_id"))))
         )),
        SignedInBodyErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
    ),
    security(("bearer" = []))
)]
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
    let cart = services.cart.add(user.user.id, product, quantity).await?;
    Ok(json(StatusCode::CREATED, &cart.to_json()))
}

#[utoipa::path(
    patch,
    path = "/api/cart/items/{product_id}/",
    operation_id = "cart_set",
    tag = "cart",
    params(("product_id" = u64, Path, minimum = 1, example = 1, description = "Product id of the line")),
    request_body = SetBody,
    responses(
        (status = 200, description = "The cart", body = CartJson),
        SignedInBodyErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
    ),
    security(("bearer" = []))
)]
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
            .set(user.user.id, product, quantity)
            .await?
            .to_json(),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/cart/items/{product_id}/",
    operation_id = "cart_remove",
    tag = "cart",
    params(("product_id" = u64, Path, minimum = 1, example = 1, description = "Product id of the line")),
    responses(
        (status = 204, description = "The line is removed"),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn remove(
    services: web::Data<Services>,
    user: CurrentUser,
    product: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let product: ProductId = path_id(&product)?;
    services.cart.remove(user.user.id, product).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    delete,
    path = "/api/cart/",
    operation_id = "cart_clear",
    tag = "cart",
    responses(
        (status = 204, description = "The cart is empty"),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
    ),
    security(("bearer" = []))
)]
pub async fn clear(
    services: web::Data<Services>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    services.cart.clear(user.user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeLine {
    product_id: i64,
    quantity: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    items: Vec<MergeLine>,
}

/// Merges a guest cart (kept by the browser) into the caller's cart. An extension of API.md:
/// `{items: [{product_id, quantity}]}` → the cart plus `skipped` (ids that could not be added).
pub async fn merge(
    services: web::Data<Services>,
    user: CurrentUser,
    body: ApiJson<MergeBody>,
) -> Result<HttpResponse, AppError> {
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
    let (cart, skipped) = services.cart.merge(user.user.id, lines).await?;
    let mut body = serde_json::to_value(cart.to_json()).map_err(AppError::internal)?;
    body["skipped"] = serde_json::json!(skipped);
    Ok(json(StatusCode::OK, &body))
}
