//! Order emails: the shopper hears when an order is placed and when its status changes. They
//! are sent from the durable event log by `outbox`, on a thread of its own, with the retry
//! rules of webhooks, so a mail outage delays emails and never loses or blocks anything.
pub mod compose;
pub mod outbox;
pub mod template;
mod transport;

pub use transport::{MailSettings, Mailer};
