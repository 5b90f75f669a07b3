//! Admin categories: create, and edit or delete each row in place.
use maud::{html, Markup};

use super::page;
use crate::domain::catalog::CategoryWithCount;
use crate::domain::ids::CategoryId;
use crate::http::views::components::{csrf, form_errors, Field};
use crate::http::views::{Ctx, Errors};

/// A category form as typed: for the create form, or a row shown again with its errors.
#[derive(Default)]
pub struct CategoryInput {
    pub name: String,
    pub description: String,
    pub errors: Errors,
}

pub struct CategoriesView<'a> {
    pub categories: &'a [CategoryWithCount],
    pub create: CategoryInput,
    /// The row that failed to save, with what was typed.
    pub failed: Option<(CategoryId, CategoryInput)>,
}

pub fn render(ctx: &Ctx, view: &CategoriesView) -> Markup {
    page(
        ctx,
        "Categories",
        html! {
            h1 { "Categories" }
            section.card {
                h2 { "New category" }
                form.grid-form method="post" action="/admin/categories" {
                    (csrf(ctx))
                    (form_errors(&view.create.errors))
                    (Field::new("name", "Name", "text", &view.create.name).required().render(&view.create.errors))
                    (Field::new("description", "Description", "text", &view.create.description).render(&view.create.errors))
                    button.button type="submit" { "Create category" }
                }
            }
            section.card {
                h2 { "All categories" }
                @if view.categories.is_empty() { p.empty-state { "No categories yet." } }
                div.rows {
                    @for c in view.categories {
                        @let failed = view.failed.as_ref().filter(|(id, _)| *id == c.category.id).map(|(_, input)| input);
                        (row(ctx, c, failed))
                    }
                }
            }
        },
    )
}

/// One category as an inline form; htmx swaps just this row after save or delete.
pub fn row(ctx: &Ctx, c: &CategoryWithCount, input: Option<&CategoryInput>) -> Markup {
    let id = c.category.id;
    let empty = Errors::new();
    let (name, description, errors) = match input {
        Some(i) => (i.name.as_str(), i.description.as_str(), &i.errors),
        None => (
            c.category.name.as_str(),
            c.category.description.as_str(),
            &empty,
        ),
    };
    let row_id = format!("cat-{id}");
    html! {
        div.row-form .updated[ctx.htmx.partial()] id=(row_id) data-category-id=(id) {
            form.grid-form method="post" action={"/admin/categories/" (id)} hx-post={"/admin/categories/" (id)}
                hx-target={"#" (row_id)} hx-swap="outerHTML" {
                (csrf(ctx))
                (form_errors(errors))
                (Field::new("name", "Name", "text", name).id(format!("cat-{id}-name")).required().render(errors))
                (Field::new("description", "Description", "text", description).id(format!("cat-{id}-description")).render(errors))
                span.muted.count { (c.product_count) " product" @if c.product_count != 1 { "s" } }
                button.button.small type="submit" { "Save" }
            }
            form method="post" action={"/admin/categories/" (id) "/delete"} hx-post={"/admin/categories/" (id) "/delete"}
                hx-target={"#" (row_id)} hx-swap="outerHTML" hx-confirm={"Delete " (c.category.name) "?"} {
                (csrf(ctx))
                button.link.danger type="submit" aria-label={"Delete " (c.category.name)} { "Delete" }
            }
        }
    }
}
