use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::catalog::{cached_json, page_links};
use super::{json, page_request, path_id};
use crate::auth::Admin;
use crate::domain::catalog::CategoryDraft;
use crate::domain::ids::CategoryId;
use crate::error::AppError;
use crate::http::extract::{query_pairs, ApiJson};
use crate::services::json::CategoryJson;
use crate::services::Services;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    name: Option<String>,
    description: Option<String>,
}

impl CategoryBody {
    /// A full draft: fields missing from a PATCH come from `current`; PUT and POST need a name.
    fn draft(
        self,
        current: Option<&crate::domain::catalog::Category>,
    ) -> Result<CategoryDraft, AppError> {
        let name = match (self.name, current) {
            (Some(n), _) => CategoryDraft::parse_name(&n),
            (None, Some(c)) => Ok(c.name.clone()),
            (None, None) => Err(crate::domain::ValidationError::new(
                "name",
                "this field is required",
            )),
        };
        let description = match (self.description, current) {
            (Some(d), _) => CategoryDraft::parse_description(&d),
            (None, Some(c)) => Ok(c.description.clone()),
            (None, None) => Ok(String::new()),
        };
        match (name, description) {
            (Ok(name), Ok(description)) => Ok(CategoryDraft { name, description }),
            (n, d) => Err([n.err(), d.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .into()),
        }
    }
}

pub async fn list(
    req: HttpRequest,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req)?;
    let page = page_request(&pairs)?;
    let links = page_links(&req, "/api/categories/", &pairs);
    Ok(cached_json(
        services.catalog.category_list_json(page, links).await?,
    ))
}

pub async fn detail(
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: CategoryId = path_id(&id)?;
    Ok(cached_json(services.catalog.category_json(id).await?))
}

pub async fn create(
    services: web::Data<Services>,
    _: Admin,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, AppError> {
    let created = services.catalog.create_category(body.0.draft(None)?)?;
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
    let current = services.catalog.category(id)?;
    let draft = body.draft(partial.then_some(&current.category))?;
    let updated = services.catalog.update_category(id, |_| draft.clone())?;
    Ok(json(
        StatusCode::OK,
        &CategoryJson::new(&updated.category, updated.product_count),
    ))
}

pub async fn put(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, false).await
}

pub async fn patch(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, AppError> {
    update(services, &id, body.0, true).await
}

pub async fn delete(
    services: web::Data<Services>,
    _: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    services.catalog.delete_category(path_id(&id)?)?;
    Ok(HttpResponse::NoContent().finish())
}
