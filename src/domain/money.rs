//! Money as integer cents; rendered as a decimal string with two places.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use super::ValidationError;

/// Upper bound for one price: large enough for any shop, far from overflow when summed.
pub const MAX_PRICE_CENTS: i64 = 100_000_000_00;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }
    pub const fn cents(self) -> i64 {
        self.0
    }

    pub fn times(self, quantity: u32) -> Money {
        Money(self.0.saturating_mul(quantity as i64))
    }
    pub fn plus(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// Parses "19.99", "5", "5.5"; at most two decimals, never negative, never exponent.
    pub fn parse(field: &str, raw: &str) -> Result<Money, ValidationError> {
        let bad = || {
            ValidationError::new(
                field,
                "must be a decimal number ≥ 0 with at most two decimal places",
            )
        };
        let raw = raw.trim();
        let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
        if whole.is_empty() || whole.len() > 12 || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) || (raw.ends_with('.')) {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac_cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac.parse().map_err(|_| bad())?,
        };
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(frac_cents))
            .ok_or_else(bad)?;
        if cents > MAX_PRICE_CENTS {
            return Err(ValidationError::new(field, "is too large"));
        }
        Ok(Money(cents))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts a decimal string (the contract) or a JSON number written with ≤ 2 decimals.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(serde_json::Number),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(t) => t,
            Raw::Number(n) => n.to_string(),
        };
        Money::parse("price", &text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_two_places() {
        assert_eq!(Money::parse("p", "19.99").unwrap().cents(), 1999);
        assert_eq!(Money::parse("p", "5").unwrap().cents(), 500);
        assert_eq!(Money::parse("p", "5.5").unwrap().cents(), 550);
        assert_eq!(Money::parse("p", "0").unwrap().to_string(), "0.00");
        assert_eq!(Money::from_cents(123456).to_string(), "1234.56");
    }

    #[test]
    fn refuses_bad_input() {
        for bad in [
            "",
            "-1",
            "1.234",
            "abc",
            "1e3",
            ".5",
            "5.",
            "1.2.3",
            " ",
            "99999999999999",
        ] {
            assert!(Money::parse("p", bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn deserializes_strings_and_numbers() {
        let m: Money = serde_json::from_str("\"3.10\"").unwrap();
        assert_eq!(m.cents(), 310);
        let m: Money = serde_json::from_str("3.1").unwrap();
        assert_eq!(m.cents(), 310);
        assert!(serde_json::from_str::<Money>("3.123").is_err());
    }
}
