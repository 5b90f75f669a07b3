//! The error answers that operations share, as sets a `#[utoipa::path]` names once
//! (`responses((status = 200, ..), AdminWriteErrors)`) instead of the same list on every write.
//! Each entry refers to the problem response component of its status (`schemas.rs`).
use std::collections::BTreeMap;
use utoipa::openapi::response::Response;
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoResponses, ToResponse};

use super::schemas::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
    UnsupportedMediaType,
};

/// `status` answered with the response component `R`, by reference.
fn problem<R: ToResponse<'static>>(status: u16) -> (String, RefOr<Response>) {
    let (name, _) = R::response();
    (status.to_string(), Ref::from_response_name(name).into())
}

macro_rules! response_set {
    ($(#[$doc:meta])* $name:ident { $($status:literal => $response:ty),+ $(,)? }) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$(problem::<$response>($status)),+])
            }
        }
    };
}

response_set! {
    /// What a JSON body can be refused for, whoever sends it.
    BodyErrors {
        400 => BadRequest,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
    }
}

response_set! {
    /// A JSON body sent with a token.
    SignedInBodyErrors {
        400 => BadRequest,
        401 => Unauthorized,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
    }
}

response_set! {
    /// A JSON body only an admin may send.
    AdminBodyErrors {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
    }
}

response_set! {
    /// An admin's write to the catalog or an order, which the current state may refuse.
    AdminWriteErrors {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
    }
}

response_set! {
    /// A change without a body to one resource (a delete, a cancel, a retry).
    NoBodyChangeErrors {
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        409 => Conflict,
    }
}

response_set! {
    /// An admin's read of, or bodyless action on, one resource.
    AdminReadErrors {
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
    }
}

response_set! {
    /// Opening a live stream (WebSocket or SSE).
    LiveErrors {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        429 => TooManyRequests,
    }
}
