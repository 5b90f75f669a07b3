//! Admin products: list, create, edit, delete, and stock changes in place.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::form_errors;
use crate::domain::catalog::{PageRequest, Product, ProductDraft, ProductFilter, StockChange};
use crate::domain::catalog_input::{Given, ProductChanges, ProductFields};
use crate::domain::ids::ProductId;
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::http::extract::{page_request, path_id};
use crate::http::extract::{query_pairs, query_value};
use crate::http::pages::ctx::AdminPage;
use crate::http::pages::{html, redirect};
use crate::http::views::admin::products::{self, ProductInput, ProductsView};
use crate::http::views::components::pages;
use crate::services::Services;

#[derive(Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    stock: String,
    #[serde(default)]
    category_id: String,
}

#[derive(Deserialize)]
pub struct StockForm {
    #[serde(default)]
    adjust: String,
}

impl ProductForm {
    /// The form as the domain's product fields; `stock` only when the form has it (the edit
    /// form does not: stock changes through its own form).
    fn fields(&self, with_stock: bool) -> ProductFields<'_> {
        ProductFields {
            name: Some(&self.name),
            description: Some(&self.description),
            price: Some(Given::Text(&self.price)),
            stock: with_stock.then_some(Given::Text(&self.stock)),
            category_id: Some(Given::Text(&self.category_id)),
        }
    }

    fn input(self, errors: FieldErrors) -> ProductInput {
        ProductInput {
            name: self.name,
            description: self.description,
            price: self.price,
            stock: self.stock,
            category_id: self.category_id,
            errors,
        }
    }
}

async fn list_page(
    req: &HttpRequest,
    admin: &AdminPage,
    services: &Services,
    status: StatusCode,
    create: ProductInput,
) -> Result<HttpResponse, AppError> {
    let mut params = query_pairs(req)?;
    params.retain(|(_, v)| !v.is_empty());
    let page: PageRequest = page_request(&params)?;
    let search = query_value(&params, "search")?.unwrap_or("").to_owned();
    let filter = ProductFilter {
        search: ProductFilter::parse_search(&search)?,
        ..ProductFilter::default()
    };
    let found = services.catalog.product_page(filter, page).await?;
    if !page.exists_within(found.count) {
        return Err(AppError::NotFound);
    }
    let categories = services.catalog.categories().await?;
    let view = ProductsView {
        products: found.products,
        categories: &categories,
        create,
        params: &params,
        search: &search,
        count: found.count,
        page: page.page,
        pages: pages(found.count, page.size),
    };
    Ok(html(status, products::render(&admin.ctx, &view)))
}

pub async fn list(
    req: HttpRequest,
    admin: AdminPage,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    list_page(
        &req,
        &admin,
        &services,
        StatusCode::OK,
        ProductInput {
            stock: "0".into(),
            ..ProductInput::default()
        },
    )
    .await
}

pub async fn create(
    req: HttpRequest,
    admin: AdminPage,
    services: web::Data<Services>,
    form: web::Form<ProductForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let created = match ProductDraft::parse(form.fields(true)) {
        Ok(draft) => services.catalog.create_product(draft).await,
        Err(errors) => Err(AppError::from(errors)),
    };
    match created {
        Ok(p) => Ok(redirect(
            admin.ctx.htmx.request,
            &format!("/admin/products/{}", p.id),
        )),
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(
                &req,
                &admin,
                &services,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.input(errors),
            )
            .await
        }
    }
}

pub async fn edit(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    let product = services.catalog.product(id).await?;
    let categories = services.catalog.categories().await?;
    Ok(html(
        StatusCode::OK,
        products::edit(
            &admin.ctx,
            &product,
            &ProductInput::of(&product),
            &categories,
            &FieldErrors::new(),
        ),
    ))
}

pub async fn update(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
    form: web::Form<ProductForm>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    let form = form.into_inner();
    let product = services.catalog.product(id).await?;
    // The edit form has no stock field: the product keeps the stock it has when the change is
    // written, inside the store's transaction (orders may have taken some since the read).
    let saved = match ProductChanges::parse(form.fields(false)) {
        Ok(changes) => {
            let update = move |current: &Product| changes.applied_to(current);
            services.catalog.update_product(id, update).await
        }
        Err(errors) => Err(AppError::from(errors)),
    };
    match saved {
        Ok(saved) => {
            let ctx = admin.ctx.clone().with_flash("Product saved.");
            let categories = services.catalog.categories().await?;
            Ok(html(
                StatusCode::OK,
                products::edit(
                    &ctx,
                    &saved,
                    &ProductInput::of(&saved),
                    &categories,
                    &FieldErrors::new(),
                ),
            ))
        }
        Err(e) => {
            let errors = form_errors(e)?;
            let categories = services.catalog.categories().await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                products::edit(
                    &admin.ctx,
                    &product,
                    &form.input(errors),
                    &categories,
                    &FieldErrors::new(),
                ),
            ))
        }
    }
}

pub async fn delete(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    services.catalog.delete_product(id).await?;
    if admin.ctx.htmx.partial() {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .finish());
    }
    Ok(redirect(false, "/admin/products"))
}

/// Adjusts stock by ±N; below zero is refused next to the field, and the level is unchanged.
pub async fn stock(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
    form: web::Form<StockForm>,
) -> Result<HttpResponse, AppError> {
    let id: ProductId = path_id(&id)?;
    let change = form
        .adjust
        .trim()
        .trim_start_matches('+')
        .parse::<i64>()
        .map_err(|_| AppError::field("adjust", "must be a whole number such as 5 or -2"));
    let result = match change {
        Ok(n) => {
            services
                .catalog
                .change_stock(id, StockChange::Adjust(n))
                .await
        }
        Err(e) => Err(e),
    };
    let (status, product, errors) = match result {
        Ok(product) => (StatusCode::OK, product, FieldErrors::new()),
        Err(AppError::Validation { errors, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            services.catalog.product(id).await?,
            errors,
        ),
        Err(AppError::Conflict(m)) => (
            StatusCode::CONFLICT,
            services.catalog.product(id).await?,
            FieldErrors::from([("adjust".to_owned(), vec![m])]),
        ),
        Err(other) => return Err(other),
    };
    if admin.ctx.htmx.partial() {
        return Ok(html(
            status,
            products::stock_form(&admin.ctx, &product, &errors),
        ));
    }
    if status == StatusCode::OK {
        return Ok(redirect(false, &format!("/admin/products/{id}")));
    }
    let categories = services.catalog.categories().await?;
    Ok(html(
        status,
        products::edit(
            &admin.ctx,
            &product,
            &ProductInput::of(&product),
            &categories,
            &errors,
        ),
    ))
}
