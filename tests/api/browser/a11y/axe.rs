//! axe-core, vendored under `../vendor/` for these tests only (never served, never in the
//! binary), injected into the page over DevTools and run with the WCAG 2.0/2.1 A and AA rules.
//! An `Audit` collects the violations of every page and state (and any field error no field
//! points at), so one run reports them all.
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

use super::super::cdp::Page;

const AXE: &str = include_str!("../vendor/axe.min.js");

/// Rule tags axe runs: WCAG 2.0 and 2.1, levels A and AA.
const RUN: &str = "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})";

pub const DESKTOP: (u32, u32) = (1280, 800);
pub const PHONE: (u32, u32) = (375, 740);

/// Where the audit's screenshots go: `target/a11y-screenshots/`.
pub fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/a11y-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    dir
}

pub async fn set_width(page: &Page, (width, height): (u32, u32)) {
    let mobile = width < 600;
    page.cmd(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
    )
    .await;
    // Two frames: the new layout has been computed before axe measures it.
    page.eval(
        "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))",
    )
    .await;
}

/// htmx done and no animation running: a fading element would be measured mid-fade.
pub async fn settled(page: &Page) {
    page.htmx_idle().await;
    page.wait_for(
        "!document.getAnimations().some(a => a.playState === 'running')",
        Duration::from_secs(5),
        "animations to finish",
    )
    .await;
}

/// The violations on the page as it is now, one line per rule and element.
pub async fn violations(page: &Page) -> Vec<String> {
    if page.eval("typeof axe === 'undefined'").await == json!(true) {
        // `;true`: the script's own last value need not survive serialization.
        if let Err(e) = page.try_eval(&format!("{AXE}\n;true")).await {
            panic!("injecting axe-core: {e}");
        }
    }
    let found = page
        .eval(&format!("{RUN}.then(r => r.violations.map(v => ({{id: v.id, help: v.help, nodes: v.nodes.map(n => ({{target: n.target.join(' '), message: n.failureSummary}}))}})))"))
        .await;
    let mut lines = Vec::new();
    for rule in found.as_array().into_iter().flatten() {
        for node in rule["nodes"].as_array().into_iter().flatten() {
            lines.push(format!(
                "{} ({}) at `{}`: {}",
                rule["id"].as_str().unwrap_or_default(),
                rule["help"].as_str().unwrap_or_default(),
                node["target"].as_str().unwrap_or_default(),
                one_line(&node["message"]),
            ));
        }
    }
    lines
}

/// Field errors no field points at (`aria-describedby`): a screen reader on the field would
/// not hear them. axe does not check this; the pages promise it.
const UNLINKED_ERRORS: &str = "[...document.querySelectorAll('.field-error[id]')].filter(e => !document.querySelector(`[aria-describedby~=\"${e.id}\"]`)).map(e => '#' + e.id)";

pub async fn unlinked_errors(page: &Page) -> Vec<String> {
    let found = page.eval(UNLINKED_ERRORS).await;
    let ids = found.as_array().into_iter().flatten();
    ids.map(|id| format!("field error {id} is not linked to its field (aria-describedby)"))
        .collect()
}

fn one_line(message: &Value) -> String {
    let text = message.as_str().unwrap_or_default();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Default)]
pub struct Audit {
    checked: usize,
    found: Vec<String>,
}

impl Audit {
    /// Audits the page as it is now, at desktop and at phone width, with a screenshot of each.
    pub async fn check(&mut self, page: &Page, name: &str) {
        settled(page).await;
        for line in unlinked_errors(page).await {
            self.found.push(format!("[{name}] {line}"));
        }
        for (size, label) in [(DESKTOP, "desktop"), (PHONE, "phone")] {
            set_width(page, size).await;
            page.screenshot_in(&screenshots_dir(), &format!("{name}-{label}"))
                .await;
            for line in violations(page).await {
                self.found.push(format!("[{name} @ {label}] {line}"));
            }
            self.checked += 1;
        }
        set_width(page, DESKTOP).await;
    }

    /// Opens `path` and audits it.
    pub async fn visit(&mut self, page: &Page, path: &str, name: &str) {
        page.goto(path).await;
        self.check(page, name).await;
    }

    /// Fails with every violation found, each naming the page, width, rule and element.
    pub fn assert_none(&self, who: &str) {
        eprintln!("axe ({who}): {} page views audited", self.checked);
        assert!(
            self.found.is_empty(),
            "{} accessibility problems ({who}):\n{}",
            self.found.len(),
            self.found.join("\n")
        );
    }
}
