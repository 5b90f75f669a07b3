//! Revoked credentials close open live streams on every instance, not only on the one that
//! revoked them: a logout on A closes the token's WebSocket and SSE stream held by B, and a
//! password change on B closes the user's older streams on A (announced through the database).
use super::*;

/// How long a close may take: the announcement is a notification, not a poll.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_logout_on_one_instance_closes_the_tokens_streams_on_another() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start(2, &[]).await;
    let (a, b) = (deployment.api(0), deployment.api(1));
    let user = new_user(a, "streams").await;
    let (other_access, _) = login(b, &user.email, PASSWORD).await;
    let LiveClient::Ws(mut ws) = deployment.ws(1, &user.access, None).await else {
        unreachable!()
    };
    let LiveClient::Sse(mut sse) = deployment.sse(1, &user.access, None).await else {
        unreachable!()
    };
    // The user's other session (another token) must stay open.
    let LiveClient::Ws(mut other) = deployment.ws(1, &other_access, None).await else {
        unreachable!()
    };

    let body = json!({ "refresh": user.refresh });
    a.post(204, "/api/auth/logout/", Some(&user.access), Some(body))
        .await;
    assert!(
        ws.closed_with(CLOSE_WAIT).await.is_some(),
        "the WebSocket on B closed"
    );
    assert!(
        sse.ends_within(CLOSE_WAIT).await,
        "the SSE stream on B ended"
    );
    assert!(
        other
            .closed_with(Duration::from_millis(500))
            .await
            .is_none(),
        "another token's stream stays open"
    );
}

#[tokio::test]
async fn a_password_change_on_one_instance_closes_older_streams_on_another() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start(2, &[]).await;
    let (a, b) = (deployment.api(0), deployment.api(1));
    let user = new_user(a, "changer").await;
    let LiveClient::Ws(mut ws) = deployment.ws(0, &user.access, None).await else {
        unreachable!()
    };
    let change = json!({"current_password": PASSWORD, "new_password": "another long passphrase"});
    b.post(204, "/api/me/password/", Some(&user.access), Some(change))
        .await;
    assert!(
        ws.closed_with(CLOSE_WAIT).await.is_some(),
        "the WebSocket on A closed"
    );
}
