//! A randomized model test of the product list: a random catalog is built through the API, then
//! random combinations of filters, orderings and pages are compared with a brute-force filter and
//! sort over the model, before and after random writes. Seeded: set `CATALOG_SEED` to replay.
mod model;

use super::ok_json;
use crate::helpers::*;
use model::{any_price, expected, model_of, price_text, random_name, random_price, random_query};
use model::{Model, PageChoice, Query, WORDS};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Runs every query against the API and the model; returns the query strings that answered 200.
async fn check_all(
    app: &TestApp,
    models: &BTreeMap<u64, Model>,
    queries: &[Query],
    seed: u64,
) -> Vec<String> {
    let mut answered = Vec::new();
    for query in queries {
        let matches = expected(models, &query.params);
        let size = query.page_size.unwrap_or(10);
        let last = (matches.len() as u64).div_ceil(size).max(1);
        let page = match query.page {
            PageChoice::First => 1,
            PageChoice::Last => last,
            PageChoice::Fraction(f) => 1 + ((last as f64 * f) as u64).min(last - 1),
            PageChoice::PastTheEnd => last + 1,
        };
        let mut pairs: Vec<(&str, String)> = query.params.clone();
        if let Some(size) = query.page_size {
            pairs.push(("page_size", size.to_string()));
        }
        pairs.push(("page", page.to_string()));
        let response = app
            .client
            .get(app.url("/api/products/"))
            .query(&pairs)
            .send()
            .await
            .unwrap();
        let shown = format!("seed {seed}, query {pairs:?}");
        if page > last {
            assert_eq!(response.status(), 404, "{shown}");
            continue;
        }
        assert_eq!(response.status(), 200, "{shown}");
        answered.push(response.url().to_string());
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["count"].as_u64(),
            Some(matches.len() as u64),
            "count, {shown}"
        );
        let want: Vec<u64> = matches
            .iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .map(|p| p.id)
            .collect();
        let results = body["results"].as_array().unwrap();
        let got: Vec<u64> = results.iter().map(|p| p["id"].as_u64().unwrap()).collect();
        assert_eq!(got, want, "ids, {shown}");
        for product in results {
            let model = &models[&product["id"].as_u64().unwrap()];
            let seen = model_of(product);
            assert_eq!(
                (seen.price, seen.stock, seen.category, &seen.name),
                (model.price, model.stock, model.category, &model.name),
                "{shown}"
            );
        }
        assert_eq!(body["next"].is_null(), page == last, "next, {shown}");
        assert_eq!(body["previous"].is_null(), page == 1, "previous, {shown}");
    }
    answered
}

/// Random writes of every kind, mirrored in the model.
async fn mutate(
    app: &TestApp,
    admin: &TestUser,
    rng: &mut StdRng,
    models: &mut BTreeMap<u64, Model>,
    categories: &[u64],
) {
    let token = Some(admin.access.as_str());
    for _ in 0..12 {
        let ids: Vec<u64> = models.keys().copied().collect();
        let id = *ids.choose(rng).unwrap();
        let path = format!("/api/products/{id}/");
        let response = match rng.random_range(0..6) {
            0 => {
                app.patch(&path, token, json!({"price": any_price(rng)}))
                    .await
            }
            1 => {
                app.post(
                    &format!("{path}stock/"),
                    token,
                    json!({"set": rng.random_range(0..3)}),
                )
                .await
            }
            2 => {
                app.patch(
                    &path,
                    token,
                    json!({"category_id": categories.choose(rng).unwrap()}),
                )
                .await
            }
            3 => {
                app.patch(&path, token, json!({"name": random_name(rng)}))
                    .await
            }
            4 => {
                assert_eq!(app.delete(&path, token).await.status(), 204);
                models.remove(&id);
                continue;
            }
            _ => {
                let body = json!({"name": random_name(rng), "description": "", "price": any_price(rng),
                    "stock": rng.random_range(0..4), "category_id": categories.choose(rng).unwrap()});
                app.post("/api/products/", token, body).await
            }
        };
        assert!(
            response.status().is_success(),
            "write answered {}",
            response.status()
        );
        let product = model_of(&response.json().await.unwrap());
        models.insert(product.id, product);
    }
}

#[tokio::test]
async fn the_product_list_agrees_with_a_brute_force_model() {
    let seed = std::env::var("CATALOG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20240611u64);
    println!("CATALOG_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut categories = Vec::new();
    for name in ["Kitchen", "Office", "Garden"] {
        categories.push(app.create_category(&admin, name).await);
    }
    let mut models = BTreeMap::new();
    for _ in 0..rng.random_range(60..=120) {
        let cents = random_price(&mut rng);
        let price = if rng.random_bool(0.2) {
            json!(cents as f64 / 100.0)
        } else {
            json!(price_text(&mut rng, cents))
        };
        let stock = if rng.random_bool(0.3) {
            0
        } else {
            rng.random_range(1..20)
        };
        let body = json!({"name": random_name(&mut rng), "description": "", "price": price, "stock": stock,
            "category_id": categories.choose(&mut rng).unwrap()});
        let response = app.post("/api/products/", Some(&admin.access), body).await;
        assert_eq!(response.status(), 201);
        let product = model_of(&response.json().await.unwrap());
        models.insert(product.id, product);
    }
    assert_eq!(ok_json(&app, "/api/products/").await["count"], models.len());
    let names: Vec<String> = WORDS
        .iter()
        .map(|w| w.to_string())
        .chain(models.values().map(|p| p.name.clone()))
        .collect();
    let queries: Vec<Query> = (0..60)
        .map(|_| random_query(&mut rng, &categories, &names))
        .collect();

    for round in 0..3 {
        let answered = check_all(&app, &models, &queries, seed).await;
        // Asked again with nothing changed: served from the cache, and still right.
        if round == 0 {
            for url in &answered {
                let response = app.client.get(url).send().await.unwrap();
                assert_eq!(response.headers().get("x-cache").unwrap(), "HIT", "{url}");
            }
            check_all(&app, &models, &queries, seed).await;
        }
        mutate(&app, &admin, &mut rng, &mut models, &categories).await;
    }
    // After a restart the list index is rebuilt from disk and still agrees; ids are never reused.
    let app = app.restart().await;
    check_all(&app, &models, &queries, seed).await;
    let admin = app.admin().await;
    let highest = *models.keys().max().unwrap();
    let id = app
        .create_product(&admin, "After restart", "1.00", 1, categories[0])
        .await;
    assert!(
        id > highest,
        "id {id} reused (highest before restart {highest})"
    );
}
