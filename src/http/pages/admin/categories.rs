//! Admin categories: create, edit and delete in place.
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::form_errors;
use crate::domain::catalog::CategoryDraft;
use crate::domain::catalog_input::CategoryFields;
use crate::domain::ids::CategoryId;
use crate::error::AppError;
use crate::http::extract::path_id;
use crate::http::pages::ctx::AdminPage;
use crate::http::pages::{html, redirect};
use crate::http::views::admin::categories::{self, CategoriesView, CategoryInput};
use crate::http::views::Errors;
use crate::services::Services;

#[derive(Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

impl CategoryForm {
    fn draft(&self) -> Result<CategoryDraft, AppError> {
        let fields = CategoryFields {
            name: Some(&self.name),
            description: Some(&self.description),
        };
        Ok(CategoryDraft::parse(fields, None)?)
    }

    fn input(self, errors: Errors) -> CategoryInput {
        CategoryInput {
            name: self.name,
            description: self.description,
            errors,
        }
    }
}

async fn page(
    admin: &AdminPage,
    services: &Services,
    status: StatusCode,
    create: CategoryInput,
    failed: Option<(CategoryId, CategoryInput)>,
) -> Result<HttpResponse, AppError> {
    let all = services.catalog.categories().await?;
    let view = CategoriesView {
        categories: &all,
        create,
        failed,
    };
    Ok(html(status, categories::render(&admin.ctx, &view)))
}

pub async fn list(
    admin: AdminPage,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    page(
        &admin,
        &services,
        StatusCode::OK,
        CategoryInput::default(),
        None,
    )
    .await
}

pub async fn create(
    admin: AdminPage,
    services: web::Data<Services>,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let created = match form.draft() {
        Ok(draft) => services.catalog.create_category(draft).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Ok(redirect(admin.ctx.htmx.request, "/admin/categories")),
        Err(e) => {
            let errors = form_errors(e)?;
            page(
                &admin,
                &services,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.input(errors),
                None,
            )
            .await
        }
    }
}

/// Saves one row; htmx gets the row back (with errors next to the fields when refused).
pub async fn update(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    let id: CategoryId = path_id(&id)?;
    let form = form.into_inner();
    let result = match form.draft() {
        Ok(draft) => {
            services
                .catalog
                .update_category(id, move |_| draft.clone())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(saved) if admin.ctx.htmx.partial() => Ok(html(
            StatusCode::OK,
            categories::row(&admin.ctx, &saved, None),
        )),
        Ok(_) => Ok(redirect(false, "/admin/categories")),
        Err(e) => {
            let errors = form_errors(e)?;
            let input = form.input(errors);
            if admin.ctx.htmx.partial() {
                let current = services.catalog.category(id).await?;
                return Ok(html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    categories::row(&admin.ctx, &current, Some(&input)),
                ));
            }
            page(
                &admin,
                &services,
                StatusCode::UNPROCESSABLE_ENTITY,
                CategoryInput::default(),
                Some((id, input)),
            )
            .await
        }
    }
}

/// Deletes an empty category; one that still has products is refused with a message.
pub async fn delete(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: CategoryId = path_id(&id)?;
    services.catalog.delete_category(id).await?;
    if admin.ctx.htmx.partial() {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .finish());
    }
    Ok(redirect(false, "/admin/categories"))
}
