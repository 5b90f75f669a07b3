use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::catalog::{cached_json, page_links};
use super::{json, page_request, path_id};
use crate::domain::catalog::CategoryDraft;
use crate::domain::catalog::{MAX_CATEGORY_NAME, MAX_DESCRIPTION};
use crate::domain::catalog_input::CategoryFields;
use crate::domain::ids::CategoryId;
use crate::error::AppError;
use crate::http::extract::{query_pairs, ApiJson};
use crate::http::openapi::responses::{AdminWriteErrors, NoBodyChangeErrors};
use crate::http::openapi::schemas::{optional_name, optional_text};
use crate::http::user_extract::Admin;
use crate::services::json::{CategoryJson, Page};
use crate::services::Services;

/// The fields to change; absent (or null) ones keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CategoryPatch)]
pub struct CategoryBody {
    #[schema(schema_with = optional_name::<{ MAX_CATEGORY_NAME }>)]
    name: Option<String>,
    #[schema(schema_with = optional_text::<{ MAX_DESCRIPTION }>)]
    description: Option<String>,
}

impl CategoryBody {
    fn fields(&self) -> CategoryFields<'_> {
        CategoryFields {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/categories/",
    operation_id = "categories_list",
    tag = "catalog",
    params(crate::http::openapi::schemas::PageParams),
    responses(
        (status = 200, description = "A page of categories; `X-Cache` says HIT or MISS", body = Page<CategoryJson>),
        (status = 400, response = crate::http::openapi::schemas::BadRequest),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
)]
pub async fn list(
    req: HttpRequest,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let page = page_request(&pairs)?;
    let links = page_links(&req, "/api/categories/", &pairs);
    Ok(cached_json(
        &req,
        &services.catalog,
        services.catalog.category_list_json(page, links).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/categories/{id}/",
    operation_id = "categories_get",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Category id")),
    responses(
        (status = 200, description = "The category", body = CategoryJson),
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
)]
pub async fn detail(
    req: HttpRequest,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: CategoryId = path_id(&id)?;
    Ok(cached_json(
        &req,
        &services.catalog,
        services.catalog.category_json(id).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/categories/",
    operation_id = "categories_create",
    tag = "catalog",
    request_body = crate::http::openapi::schemas::CategoryInput,
    responses(
        (status = 201, description = "Created", body = CategoryJson,
         links(
            ("Get" = (operation_id = "categories_get", parameters(("id" = "$response.body#/id")))),
            ("Put" = (operation_id = "categories_put", parameters(("id" = "$response.body#/id")))),
            ("Patch" = (operation_id = "categories_patch", parameters(("id" = "$response.body#/id")))),
            ("Delete" = (operation_id = "categories_delete", parameters(("id" = "$response.body#/id"))))
         )),
        AdminWriteErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    services: web::Data<Services>,
    _: Admin,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, AppError> {
    let created = services
        .catalog
        .create_category(CategoryDraft::parse(body.0.fields(), None)?)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &CategoryJson::new(&created.category, created.product_count),
    ))
}

async fn update(
    services: web::Data<Services>,
    id: &str,
    body: CategoryBody,
    partial: bool,
) -> Result<HttpResponse, AppError> {
    let id: CategoryId = path_id(id)?;
    let current = services.catalog.category(id).await?;
    let draft = CategoryDraft::parse(body.fields(), partial.then_some(&current.category))?;
    let updated = services
        .catalog
        .update_category(id, move |_| draft.clone())
        .await?;
    Ok(json(
        StatusCode::OK,
        &CategoryJson::new(&updated.category, updated.product_count),
    ))
}

#[utoipa::path(
    put,
    path = "/api/categories/{id}/",
    operation_id = "categories_put",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Category id")),
    request_body = crate::http::openapi::schemas::CategoryInput,
    responses(
        (status = 200, description = "The category", body = CategoryJson),
        AdminWriteErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, false).await
}

#[utoipa::path(
    patch,
    path = "/api/categories/{id}/",
    operation_id = "categories_patch",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Category id")),
    request_body = CategoryBody,
    responses(
        (status = 200, description = "The category", body = CategoryJson),
        AdminWriteErrors,
        (status = 404, response = crate::http::openapi::schemas::NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, true).await
}

#[utoipa::path(
    delete,
    path = "/api/categories/{id}/",
    operation_id = "categories_delete",
    tag = "catalog",
    params(("id" = u64, Path, minimum = 1, example = 1, description = "Category id")),
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
    services.catalog.delete_category(path_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
