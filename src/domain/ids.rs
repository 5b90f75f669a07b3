//! Typed ids: a bare u64 never crosses a module boundary.
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            pub const fn new(raw: u64) -> Self { Self(raw) }
            pub const fn get(self) -> u64 { self.0 }
            /// Big-endian bytes, so sled keys sort in id order.
            pub fn to_key(self) -> [u8; 8] { self.0.to_be_bytes() }
            pub fn from_key(bytes: &[u8]) -> Option<Self> {
                Some(Self(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }

        impl std::str::FromStr for $name {
            type Err = crate::domain::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(Self(n)),
                    _ => Err(crate::domain::ValidationError::new("id", "must be a positive integer")),
                }
            }
        }
    )*};
}

typed_id!(UserId, CategoryId, ProductId, OrderId, EventId, FamilyId, WebhookId, DeliveryId);
