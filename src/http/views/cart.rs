//! The cart: change quantities, remove lines, see totals, check out (once, however often the
//! button is pressed: the form carries an idempotency key).
use maud::{html, Markup};
use std::collections::HashMap;

use super::components::{csrf, field_error, form_errors, money};
use super::{layout, Ctx, Errors};
use crate::domain::cart::MAX_LINE_QUANTITY;
use crate::domain::ids::ProductId;
use crate::services::cart::CartView;

pub struct CartPage<'a> {
    pub cart: &'a CartView,
    /// A fresh key per rendering: a double submit of this form places one order.
    pub idempotency_key: String,
    /// Product → how many are left, after a checkout that asked for more.
    pub shortages: HashMap<ProductId, u32>,
    pub errors: Errors,
}

pub fn page(ctx: &Ctx, view: &CartPage) -> Markup {
    layout::page(
        ctx,
        "Cart",
        html! {
            h1 { "Your cart" }
            (section(ctx, view))
        },
    )
}

/// A visitor's cart: kept in this browser, so app.js renders it into `#guest-cart` with the
/// server's current prices and stock. Without JavaScript it stays empty and says how to sign in.
pub fn guest_page(ctx: &Ctx) -> Markup {
    layout::page(
        ctx,
        "Cart",
        html! {
            h1 { "Your cart" }
            section #guest-cart .card aria-live="polite" {
                p.empty-state { "Your cart is empty. " a href="/" { "Browse the catalog" } "." }
                p.muted {
                    a href="/login?next=%2Fcart" { "Log in" } " or " a href="/register?next=%2Fcart" { "register" }
                    " to check out."
                }
            }
        },
    )
}

/// What htmx swaps in after a cart action: the section, and the badge out of band.
pub fn section_update(ctx: &Ctx, view: &CartPage) -> Markup {
    html! { (section(ctx, view)) (layout::cart_badge(view.cart.quantity(), true)) }
}

/// The answer to "Add to cart" from the catalog (htmx): the new badge and a flash message.
pub fn added(cart: &CartView, name: &str) -> Markup {
    html! {
        (layout::cart_badge(cart.quantity(), true))
        (layout::flash_oob(&format!("Added {name} to your cart.")))
    }
}

/// The part htmx replaces after every cart action.
pub fn section(ctx: &Ctx, view: &CartPage) -> Markup {
    let cart = view.cart;
    html! {
        section #cart .card .updated[ctx.htmx.partial()] aria-live="polite" {
            (form_errors(&view.errors))
            @if cart.lines.is_empty() {
                p.empty-state { "Your cart is empty. " a href="/" { "Browse the catalog" } "." }
            } @else {
                table.table.cart-table {
                    thead { tr { th scope="col" { "Product" } th scope="col" { "Price" } th scope="col" { "Quantity" } th scope="col" { "Total" } th { span.sr-only { "Actions" } } } }
                    tbody {
                        @for (product, quantity) in &cart.lines {
                            @let short = view.shortages.get(&product.id);
                            tr data-product-id=(product.id) .short[short.is_some()] {
                                td data-label="Product" {
                                    a href={"/products/" (product.id)} { (product.name) }
                                    @if let Some(left) = short {
                                        p.field-error role="alert" { "Only " (left) " left" }
                                    }
                                }
                                td data-label="Price" { (money(product.price)) }
                                td data-label="Quantity" { (quantity_form(ctx, product.id, *quantity, &view.errors)) }
                                td data-label="Total" { (money(product.price.times(*quantity))) }
                                td {
                                    form method="post" action={"/cart/items/" (product.id) "/remove"}
                                        hx-post={"/cart/items/" (product.id) "/remove"} hx-target="#cart" hx-swap="outerHTML" {
                                        (csrf(ctx))
                                        button.link.danger type="submit" aria-label={"Remove " (product.name)} { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                    tfoot { tr { th scope="row" colspan="3" { "Total" } td #cart-total { (money(cart.total())) } td {} } }
                }
                form.checkout method="post" action="/cart/checkout" hx-post="/cart/checkout" hx-target="#cart"
                    hx-swap="outerHTML" hx-disabled-elt="find button" {
                    (csrf(ctx))
                    input type="hidden" name="idempotency_key" value=(view.idempotency_key);
                    button.button.accent #checkout type="submit" { "Place order" }
                }
            }
        }
    }
}

fn quantity_form(ctx: &Ctx, product: ProductId, quantity: u32, errors: &Errors) -> Markup {
    let id = format!("qty-{product}");
    let error_key = format!("quantity-{product}");
    html! {
        form.qty-form method="post" action={"/cart/items/" (product)}
            hx-post={"/cart/items/" (product)} hx-target="#cart" hx-swap="outerHTML" {
            (csrf(ctx))
            label.sr-only for=(id) { "Quantity" }
            input.qty id=(id) type="number" name="quantity" value=(quantity) min="1" max=(MAX_LINE_QUANTITY) required
                aria-invalid=[errors.get(&error_key).map(|_| "true")]
                aria-describedby=[errors.get(&error_key).map(|_| format!("{id}-error"))];
            button.button.small.secondary type="submit" { "Update" }
            (field_error(&format!("{id}-error"), errors.get(&error_key)))
        }
    }
}
