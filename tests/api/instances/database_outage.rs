//! An instance that loses PostgreSQL: `/healthz` answers 503 (a balancer takes it out),
//! writes and the reads its cache cannot answer get 503, and once the database is reachable
//! again the instance recovers by itself, without a restart. The database stays up for the
//! other tests of this process: the instance reaches it through a TCP relay that the test cuts.
use super::*;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Relays 127.0.0.1:port to the cluster; `cut` drops every relayed connection and refuses new
/// ones (as a database host gone from the network), `mend` lets them through again.
struct Relay {
    port: u16,
    up: watch::Sender<bool>,
}

impl Relay {
    async fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = watch::channel(true);
        let watcher = Arc::new(up.subscribe());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let mut up = (*watcher).clone();
                if !*up.borrow() {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = up.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Relay { port, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn mend(&self) {
        self.up.send_replace(true);
    }
}

#[tokio::test]
async fn an_instance_that_loses_the_database_answers_503_and_recovers_by_itself() {
    if skip_unless_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = crate::postgres_cluster::database_url_for(dir.path()).unwrap();
    let cluster_port: u16 = url
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .expect("a port in the database URL");
    let relay = Relay::start(cluster_port).await;
    let relayed = url.replace(&format!(":{cluster_port}/"), &format!(":{}/", relay.port));
    let server = start_with(
        dir.path(),
        0,
        &[
            ("ORDERSTREAM_DATABASE_URL", &relayed),
            ("ORDERSTREAM_LIVE_CATCH_UP_MS", "200"),
        ],
    )
    .await;
    let api = &server.api;
    let admin = admin(api).await;
    let category = create_category(api, &admin, "Outage").await;
    let product = create_product(api, &admin, "Lamp", "5.00", 10, category).await;
    let shopper = new_user(api, "outage").await;
    let detail = format!("/api/products/{product}/");
    read(api, &detail).await; // cached from now on

    relay.cut();
    let failing = within(Duration::from_secs(10), || async {
        health(api).await.0 == 503
    })
    .await;
    let (_, body) = health(api).await;
    assert!(
        failing.is_some(),
        "healthz turns 503 without PostgreSQL: {body}"
    );
    assert_eq!(body["storage"], "failing");
    let cart = json!({"product_id": product, "quantity": 1});
    let write = api
        .send(
            Method::POST,
            "/api/cart/items/",
            Some(&shopper.access),
            Some(cart.clone()),
        )
        .await
        .unwrap();
    assert_eq!(write.status(), 503, "a write without the database");
    assert!(write.headers().contains_key("retry-after"));
    let uncached = api
        .send(Method::GET, "/api/orders/", Some(&shopper.access), None)
        .await
        .unwrap();
    assert_eq!(uncached.status(), 503, "a read the cache cannot answer");
    assert_eq!(
        read(api, &detail).await["id"],
        product,
        "a cached page still answers"
    );

    relay.mend();
    let recovered = within(Duration::from_secs(15), || async {
        health(api).await.0 == 200
    })
    .await;
    assert!(recovered.is_some(), "healthz recovers by itself");
    let write = api
        .send(
            Method::POST,
            "/api/cart/items/",
            Some(&shopper.access),
            Some(cart),
        )
        .await
        .unwrap();
    assert_eq!(write.status(), 201, "writes work again without a restart");
    eprintln!(
        "database outage: healthz 503 after {:?}, 200 again {:?} after the relay was mended",
        failing.unwrap(),
        recovered.unwrap()
    );
}
