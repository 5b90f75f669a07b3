//! `/` (the catalog, with the product list's query parameters) and `/products/{id}`.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::ctx::Page;
use super::html;
use crate::domain::catalog::{PageRequest, ProductFilter};
use crate::domain::ids::ProductId;
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::http::extract::{page_request, path_id};
use crate::http::extract::{product_filter, query_pairs};
use crate::http::views::catalog::{self, CatalogView};
use crate::services::Services;

/// Products per catalog page, unless `page_size` says otherwise.
const PAGE_SIZE: &str = "12";

pub async fn index(
    req: HttpRequest,
    Page(ctx): Page,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    // An empty form field means "no filter": a plain GET form sends them all.
    let mut params = query_pairs(&req)?;
    params.retain(|(_, v)| !v.trim().is_empty());
    let mut sized = params.clone();
    if !sized.iter().any(|(k, _)| k == "page_size") {
        sized.push(("page_size".into(), PAGE_SIZE.into()));
    }
    let parsed = product_filter(&params).and_then(|f| Ok((f, page_request(&sized)?)));
    let (filter, page, errors) = match parsed {
        Ok((filter, page)) => (filter, page, FieldErrors::new()),
        Err(AppError::Validation { errors, .. }) => {
            let page = PageRequest::parse(None, Some(PAGE_SIZE)).map_err(AppError::from)?;
            (ProductFilter::default(), page, errors)
        }
        Err(other) => return Err(other),
    };
    let categories = services.catalog.categories().await?;
    let (products, count) = if errors.is_empty() {
        let found = services.catalog.product_page(filter, page).await?;
        if !page.exists_within(found.count) {
            return Err(AppError::NotFound);
        }
        (found.products, found.count)
    } else {
        (Vec::new(), 0)
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let view = CatalogView {
        params: &params,
        categories: &categories,
        products,
        count,
        page: page.page,
        pages: crate::http::views::components::pages(count, page.size),
        errors,
    };
    if ctx.htmx.wants("results") {
        let mut response = html(status, catalog::results(&ctx, &view));
        // The address bar shows the canonical, shareable URL of what is on screen.
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        let url = if query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{query}")
        };
        if let Ok(value) = url.parse() {
            response
                .headers_mut()
                .insert("HX-Push-Url".parse().expect("header name"), value);
        }
        return Ok(response);
    }
    Ok(html(status, catalog::page(&ctx, &view)))
}

pub async fn product(
    Page(ctx): Page,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    let (product, category) = services.catalog.named_product(id).await?;
    Ok(html(
        StatusCode::OK,
        catalog::product(&ctx, &product, &category),
    ))
}
