//! Authorization as a matrix: each scope does exactly what it should and no
//! more, project restrictions and ownership hold, and admin rights need both
//! the admin scope and an administrator.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use wharf_testkit::WheelBuilder;

#[tokio::test]
async fn each_scope_can_do_exactly_what_it_should() {
    let t = TestApp::new().await;
    t.app.accounts.create_user("root", true).await.unwrap();
    let owner = t.token("root", "publish", &[]).await;
    let first = UploadForm::wheel(&WheelBuilder::new("demo", "1.0"), "demo", "1.0");
    assert_eq!(t.upload(Some(&owner), &first).await.status, StatusCode::OK);

    let read = t.token("root", "read", &[]).await;
    let publish = t.token("root", "publish", &[]).await;
    let admin = t.token("root", "admin", &[]).await;
    let other_project = t.token("root", "publish", &["elsewhere"]).await;
    let not_owner = t.token("mallory", "read,publish,admin", &[]).await;

    let auth = |token: &str| format!("Bearer {token}");
    let mut version = 1;
    let mut upload = |token: String| {
        version += 1;
        let v = format!("{version}.0");
        let form = UploadForm::wheel(&WheelBuilder::new("demo", &v), "demo", &v);
        let t = &t;
        async move { t.upload(Some(&token), &form).await.status }
    };
    let yank = |token: String| {
        let t = &t;
        async move {
            t.post_json(
                "/api/v1/projects/demo/releases/1.0/yank",
                Some(&token),
                "{}",
            )
            .await
            .status
        }
    };
    let audit = |token: String| {
        let t = &t;
        async move {
            t.get("/api/v1/admin/audit", &[("authorization", &auth(&token))])
                .await
                .status
        }
    };
    let whoami = |token: String| {
        let t = &t;
        async move {
            t.get("/api/v1/whoami", &[("authorization", &auth(&token))])
                .await
                .status
        }
    };

    // (token, upload, yank, audit log)
    use StatusCode as S;
    let expected = [
        ("read", read, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN),
        ("publish", publish, S::OK, S::OK, S::FORBIDDEN),
        ("admin", admin, S::FORBIDDEN, S::FORBIDDEN, S::OK),
        (
            "publish, other project",
            other_project,
            S::FORBIDDEN,
            S::FORBIDDEN,
            S::FORBIDDEN,
        ),
        (
            "every scope, not owner nor admin",
            not_owner,
            S::FORBIDDEN,
            S::FORBIDDEN,
            S::FORBIDDEN,
        ),
    ];
    for (what, token, can_upload, can_yank, can_audit) in expected {
        assert_eq!(whoami(token.clone()).await, S::OK, "{what}: whoami");
        assert_eq!(upload(token.clone()).await, can_upload, "{what}: upload");
        assert_eq!(yank(token.clone()).await, can_yank, "{what}: yank");
        assert_eq!(audit(token).await, can_audit, "{what}: audit log");
    }
}
