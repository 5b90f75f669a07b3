//! `orderstream backup` of a stopped data dir, `orderstream restore`, and what both refuse.
use super::{all_orders, assert_refused, assert_succeeded, orderstream, stocks};
use crate::binary;
use crate::helpers::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A stopped app's data dir with an admin, products, a shopper and two orders (one cancelled).
async fn stopped_shop() -> (TestApp, TestUser) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let category = app.create_category(&admin, "Tea").await;
    let green = app
        .create_product(&admin, "Green", "3.50", 20, category)
        .await;
    let black = app
        .create_product(&admin, "Black", "4.00", 10, category)
        .await;
    let user = app.new_user().await;
    for _ in 0..2 {
        app.add_to_cart(&user, green, 2).await;
        app.add_to_cart(&user, black, 1).await;
        let response = app
            .post("/api/orders/", Some(&user.access), serde_json::json!({}))
            .await;
        assert_eq!(response.status(), 201);
    }
    let cancel = app
        .request(
            reqwest::Method::POST,
            "/api/orders/1/cancel/",
            Some(&user.access),
            None,
        )
        .await;
    assert_eq!(cancel.status(), 200);
    let mut app = app;
    app.stop().await;
    (app, user)
}

fn back_up(data_dir: &Path, out: &Path) -> std::process::Output {
    orderstream(&[
        "--data-dir".as_ref(),
        data_dir.as_os_str(),
        "backup".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
}

fn restore(file: &Path, data_dir: &Path) -> std::process::Output {
    orderstream(&[
        "--data-dir".as_ref(),
        data_dir.as_os_str(),
        "restore".as_ref(),
        "--from".as_ref(),
        file.as_os_str(),
    ])
}

/// A backup file of a stopped shop, in `dir`.
async fn backup_file(dir: &Path) -> (PathBuf, TestApp, TestUser) {
    let (app, user) = stopped_shop().await;
    let file = dir.join("shop.osbackup");
    // The stopped server's last handle on the database may take a moment to go.
    let mut output = back_up(app.data_dir.path(), &file);
    for _ in 0..60 {
        if output.status.success() || !String::from_utf8_lossy(&output.stderr).contains("in use") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        output = back_up(app.data_dir.path(), &file);
    }
    assert_succeeded(&output);
    (file, app, user)
}

#[tokio::test]
async fn cli_backup_of_a_stopped_data_dir_restores_the_same_data() {
    if skip_unless_sled("the CLI backs up and restores a stopped sled data dir") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (file, app, user) = backup_file(dir.path()).await;
    let app = app.restart().await;
    let admin = app.admin().await;
    let original = crate::binary::Api {
        client: app.client.clone(),
        base: app.address.clone(),
    };
    let (orders, stock) = (
        all_orders(&original, &admin.access).await,
        stocks(&original).await,
    );

    assert_succeeded(&restore(&file, &dir.path().join("data")));
    let server = binary::start(dir.path(), 1).await;
    let admin = server.api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(all_orders(&server.api, &admin).await, orders);
    assert_eq!(stocks(&server.api).await, stock);
    assert_eq!(orders.len(), 2);
    let access = server.api.login(&user.email, &user.password).await;
    let mine = server.api.get("/api/orders/", Some(&access)).await;
    assert_eq!(mine["count"], 2);
}

fn rewritten(file: &Path, name: &str, change: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    change(&mut bytes);
    let path = file.with_file_name(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn restore_refuses_damaged_truncated_newer_or_foreign_files_and_writes_nothing() {
    if skip_unless_sled("the CLI restores into a sled data dir") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (file, _app, _) = backup_file(dir.path()).await;
    let len = std::fs::metadata(&file).unwrap().len() as usize;
    let cases = [
        (
            rewritten(&file, "flipped", |b| b[len / 2] ^= 0x01),
            "damaged",
        ),
        (
            rewritten(&file, "last-flipped", |b| b[len - 1] ^= 0x80),
            "damaged",
        ),
        (
            rewritten(&file, "truncated", |b| b.truncate(len - 40)),
            "damaged",
        ),
        (
            rewritten(&file, "header-only", |b| b.truncate(10)),
            "damaged",
        ),
        (
            rewritten(&file, "newer-backup", |b| {
                b[8..12].copy_from_slice(&2u32.to_be_bytes())
            }),
            "written by a newer OrderStream",
        ),
        (
            rewritten(&file, "newer-db", |b| {
                b[12..16].copy_from_slice(&99u32.to_be_bytes())
            }),
            "database of format version 99",
        ),
        (
            rewritten(&file, "foreign", |b| *b = b"hello, world\n".to_vec()),
            "not an OrderStream backup",
        ),
    ];
    for (n, (bad, message)) in cases.iter().enumerate() {
        let target = dir.path().join(format!("target-{n}"));
        assert_refused(&restore(bad, &target), message);
        assert!(
            !target.exists(),
            "{}: the target was created",
            bad.display()
        );
        // An existing empty directory stays empty.
        std::fs::create_dir(&target).unwrap();
        assert_refused(&restore(bad, &target), message);
        assert_eq!(
            std::fs::read_dir(&target).unwrap().count(),
            0,
            "{}",
            bad.display()
        );
    }

    let occupied = dir.path().join("occupied");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("notes.txt"), "mine").unwrap();
    assert_refused(&restore(&file, &occupied), "is not empty");
    let entries: Vec<_> = std::fs::read_dir(&occupied)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["notes.txt"]);

    // Backing up a directory without a database creates none.
    let nowhere = dir.path().join("nowhere");
    assert_refused(
        &back_up(&nowhere, &dir.path().join("x")),
        "there is no database in",
    );
    assert!(!nowhere.exists());

    // The untouched file restores into an empty directory.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_succeeded(&restore(&file, &empty));
}

#[tokio::test]
async fn a_database_of_a_newer_format_is_refused_with_a_clear_message() {
    if skip_unless_sled("sled's own format-version record") {
        return;
    }
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let data = app.data_dir.path();
    let newer = orderstream::store::DATABASE_FORMAT_VERSION + 1;
    {
        let db = open_when_released(&data.join("db")).await;
        let meta = db.open_tree("meta").unwrap();
        meta.insert("format_version", &newer.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let expected = format!("the database has format version {newer}, newer than this OrderStream");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_orderstream"))
        .arg("--config")
        .arg("/nonexistent/orderstream.toml")
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--addr", "127.0.0.1:0", "--no-demo"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("the server opened a database of a newer format");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = server.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(stderr.contains(&expected), "{stderr}");

    let out = tempfile::tempdir().unwrap();
    assert_refused(&back_up(data, &out.path().join("x")), &expected);
    // Refused without a change: still the newer version, the open wrote nothing over it.
    let db = open_when_released(&data.join("db")).await;
    let stored = db
        .open_tree("meta")
        .unwrap()
        .get("format_version")
        .unwrap()
        .unwrap();
    assert_eq!(stored.as_ref(), newer.to_be_bytes());
}

/// Opens the database directly, once the stopped server's last handle on it is gone.
async fn open_when_released(path: &Path) -> sled::Db {
    for _ in 0..100 {
        if let Ok(db) = sled::open(path) {
            return db;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} stays locked", path.display());
}
