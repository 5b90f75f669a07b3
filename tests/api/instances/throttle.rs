//! The login limit per client address is the deployment's, not each instance's: a flood spread
//! over three instances sharing a Redis gets the budget once, not three times.
use super::*;
use crate::cart_orders::problem;
use crate::redis::RedisServer;

const LIMIT: usize = 10;
const ATTEMPTS: usize = 30;

#[tokio::test]
async fn a_login_flood_spread_over_three_instances_meets_one_deployment_wide_limit() {
    if skip_unless_postgres() {
        return;
    }
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let limit = LIMIT.to_string();
    let deployment = Deployment::start(
        3,
        &[
            ("ORDERSTREAM_REDIS_URL", &url),
            ("ORDERSTREAM_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", &limit),
        ],
    )
    .await;

    // Wrong passwords for different emails (no per-email budget is spent twice), all from
    // 127.0.0.1, round-robin as a balancer would spread them.
    let mut let_through = [0usize; 3];
    let mut refused = 0;
    for i in 0..ATTEMPTS {
        let body = json!({"email": unique_email("guess"), "password": "wrong password"});
        let response = deployment
            .api(i)
            .send(Method::POST, "/api/auth/token/", None, Some(body))
            .await
            .expect("request sent");
        match response.status().as_u16() {
            429 => {
                let retry_after = response.headers().get("retry-after").cloned();
                problem(response, 429).await;
                let seconds: u64 = retry_after
                    .expect("Retry-After on a 429")
                    .to_str()
                    .unwrap()
                    .parse()
                    .expect("Retry-After in seconds");
                assert!(seconds >= 1);
                refused += 1;
            }
            401 => let_through[i % 3] += 1,
            other => panic!(
                "attempt {i} on instance {}: {other} {}",
                i % 3,
                response.text().await.unwrap()
            ),
        }
    }
    let checked: usize = let_through.iter().sum();
    eprintln!(
        "login flood: {checked} of {ATTEMPTS} attempts checked (per instance {let_through:?}), \
         {refused} refused with 429"
    );
    assert!(
        checked <= LIMIT && refused >= ATTEMPTS - LIMIT,
        "{checked} of {ATTEMPTS} login attempts from one address were checked across 3 \
         instances (per instance {let_through:?}); the limit is {LIMIT} per minute for the \
         deployment, so at most {LIMIT} may pass and at least {} must be 429",
        ATTEMPTS - LIMIT
    );
}

/// The failed-password budget of one (email, address) pair is the deployment's too: wrong
/// guesses spread over three instances use it up once, and then every instance refuses that
/// pair, even a right password, until the hour is over.
#[tokio::test]
async fn failed_passwords_on_one_email_spread_over_instances_meet_one_lockout() {
    if skip_unless_postgres() {
        return;
    }
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    const BUDGET: usize = 3;
    let budget = BUDGET.to_string();
    let deployment = Deployment::start(
        3,
        &[
            ("ORDERSTREAM_REDIS_URL", &url),
            ("ORDERSTREAM_LOGIN_FAILURES_PER_EMAIL_PER_HOUR", &budget),
        ],
    )
    .await;
    let user = new_user(deployment.api(0), "locked").await;
    let attempt = |i: usize, password: &'static str| {
        let body = json!({"email": user.email, "password": password});
        let api = deployment.api(i).clone();
        async move {
            api.send(Method::POST, "/api/auth/token/", None, Some(body))
                .await
                .expect("request sent")
                .status()
                .as_u16()
        }
    };
    // One wrong guess per instance (each instance alone would allow 3), then one more.
    for i in 0..BUDGET {
        assert_eq!(attempt(i, "wrong password").await, 401, "guess {i}");
    }
    for i in 0..3 {
        assert_eq!(
            attempt(i, PASSWORD).await,
            429,
            "instance {i} refuses the pair once the deployment's budget is spent"
        );
    }
}
