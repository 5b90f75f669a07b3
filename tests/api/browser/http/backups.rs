//! Scheduled backups in `backup_dir`: written on the timer, pruned to `backup_keep`, listed on
//! /admin/backups and downloadable there by admins only; "Back up now" with CSRF.
use super::Browserless;
use crate::helpers::*;
use reqwest::header::COOKIE;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

fn backups_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|name| name.ends_with(".osbackup") && !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

async fn download(browser: &Browserless<'_>, name: &str) -> reqwest::Response {
    let jar: Vec<String> = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut request = browser
        .app
        .client
        .get(browser.app.url(&format!("/admin/backups/{name}")));
    if !jar.is_empty() {
        request = request.header(COOKIE, jar.join("; "));
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn scheduled_backups_are_kept_to_backup_keep_listed_and_served_to_admins_only() {
    let backups = tempfile::tempdir().unwrap();
    let dir = backups.path().to_path_buf();
    let app = TestApp::spawn_with(|s| {
        s.backup_dir = Some(dir.clone());
        s.backup_every_hours = 1.0 / 3600.0;
        s.backup_keep = 2;
    })
    .await;
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = backups_in(&dir);
        assert!(
            now.len() <= 3,
            "more than backup_keep (+1 being pruned): {now:?}"
        );
        seen.extend(now.iter().cloned());
        if seen.len() >= 4 && now.len() == 2 {
            // The two kept are the newest written.
            assert_eq!(
                now.iter().collect::<Vec<_>>(),
                seen.iter().rev().take(2).rev().collect::<Vec<_>>()
            );
            break;
        }
        assert!(Instant::now() < deadline, "backups seen: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Hold the timer off, so the directory stays still while the page is checked.
    let app = app.restart_with(|s| s.backup_every_hours = 24.0).await;
    let kept = backups_in(&dir);
    let mut admin = Browserless::new(&app);
    admin.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/backups").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"href="/admin/backups""#),
        "in the admin nav"
    );
    for name in &kept {
        assert!(
            page.body
                .contains(&format!(r#"href="/admin/backups/{name}""#)),
            "{name} listed"
        );
    }

    let name = kept.iter().next().unwrap();
    let answer = download(&admin, name).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        answer.bytes().await.unwrap(),
        std::fs::read(dir.join(name)).unwrap()
    );
    for bad in [
        "..%2F..%2Fetc%2Fpasswd",
        "orderstream-1.txt",
        ".orderstream-1.osbackup.partial",
    ] {
        assert_eq!(download(&admin, bad).await.status(), 404, "{bad}");
    }

    let shopper = app.new_user().await;
    let mut other = Browserless::new(&app);
    other.log_in(&shopper.email, &shopper.password).await;
    assert_eq!(download(&other, name).await.status(), 403);
    assert_eq!(other.get("/admin/backups").await.status, 403);
    let visitor = download(&Browserless::new(&app), name).await;
    assert_eq!(visitor.status(), 303);
    assert!(visitor.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));

    // "Back up now": refused without the CSRF token, done with it (and pruned to backup_keep).
    let no_token = app.client.post(app.url("/admin/backups"));
    let refused = admin.send(no_token).await;
    assert_eq!(refused.status, 403);
    assert_eq!(backups_in(&dir), kept);
    let done = admin.post("/admin/backups", &[]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), "/admin/backups");
    let now = backups_in(&dir);
    assert_eq!(now.len(), 2);
    assert!(
        now.iter().any(|n| !kept.contains(n)),
        "a new backup: {now:?}"
    );
}

#[tokio::test]
async fn without_backup_dir_the_page_says_how_to_turn_backups_on() {
    let app = TestApp::spawn().await;
    let mut admin = Browserless::new(&app);
    admin.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/backups").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Scheduled backups are off"),
        "{}",
        page.body
    );
    let done = admin.post("/admin/backups", &[]).await;
    assert_eq!(done.status, 409);
}
