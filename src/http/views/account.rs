//! Log in, register, and the account page (profile and password).
use maud::{html, Markup};

use super::components::{csrf, form_errors, Field};
use super::{layout, Ctx, Errors};
use crate::domain::user::User;

pub struct LoginForm<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub next: &'a str,
    pub errors: Errors,
}

impl<'a> LoginForm<'a> {
    /// The form as first shown: empty, remembering where to go after signing in.
    pub fn blank(next: &'a str) -> LoginForm<'a> {
        LoginForm {
            email: "",
            name: "",
            next,
            errors: Errors::new(),
        }
    }
}

pub fn login(ctx: &Ctx, form: &LoginForm) -> Markup {
    layout::page(
        ctx,
        "Log in",
        html! {
            section.card.narrow {
                h1 { "Log in" }
                form method="post" action="/login" {
                    (csrf(ctx))
                    input type="hidden" name="next" value=(form.next);
                    (form_errors(&form.errors))
                    (Field::new("email", "Email", "email", form.email).required().autocomplete("username").render(&form.errors))
                    (Field::new("password", "Password", "password", "").required().autocomplete("current-password").render(&form.errors))
                    button.button type="submit" { "Log in" }
                }
                p.muted { "New here? " a href={"/register?next=" (urlencoding::encode(form.next))} { "Create an account" } }
            }
        },
    )
}

pub fn register(ctx: &Ctx, form: &LoginForm) -> Markup {
    layout::page(
        ctx,
        "Register",
        html! {
            section.card.narrow {
                h1 { "Create an account" }
                form method="post" action="/register" {
                    (csrf(ctx))
                    input type="hidden" name="next" value=(form.next);
                    (form_errors(&form.errors))
                    (Field::new("name", "Name", "text", form.name).autocomplete("name").render(&form.errors))
                    (Field::new("email", "Email", "email", form.email).required().autocomplete("email").render(&form.errors))
                    (Field::new("password", "Password (at least 8 characters)", "password", "").required().autocomplete("new-password").render(&form.errors))
                    button.button type="submit" { "Register" }
                }
                p.muted { "Already registered? " a href={"/login?next=" (urlencoding::encode(form.next))} { "Log in" } }
            }
        },
    )
}

pub struct AccountView<'a> {
    pub user: &'a User,
    /// Values as typed, when the profile form is shown again with errors.
    pub profile: Option<(&'a str, &'a str, &'a str)>,
    pub profile_errors: Errors,
    pub password_errors: Errors,
}

impl<'a> AccountView<'a> {
    /// The page as stored: no values typed back, no errors.
    pub fn of(user: &'a User) -> AccountView<'a> {
        AccountView {
            user,
            profile: None,
            profile_errors: Errors::new(),
            password_errors: Errors::new(),
        }
    }
}

pub fn account(ctx: &Ctx, view: &AccountView) -> Markup {
    let user = view.user;
    let (name, phone, address) = view
        .profile
        .unwrap_or((&user.name, &user.phone, &user.address));
    layout::page(
        ctx,
        "Account",
        html! {
            h1 { "Your account" }
            p.muted { "Signed in as " strong { (user.email.as_str()) } }
            div.two-columns {
                section.card {
                    h2 { "Profile" }
                    form method="post" action="/account" {
                        (csrf(ctx))
                        (form_errors(&view.profile_errors))
                        (Field::new("name", "Name", "text", name).autocomplete("name").render(&view.profile_errors))
                        (Field::new("phone", "Phone", "tel", phone).autocomplete("tel").render(&view.profile_errors))
                        (Field::new("address", "Address", "textarea", address).render(&view.profile_errors))
                        button.button type="submit" { "Save profile" }
                    }
                }
                (order_emails(ctx, user, None))
                section.card {
                    h2 { "Password" }
                    form method="post" action="/account/password" {
                        (csrf(ctx))
                        (form_errors(&view.password_errors))
                        (Field::new("current_password", "Current password", "password", "").required().autocomplete("current-password").render(&view.password_errors))
                        (Field::new("new_password", "New password", "password", "").required().autocomplete("new-password").render(&view.password_errors))
                        button.button type="submit" { "Change password" }
                    }
                }
            }
        },
    )
}

/// The order-email switch. Without JavaScript the form posts and the whole page comes back;
/// with htmx only this card is swapped, and `saved` says so inside it (a live region).
pub fn order_emails(ctx: &Ctx, user: &User, saved: Option<&str>) -> Markup {
    html! {
        section.card #order-emails .updated[saved.is_some()] aria-labelledby="order-emails-title" {
            h2 #order-emails-title { "Order emails" }
            form method="post" action="/account/emails" hx-post="/account/emails"
                hx-target="#order-emails" hx-swap="outerHTML" {
                (csrf(ctx))
                div.field {
                    label for="f-order-emails" {
                        input #f-order-emails type="checkbox" name="order_emails" value="on"
                            checked[user.order_emails] aria-describedby="f-order-emails-hint";
                        " Email me when an order is placed, shipped, delivered or cancelled"
                    }
                    p.muted #f-order-emails-hint { "Sent to " (user.email.as_str()) "." }
                }
                button.button type="submit" { "Save email preference" }
                p role="status" aria-live="polite" { @if let Some(message) = saved { (message) } }
            }
        }
    }
}
