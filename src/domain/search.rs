//! What a shopper's search means, in one place: the index, the API and the tests agree on it.
//!
//! Names and searches are compared *folded*: lower-cased, decomposed (NFD) and stripped of
//! combining marks, so `creme` finds `Crème` and `CAFE` finds `café`. A search is split into
//! whitespace-separated words; a name matches when every word occurs somewhere in it (a
//! substring, like DRF's `icontains`), in any order.
use std::borrow::Cow;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The form names and searches are compared in. Borrows when there is nothing to fold (plain
/// lower-case ASCII, most names), so checking a name costs no allocation.
pub fn fold(text: &str) -> Cow<'_, str> {
    if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            // Per character, not `str::to_lowercase`: that one picks the final sigma by
            // context, so a word cut out of a name could lower-case differently from the name.
            .flat_map(char::to_lowercase)
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .map(|c| if c == 'ς' { 'σ' } else { c })
            .collect(),
    )
}

/// A parsed search: its folded words, each distinct, longest first (the most selective word
/// is tried first when the index narrows candidates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    words: Vec<String>,
}

impl Search {
    /// `None` when no word is left (blank, or nothing but combining marks).
    pub fn new(text: &str) -> Option<Search> {
        let mut words: Vec<String> = fold(text).split_whitespace().map(str::to_owned).collect();
        words.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        words.dedup();
        (!words.is_empty()).then_some(Search { words })
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether a name already folded with [`fold`] matches.
    pub fn matches_folded(&self, folded_name: &str) -> bool {
        self.words.iter().all(|w| folded_name.contains(w.as_str()))
    }

    /// Whether a name (in any case, with or without accents) matches.
    pub fn matches(&self, name: &str) -> bool {
        self.matches_folded(&fold(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Crème Brûlée"), "creme brulee");
        assert_eq!(fold("ÄPFEL"), "apfel");
        assert_eq!(fold("ΟΔΟΣ"), fold("οδοσ"));
        assert!(matches!(fold("plain words 42"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_word_must_match_in_any_order() {
        let search = Search::new("  Mug   BLUE ").unwrap();
        assert!(search.matches("Blue Mug"));
        assert!(search.matches("mug, blue-ish"));
        assert!(!search.matches("Blue Cup"));
        assert!(Search::new("creme").unwrap().matches("Crème fraîche"));
        assert!(Search::new("CRÈME").unwrap().matches("creme"));
        assert!(Search::new("ue mu").unwrap().matches("Mug Blue"));
    }

    #[test]
    fn blank_searches_are_no_search() {
        assert_eq!(Search::new("   "), None);
        assert_eq!(Search::new("\u{301}"), None);
        assert_eq!(Search::new("a a A").unwrap().words(), ["a"]);
    }
}
