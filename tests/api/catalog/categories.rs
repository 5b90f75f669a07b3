//! Categories: CRUD, uniqueness, who may write, and deletion only when empty.
use super::{fetch, field_error, ok_json, problem, product_body};
use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn categories_crud() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());

    let response = app
        .post(
            "/api/categories/",
            token,
            json!({"name": "Books", "description": "Paper"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let books: Value = response.json().await.unwrap();
    let id = books["id"].as_u64().expect("id");
    assert_eq!(
        books,
        json!({"id": id, "name": "Books", "description": "Paper", "product_count": 0})
    );
    assert_eq!(
        ok_json(&app, &format!("/api/categories/{id}/")).await,
        books
    );
    assert_eq!(
        ok_json(&app, &format!("/api/categories/{id}")).await,
        books,
        "no trailing slash"
    );

    // PUT replaces; PATCH changes only what it names.
    let path = format!("/api/categories/{id}/");
    let response = app
        .put(
            &path,
            token,
            json!({"name": "Novels", "description": "Long stories"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["name"], "Novels");
    let response = app
        .patch(&path, token, json!({"description": "Fiction"}))
        .await;
    assert_eq!(response.status(), 200);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(
        (patched["name"].as_str(), patched["description"].as_str()),
        (Some("Novels"), Some("Fiction"))
    );
    assert_eq!(ok_json(&app, &path).await, patched);
    field_error(
        app.put(&path, token, json!({"description": "no name"}))
            .await,
        "name",
    )
    .await;
    field_error(
        app.patch(&path, token, json!({"name": "   "})).await,
        "name",
    )
    .await;
    field_error(
        app.patch(&path, token, json!({"name": "n".repeat(101)}))
            .await,
        "name",
    )
    .await;
    field_error(
        app.patch(&path, token, json!({"colour": "red"})).await,
        "colour",
    )
    .await;
    field_error(
        app.post(
            "/api/categories/",
            token,
            json!({"description": "nameless"}),
        )
        .await,
        "name",
    )
    .await;
    assert_eq!(
        ok_json(&app, &path).await,
        patched,
        "refused writes changed nothing"
    );

    let response = app.delete(&path, token).await;
    assert_eq!(response.status(), 204);
    problem(app.get(&path, None).await, 404).await;
    let list = ok_json(&app, "/api/categories/").await;
    assert_eq!(list["count"], 0);
}

#[tokio::test]
async fn category_names_are_unique_whatever_the_case() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let books = app.create_category(&admin, "Books").await;
    let games = app.create_category(&admin, "Games").await;
    for name in ["Books", "BOOKS", "books", "  Books "] {
        problem(
            app.post(
                "/api/categories/",
                token,
                json!({"name": name, "description": ""}),
            )
            .await,
            409,
        )
        .await;
    }
    // Renaming onto another category's name is a conflict; a new case of its own name is not.
    problem(
        app.patch(
            &format!("/api/categories/{games}/"),
            token,
            json!({"name": "bOOKs"}),
        )
        .await,
        409,
    )
    .await;
    problem(
        app.put(
            &format!("/api/categories/{games}/"),
            token,
            json!({"name": "books", "description": ""}),
        )
        .await,
        409,
    )
    .await;
    let response = app
        .patch(
            &format!("/api/categories/{books}/"),
            token,
            json!({"name": "BOOKS"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let list = ok_json(&app, "/api/categories/").await;
    assert_eq!(list["count"], 2);
    let names: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["BOOKS", "Games"]);
    // A renamed category frees its old name.
    app.patch(
        &format!("/api/categories/{games}/"),
        token,
        json!({"name": "Toys"}),
    )
    .await;
    app.create_category(&admin, "games").await;
}

#[tokio::test]
async fn a_category_with_products_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    let tools = app.create_category(&admin, "Tools").await;
    let other = app.create_category(&admin, "Other").await;
    let hammer = app
        .create_product(&admin, "Hammer", "12.50", 3, tools)
        .await;
    let saw = app.create_product(&admin, "Saw", "20.00", 0, tools).await;
    let path = format!("/api/categories/{tools}/");
    assert_eq!(ok_json(&app, &path).await["product_count"], 2);

    problem(app.delete(&path, token).await, 409).await;
    assert_eq!(
        ok_json(&app, &path).await["product_count"],
        2,
        "still there"
    );
    // Moving one product out and deleting the other empties it.
    assert_eq!(
        app.patch(
            &format!("/api/products/{saw}/"),
            token,
            json!({"category_id": other})
        )
        .await
        .status(),
        200
    );
    assert_eq!(ok_json(&app, &path).await["product_count"], 1);
    problem(app.delete(&path, token).await, 409).await;
    assert_eq!(
        app.delete(&format!("/api/products/{hammer}/"), token)
            .await
            .status(),
        204
    );
    assert_eq!(ok_json(&app, &path).await["product_count"], 0);
    assert_eq!(app.delete(&path, token).await.status(), 204);
    problem(app.get(&path, None).await, 404).await;
    // Its products can no longer name it.
    field_error(
        app.post(
            "/api/products/",
            token,
            product_body("Drill", "50", 1, tools),
        )
        .await,
        "category_id",
    )
    .await;
}

#[tokio::test]
async fn only_admins_write_categories() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let shopper = app.new_user().await;
    let id = app.create_category(&admin, "Garden").await;
    let path = format!("/api/categories/{id}/");
    let body = json!({"name": "Weeds", "description": ""});
    for token in [None, Some(shopper.access.as_str())] {
        let status = if token.is_some() { 403 } else { 401 };
        problem(
            app.post("/api/categories/", token, body.clone()).await,
            status,
        )
        .await;
        problem(app.put(&path, token, body.clone()).await, status).await;
        problem(app.patch(&path, token, body.clone()).await, status).await;
        problem(app.delete(&path, token).await, status).await;
    }
    // Reads are for anyone, and nothing changed.
    let (status, _, garden) = fetch(&app, &path).await;
    assert_eq!((status, garden["name"].as_str()), (200, Some("Garden")));
    assert_eq!(ok_json(&app, "/api/categories/").await["count"], 1);
}

#[tokio::test]
async fn unknown_categories_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access.as_str());
    app.create_category(&admin, "Real").await;
    let body = json!({"name": "Ghost", "description": ""});
    for path in [
        "/api/categories/999/",
        "/api/categories/0/",
        "/api/categories/abc/",
        "/api/categories/-1/",
    ] {
        problem(app.get(path, None).await, 404).await;
        problem(app.put(path, token, body.clone()).await, 404).await;
        problem(app.patch(path, token, body.clone()).await, 404).await;
        problem(app.delete(path, token).await, 404).await;
    }
    assert_eq!(ok_json(&app, "/api/categories/").await["count"], 1);
}

#[tokio::test]
async fn the_category_list_is_paginated_with_product_counts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(
            app.create_category(&admin, &format!("Category {n:02}"))
                .await,
        );
    }
    for n in 0..3 {
        app.create_product(&admin, &format!("Thing {n}"), "1.00", 1, ids[1])
            .await;
    }
    let first = ok_json(&app, "/api/categories/").await;
    assert_eq!(first["count"], 12);
    assert_eq!(first["previous"], Value::Null);
    let results = first["results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    let mut keys: Vec<&String> = results[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["description", "id", "name", "product_count"]);
    assert_eq!(
        (
            results[1]["id"].as_u64(),
            results[1]["product_count"].as_u64()
        ),
        (Some(ids[1]), Some(3))
    );
    assert_eq!(results[0]["product_count"], 0);
    let next = first["next"].as_str().expect("next");
    let second: Value = app
        .client
        .get(next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<u64> = second["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, ids[10..]);
    assert_eq!(second["next"], Value::Null);
    assert!(second["previous"].as_str().is_some());
    let small = ok_json(&app, "/api/categories/?page_size=5&page=3").await;
    assert_eq!(small["results"].as_array().unwrap().len(), 2);
    problem(app.get("/api/categories/?page=3", None).await, 404).await;
    field_error(app.get("/api/categories/?page=0", None).await, "page").await;
    field_error(
        app.get("/api/categories/?page_size=101", None).await,
        "page_size",
    )
    .await;
}
