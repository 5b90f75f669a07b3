//! Instances started at the same moment on a new, empty database (`docker compose up`): every
//! one comes up, they agree on one signing secret, and the admin they were all told to make
//! exists once.
use super::*;

#[tokio::test]
async fn three_instances_started_together_on_an_empty_database_agree() {
    if skip_unless_postgres() {
        return;
    }
    let deployment = Deployment::start_together(3, &[]).await;
    // A token signed by each instance is accepted by every other.
    for i in 0..3 {
        let (access, _) = login(deployment.api(i), ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for j in 0..3 {
            let me = deployment.api(j).get("/api/me/", Some(&access)).await;
            assert_eq!(me["email"], ADMIN_EMAIL, "token from {i} on {j}");
            assert_eq!(me["is_admin"], true);
        }
    }
    // The admin's email is taken (each instance was told to make that admin; one did, the
    // others found it: before the start-up lock, two of three usually both inserted it and
    // one exited with "a user with that email already exists").
    let body = json!({"email": ADMIN_EMAIL, "password": PASSWORD});
    deployment
        .api(1)
        .post(409, "/api/auth/register/", None, Some(body))
        .await;
}
