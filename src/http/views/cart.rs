//! The cart: change quantities, remove lines, see totals, check out (once, however often the
//! button is pressed: the form carries an idempotency key).
use maud::{html, Markup};
use std::collections::HashMap;

use super::components::{csrf, field_error, form_errors, money};
use super::{layout, Ctx, Errors};
use crate::domain::cart::{Quantity, MAX_LINE_QUANTITY};
use crate::domain::catalog::Product;
use crate::domain::ids::ProductId;
use crate::domain::money::Money;
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

/// A visitor's cart: kept in this browser, so app.js fills `#guest-cart` from `guest_lines`
/// with the server's current prices and stock. Without JavaScript it says how to sign in.
pub fn guest_page(ctx: &Ctx) -> Markup {
    layout::page(
        ctx,
        "Cart",
        html! {
            h1 { "Your cart" }
            section #guest-cart .card aria-live="polite" { (guest_empty()) }
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
    let lines: Vec<Line> = cart
        .lines
        .iter()
        .map(|(product, quantity)| Line {
            id: product.id,
            product: Some(product),
            quantity: *quantity,
            note: view
                .shortages
                .get(&product.id)
                .map(|left| format!("Only {left} left")),
            quantity_control: quantity_form(ctx, product.id, *quantity, &view.errors),
            remove: remove_form(ctx, product),
        })
        .collect();
    html! {
        section #cart .card .updated[ctx.htmx.partial()] aria-live="polite" {
            (form_errors(&view.errors))
            @if cart.lines.is_empty() {
                (empty_state())
            } @else {
                (table(&lines, cart.total(), "cart-total"))
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

/// The inside of `#guest-cart` (app.js asks for it with the lines kept in the browser):
/// current prices and stock, controls that change the browser's copy, and the way to check out.
pub fn guest_lines(lines: &[(ProductId, Quantity)], found: &[Product]) -> Markup {
    let mut total = Money::ZERO;
    let rows: Vec<Line> = lines
        .iter()
        .map(|(id, quantity)| {
            let product = found.iter().find(|p| p.id == *id);
            let quantity = quantity.get();
            let note = match product {
                None => Some("No longer available".to_owned()),
                Some(p) if p.stock == 0 => Some("Out of stock".to_owned()),
                Some(p) if p.stock < quantity => Some(format!("Only {} left", p.stock)),
                Some(_) => None,
            };
            if let Some(p) = product {
                total = total.plus(p.price.times(quantity));
            }
            Line {
                id: *id,
                product,
                quantity,
                note,
                quantity_control: html! {
                    input.qty type="number" min="1" max=(MAX_LINE_QUANTITY) value=(quantity)
                        aria-label="Quantity" data-guest-qty=(id);
                },
                remove: html! {
                    button.link.danger type="button" data-guest-remove=(id)
                        aria-label=[product.map(|p| format!("Remove {}", p.name))] { "Remove" }
                },
            }
        })
        .collect();
    html! {
        @if rows.is_empty() {
            (guest_empty())
        } @else {
            (table(&rows, total, "guest-cart-total"))
            p.actions {
                a.button.accent href="/login?next=%2Fcart" { "Log in to check out" } " "
                a.button.secondary href="/register?next=%2Fcart" { "Register" }
            }
            p.muted { "This cart is kept in this browser; prices and stock are checked again when you order." }
        }
    }
}

fn guest_empty() -> Markup {
    html! {
        (empty_state())
        p.muted {
            a href="/login?next=%2Fcart" { "Log in" } " or " a href="/register?next=%2Fcart" { "register" }
            " to check out."
        }
    }
}

fn empty_state() -> Markup {
    html! { p.empty-state { "Your cart is empty. " a href="/" { "Browse the catalog" } "." } }
}

/// One row of a cart table: the signed-in and the guest cart differ only in their controls.
struct Line<'a> {
    id: ProductId,
    /// `None` when the product was deleted since it went into a guest cart.
    product: Option<&'a Product>,
    quantity: u32,
    /// Why the line cannot be ordered as it stands (shown next to the product's name).
    note: Option<String>,
    quantity_control: Markup,
    remove: Markup,
}

fn table(lines: &[Line], total: Money, total_id: &str) -> Markup {
    html! {
        table.table.cart-table {
            thead { tr { th scope="col" { "Product" } th scope="col" { "Price" } th scope="col" { "Quantity" } th scope="col" { "Total" } th { span.sr-only { "Actions" } } } }
            tbody {
                @for line in lines {
                    tr data-product-id=(line.id) .short[line.note.is_some()] .unavailable[line.product.is_none()] {
                        td data-label="Product" {
                            @match line.product {
                                Some(p) => a href={"/products/" (p.id)} { (p.name) },
                                // app.js puts the name this browser remembers in its place.
                                None => span data-missing-name { "Product #" (line.id) },
                            }
                            @if let Some(note) = &line.note {
                                p.field-error role="alert" { (note) }
                            }
                        }
                        td data-label="Price" {
                            @match line.product { Some(p) => (money(p.price)), None => "—" }
                        }
                        td data-label="Quantity" { (line.quantity_control) }
                        td data-label="Total" {
                            @match line.product { Some(p) => (money(p.price.times(line.quantity))), None => "—" }
                        }
                        td { (line.remove) }
                    }
                }
            }
            tfoot { tr { th scope="row" colspan="3" { "Total" } td id=(total_id) { (money(total)) } td {} } }
        }
    }
}

fn remove_form(ctx: &Ctx, product: &Product) -> Markup {
    html! {
        form method="post" action={"/cart/items/" (product.id) "/remove"}
            hx-post={"/cart/items/" (product.id) "/remove"} hx-target="#cart" hx-swap="outerHTML" {
            (csrf(ctx))
            button.link.danger type="submit" aria-label={"Remove " (product.name)} { "Remove" }
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
