use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::catalog::{cached_json, page_links};
use super::{json, page_request, path_id};
use crate::domain::catalog::{Product, ProductDraft, StockChange};
use crate::domain::catalog::{MAX_DESCRIPTION, MAX_PRODUCT_NAME};
use crate::domain::catalog_input::{Given, ProductChanges, ProductFields};
use crate::domain::ids::ProductId;
use crate::domain::money::Money;
use crate::domain::ValidationError;
use crate::error::AppError;
use crate::http::extract::{product_filter, query_pairs, ApiJson};
use crate::http::openapi::responses::{AdminWriteErrors, NoBodyChangeErrors};
use crate::http::openapi::schemas::{optional_name, optional_text};
use crate::http::user_extract::Admin;
use crate::services::json::{Page, ProductJson};
use crate::services::Services;

/// The fields to change; absent (or null) ones keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProductPatch)]
pub struct ProductBody {
    #[schema(schema_with = optional_name::<{ MAX_PRODUCT_NAME }>)]
    name: Option<String>,
    #[schema(schema_with = optional_text::<{ MAX_DESCRIPTION }>)]
    description: Option<String>,
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,8}(\.[0-9]{1,2})?$", example = "19.99")]
    price: Option<Money>,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: Option<i64>,
    #[schema(minimum = 1)]
    category_id: Option<i64>,
}

impl ProductBody {
    fn fields(&self) -> ProductFields<'_> {
        ProductFields {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
            price: self.price.map(Given::Value),
            stock: self.stock.map(Given::Value),
            category_id: self.category_id.map(Given::Value),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// Exactly one of `adjust` or `set`; the stock stays within 0 and 1,000,000,000 (`409` otherwise).
#[schema(min_properties = 1, max_properties = 1)]
pub struct StockBody {
    /// Relative change (give this or `set`).
    #[schema(example = -2)]
    adjust: Option<i64>,
    /// New level (give this or `adjust`).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
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

#[utoipa::path(
    get,
    path = "/api/products/",
    operation_id = "products_list",
    tag = "catalog",
    params(crate::http::openapi::schemas::PageParams, crate::http::openapi::schemas::ProductFilterParams),
    responses(
        (status = 200, description = "A page of products; `X-Cache` says HIT or MISS", body = Page<ProductJson>),
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
)]
pub async fn list(
    req: HttpRequest,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let filter = product_filter(&pairs)?;
    let page = page_request(&pairs)?;
    let links = page_links(&req, "/api/products/", &pairs);
    Ok(cached_json(
        &req,
        &services.catalog,
        services
            .catalog
            .product_list_json(filter, page, links)
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/products/{id}/",
    operation_id = "products_get",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = ProductJson),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
)]
pub async fn detail(
    req: HttpRequest,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    Ok(cached_json(
        &req,
        &services.catalog,
        services.catalog.product_json(id).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/products/",
    operation_id = "products_create",
    tag = "catalog",
    request_body = crate::http::openapi::schemas::ProductInput,
    responses(
        (status = 201, description = "Created", body = ProductJson,
         links(
            ("Get" = (operation_id = "products_get", parameters(("id" = "$response.body#/id")))),
            ("Put" = (operation_id = "products_put", parameters(("id" = "$response.body#/id")))),
            ("Patch" = (operation_id = "products_patch", parameters(("id" = "$response.body#/id")))),
            ("Delete" = (operation_id = "products_delete", parameters(("id" = "$response.body#/id")))),
            ("Stock" = (operation_id = "products_stock", parameters(("id" = "$response.body#/id"))))
         )),
        AdminWriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    services: web::Data<Services>,
    _: Admin,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, AppError> {
    let draft = ProductDraft::parse(body.0.fields())?;
    let product = services.catalog.create_product(draft).await?;
    Ok(json(
        StatusCode::CREATED,
        &services.catalog.product_json_of(&product).await?,
    ))
}

async fn update(
    services: web::Data<Services>,
    id: &str,
    body: ProductBody,
    partial: bool,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(id)?;
    let product = if partial {
        let changes = ProductChanges::parse(body.fields())?;
        let update = move |current: &Product| changes.applied_to(current);
        services.catalog.update_product(id, update).await?
    } else {
        let draft = ProductDraft::parse(body.fields())?;
        services
            .catalog
            .update_product(id, move |_| draft.clone())
            .await?
    };
    Ok(json(
        StatusCode::OK,
        &services.catalog.product_json_of(&product).await?,
    ))
}

#[utoipa::path(
    put,
    path = "/api/products/{id}/",
    operation_id = "products_put",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Product id")),
    request_body = crate::http::openapi::schemas::ProductInput,
    responses(
        (status = 200, description = "The product", body = ProductJson),
        AdminWriteErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, false).await
}

#[utoipa::path(
    patch,
    path = "/api/products/{id}/",
    operation_id = "products_patch",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Product id")),
    request_body = ProductBody,
    responses(
        (status = 200, description = "The product", body = ProductJson),
        AdminWriteErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, true).await
}

#[utoipa::path(
    delete,
    path = "/api/products/{id}/",
    operation_id = "products_delete",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Product id")),
    responses(
        (status = 204, description = "Deleted"),
        NoBodyChangeErrors,
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    services.catalog.delete_product(path_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/products/{id}/stock/",
    operation_id = "products_stock",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Product id")),
    request_body = StockBody,
    responses(
        (status = 200, description = "The product", body = ProductJson),
        AdminWriteErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn stock(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<StockBody>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    let product = services.catalog.change_stock(id, body.0.change()?).await?;
    Ok(json(
        StatusCode::OK,
        &services.catalog.product_json_of(&product).await?,
    ))
}
