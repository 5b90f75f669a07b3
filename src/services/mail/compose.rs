//! An order event becomes an email: who it goes to, what it says, in text and HTML.
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

use super::template::OrderMail;
use super::MailSettings;
use crate::domain::event::OrderEvent;
use crate::domain::order::Order;
use crate::domain::user::User;

/// The email for `event` of `order`, to its owner `user`; an error only for an address lettre
/// will not take (the store holds parsed addresses, so not expected).
pub fn order_email(
    settings: &MailSettings,
    user: &User,
    order: &Order,
    event: &OrderEvent,
) -> Result<Message, String> {
    let link = format!("{}/orders/{}", settings.public_url, order.id);
    let mail = OrderMail {
        order,
        status: event.status,
        name: &user.name,
        link: &link,
    };
    let to: Mailbox = user
        .email
        .as_str()
        .parse()
        .map_err(|e| format!("recipient: {e}"))?;
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(mail.subject())
        .multipart(MultiPart::alternative_plain_html(
            mail.text(),
            mail.html().into_string(),
        ))
        .map_err(|e| e.to_string())
}
