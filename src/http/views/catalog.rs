//! The catalog (`/`): filters as a plain GET form that htmx upgrades, product cards, pages;
//! and the product page.
use maud::{html, Markup};

use super::components::{csrf, field_error, money, pagination};
use super::{layout, Ctx, Errors};
use crate::domain::cart::MAX_LINE_QUANTITY;
use crate::domain::catalog::CategoryWithCount;
use crate::domain::catalog::Product;

/// The page sizes offered; the first is the default.
pub const PAGE_SIZES: [&str; 3] = ["12", "24", "48"];

pub struct CatalogView<'a> {
    /// The query parameters as given (empty values dropped), to refill the form and links.
    pub params: &'a [(String, String)],
    pub categories: &'a [CategoryWithCount],
    pub products: Vec<(Product, String)>,
    pub count: u64,
    pub page: u64,
    pub pages: u64,
    pub errors: Errors,
}

impl CatalogView<'_> {
    fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

pub fn page(ctx: &Ctx, view: &CatalogView) -> Markup {
    layout::page(
        ctx,
        "Catalog",
        html! {
            h1 { "Catalog" }
            div.catalog {
                (filters(view))
                (results(ctx, view))
            }
        },
    )
}

fn filters(view: &CatalogView) -> Markup {
    let selected = view.param("category");
    let error = |name: &str| field_error(&format!("f-{name}-error"), view.errors.get(name));
    // A field with an error points at it, so a screen reader reads it with the field.
    let described = |name: &str| view.errors.get(name).map(|_| format!("f-{name}-error"));
    let invalid = |name: &str| view.errors.get(name).map(|_| "true");
    html! {
        form #filters .card.filters method="get" action="/" role="search"
            hx-get="/" hx-target="#results" hx-swap="outerHTML" hx-push-url="true"
            hx-trigger="submit, input delay:300ms" hx-sync="this:replace" {
            h2.h3 { "Filter" }
            div.field {
                label for="f-search" { "Search" }
                input #f-search type="search" aria-describedby=[described("search")] aria-invalid=[invalid("search")] name="search" value=(view.param("search")) placeholder="Product name";
                (error("search"))
            }
            div.field {
                label for="f-category" { "Category" }
                select #f-category name="category" aria-describedby=[described("category")] aria-invalid=[invalid("category")] {
                    option value="" { "All categories" }
                    @for c in view.categories {
                        @let id = c.category.id.to_string();
                        option value=(id) selected[selected == id] { (c.category.name) " (" (c.product_count) ")" }
                    }
                }
                (error("category"))
            }
            div.field-row {
                div.field {
                    label for="f-min_price" { "Min price" }
                    input #f-min_price type="number" aria-describedby=[described("min_price")] aria-invalid=[invalid("min_price")] name="min_price" min="0" step="0.01" inputmode="decimal" value=(view.param("min_price"));
                    (error("min_price"))
                }
                div.field {
                    label for="f-max_price" { "Max price" }
                    input #f-max_price type="number" aria-describedby=[described("max_price")] aria-invalid=[invalid("max_price")] name="max_price" min="0" step="0.01" inputmode="decimal" value=(view.param("max_price"));
                    (error("max_price"))
                }
            }
            div.field.check {
                input #f-in_stock type="checkbox" name="in_stock" value="true" checked[view.param("in_stock") == "true"];
                label for="f-in_stock" { "In stock only" }
            }
            div.field {
                label for="f-page_size" { "Per page" }
                @let current = view.param("page_size");
                select #f-page_size name="page_size" aria-describedby=[described("page_size")] aria-invalid=[invalid("page_size")] {
                    @for size in PAGE_SIZES {
                        option value=(size) selected[current == size] { (size) }
                    }
                    @if !current.is_empty() && !PAGE_SIZES.contains(&current) {
                        option value=(current) selected { (current) }
                    }
                }
                (error("page_size"))
            }
            div.field {
                label for="f-ordering" { "Sort by" }
                select #f-ordering name="ordering" aria-describedby=[described("ordering")] aria-invalid=[invalid("ordering")] {
                    @for (value, label) in [("id", "Oldest first"), ("-created_at", "Newest first"), ("price", "Price: low to high"), ("-price", "Price: high to low"), ("name", "Name")] {
                        option value=(value) selected[view.param("ordering") == value] { (label) }
                    }
                }
                (error("ordering"))
            }
            div.actions {
                button.button type="submit" { "Apply filters" }
                a.button.secondary href="/" { "Reset" }
            }
        }
    }
}

