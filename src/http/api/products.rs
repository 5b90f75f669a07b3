use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::catalog::{cached_json, page_links, product_filter};
use super::{json, page_request, path_id};
use crate::domain::catalog::{Product, ProductDraft, StockChange};
use crate::domain::ids::{CategoryId, ProductId};
use crate::domain::money::Money;
use crate::domain::ValidationError;
use crate::error::AppError;
use crate::http::extract::{query_pairs, ApiJson};
use crate::http::user_extract::Admin;
use crate::services::json::{Page, ProductJson};
use crate::services::Services;

fn required(field: &str) -> ValidationError {
    ValidationError::new(field, "this field is required")
}

/// The fields to change; absent (or null) ones keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProductPatch)]
pub struct ProductBody {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    #[schema(
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    description: Option<String>,
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,8}(\.[0-9]{1,2})?$", example = "19.99")]
    price: Option<Money>,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: Option<i64>,
    #[schema(minimum = 1)]
    category_id: Option<i64>,
}

/// The fields a body gives, each already valid.
#[derive(Clone)]
pub struct ProductChanges {
    name: Option<String>,
    description: Option<String>,
    price: Option<Money>,
    stock: Option<u32>,
    category_id: Option<CategoryId>,
}

impl ProductChanges {
    /// `current` with these changes (PATCH): applied inside the store's transaction, so a field
    /// the body leaves out (stock, say) keeps the value it has at the write, not at the read.
    pub fn applied_to(&self, current: &Product) -> ProductDraft {
        ProductDraft {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| current.description.clone()),
            price: self.price.unwrap_or(current.price),
            stock: self.stock.unwrap_or(current.stock),
            category_id: self.category_id.unwrap_or(current.category_id),
        }
    }
}

/// The value of a field that parsed (or was absent); the error of one that did not.
fn kept<T>(
    errors: &mut Vec<ValidationError>,
    result: Result<Option<T>, ValidationError>,
) -> Option<T> {
    result.unwrap_or_else(|e| {
        errors.push(e);
        None
    })
}

impl ProductBody {
    /// Every given field parsed (PATCH); each bad one is named in one 400.
    pub fn changes(self) -> Result<ProductChanges, AppError> {
        let (changes, errors) = self.parse();
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(errors.into())
        }
    }

    /// A whole product (POST, PUT): every field but the description is required. Bad and
    /// missing fields are named together in one 400.
    pub fn whole(self) -> Result<ProductDraft, AppError> {
        let absent: Vec<&str> = [
            ("name", self.name.is_none()),
            ("price", self.price.is_none()),
            ("stock", self.stock.is_none()),
            ("category_id", self.category_id.is_none()),
        ]
        .into_iter()
        .filter_map(|(field, absent)| absent.then_some(field))
        .collect();
        let (changes, mut errors) = self.parse();
        errors.extend(absent.into_iter().map(required));
        match changes {
            ProductChanges {
                name: Some(name),
                description,
                price: Some(price),
                stock: Some(stock),
                category_id: Some(category_id),
            } if errors.is_empty() => Ok(ProductDraft {
                name,
                description: description.unwrap_or_default(),
                price,
                stock,
                category_id,
            }),
            _ => Err(errors.into()),
        }
    }

    /// The valid fields, and an error for each invalid one.
    fn parse(self) -> (ProductChanges, Vec<ValidationError>) {
        let mut errors = Vec::new();
        let name = kept(
            &mut errors,
            self.name.map(|n| ProductDraft::parse_name(&n)).transpose(),
        );
        let description = kept(
            &mut errors,
            self.description
                .map(|d| ProductDraft::parse_description(&d))
                .transpose(),
        );
        let stock = kept(
            &mut errors,
            self.stock.map(ProductDraft::parse_stock).transpose(),
        );
        let category_id = kept(
            &mut errors,
            match self.category_id {
                Some(c) if c > 0 => Ok(Some(CategoryId::new(c as u64))),
                Some(_) => Err(ValidationError::new(
                    "category_id",
                    "must be a positive integer",
                )),
                None => Ok(None),
            },
        );
        let changes = ProductChanges {
            name,
            description,
            price: self.price,
            stock,
            category_id,
        };
        (changes, errors)
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
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 403, response = crate::http::openapi::schemas::Forbidden),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
        (status = 413, response = crate::http::openapi::schemas::PayloadTooLarge),
        (status = 415, response = crate::http::openapi::schemas::UnsupportedMediaType),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    services: web::Data<Services>,
    _: Admin,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, AppError> {
    let product = services.catalog.create_product(body.0.whole()?).await?;
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
        let changes = body.changes()?;
        let update = move |current: &Product| changes.applied_to(current);
        services.catalog.update_product(id, update).await?
    } else {
        let draft = body.whole()?;
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
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 403, response = crate::http::openapi::schemas::Forbidden),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
        (status = 413, response = crate::http::openapi::schemas::PayloadTooLarge),
        (status = 415, response = crate::http::openapi::schemas::UnsupportedMediaType),
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
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 403, response = crate::http::openapi::schemas::Forbidden),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
        (status = 413, response = crate::http::openapi::schemas::PayloadTooLarge),
        (status = 415, response = crate::http::openapi::schemas::UnsupportedMediaType),
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
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 403, response = crate::http::openapi::schemas::Forbidden),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
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
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 401, response = crate::http::openapi::schemas::Unauthorized),
        (status = 403, response = crate::http::openapi::schemas::Forbidden),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
        (status = 409, response = crate::http::openapi::schemas::Conflict),
        (status = 413, response = crate::http::openapi::schemas::PayloadTooLarge),
        (status = 415, response = crate::http::openapi::schemas::UnsupportedMediaType),
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
