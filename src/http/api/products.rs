use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::catalog::{cached_json, page_links, product_filter};
use super::{json, page_request, path_id};
use crate::auth::Admin;
use crate::domain::catalog::{Product, ProductDraft, StockChange};
use crate::domain::ids::{CategoryId, ProductId};
use crate::domain::money::Money;
use crate::domain::ValidationError;
use crate::error::AppError;
use crate::http::extract::{query_pairs, ApiJson};
use crate::services::Services;

fn required(field: &str) -> ValidationError {
    ValidationError::new(field, "this field is required")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    name: Option<String>,
    description: Option<String>,
    price: Option<Money>,
    stock: Option<i64>,
    category_id: Option<i64>,
}

impl ProductBody {
    /// A full draft; for PATCH the missing fields come from `current`, otherwise they are required.
    pub fn draft(self, current: Option<&Product>) -> Result<ProductDraft, AppError> {
        let name = match (self.name, current) {
            (Some(n), _) => ProductDraft::parse_name(&n),
            (None, Some(p)) => Ok(p.name.clone()),
            (None, None) => Err(required("name")),
        };
        let description = match (self.description, current) {
            (Some(d), _) => ProductDraft::parse_description(&d),
            (None, Some(p)) => Ok(p.description.clone()),
            (None, None) => Ok(String::new()),
        };
        let price = match (self.price, current) {
            (Some(p), _) => Ok(p),
            (None, Some(p)) => Ok(p.price),
            (None, None) => Err(required("price")),
        };
        let stock = match (self.stock, current) {
            (Some(s), _) => ProductDraft::parse_stock(s),
            (None, Some(p)) => Ok(p.stock),
            (None, None) => Err(required("stock")),
        };
        let category_id = match (self.category_id, current) {
            (Some(c), _) if c > 0 => Ok(CategoryId::new(c as u64)),
            (Some(_), _) => Err(ValidationError::new(
                "category_id",
                "must be a positive integer",
            )),
            (None, Some(p)) => Ok(p.category_id),
            (None, None) => Err(required("category_id")),
        };
        match (name, description, price, stock, category_id) {
            (Ok(name), Ok(description), Ok(price), Ok(stock), Ok(category_id)) => {
                Ok(ProductDraft {
                    name,
                    description,
                    price,
                    stock,
                    category_id,
                })
            }
            (a, b, c, d, e) => Err([a.err(), b.err(), c.err(), d.err(), e.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .into()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockBody {
    adjust: Option<i64>,
    set: Option<i64>,
}

impl StockBody {
    pub fn change(self) -> Result<StockChange, AppError> {
        match (self.adjust, self.set) {
            (Some(delta), None) => Ok(StockChange::Adjust(delta)),
            (None, Some(level)) => Ok(StockChange::Set(
                ProductDraft::parse_stock(level)
                    .map_err(|e| ValidationError::new("set", e.message))?,
            )),
            _ => Err(AppError::field(
                "non_field_errors",
                "give exactly one of adjust or set",
            )),
        }
    }
}

pub async fn list(
    req: HttpRequest,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let filter = product_filter(&pairs)?;
    let page = page_request(&pairs)?;
    let links = page_links(&req, "/api/products/", &pairs);
    Ok(cached_json(
        services
            .catalog
            .product_list_json(filter, page, links)
            .await?,
    ))
}

pub async fn detail(
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    Ok(cached_json(services.catalog.product_json(id).await?))
}

pub async fn create(
    services: web::Data<Services>,
    _: Admin,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, AppError> {
    let product = services.catalog.create_product(body.0.draft(None)?)?;
    Ok(json(
        StatusCode::CREATED,
        &services.catalog.product_json_of(&product)?,
    ))
}

async fn update(
    services: web::Data<Services>,
    id: &str,
    body: ProductBody,
    partial: bool,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(id)?;
    let current = services.catalog.product(id)?;
    let draft = body.draft(partial.then_some(&current))?;
    let product = services.catalog.update_product(id, |_| draft.clone())?;
    Ok(json(
        StatusCode::OK,
        &services.catalog.product_json_of(&product)?,
    ))
}

pub async fn put(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, false).await
}

pub async fn patch(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, true).await
}

pub async fn delete(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    services.catalog.delete_product(path_id(&id)?)?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn stock(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<StockBody>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    let product = services.catalog.change_stock(id, body.0.change()?)?;
    Ok(json(
        StatusCode::OK,
        &services.catalog.product_json_of(&product)?,
    ))
}
