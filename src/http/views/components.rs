//! Pieces shared by several pages: form fields with their errors, pagination, status badges.
use maud::{html, Markup};

use super::{icons, Ctx, Errors};
use crate::domain::ids::UserId;
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use std::collections::HashMap;

pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// Who placed an order: their email when known.
pub fn customer(user: UserId, emails: &HashMap<UserId, String>) -> Markup {
    html! {
        @match emails.get(&user) {
            Some(email) => span.customer title={"user " (user)} { (email) },
            None => span.customer { "user " (user) },
        }
    }
}

pub fn money(amount: Money) -> Markup {
    html! { span.money { "$" (amount) } }
}

/// One labelled input with its error message next to it (linked by `aria-describedby`).
pub struct Field<'a> {
    pub id: String,
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub required: bool,
    pub autocomplete: Option<&'a str>,
    pub extra: Option<(&'a str, &'a str)>,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str, kind: &'a str, value: &'a str) -> Field<'a> {
        Field {
            id: format!("f-{name}"),
            name,
            label,
            kind,
            value,
            required: false,
            autocomplete: None,
            extra: None,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn id(mut self, id: String) -> Self {
        self.id = id;
        self
    }

    pub fn autocomplete(mut self, value: &'a str) -> Self {
        self.autocomplete = Some(value);
        self
    }

    /// `min`/`step`-like numeric attributes: ("min", "0") etc. Only one is needed so far.
    pub fn attr(mut self, name: &'a str, value: &'a str) -> Self {
        self.extra = Some((name, value));
        self
    }

    pub fn render(&self, errors: &Errors) -> Markup {
        let messages = errors.get(self.name);
        let error_id = format!("{}-error", self.id);
        let (min, step) = match self.extra {
            Some(("min", v)) => (Some(v), None),
            Some(("step", v)) => (None, Some(v)),
            _ => (None, None),
        };
        html! {
            div.field .invalid[messages.is_some()] {
                label for=(self.id) { (self.label) }
                @if self.kind == "textarea" {
                    textarea id=(self.id) name=(self.name) rows="3" required[self.required]
                        aria-invalid=[messages.map(|_| "true")]
                        aria-describedby=[messages.map(|_| error_id.as_str())] { (self.value) }
                } @else {
                    input id=(self.id) type=(self.kind) name=(self.name) value=(self.value)
                        required[self.required] autocomplete=[self.autocomplete]
                        min=[min] step=[step]
                        aria-invalid=[messages.map(|_| "true")]
                        aria-describedby=[messages.map(|_| error_id.as_str())];
                }
                (field_error(&error_id, messages))
            }
        }
    }
}

pub fn field_error(id: &str, messages: Option<&Vec<String>>) -> Markup {
    html! {
        @if let Some(messages) = messages {
            p.field-error id=(id) { (messages.join("; ")) }
        }
    }
}

/// Errors that belong to no single field (e.g. "the cart is empty").
pub fn form_errors(errors: &Errors) -> Markup {
    html! {
        @if let Some(messages) = errors.get("non_field_errors") {
            p.form-error role="alert" { (messages.join("; ")) }
        }
    }
}

pub fn status_badge(status: OrderStatus) -> Markup {
    html! {
        span class={"status status-" (status.as_str())} data-status=(status.as_str()) {
            (icons::status(status)) " " (status.as_str())
        }
    }
}

/// Previous / next links that keep the other query parameters. htmx swaps `target` only.
pub fn pagination(
    base: &str,
    params: &[(String, String)],
    page: u64,
    pages: u64,
    target: Option<&str>,
) -> Markup {
    let url = |n: u64| {
        let mut query: Vec<String> = params
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
            .collect();
        if n > 1 {
            query.push(format!("page={n}"));
        }
        if query.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", query.join("&"))
        }
    };
    let hx_target = target.map(|t| format!("#{t}"));
    html! {
        @if pages > 1 {
            nav.pagination aria-label="Pages" {
                @if page > 1 {
                    a rel="prev" href=(url(page - 1)) hx-get=[target.map(|_| url(page - 1))]
                        hx-target=[hx_target.as_deref()] hx-swap="outerHTML" hx-push-url=[target.map(|_| "true")] { "← Previous" }
                }
                span { "Page " (page) " of " (pages) }
                @if page < pages {
                    a rel="next" href=(url(page + 1)) hx-get=[target.map(|_| url(page + 1))]
                        hx-target=[hx_target.as_deref()] hx-swap="outerHTML" hx-push-url=[target.map(|_| "true")] { "Next →" }
                }
            }
        }
    }
}

pub fn pages(count: u64, size: u64) -> u64 {
    count.div_ceil(size.max(1)).max(1)
}

pub fn date(at: &time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.format(&format).unwrap_or_default()
}

pub fn iso(at: &time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
