//! Admin products: list with inline stock changes, create, edit, delete.
use maud::{html, Markup};

use super::page;
use crate::domain::catalog::CategoryWithCount;
use crate::domain::catalog::Product;
use crate::http::views::components::{csrf, field_error, form_errors, money, pagination, Field};
use crate::http::views::{Ctx, Errors};

/// The product form as typed (strings, so a bad price is shown back as it was entered).
#[derive(Default, Clone)]
pub struct ProductInput {
    pub name: String,
    pub description: String,
    pub price: String,
    pub stock: String,
    pub category_id: String,
    pub errors: Errors,
}

impl ProductInput {
    pub fn of(p: &Product) -> ProductInput {
        ProductInput {
            name: p.name.clone(),
            description: p.description.clone(),
            price: p.price.to_string(),
            stock: p.stock.to_string(),
            category_id: p.category_id.to_string(),
            errors: Errors::new(),
        }
    }
}

pub struct ProductsView<'a> {
    pub products: Vec<(Product, String)>,
    pub categories: &'a [CategoryWithCount],
    pub create: ProductInput,
    pub params: &'a [(String, String)],
    pub search: &'a str,
    pub count: u64,
    pub page: u64,
    pub pages: u64,
}

pub fn render(ctx: &Ctx, view: &ProductsView) -> Markup {
    page(
        ctx,
        "Products",
        html! {
            h1 { "Products" }
            section.card {
                h2 { "New product" }
                (form(ctx, "/admin/products", &view.create, view.categories, "Create product", true))
            }
            section.card {
                form.toolbar method="get" action="/admin/products" role="search" {
                    label for="f-search" { "Search" }
                    input #f-search type="search" name="search" value=(view.search);
                    button.button.small.secondary type="submit" { "Search" }
                }
                p.muted { (view.count) " products" }
                table.table.products-table {
                    thead { tr { th scope="col" { "Product" } th scope="col" { "Category" } th scope="col" { "Price" } th scope="col" { "Stock" } th { span.sr-only { "Actions" } } } }
                    tbody {
                        @for (p, category) in &view.products {
                            tr #{"product-" (p.id)} data-product-id=(p.id) {
                                td data-label="Product" { a href={"/admin/products/" (p.id)} { (p.name) } }
                                td data-label="Category" { (category) }
                                td data-label="Price" { (money(p.price)) }
                                td data-label="Stock" { (stock_form(ctx, p, &Errors::new())) }
                                td {
                                    form method="post" action={"/admin/products/" (p.id) "/delete"} hx-post={"/admin/products/" (p.id) "/delete"}
                                        hx-target={"#product-" (p.id)} hx-swap="outerHTML" hx-confirm={"Delete " (p.name) "?"} {
                                        (csrf(ctx))
                                        button.link.danger type="submit" aria-label={"Delete " (p.name)} { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
                (pagination("/admin/products", view.params, view.page, view.pages, None))
            }
        },
    )
}

/// Current stock and an "adjust by" field; htmx swaps just this cell.
pub fn stock_form(ctx: &Ctx, p: &Product, errors: &Errors) -> Markup {
    let id = format!("stock-{}", p.id);
    html! {
        form.stock-form .updated[ctx.htmx.partial()] #(id) method="post" action={"/admin/products/" (p.id) "/stock"}
            hx-post={"/admin/products/" (p.id) "/stock"} hx-target={"#" (id)} hx-swap="outerHTML" {
            (csrf(ctx))
            span.stock-level .none[p.stock == 0] data-stock=(p.stock) { (p.stock) }
            label.sr-only for={(id) "-adjust"} { "Adjust stock of " (p.name) " by" }
            input.qty id={(id) "-adjust"} type="number" name="adjust" placeholder="±" required
                aria-invalid=[errors.get("adjust").map(|_| "true")]
                aria-describedby=[errors.get("adjust").map(|_| format!("{id}-adjust-error"))];
            button.button.small.secondary type="submit" { "Adjust" }
            (field_error(&format!("{id}-adjust-error"), errors.get("adjust")))
        }
    }
}

pub fn form(
    ctx: &Ctx,
    action: &str,
    input: &ProductInput,
    categories: &[CategoryWithCount],
    submit: &str,
    with_stock: bool,
) -> Markup {
    let errors = &input.errors;
    html! {
        form.grid-form method="post" action=(action) {
            (csrf(ctx))
            (form_errors(errors))
            (Field::new("name", "Name", "text", &input.name).required().render(errors))
            (Field::new("price", "Price", "text", &input.price).required().render(errors))
            @if with_stock {
                (Field::new("stock", "Stock", "number", &input.stock).required().attr("min", "0").render(errors))
            }
            div.field .invalid[errors.contains_key("category_id")] {
                label for="f-category_id" { "Category" }
                select #f-category_id name="category_id" required
                    aria-invalid=[errors.get("category_id").map(|_| "true")]
                    aria-describedby=[errors.get("category_id").map(|_| "f-category_id-error")] {
                    option value="" { "Choose…" }
                    @for c in categories {
                        @let id = c.category.id.to_string();
                        option value=(id) selected[input.category_id == id] { (c.category.name) }
                    }
                }
                (field_error("f-category_id-error", errors.get("category_id")))
            }
            (Field::new("description", "Description", "textarea", &input.description).render(errors))
            button.button type="submit" { (submit) }
        }
    }
}

pub fn edit(
    ctx: &Ctx,
    product: &Product,
    input: &ProductInput,
    categories: &[CategoryWithCount],
    stock_errors: &Errors,
) -> Markup {
    page(
        ctx,
        &product.name,
        html! {
            nav.breadcrumb aria-label="Breadcrumb" { a href="/admin/products" { "Products" } " / " (product.name) }
            h1 { "Edit " (product.name) }
            // Stock is changed by the adjust form only: a level typed into this one would
            // overwrite whatever orders took since the page was shown.
            section.card { (form(ctx, &format!("/admin/products/{}", product.id), input, categories, "Save product", false)) }
            section.card { h2 { "Stock" } (stock_form(ctx, product, stock_errors)) }
        },
    )
}