/// The part htmx swaps when the filters change.
pub fn results(ctx: &Ctx, view: &CatalogView) -> Markup {
    html! {
        section #results .results .updated[ctx.htmx.partial()] aria-live="polite" aria-label="Products" {
            p.muted #result-count { (view.count) " product" @if view.count != 1 { "s" } }
            @if view.products.is_empty() {
                p.empty-state { "No products match these filters." }
            }
            ul.cards {
                @for (product, category) in &view.products {
                    li.card.product-card .out-of-stock[product.stock == 0] data-product-id=(product.id) {
                        h2.h3 { a href={"/products/" (product.id)} { (product.name) } }
                        p.muted { (category) }
                        p.price { (money(product.price)) }
                        (stock_label(product))
                        (add_to_cart(ctx, product, false))
                    }
                }
            }
            (pagination("/", view.params, view.page, view.pages, Some("results")))
        }
    }
}

fn stock_label(product: &Product) -> Markup {
    html! {
        @if product.stock == 0 {
            p.stock.none { "Out of stock" }
        } @else if product.stock <= 5 {
            p.stock.low { "Only " (product.stock) " left" }
        } @else {
            p.stock { "In stock" }
        }
    }
}

/// "Add to cart": a plain POST form; htmx posts it in the background and updates the badge.
/// A visitor's form has no htmx: app.js keeps the line in the browser (the guest cart), and
/// without JavaScript the post leads to the login page.
fn add_to_cart(ctx: &Ctx, product: &Product, with_quantity: bool) -> Markup {
    let qty_id = format!("qty-{}", product.id);
    let signed_in = ctx.user.is_some();
    html! {
        form.add-to-cart method="post" action="/cart/items" hx-post=[signed_in.then_some("/cart/items")]
            hx-swap=[signed_in.then_some("none")] data-product-name=(product.name) {
            (csrf(ctx))
            input type="hidden" name="product_id" value=(product.id);
            input type="hidden" name="next" value=(ctx.path);
            @if with_quantity {
                label for=(qty_id) { "Quantity" }
                input.qty id=(qty_id) type="number" name="quantity" value="1" min="1" max=(MAX_LINE_QUANTITY) required;
            } @else {
                input type="hidden" name="quantity" value="1";
            }
            // The product's name follows the visible words (hidden), so the spoken name starts
            // with what is on screen: voice users can say "Add to cart" (WCAG 2.5.3).
            button.button type="submit" disabled[product.stock == 0] {
                @if product.stock == 0 { "Out of stock" } @else { "Add to cart" }
                span.sr-only { ": " (product.name) }
            }
        }
    }
}

pub fn product(ctx: &Ctx, product: &Product, category: &str) -> Markup {
    layout::page(
        ctx,
        &product.name,
        html! {
            nav.breadcrumb aria-label="Breadcrumb" { a href="/" data-catalog-link { "Catalog" } " / " (category) }
            article.card.product-detail .out-of-stock[product.stock == 0] data-product-id=(product.id) {
                h1 { (product.name) }
                p.price.large { (money(product.price)) }
                (stock_label(product))
                @if !product.description.is_empty() { p.description { (product.description) } }
                (add_to_cart(ctx, product, true))
            }
        },
    )
}
