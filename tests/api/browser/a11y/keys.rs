//! Real key presses over DevTools (Input.dispatchKeyEvent), and the focus checks that go
//! with them: something is focused, not <body>, and it shows a ring (outline or box-shadow).
use serde_json::{json, Value};

use super::super::cdp::Page;

pub struct Key {
    key: &'static str,
    code: &'static str,
    vk: u32,
    text: Option<&'static str>,
}

pub const TAB: Key = Key {
    key: "Tab",
    code: "Tab",
    vk: 9,
    text: None,
};
pub const ENTER: Key = Key {
    key: "Enter",
    code: "Enter",
    vk: 13,
    text: Some("\r"),
};
pub const SPACE: Key = Key {
    key: " ",
    code: "Space",
    vk: 32,
    text: Some(" "),
};

/// Presses and releases `key` (with Shift when `shift`), as a keyboard would.
pub async fn press(page: &Page, key: &Key, shift: bool) {
    let modifiers = if shift { 8 } else { 0 };
    let down = if key.text.is_some() {
        "keyDown"
    } else {
        "rawKeyDown"
    };
    for kind in [down, "keyUp"] {
        let mut event = json!({"type": kind, "key": key.key, "code": key.code,
            "windowsVirtualKeyCode": key.vk, "modifiers": modifiers});
        if let (Some(text), "keyDown") = (key.text, kind) {
            event["text"] = json!(text);
        }
        page.cmd("Input.dispatchKeyEvent", event).await;
    }
}

/// Types text into the focused field (what a keyboard's letters do).
pub async fn type_text(page: &Page, text: &str) {
    page.cmd("Input.insertText", json!({"text": text})).await;
}

/// The focused element, described, and whether its focus ring shows.
const FOCUS: &str = r#"(() => {
  const e = document.activeElement;
  if (!e || e === document.body || !e.isConnected) return {name: null, visible: false};
  const classes = typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '';
  const label = (e.getAttribute('aria-label') || e.textContent || e.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  const s = getComputedStyle(e);
  const transparent = c => c === 'transparent' || /,\s*0\)$/.test(c);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1 && !transparent(s.outlineColor);
  // A box-shadow counts only where it is the focus style (cards always have one).
  const shadow = s.boxShadow !== 'none' && !e.matches('.card');
  return {name: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + classes + ' "' + label + '"', visible: outline || shadow};
})()"#;

/// Asserts that something other than <body> has the focus and shows it; returns its name.
pub async fn assert_focus_visible(page: &Page, when: &str) -> String {
    let focus: Value = page.eval(FOCUS).await;
    let name = focus["name"].as_str().map(str::to_owned);
    let name = name.unwrap_or_else(|| panic!("{when}: the focus is lost (on <body>)"));
    assert_eq!(
        focus["visible"],
        json!(true),
        "{when}: the focus on {name} is not visible"
    );
    name
}

pub async fn focus_matches(page: &Page, selector: &str) -> bool {
    let js = format!(
        "!!document.activeElement && document.activeElement.matches({})",
        json!(selector)
    );
    page.eval(&js).await == json!(true)
}

/// Presses Tab (Shift+Tab when `back`) until `selector` has the focus, checking at every stop
/// that the focus is visible. Panics after 100 presses.
pub async fn tab_to(page: &Page, selector: &str, back: bool) {
    for _ in 0..100 {
        press(page, &TAB, back).await;
        assert_focus_visible(page, &format!("tabbing to {selector}")).await;
        if focus_matches(page, selector).await {
            return;
        }
    }
    panic!("{selector} never got the focus in 100 presses of Tab");
}
