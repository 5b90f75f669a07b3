//! HTML views (maud): one layout, shared components, one module per page. No IO here: views
//! receive everything they show, handlers decide what to fetch.
pub mod account;
pub mod admin;
pub mod cart;
pub mod catalog;
pub mod components;
pub mod errors;
pub mod icons;
pub mod layout;
pub mod notifications;
pub mod orders;

use crate::domain::FieldErrors;

/// What every page needs besides its own data: who is looking, the CSRF token for forms,
/// and the counts shown in the navigation.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub user: Option<Viewer>,
    pub csrf: String,
    /// Path and query of the current request (for `next` links and active navigation).
    pub path: String,
    pub cart_count: u32,
    pub unread: u64,
    /// The event id to resume live updates from (the newest event when the page was rendered).
    pub last_event_id: u64,
    /// A message shown at the top of the page (e.g. "Profile saved.").
    pub flash: Option<String>,
    pub htmx: Htmx,
}

#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

/// The htmx request headers that decide between a whole page and a fragment.
#[derive(Debug, Clone, Default)]
pub struct Htmx {
    pub request: bool,
    pub target: Option<String>,
    pub history_restore: bool,
}

impl Htmx {
    /// True when htmx asked for the element `id` only (never for a history restore).
    pub fn wants(&self, id: &str) -> bool {
        self.request && !self.history_restore && self.target.as_deref() == Some(id)
    }

    /// An htmx request that is not a history restore (fragments and out-of-band swaps are fine).
    pub fn partial(&self) -> bool {
        self.request && !self.history_restore
    }
}

impl Ctx {
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }

    pub fn with_flash(mut self, message: impl Into<String>) -> Ctx {
        self.flash = Some(message.into());
        self
    }
}

/// Field errors of a form; empty when the form is shown for the first time.
pub type Errors = FieldErrors;
