use std::collections::BTreeMap;

/// Messages per field, shaped like DRF's `errors` object.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// A parse failure at the edge: which field, and a message meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects several field errors so a form reports all of them at once.
#[derive(Debug, Default)]
pub struct Collector {
    errors: FieldErrors,
}

impl Collector {
    pub fn take<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.entry(e.field).or_default().push(e.message);
                None
            }
        }
    }

    /// `Ok(value)` when nothing was refused; `value` is built only then, from the fields
    /// `take` kept (each `Some` once no error was collected).
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        // Every field that `take` refused left an error; none did, so every one is `Some`.
        value().ok_or_else(|| {
            FieldErrors::from([(
                "non_field_errors".to_owned(),
                vec!["the input could not be parsed".to_owned()],
            )])
        })
    }
}

/// A field a whole body must give.
pub fn required<T>(field: &str, given: Option<T>) -> Result<T, ValidationError> {
    given.ok_or_else(|| ValidationError::new(field, "this field is required"))
}

/// Trims and bounds a free-text field by characters (not bytes).
pub fn bounded_text(field: &str, raw: &str, max_chars: usize) -> Result<String, ValidationError> {
    let text = raw.trim();
    if text.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// Like `bounded_text` but empty is refused.
pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, ValidationError> {
    let text = bounded_text(field, raw, max_chars)?;
    if text.is_empty() {
        return Err(ValidationError::new(field, "must not be blank"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_counts_characters_not_bytes() {
        assert!(bounded_text("name", &"é".repeat(100), 100).is_ok());
        assert!(bounded_text("name", &"é".repeat(101), 100).is_err());
    }

    #[test]
    fn required_text_refuses_blank_and_control_characters() {
        assert!(required_text("name", "   ", 10).is_err());
        assert!(required_text("name", "a\u{0}b", 10).is_err());
        assert_eq!(required_text("name", "  ok ", 10).unwrap(), "ok");
    }
}
