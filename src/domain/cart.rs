use serde::{Deserialize, Serialize};

use super::ids::ProductId;
use super::ValidationError;

pub const MAX_LINE_QUANTITY: u32 = 10_000;
pub const MAX_CART_LINES: usize = 100;

/// A quantity for one cart line: 1..=10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub fn parse(raw: i64) -> Result<Quantity, ValidationError> {
        if !(1..=MAX_LINE_QUANTITY as i64).contains(&raw) {
            return Err(ValidationError::new(
                "quantity",
                "must be an integer from 1 to 10000",
            ));
        }
        Ok(Quantity(raw as u32))
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A user's cart: lines in the order they were first added. It reserves nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("a line may hold at most {MAX_LINE_QUANTITY} units")]
    LineTooLarge,
    #[error("a cart may hold at most {MAX_CART_LINES} different products")]
    TooManyLines,
    #[error("that product is not in the cart")]
    NoSuchLine,
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn add(&mut self, product_id: ProductId, quantity: Quantity) -> Result<(), CartError> {
        if let Some(line) = self.lines.iter_mut().find(|l| l.product_id == product_id) {
            let sum = line.quantity.get() + quantity.get();
            line.quantity = Quantity::parse(sum as i64).map_err(|_| CartError::LineTooLarge)?;
            return Ok(());
        }
        if self.lines.len() >= MAX_CART_LINES {
            return Err(CartError::TooManyLines);
        }
        self.lines.push(CartLine {
            product_id,
            quantity,
        });
        Ok(())
    }

    pub fn set(&mut self, product_id: ProductId, quantity: Quantity) -> Result<(), CartError> {
        let line = self
            .lines
            .iter_mut()
            .find(|l| l.product_id == product_id)
            .ok_or(CartError::NoSuchLine)?;
        line.quantity = quantity;
        Ok(())
    }

    pub fn remove(&mut self, product_id: ProductId) -> Result<(), CartError> {
        let before = self.lines.len();
        self.lines.retain(|l| l.product_id != product_id);
        if self.lines.len() == before {
            Err(CartError::NoSuchLine)
        } else {
            Ok(())
        }
    }

    /// A stable fingerprint of the lines, used to tell an idempotent retry from a new order.
    pub fn fingerprint(&self) -> String {
        let mut lines: Vec<_> = self
            .lines
            .iter()
            .map(|l| (l.product_id.get(), l.quantity.get()))
            .collect();
        lines.sort_unstable();
        lines
            .iter()
            .map(|(p, q)| format!("{p}x{q}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A visitor's cart as the browser sends it to be shown (`GET /cart/guest?items=…`):
/// `id:quantity` pairs separated by commas, at most `MAX_CART_LINES`, each id once.
pub fn parse_guest_lines(raw: &str) -> Result<Vec<(ProductId, Quantity)>, ValidationError> {
    let invalid = || ValidationError::new("items", "must be id:quantity pairs separated by commas");
    let mut lines: Vec<(ProductId, Quantity)> = Vec::new();
    for pair in raw.split(',').filter(|p| !p.is_empty()) {
        let (id, quantity) = pair.split_once(':').ok_or_else(invalid)?;
        let id: ProductId = id.parse().map_err(|_| invalid())?;
        let quantity = Quantity::parse(quantity.parse().map_err(|_| invalid())?)?;
        if lines.iter().any(|(seen, _)| *seen == id) {
            return Err(ValidationError::new("items", "names a product twice"));
        }
        if lines.len() == MAX_CART_LINES {
            return Err(ValidationError::new(
                "items",
                format!("a cart holds at most {MAX_CART_LINES} products"),
            ));
        }
        lines.push((id, quantity));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> Quantity {
        Quantity::parse(n).unwrap()
    }

    #[test]
    fn add_merges_lines_and_bounds_quantity() {
        let mut cart = Cart::default();
        cart.add(ProductId::new(1), q(2)).unwrap();
        cart.add(ProductId::new(1), q(3)).unwrap();
        assert_eq!(cart.lines.len(), 1);
        assert_eq!(cart.lines[0].quantity.get(), 5);
        assert_eq!(
            cart.add(ProductId::new(1), q(9_999)),
            Err(CartError::LineTooLarge)
        );
        assert_eq!(cart.lines[0].quantity.get(), 5);
    }

    #[test]
    fn quantity_is_1_to_10000() {
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(10_001).is_err());
        assert!(Quantity::parse(10_000).is_ok());
    }

    #[test]
    fn fingerprint_ignores_line_order() {
        let mut a = Cart::default();
        a.add(ProductId::new(1), q(1)).unwrap();
        a.add(ProductId::new(2), q(2)).unwrap();
        let mut b = Cart::default();
        b.add(ProductId::new(2), q(2)).unwrap();
        b.add(ProductId::new(1), q(1)).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(b.remove(ProductId::new(3)), Err(CartError::NoSuchLine));
    }

    #[test]
    fn guest_lines_parse_pairs_and_refuse_anything_else() {
        let lines = parse_guest_lines("3:2,17:1").unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[1].0.get(), lines[1].1.get()), (17, 1));
        assert!(parse_guest_lines("").unwrap().is_empty());
        for bad in [
            "3", "3:0", "3:10001", "x:1", "3:1,3:2", "-1:1", "3:1;4:1", "é:1",
        ] {
            assert!(parse_guest_lines(bad).is_err(), "{bad} must be refused");
        }
        let full: Vec<String> = (1..=MAX_CART_LINES + 1).map(|i| format!("{i}:1")).collect();
        assert!(parse_guest_lines(&full.join(",")).is_err());
    }
}
