use crate::error::AppError;

pub use crate::domain::order::Shortage;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A product names a category that does not exist.
    #[error("unknown category")]
    UnknownCategory,
    #[error("not enough stock")]
    InsufficientStock(Vec<Shortage>),
    #[error("the cart is empty")]
    EmptyCart,
    #[error("the idempotency key was used for a different order")]
    IdempotencyMismatch,
    #[error("the database is in use by another OrderStream process")]
    Locked,
    /// Storage is failing (a full disk, an I/O error) and is being reopened.
    #[error("storage is failing; the database is being reopened")]
    Unavailable,
    #[error("storage I/O: {0}")]
    Io(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error(
        "the database has format version {found}, newer than this OrderStream understands \
         ({supported}): it was written by a newer release; run that release (or newer), or \
         restore a backup made for this one"
    )]
    NewerFormat { found: u32, supported: u32 },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(e.to_string())
    }
}

impl StoreError {
    pub(super) fn from_open(e: sled::Error) -> Self {
        let text = e.to_string();
        // sled holds an exclusive file lock; a second opener sees WouldBlock / "lock".
        if text.contains("lock")
            || text.contains("WouldBlock")
            || text.contains("Resource temporarily unavailable")
        {
            StoreError::Locked
        } else {
            StoreError::Io(text)
        }
    }
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(e: sled::transaction::TransactionError<StoreError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(e) => e.into(),
        }
    }
}

/// What a store failure means to a caller: the store knows its errors, the application error
/// does not need to know the store.
impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::UnknownCategory => AppError::field("category_id", "no such category"),
            StoreError::InsufficientStock(s) => AppError::OutOfStock(s),
            StoreError::EmptyCart => AppError::BadRequest("the cart is empty".into()),
            StoreError::IdempotencyMismatch => AppError::Unprocessable(
                "this Idempotency-Key was already used for a different order".into(),
            ),
            StoreError::Io(cause) => AppError::StorageFailing(cause),
            StoreError::Unavailable => AppError::StorageFailing("reopening".into()),
            other => AppError::Internal(other.to_string()),
        }
    }
}
