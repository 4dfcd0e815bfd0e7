//! Repository conformance tests. Each test body takes a fresh `Database`; the
//! `db_test!` macro decides which backend backs it, so adding PostgreSQL means
//! adding a backend to `fresh_db`, not rewriting tests.

mod schema_parity;

use super::*;
use wharf_core::model::*;
use wharf_core::ports::*;
use wharf_core::{DistKind, NormalizedName, Scopes, Timestamp};

struct TestDb {
    db: Database,
    _dir: tempfile::TempDir,
}

async fn fresh_sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_sqlite(&dir.path().join("wharf.db"))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    TestDb { db, _dir: dir }
}

async fn fresh_postgres() -> TestDb {
    let url = testing::fresh_postgres_schema(&testing::postgres_base_url())
        .await
        .unwrap();
    let db = Database::connect(&url).await.unwrap();
    assert_eq!(db.backend(), Backend::Postgres);
    db.migrate().await.unwrap();
    TestDb {
        db,
        _dir: tempfile::tempdir().unwrap(),
    }
}

/// The suite's default backend: PostgreSQL under `WHARF_TEST_BACKEND=postgres`.
async fn fresh_db() -> TestDb {
    if testing::backend_is_postgres() {
        fresh_postgres().await
    } else {
        fresh_sqlite().await
    }
}

/// Defines one test per backend from one body: `name::sqlite` and `name::postgres`.
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let t = fresh_sqlite().await;
                ($body)(t.db.clone()).await;
            }

            #[tokio::test]
            async fn postgres() {
                let t = fresh_postgres().await;
                ($body)(t.db.clone()).await;
            }
        }
    };
}

fn event(action: &str) -> NewAuditEvent {
    NewAuditEvent {
        actor_user_id: None,
        actor_token_id: None,
        action: action.into(),
        target: "t".into(),
        detail: "{}".into(),
        ip_hash: None,
        at: Timestamp::now(),
    }
}

fn upload(user: &User, project: &str, version: &str, filename: &str, sha: &str) -> NewUpload {
    NewUpload {
        project_name: project.into(),
        normalized: NormalizedName::parse(project).unwrap(),
        version: version.into(),
        summary: Some("demo".into()),
        filename: filename.into(),
        kind: DistKind::BdistWheel,
        python_tag: "py3".into(),
        size: 10,
        sha256: sha.into(),
        blake2_256: "b".repeat(64),
        md5: "c".repeat(32),
        requires_python: Some(">=3.8".into()),
        metadata_sha256: None,
        status: FileStatus::Published,
        uploader_id: user.id,
        token_id: None,
        uploaded_at: Timestamp::now(),
        origin: Origin::Local,
        audit: event("upload"),
        verdict: None,
    }
}

db_test!(migrations_are_idempotent, |db: Database| async move {
    assert_eq!(db.migrate().await.unwrap(), 0);
});

db_test!(
    user_names_are_unique_case_insensitively,
    |db: Database| async move {
        let alice = db.create_user("Alice", true).await.unwrap();
        assert!(alice.is_admin);
        let err = db.create_user("alice", false).await.unwrap_err();
        assert!(
            matches!(err, RepoError::Conflict(ref m) if m.contains("exists")),
            "{err}"
        );
        assert_eq!(
            db.find_user_by_name("ALICE").await.unwrap().unwrap().id,
            alice.id
        );
        assert!(db.find_user_by_name("bob").await.unwrap().is_none());
    }
);

db_test!(
    tokens_round_trip_and_revoke_once,
    |db: Database| async move {
        let user = db.create_user("alice", false).await.unwrap();
        let new = NewToken {
            user_id: user.id,
            name: "ci".into(),
            hash_hex: "a".repeat(64),
            scopes: Scopes::parse("read,publish").unwrap(),
            projects: vec![NormalizedName::parse("Demo.Pkg").unwrap()],
            namespaces: vec!["com.acme/*".into(), "io.github.alice/weather".into()],
            expires_at: Some(Timestamp(i64::MAX / 2)),
        };
        let created = db.create_token(new, event("token.create")).await.unwrap();
        let (found, owner, stored) = db
            .find_token_by_hash(&"a".repeat(64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, created);
        assert_eq!(owner.name, "alice");
        assert_eq!(stored, "a".repeat(64));
        assert_eq!(found.projects[0].as_str(), "demo-pkg");
        assert_eq!(found.namespaces, ["com.acme/*", "io.github.alice/weather"]);
        assert!(found.is_restricted());
        assert!(db
            .find_token_by_hash(&"b".repeat(64))
            .await
            .unwrap()
            .is_none());
        assert!(db
            .revoke_token(created.id, event("token.revoke"))
            .await
            .unwrap());
        assert!(!db
            .revoke_token(created.id, event("token.revoke"))
            .await
            .unwrap());
        assert!(db
            .get_token(created.id)
            .await
            .unwrap()
            .unwrap()
            .is_revoked());
        let actions: Vec<String> = db
            .recent(10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["token.revoke", "token.create"]);
    }
);

db_test!(
    first_upload_creates_project_owned_by_uploader,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let bob = db.create_user("bob", false).await.unwrap();
        let sha = "1".repeat(64);
        let out = db
            .record_upload(upload(
                &alice,
                "Demo_Pkg",
                "1.0",
                "demo_pkg-1.0-py3-none-any.whl",
                &sha,
            ))
            .await
            .unwrap();
        let UploadOutcome::Created {
            file,
            created_project,
            verify_job,
        } = out
        else {
            panic!("{out:?}")
        };
        assert!(created_project);
        assert_eq!(
            verify_job, None,
            "a published upload needs no verification job"
        );
        assert_eq!(file.version, "1.0");
        let project = db
            .find_project(&NormalizedName::parse("demo-pkg").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(project.name, "Demo_Pkg");
        assert!(db.is_owner(project.id, alice.id).await.unwrap());
        assert!(!db.is_owner(project.id, bob.id).await.unwrap());

        let other = db
            .record_upload(upload(
                &bob,
                "demo-pkg",
                "2.0",
                "demo_pkg-2.0-py3-none-any.whl",
                &"2".repeat(64),
            ))
            .await
            .unwrap();
        assert!(matches!(other, UploadOutcome::NotOwner), "{other:?}");
    }
);

db_test!(
    a_recorded_upload_reads_back_as_it_was_returned,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let first = upload(
            &alice,
            "demo",
            "1.0",
            "demo-1.0-py3-none-any.whl",
            &"1".repeat(64),
        );
        let mut held = upload(
            &alice,
            "demo",
            "1.0",
            "demo-1.0-py2-none-any.whl",
            &"2".repeat(64),
        );
        held.status = FileStatus::Pending;
        held.requires_python = None;
        held.metadata_sha256 = Some("3".repeat(64));
        held.kind = DistKind::Sdist;
        for up in [first, held] {
            let filename = up.filename.clone();
            let out = db.record_upload(up).await.unwrap();
            let UploadOutcome::Created { file, .. } = out else {
                panic!("{out:?}")
            };
            assert_eq!(db.find_file(&filename).await.unwrap(), Some(file));
        }
    }
);

db_test!(
    upload_lookups_answer_ownership_and_totals,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let bob = db.create_user("bob", false).await.unwrap();
        let name = NormalizedName::parse("demo").unwrap();
        assert!(db
            .find_project_for(&name, alice.id)
            .await
            .unwrap()
            .is_none());
        assert!(db.totals(&name).await.unwrap().is_none());
        for (version, sha) in [("1.0", "1"), ("2.0", "2"), ("1.0", "3")] {
            let filename = format!("demo-{version}-py{sha}-none-any.whl");
            db.record_upload(upload(&alice, "demo", version, &filename, &sha.repeat(64)))
                .await
                .unwrap();
        }
        let (project, is_owner) = db.find_project_for(&name, alice.id).await.unwrap().unwrap();
        assert_eq!(project.name, "demo");
        assert!(is_owner);
        let (_, is_owner) = db.find_project_for(&name, bob.id).await.unwrap().unwrap();
        assert!(!is_owner);
        assert_eq!(
            db.totals(&name).await.unwrap(),
            Some(ProjectTotals {
                total_bytes: 30,
                versions: vec!["1.0".into(), "2.0".into()],
                has_published: true,
            })
        );

        // A refused upload changes nothing, not even the project's updated_at.
        let touched = || async {
            sqlx::query_as::<_, (i64,)>("SELECT updated_at FROM projects WHERE normalized = 'demo'")
                .fetch_one(&db.pool)
                .await
                .unwrap()
                .0
        };
        let before = touched().await;
        let refused = db
            .record_upload(upload(
                &bob,
                "demo",
                "3.0",
                "demo-3.0-py3-none-any.whl",
                &"4".repeat(64),
            ))
            .await
            .unwrap();
        assert!(matches!(refused, UploadOutcome::NotOwner), "{refused:?}");
        assert_eq!(touched().await, before);
    }
);

db_test!(filenames_are_never_reused, |db: Database| async move {
    let alice = db.create_user("alice", false).await.unwrap();
    let name = "demo-1.0-py3-none-any.whl";
    db.record_upload(upload(&alice, "demo", "1.0", name, &"1".repeat(64)))
        .await
        .unwrap();
    let again = db
        .record_upload(upload(&alice, "demo", "1.0", name, &"1".repeat(64)))
        .await
        .unwrap();
    assert!(
        matches!(again, UploadOutcome::AlreadyExists { ref file } if file.filename == name),
        "{again:?}"
    );
    let different = db
        .record_upload(upload(&alice, "demo", "1.0", name, &"9".repeat(64)))
        .await
        .unwrap();
    assert!(
        matches!(different, UploadOutcome::FilenameTaken { ref existing_sha256 } if *existing_sha256 == "1".repeat(64))
    );
    let listing = db
        .listing(&NormalizedName::parse("demo").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listing.files.len(), 1);
    assert_eq!(listing.releases.len(), 1);
    assert_eq!(listing.owners, ["alice"]);
});

db_test!(yank_and_unyank_a_release, |db: Database| async move {
    let alice = db.create_user("alice", false).await.unwrap();
    db.record_upload(upload(
        &alice,
        "demo",
        "1.0",
        "demo-1.0-py3-none-any.whl",
        &"1".repeat(64),
    ))
    .await
    .unwrap();
    let name = NormalizedName::parse("demo").unwrap();
    let project = db.find_project(&name).await.unwrap().unwrap();
    assert!(db
        .set_yank(project.id, "1.0", Some("broken"), event("yank"))
        .await
        .unwrap());
    let r = &db.listing(&name).await.unwrap().unwrap().releases[0];
    assert!(r.is_yanked);
    assert_eq!(r.yank_reason.as_deref(), Some("broken"));
    assert!(db
        .set_yank(project.id, "1.0", None, event("unyank"))
        .await
        .unwrap());
    assert!(!db.listing(&name).await.unwrap().unwrap().releases[0].is_yanked);
    assert!(!db
        .set_yank(project.id, "9.9", None, event("unyank"))
        .await
        .unwrap());
});

db_test!(
    index_lists_only_projects_with_published_files,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        db.record_upload(upload(
            &alice,
            "zeta",
            "1.0",
            "zeta-1.0-py3-none-any.whl",
            &"1".repeat(64),
        ))
        .await
        .unwrap();
        let mut pending = upload(
            &alice,
            "alpha",
            "1.0",
            "alpha-1.0-py3-none-any.whl",
            &"2".repeat(64),
        );
        pending.status = FileStatus::Pending;
        db.record_upload(pending).await.unwrap();
        let names: Vec<String> = db
            .list_projects()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.normalized.to_string())
            .collect();
        assert_eq!(names, ["zeta"]);
    }
);

#[tokio::test]
async fn concurrent_uploads_to_one_new_project_do_not_fail() {
    let t = fresh_db().await;
    let alice = t.db.create_user("alice", false).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..8 {
        let db = t.db.clone();
        let alice = alice.clone();
        handles.push(tokio::spawn(async move {
            let name = format!("demo-1.{i}-py3-none-any.whl");
            db.record_upload(upload(
                &alice,
                "demo",
                &format!("1.{i}"),
                &name,
                &format!("{i:0>64}"),
            ))
            .await
        }));
    }
    for h in handles {
        assert!(matches!(
            h.await.unwrap().unwrap(),
            UploadOutcome::Created { .. }
        ));
    }
    let listing =
        t.db.listing(&NormalizedName::parse("demo").unwrap())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(listing.files.len(), 8);
}

#[test]
fn urls_are_redacted_before_they_reach_messages() {
    assert_eq!(
        redact_url("postgres://wharf:s3cret@db:5432/w"),
        "postgres://wharf:***@db:5432/w"
    );
    assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
}

/// Separate pools stand in for separate processes (instances starting
/// together, admin commands): every one migrates, each migration applies once.
async fn many_pools_migrate_one_database(url: &str) {
    let mut handles = Vec::new();
    for i in 0..6 {
        let url = url.to_owned();
        handles.push(tokio::spawn(async move {
            let db = Database::connect(&url).await?;
            db.migrate().await?;
            db.create_user(&format!("user{i}"), false)
                .await
                .map_err(DbError::from)?;
            Ok::<_, DbError>(db)
        }));
    }
    let mut last = None;
    for h in handles {
        last = Some(h.await.unwrap().unwrap());
    }
    assert_eq!(last.unwrap().pending_migrations().await.unwrap(), 0);
}

#[tokio::test]
async fn processes_opening_one_sqlite_database_at_once_all_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("wharf.db").display()
    );
    many_pools_migrate_one_database(&url).await;
}

#[tokio::test]
async fn processes_opening_one_postgres_database_at_once_all_migrate() {
    let url = testing::fresh_postgres_schema(&testing::postgres_base_url())
        .await
        .unwrap();
    many_pools_migrate_one_database(&url).await;
}

db_test!(
    audit_events_filter_and_paginate,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        for i in 0..5 {
            let mut e = event(if i % 2 == 0 {
                "file.upload"
            } else {
                "release.yank"
            });
            e.actor_user_id = Some(alice.id);
            e.at = Timestamp(1_000_000 * (i + 1));
            db.record(e).await.unwrap();
        }
        db.record(event("token.create")).await.unwrap();
        let all = db
            .query(&AuditFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(all.len(), 6);
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        let by_alice = AuditFilter {
            actor_user_id: Some(alice.id),
            limit: 100,
            ..Default::default()
        };
        assert_eq!(db.query(&by_alice).await.unwrap().len(), 5);
        let uploads = AuditFilter {
            action: Some("file.upload".into()),
            limit: 100,
            ..Default::default()
        };
        assert_eq!(db.query(&uploads).await.unwrap().len(), 3);
        let since = AuditFilter {
            since: Some(Timestamp(3_000_000)),
            actor_user_id: Some(alice.id),
            limit: 100,
            ..Default::default()
        };
        assert_eq!(db.query(&since).await.unwrap().len(), 3);
        let page1 = db
            .query(&AuditFilter {
                limit: 4,
                ..Default::default()
            })
            .await
            .unwrap();
        let page2 = db
            .query(&AuditFilter {
                limit: 4,
                before_id: Some(page1[3].id),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!((page1.len(), page2.len()), (4, 2));
        assert!(page2[0].id < page1[3].id);
    }
);

db_test!(
    audit_events_name_their_user_and_token,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let laptop = NewToken {
            name: "laptop".into(),
            ..device_token(&alice, "d")
        };
        let token = db
            .create_token(laptop, event("token.create"))
            .await
            .unwrap();
        let by_alice = |action: &str| {
            let mut e = event(action);
            e.actor_user_id = Some(alice.id);
            e.actor_token_id = Some(token.id);
            e
        };
        db.record(by_alice("file.upload")).await.unwrap();
        assert!(db
            .revoke_token(token.id, by_alice("token.revoke"))
            .await
            .unwrap());
        // Actors that were never stored (or were deleted) leave no name.
        let mut unknown = event("file.upload");
        unknown.actor_user_id = Some(alice.id + 1000);
        unknown.actor_token_id = Some(token.id + 1000);
        db.record(unknown).await.unwrap();

        let actors = |events: &[AuditEvent]| {
            events
                .iter()
                .map(|e| {
                    (
                        e.action.clone(),
                        e.actor_user_name.clone(),
                        e.actor_token_name.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let named = |action: &str| {
            (
                action.to_owned(),
                Some("alice".to_owned()),
                Some("laptop".to_owned()),
            )
        };
        let nameless = |action: &str| (action.to_owned(), None, None);
        let filtered = db
            .query(&AuditFilter {
                actor_user_id: Some(alice.id),
                action: Some("file.upload".into()),
                since: Some(Timestamp(0)),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(actors(&filtered), [named("file.upload")]);
        assert_eq!(
            (filtered[0].actor_user_id, filtered[0].actor_token_id),
            (Some(alice.id), Some(token.id))
        );
        assert_eq!(
            actors(&db.recent(10).await.unwrap()),
            [
                nameless("file.upload"),
                named("token.revoke"),
                named("file.upload"),
                nameless("token.create"),
            ]
        );
    }
);

db_test!(
    password_hashes_are_set_and_read_for_login_only,
    |db: Database| async move {
        let alice = db.create_user("Alice", false).await.unwrap();
        let (user, hash) = db.find_login("alice").await.unwrap().unwrap();
        assert_eq!((user.id, hash), (alice.id, None));
        db.set_password_hash(alice.id, Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"), NewAuditEvent::new("user.password", "user:alice"))
            .await
            .unwrap();
        let (_, hash) = db.find_login("ALICE").await.unwrap().unwrap();
        assert_eq!(hash.as_deref(), Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"));
        db.set_password_hash(
            alice.id,
            None,
            NewAuditEvent::new("user.password", "user:alice"),
        )
        .await
        .unwrap();
        assert_eq!(db.find_login("alice").await.unwrap().unwrap().1, None);
        assert!(db.find_login("nobody").await.unwrap().is_none());
    }
);

db_test!(
    sessions_expire_and_end_server_side,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let now = Timestamp::now();
        let session = |id: &str, expires_at: Timestamp| NewSession {
            id_hash: id.repeat(64),
            user_id: alice.id,
            csrf_token: format!("csrf-{id}"),
            expires_at,
        };
        db.create_session(
            session("a", now.plus(std::time::Duration::from_secs(60))),
            event("login"),
        )
        .await
        .unwrap();
        db.create_session(session("b", Timestamp(now.micros() - 1)), event("login"))
            .await
            .unwrap();
        let live = db
            .find_session(&"a".repeat(64), now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (live.user.id, live.csrf_token.as_str()),
            (alice.id, "csrf-a")
        );
        assert!(db
            .find_session(&"b".repeat(64), now)
            .await
            .unwrap()
            .is_none());
        assert_eq!(db.delete_expired_sessions(now).await.unwrap(), 1);
        assert!(db.delete_session(&"a".repeat(64)).await.unwrap());
        assert!(!db.delete_session(&"a".repeat(64)).await.unwrap());
        assert!(db
            .find_session(&"a".repeat(64), now)
            .await
            .unwrap()
            .is_none());
        let logins = db.recent(10).await.unwrap();
        assert_eq!(logins.iter().filter(|e| e.action == "login").count(), 2);
    }
);

db_test!(
    sessions_survive_password_change_no_more,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let bob = db.create_user("bob", false).await.unwrap();
        let later = Timestamp::now().plus(std::time::Duration::from_secs(600));
        for (id, user) in [("a", &alice), ("b", &alice), ("c", &bob), ("d", &bob)] {
            let session = NewSession {
                id_hash: id.repeat(64),
                user_id: user.id,
                csrf_token: format!("csrf-{id}"),
                expires_at: later,
            };
            db.create_session(session, event("login")).await.unwrap();
        }
        let ended = db
            .set_password_hash(bob.id, Some("$argon2id$x"), event("user.password"))
            .await
            .unwrap();
        assert_eq!(ended, 2, "bob's two sessions end with his password change");
        let now = Timestamp::now();
        for (id, alive) in [("a", true), ("b", true), ("c", false), ("d", false)] {
            let found = db.find_session(&id.repeat(64), now).await.unwrap();
            assert_eq!(found.is_some(), alive, "session {id}");
        }
        let ended = db
            .delete_user_sessions(alice.id, event("user.logout"))
            .await
            .unwrap();
        assert_eq!(ended, 2);
        assert!(db
            .find_session(&"a".repeat(64), now)
            .await
            .unwrap()
            .is_none());
        let actions: Vec<String> = db
            .recent(10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"user.password".to_owned()), "{actions:?}");
        assert!(actions.contains(&"user.logout".to_owned()), "{actions:?}");
    }
);

fn device_request(code: &str, user_code: &str, now: Timestamp, ttl_secs: u64) -> NewDeviceRequest {
    NewDeviceRequest {
        device_code_hash: code.repeat(64),
        user_code: user_code.into(),
        requester: format!("client-{code}"),
        scopes: Scopes::parse("read,publish").unwrap(),
        interval_secs: 5,
        created_at: now,
        expires_at: now.plus(std::time::Duration::from_secs(ttl_secs)),
    }
}

fn caps(n: i64) -> DeviceCaps {
    DeviceCaps {
        total: n,
        per_requester: n,
    }
}

db_test!(
    one_client_cannot_fill_the_device_code_store,
    |db: Database| async move {
        let now = Timestamp::now();
        let caps = DeviceCaps {
            total: 10,
            per_requester: 2,
        };
        let from = |code: &str, user_code: &str, requester: &str| NewDeviceRequest {
            requester: requester.into(),
            ..device_request(code, user_code, now, 600)
        };
        for (code, user_code) in [("a", "BCDFGHJK"), ("b", "LMNPQRST")] {
            assert_eq!(
                db.create_device_request(from(code, user_code, "net-1"), caps)
                    .await
                    .unwrap(),
                DeviceInsert::Created
            );
        }
        assert_eq!(
            db.create_device_request(from("c", "VWXZBCDF", "net-1"), caps)
                .await
                .unwrap(),
            DeviceInsert::RequesterFull
        );
        assert_eq!(
            db.create_device_request(from("d", "VWXZBCDF", "net-2"), caps)
                .await
                .unwrap(),
            DeviceInsert::Created,
            "another client is not locked out"
        );
    }
);

fn device_token(user: &User, hash: &str) -> NewToken {
    NewToken {
        user_id: user.id,
        name: "wharf login".into(),
        hash_hex: hash.repeat(64),
        scopes: Scopes::parse("read,publish").unwrap(),
        projects: Vec::new(),
        namespaces: Vec::new(),
        expires_at: None,
    }
}

db_test!(
    device_codes_are_capped_decided_once_and_redeemed_once,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let now = Timestamp::now();
        assert_eq!(
            db.create_device_request(device_request("a", "BCDFGHJK", now, 600), caps(2))
                .await
                .unwrap(),
            DeviceInsert::Created
        );
        assert_eq!(
            db.create_device_request(device_request("b", "LMNPQRST", now, 600), caps(2))
                .await
                .unwrap(),
            DeviceInsert::Created
        );
        // The cap counts pending, unexpired requests.
        assert_eq!(
            db.create_device_request(device_request("c", "VWXZBCDF", now, 600), caps(2))
                .await
                .unwrap(),
            DeviceInsert::StoreFull
        );

        let found = db
            .find_device_by_user_code("BCDFGHJK")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.status, DeviceStatus::Pending);
        assert_eq!(found.scopes.to_string(), "read,publish");
        assert_eq!(
            db.find_device_by_code_hash(&"a".repeat(64))
                .await
                .unwrap()
                .unwrap()
                .id,
            found.id
        );
        // Redeeming before approval mints nothing.
        assert!(db
            .redeem_device_request(found.id, device_token(&alice, "1"), event("token.create"))
            .await
            .unwrap()
            .is_none());

        db.record_device_poll(found.id, now, 10).await.unwrap();
        let polled = db
            .find_device_by_user_code("BCDFGHJK")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (polled.interval_secs, polled.last_polled_at),
            (10, Some(now))
        );

        assert!(db
            .decide_device_request(found.id, alice.id, true, event("device.approve"))
            .await
            .unwrap());
        assert!(!db
            .decide_device_request(found.id, alice.id, false, event("device.deny"))
            .await
            .unwrap());
        // Approved requests no longer count against the cap.
        assert_eq!(
            db.create_device_request(device_request("c", "VWXZBCDF", now, 600), caps(2))
                .await
                .unwrap(),
            DeviceInsert::Created
        );

        let token = db
            .redeem_device_request(found.id, device_token(&alice, "2"), event("token.create"))
            .await
            .unwrap()
            .expect("an approved code is redeemed once");
        assert_eq!(token.user_id, alice.id);
        assert!(db
            .redeem_device_request(found.id, device_token(&alice, "3"), event("token.create"))
            .await
            .unwrap()
            .is_none());
        let redeemed = db
            .find_device_by_user_code("BCDFGHJK")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (redeemed.status, redeemed.user_id),
            (DeviceStatus::Redeemed, Some(alice.id))
        );
        assert!(db
            .find_token_by_hash(&"3".repeat(64))
            .await
            .unwrap()
            .is_none());
    }
);

db_test!(
    expired_device_codes_cannot_be_decided_and_are_forgotten_later,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let long_ago = Timestamp(Timestamp::now().micros() - 2 * 24 * 3600 * 1_000_000);
        assert_eq!(
            db.create_device_request(device_request("a", "BCDFGHJK", long_ago, 600), caps(10))
                .await
                .unwrap(),
            DeviceInsert::Created
        );
        let old = db
            .find_device_by_user_code("BCDFGHJK")
            .await
            .unwrap()
            .unwrap();
        assert!(!db
            .decide_device_request(old.id, alice.id, true, event("device.approve"))
            .await
            .unwrap());
        // The next request sweeps requests that expired more than a day ago,
        // which frees their user codes.
        assert_eq!(
            db.create_device_request(
                device_request("b", "BCDFGHJK", Timestamp::now(), 600),
                caps(10)
            )
            .await
            .unwrap(),
            DeviceInsert::Created
        );
        let fresh = db
            .find_device_by_user_code("BCDFGHJK")
            .await
            .unwrap()
            .unwrap();
        // (SQLite may reuse the row ID, so compare what the row holds.)
        assert!(fresh.expires_at > Timestamp::now() && old.expires_at < Timestamp::now());
    }
);

db_test!(
    search_finds_words_prefixes_and_exact_names_and_treats_syntax_as_text,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let sha = |n: u8| format!("{:064x}", n);
        for (i, (name, summary)) in [
            ("requests", "HTTP for Humans"),
            ("requests-oauth", "OAuth support for requests"),
            ("httpx", "The next generation HTTP client"),
            ("flask", "A simple framework for building web applications"),
        ]
        .iter()
        .enumerate()
        {
            let mut up = upload(
                &alice,
                name,
                "1.0",
                &format!("{name}-1.0.tar.gz"),
                &sha(i as u8),
            );
            up.summary = Some((*summary).into());
            db.record_upload(up).await.unwrap();
        }
        let mut hidden = upload(
            &alice,
            "secret-thing",
            "1.0",
            "secret_thing-1.0.tar.gz",
            &sha(9),
        );
        hidden.status = FileStatus::Quarantined;
        hidden.summary = Some("HTTP but quarantined".into());
        db.record_upload(hidden).await.unwrap();

        let names = |hits: Vec<SearchHit>| hits.into_iter().map(|h| h.name).collect::<Vec<_>>();
        let http = names(db.search_projects("http", 10).await.unwrap());
        assert!(
            http.contains(&"requests".to_owned()) && http.contains(&"httpx".to_owned()),
            "{http:?}"
        );
        assert!(
            !http.contains(&"secret-thing".to_owned()),
            "unpublished projects are not found"
        );
        // The exact name first.
        assert_eq!(
            names(db.search_projects("requests", 10).await.unwrap())[0],
            "requests"
        );
        assert_eq!(
            names(db.search_projects("Requests", 10).await.unwrap())[0],
            "requests"
        );
        // A word of the summary, and the start of a name, find the project.
        assert!(
            names(db.search_projects("framework", 10).await.unwrap()).contains(&"flask".to_owned())
        );
        assert!(
            names(db.search_projects("reque", 10).await.unwrap()).contains(&"requests".to_owned())
        );
        // Several words rank the project matching all of them first.
        assert_eq!(
            names(db.search_projects("oauth requests", 10).await.unwrap())[0],
            "requests-oauth"
        );
        assert_eq!(db.search_projects("http", 1).await.unwrap().len(), 1);
        // Query syntax from users is only text, never an error.
        for hostile in [
            "\"",
            "NEAR(a b)",
            "a OR b*",
            "'; DROP TABLE projects; --",
            "%",
            "_",
            "\\",
            "col:x",
            "()",
            "\0",
            "requests\0",
            "a\u{1}b",
        ] {
            db.search_projects(hostile, 10)
                .await
                .unwrap_or_else(|e| panic!("{hostile}: {e}"));
        }
        assert!(db.search_projects("   ", 10).await.unwrap().is_empty());
        // A word inside a name is found on its own.
        let mut widget = upload(
            &alice,
            "zeta-widget",
            "1.0",
            "zeta_widget-1.0.tar.gz",
            &sha(30),
        );
        widget.summary = Some("nothing relevant".into());
        db.record_upload(widget).await.unwrap();
        assert_eq!(
            names(db.search_projects("widget", 10).await.unwrap()),
            ["zeta-widget"]
        );
        assert!(names(db.search_projects("zzzznothing", 10).await.unwrap()).is_empty());
        // The summary follows the latest upload.
        let mut newer = upload(&alice, "flask", "2.0", "flask-2.0.tar.gz", &sha(20));
        newer.summary = Some("Microframework".into());
        db.record_upload(newer).await.unwrap();
        assert!(
            names(db.search_projects("microframework", 10).await.unwrap())
                .contains(&"flask".to_owned())
        );
        assert!(
            !names(db.search_projects("applications", 10).await.unwrap())
                .contains(&"flask".to_owned())
        );
    }
);

db_test!(
    jobs_are_claimed_in_order_leased_completed_and_retried,
    |db: Database| async move {
        let lease = std::time::Duration::from_secs(60);
        let now = Timestamp::now();
        let a = db.enqueue("verify", "{\"file\":1}", now).await.unwrap();
        let later = db
            .enqueue(
                "verify",
                "{}",
                now.plus(std::time::Duration::from_secs(3600)),
            )
            .await
            .unwrap();
        let other = db.enqueue("other", "{}", now).await.unwrap();
        let b = db.enqueue("verify", "{\"file\":2}", now).await.unwrap();

        let first = db
            .claim("w1", &["verify"], now, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (first.id, first.payload.as_str(), first.attempts),
            (a, "{\"file\":1}", 1)
        );
        assert_eq!(first.locked_until, now.plus(lease));
        // Not yet due, and of another kind: skipped.
        let second = db
            .claim("w2", &["verify"], now, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.id, b);
        assert!(db
            .claim("w3", &["verify"], now, lease)
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            db.claim("w3", &["other", "x"], now, lease)
                .await
                .unwrap()
                .unwrap()
                .id,
            other
        );
        assert!(db.claim("w3", &[], now, lease).await.unwrap().is_none());

        assert!(db.complete(a, "w1").await.unwrap());
        assert!(!db.complete(a, "w1").await.unwrap(), "done once");
        assert!(!db.complete(b, "w1").await.unwrap(), "w1 does not hold b");
        assert_eq!(db.job_status(a).await.unwrap(), Some(JobStatus::Done));

        // A failure with a retry time goes back to the queue; without, it ends.
        assert!(db
            .fail(b, "w2", "scanner crashed", Some(now))
            .await
            .unwrap());
        assert_eq!(db.job_status(b).await.unwrap(), Some(JobStatus::Queued));
        let again = db
            .claim("w4", &["verify"], now, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((again.id, again.attempts), (b, 2));
        assert!(db.fail(b, "w4", "still broken", None).await.unwrap());
        assert_eq!(db.job_status(b).await.unwrap(), Some(JobStatus::Failed));

        // A worker that died: its lease runs out and another takes the job.
        let future = now.plus(std::time::Duration::from_secs(7200));
        let later_job = db
            .claim("w5", &["verify"], future, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(later_job.id, later);
        let after_lease = future.plus(std::time::Duration::from_secs(61));
        let taken_over = db
            .claim("w6", &["verify"], after_lease, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((taken_over.id, taken_over.attempts), (later, 2));
        assert!(
            !db.complete(later, "w5").await.unwrap(),
            "the dead worker lost it"
        );
        assert!(db.complete(later, "w6").await.unwrap());
        assert_eq!(db.job_status(999_999).await.unwrap(), None);
    }
);

db_test!(
    concurrent_workers_never_claim_the_same_job,
    |db: Database| async move {
        let now = Timestamp::now();
        for i in 0..40 {
            db.enqueue("verify", &format!("{{\"n\":{i}}}"), now)
                .await
                .unwrap();
        }
        let mut workers = Vec::new();
        for w in 0..8 {
            let db = db.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                let name = format!("w{w}");
                while let Some(job) = db
                    .claim(&name, &["verify"], now, std::time::Duration::from_secs(60))
                    .await
                    .unwrap()
                {
                    mine.push(job.id);
                    assert!(db.complete(job.id, &name).await.unwrap());
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap());
        }
        all.sort_unstable();
        let before = all.len();
        all.dedup();
        assert_eq!((before, all.len()), (40, 40), "each job exactly once");
    }
);

fn pending(user: &User, project: &str, filename: &str) -> NewUpload {
    NewUpload {
        status: FileStatus::Pending,
        ..upload(user, project, "1.0", filename, &"7".repeat(64))
    }
}

db_test!(
    a_verdict_reached_before_recording_is_stored_with_the_file,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let mut held = upload(
            &alice,
            "held",
            "1.0",
            "held-1.0-py3-none-any.whl",
            &"7".repeat(64),
        );
        held.status = FileStatus::Quarantined;
        held.verdict = Some(UploadVerdict {
            verdict: "quarantine".into(),
            rules_version: "test".into(),
            findings: r#"[{"rule":"code.download-exec"}]"#.into(),
            scanned_at: Timestamp(42),
            audit: event("file.quarantined"),
        });
        let out = db.record_upload(held).await.unwrap();
        let UploadOutcome::Created {
            file, verify_job, ..
        } = out
        else {
            panic!("{out:?}")
        };
        assert_eq!(file.status, FileStatus::Quarantined);
        assert_eq!(verify_job, None, "a file with its verdict needs no job");
        let report = db.report(file.id).await.unwrap().unwrap();
        assert_eq!(report.verdict, "quarantine");
        assert_eq!(report.findings, r#"[{"rule":"code.download-exec"}]"#);
        assert_eq!(report.scanned_at, Timestamp(42));
        let actions: Vec<String> = db
            .recent(10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["file.quarantined", "upload"]);
        let totals = db
            .totals(&NormalizedName::parse("held").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!totals.has_published, "a held file is not a published one");
    }
);

fn verdict(file_id: i64, to: FileStatus, job: Option<(i64, &str)>) -> RecordVerdict {
    RecordVerdict {
        file_id,
        verdict: if to == FileStatus::Published {
            "pass"
        } else {
            "quarantine"
        }
        .into(),
        rules_version: "test".into(),
        findings: r#"[{"rule":"code.download-exec"}]"#.into(),
        scanned_at: Timestamp::now(),
        from: vec![FileStatus::Pending],
        to,
        job: job.map(|(id, w)| (id, w.to_owned())),
        audit: Some(event("file.verified")),
    }
}

db_test!(
    a_pending_upload_queues_its_verification_job_in_the_same_transaction,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let out = db
            .record_upload(pending(&alice, "held", "held-1.0-py3-none-any.whl"))
            .await
            .unwrap();
        let UploadOutcome::Created {
            file,
            verify_job: Some(job_id),
            ..
        } = out
        else {
            panic!("{out:?}")
        };
        assert_eq!(file.status, FileStatus::Pending);
        let lease = std::time::Duration::from_secs(60);
        let job = db
            .claim_id(job_id, "w1", Timestamp::now(), lease)
            .await
            .unwrap()
            .expect("the job is queued");
        assert_eq!(job.id, job_id);
        // Taken once: neither a second claim by ID nor the queue hands it out again.
        assert!(db
            .claim_id(job_id, "w2", Timestamp::now(), lease)
            .await
            .unwrap()
            .is_none());
        assert!(db
            .claim("w2", &[VERIFY_JOB], Timestamp::now(), lease)
            .await
            .unwrap()
            .is_none());
        assert_eq!(job.payload, format!("{{\"file_id\":{}}}", file.id));
        // Pending files are not listed anywhere public.
        assert!(db.list_projects().await.unwrap().is_empty());
    }
);

db_test!(
    a_verdict_moves_the_file_finishes_the_job_and_keeps_the_report,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let UploadOutcome::Created {
            file,
            verify_job: Some(job_id),
            ..
        } = db
            .record_upload(pending(&alice, "held", "held-1.0-py3-none-any.whl"))
            .await
            .unwrap()
        else {
            panic!()
        };
        let lease = std::time::Duration::from_secs(60);
        db.claim("w1", &[VERIFY_JOB], Timestamp::now(), lease)
            .await
            .unwrap()
            .unwrap();
        // A worker that does not hold the job changes nothing.
        let lost = db
            .record_verdict(verdict(
                file.id,
                FileStatus::Quarantined,
                Some((job_id, "w2")),
            ))
            .await
            .unwrap();
        assert_eq!(lost, VerdictOutcome::JobLost);
        assert!(db.report(file.id).await.unwrap().is_none());
        assert_eq!(
            db.held_file(file.id).await.unwrap().unwrap().file.status,
            FileStatus::Pending
        );

        let applied = db
            .record_verdict(verdict(
                file.id,
                FileStatus::Quarantined,
                Some((job_id, "w1")),
            ))
            .await
            .unwrap();
        assert_eq!(applied, VerdictOutcome::Applied);
        assert_eq!(db.job_status(job_id).await.unwrap(), Some(JobStatus::Done));
        let report = db.report(file.id).await.unwrap().unwrap();
        assert_eq!(
            (report.verdict.as_str(), report.rules_version.as_str()),
            ("quarantine", "test")
        );
        assert!(report.findings.contains("code.download-exec"));
        assert_eq!(
            db.held_file(file.id).await.unwrap().unwrap().file.status,
            FileStatus::Quarantined
        );

        // A second verdict from `pending` no longer applies: the file moved on.
        let again = db
            .record_verdict(verdict(file.id, FileStatus::Published, None))
            .await
            .unwrap();
        assert_eq!(
            again,
            VerdictOutcome::StatusChanged(Some(FileStatus::Quarantined))
        );
        let verified = db
            .query(&AuditFilter {
                action: Some("file.verified".into()),
                limit: 10,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            verified.len(),
            1,
            "only the verdict that applied is audited"
        );
    }
);

db_test!(the_review_queue_and_decisions, |db: Database| async move {
    let alice = db.create_user("alice", false).await.unwrap();
    let admin = db.create_user("root", true).await.unwrap();
    let UploadOutcome::Created { file: held, .. } = db
        .record_upload(pending(&alice, "held", "held-1.0-py3-none-any.whl"))
        .await
        .unwrap()
    else {
        panic!()
    };
    let UploadOutcome::Created { file: other, .. } = db
        .record_upload(pending(&alice, "other", "other-1.0-py3-none-any.whl"))
        .await
        .unwrap()
    else {
        panic!()
    };
    db.record_verdict(verdict(held.id, FileStatus::Quarantined, None))
        .await
        .unwrap();
    let queue = db.held_files(&[FileStatus::Quarantined], 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (queue[0].file.id, queue[0].project.as_str()),
        (held.id, "held")
    );
    assert_eq!(queue[0].report.as_ref().unwrap().verdict, "quarantine");
    let both = db
        .held_files(&[FileStatus::Quarantined, FileStatus::Pending], 10)
        .await
        .unwrap();
    assert_eq!(
        both.iter().map(|h| h.file.id).collect::<Vec<_>>(),
        [held.id, other.id]
    );
    assert!(both[1].report.is_none());

    let review = |file_id, to, decision| NewReview {
        file_id,
        from: vec![FileStatus::Quarantined, FileStatus::Pending],
        to,
        decision,
        reason: "checked by hand".into(),
        reviewer_id: Some(admin.id),
        at: Timestamp::now(),
        audit: event("file.released"),
    };
    let after = db
        .review(review(held.id, FileStatus::Published, "released"))
        .await
        .unwrap();
    assert_eq!(after, Some(FileStatus::Published));
    let decided = db.report(held.id).await.unwrap().unwrap().review.unwrap();
    assert_eq!(decided.decision, "released");
    assert_eq!(decided.reason, "checked by hand");
    assert_eq!(decided.reviewer.as_deref(), Some("root"));
    // Deciding again from a status the file has left changes nothing.
    let after = db
        .review(review(held.id, FileStatus::Rejected, "rejected"))
        .await
        .unwrap();
    assert_eq!(after, Some(FileStatus::Published));
    // A pending file with no report can be decided too.
    let after = db
        .review(review(other.id, FileStatus::Rejected, "rejected"))
        .await
        .unwrap();
    assert_eq!(after, Some(FileStatus::Rejected));
    assert_eq!(
        db.report(other.id).await.unwrap().unwrap().verdict,
        "unscanned"
    );
    assert_eq!(
        db.review(review(999_999, FileStatus::Published, "released"))
            .await
            .unwrap(),
        None
    );

    let rescan: Vec<i64> = db
        .files_to_rescan(None)
        .await
        .unwrap()
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(rescan, [held.id], "rejected files are not rescanned");
    let name = NormalizedName::parse("other").unwrap();
    assert!(db.files_to_rescan(Some(&name)).await.unwrap().is_empty());
});

db_test!(
    name_corpus_and_published_siblings,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let bob = db.create_user("bob", false).await.unwrap();
        let UploadOutcome::Created { file: first, .. } = db
            .record_upload(upload(
                &alice,
                "alpha",
                "1.0",
                "alpha-1.0-py3-none-any.whl",
                &"1".repeat(64),
            ))
            .await
            .unwrap()
        else {
            panic!()
        };
        let UploadOutcome::Created { file: second, .. } = db
            .record_upload(pending(&alice, "alpha", "alpha-1.0.tar.gz"))
            .await
            .unwrap()
        else {
            panic!()
        };
        db.record_upload(upload(
            &bob,
            "beta",
            "1.0",
            "beta-1.0-py3-none-any.whl",
            &"2".repeat(64),
        ))
        .await
        .unwrap();
        assert_eq!(
            db.published_names_not_owned_by("pypi", alice.id)
                .await
                .unwrap(),
            ["beta"]
        );
        assert_eq!(
            db.published_names_not_owned_by("pypi", bob.id)
                .await
                .unwrap(),
            ["alpha"]
        );
        assert!(db
            .has_other_published(first.project_id, second.id)
            .await
            .unwrap());
        assert!(!db
            .has_other_published(first.project_id, first.id)
            .await
            .unwrap());
    }
);

db_test!(
    quarantined_look_alike_is_not_a_name_to_protect,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let bob = db.create_user("bob", false).await.unwrap();
        let mut held = upload(&bob, "a1pha", "1.0", "a1pha-1.0.tar.gz", &"8".repeat(64));
        held.status = FileStatus::Quarantined;
        db.record_upload(held).await.unwrap();
        let mut waiting = upload(&bob, "b2eta", "1.0", "b2eta-1.0.tar.gz", &"9".repeat(64));
        waiting.status = FileStatus::Pending;
        db.record_upload(waiting).await.unwrap();
        assert!(
            db.published_names_not_owned_by("pypi", alice.id)
                .await
                .unwrap()
                .is_empty(),
            "neither a quarantined nor a pending project is a name to imitate"
        );
    }
);

fn mcp_version(name: &str, version: &str, user: &User, description: &str) -> NewMcpVersion {
    NewMcpVersion {
        name: name.into(),
        version: version.into(),
        document:
            serde_json::json!({ "name": name, "version": version, "description": description })
                .to_string(),
        checks: "[]".into(),
        title: String::new(),
        description: description.into(),
        publisher_id: user.id,
        at: Timestamp::now(),
        audit: event("mcp.publish"),
    }
}

async fn publish_ok(db: &Database, new: NewMcpVersion) -> McpVersion {
    match db.publish_mcp(new).await.unwrap() {
        McpPublishOutcome::Published(v) => *v,
        other => panic!("{other:?}"),
    }
}

db_test!(
    mcp_versions_are_immutable_owned_and_latest_follows_semver,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let bob = db.create_user("bob", false).await.unwrap();
        let name = "io.github.alice/weather";
        publish_ok(&db, mcp_version(name, "1.0.0-rc.9", &alice, "Weather")).await;
        let rc10 = publish_ok(&db, mcp_version(name, "1.0.0-rc.10", &alice, "Weather")).await;
        assert!(rc10.is_latest, "rc.10 is newer than rc.9");
        let again = db
            .publish_mcp(mcp_version(name, "1.0.0-rc.10", &alice, "x"))
            .await
            .unwrap();
        assert!(matches!(again, McpPublishOutcome::DuplicateVersion));
        // Names are owned case-insensitively.
        let other = db
            .publish_mcp(mcp_version("IO.GitHub.Alice/Weather", "2.0.0", &bob, "x"))
            .await
            .unwrap();
        assert!(matches!(other, McpPublishOutcome::NotPublisher { ref owner } if owner == "alice"));
        assert!(db
            .add_mcp_publisher(name, bob.id, event("mcp.publisher_add"))
            .await
            .unwrap());
        assert!(!db
            .add_mcp_publisher(name, bob.id, event("mcp.publisher_add"))
            .await
            .unwrap());
        assert!(db.is_mcp_publisher(name, bob.id).await.unwrap());
        publish_ok(&db, mcp_version(name, "1.0.0", &bob, "Weather")).await;
        let latest = db.mcp_version(name, None).await.unwrap().unwrap();
        assert_eq!(latest.version, "1.0.0", "a release beats its candidates");
        assert_eq!(db.mcp_versions(name).await.unwrap().len(), 3);
        assert_eq!(
            db.mcp_owner("IO.GITHUB.ALICE/WEATHER")
                .await
                .unwrap()
                .unwrap()
                .1,
            "alice"
        );

        // Deleting the latest moves "latest" back; deleting all hides the server from search.
        let changed = db
            .set_mcp_status(
                name,
                Some("1.0.0"),
                McpStatus::Deleted,
                Some("pulled"),
                event("mcp.status"),
            )
            .await
            .unwrap();
        assert_eq!(changed, 1);
        assert_eq!(
            db.mcp_version(name, None).await.unwrap().unwrap().version,
            "1.0.0-rc.10"
        );
        let pulled = db.mcp_version(name, Some("1.0.0")).await.unwrap().unwrap();
        assert_eq!(
            (pulled.status, pulled.status_message.as_deref()),
            (McpStatus::Deleted, Some("pulled"))
        );
        assert_eq!(
            db.search_mcp("weather", false, 10, 0).await.unwrap().len(),
            1
        );
        // The probe's 500: a NUL ended FTS5's string ("unterminated string").
        assert_eq!(
            db.search_mcp("weather\0", false, 10, 0)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(db.search_mcp("\0", false, 10, 0).await.unwrap().is_empty());
        db.set_mcp_status(name, None, McpStatus::Deleted, None, event("mcp.status"))
            .await
            .unwrap();
        assert!(db
            .search_mcp("weather", false, 10, 0)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            db.set_mcp_status("no.such/server", None, McpStatus::Active, None, event("x"))
                .await
                .unwrap(),
            0
        );
    }
);

db_test!(
    mcp_listing_pages_filters_and_search_ranks_names_first,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        publish_ok(
            &db,
            mcp_version("com.acme/forecast", "1.0.0", &alice, "Tells the weather"),
        )
        .await;
        publish_ok(
            &db,
            mcp_version("com.acme/weather", "1.0.0", &alice, "Reads gauges"),
        )
        .await;
        publish_ok(
            &db,
            mcp_version("com.acme/weather", "1.1.0", &alice, "Reads gauges"),
        )
        .await;
        publish_ok(
            &db,
            mcp_version("com.acme/zeta", "0.1.0", &alice, "Unrelated"),
        )
        .await;

        let all = db
            .list_mcp(&McpListQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let keys: Vec<(String, String)> = all
            .iter()
            .map(|v| (v.name.clone(), v.version.clone()))
            .collect();
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[0].0, "com.acme/forecast");
        let page = db
            .list_mcp(&McpListQuery {
                after: Some(("com.acme/weather".into(), "1.0.0".into())),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let rest: Vec<&str> = page.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(rest, ["1.1.0", "0.1.0"]);
        let latest = db
            .list_mcp(&McpListQuery {
                limit: 10,
                version: Some("latest".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(latest.len(), 3);
        let exact = db
            .list_mcp(&McpListQuery {
                limit: 10,
                version: Some("1.0.0".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(exact.len(), 2);
        let future = db
            .list_mcp(&McpListQuery {
                limit: 10,
                updated_since: Some(Timestamp(Timestamp::now().micros() + 60_000_000)),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(future.is_empty());

        let hits = db.search_mcp("weather", false, 10, 0).await.unwrap();
        let names: Vec<&str> = hits.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            ["com.acme/weather", "com.acme/forecast"],
            "the name match ranks first"
        );
        assert_eq!(hits[0].version, "1.1.0", "search shows the latest version");
        assert_eq!(
            db.search_mcp("weather", false, 1, 1).await.unwrap()[0].name,
            "com.acme/forecast"
        );
        assert!(db
            .search_mcp("\"; DROP TABLE mcp_versions; --", false, 10, 0)
            .await
            .unwrap()
            .is_empty());
    }
);

db_test!(
    namespace_grants_are_case_insensitive_and_revocable,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        assert!(db
            .grant_namespace("com.Acme/*", alice.id, event("g"))
            .await
            .unwrap());
        assert!(!db
            .grant_namespace("COM.ACME/*", alice.id, event("g"))
            .await
            .unwrap());
        let grants = db.namespace_grants(Some(alice.id)).await.unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(
            (grants[0].glob.as_str(), grants[0].user.as_str()),
            ("com.Acme/*", "alice")
        );
        assert!(db
            .revoke_namespace("com.acme/*", alice.id, event("r"))
            .await
            .unwrap());
        assert!(!db
            .revoke_namespace("com.acme/*", alice.id, event("r"))
            .await
            .unwrap());
        assert!(db.namespace_grants(None).await.unwrap().is_empty());
    }
);

fn stored(deployment: &str, name: &str, key: &str, byte: u8) -> StoredSecret {
    StoredSecret {
        deployment_id: deployment.into(),
        name: name.into(),
        key_id: key.into(),
        wrapped_key: vec![byte; 60],
        ciphertext: vec![byte ^ 0xff, 0, 1, 2, 255],
    }
}

db_test!(
    deployments_list_newest_first_per_owner_in_pages,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let bob = db.create_user("bob", false).await.unwrap();
        // Two share a timestamp, so the page boundary must break the tie by ID.
        for (id, owner, at) in [
            ("a1", &alice, 10),
            ("a2", &alice, 20),
            ("a3", &alice, 20),
            ("b1", &bob, 15),
        ] {
            db.create_deployment(NewDeployment {
                id: id.into(),
                owner_user_id: owner.id,
                server_name: None,
                server_version: None,
                registry_type: "npm".into(),
                identifier: "weather".into(),
                version: "1.0.0".into(),
                plan: "{}".into(),
                tools_hash: None,
                secrets: vec![stored(id, "TOKEN", "k1", 1), stored(id, "A_URL", "k1", 2)],
                created_at: Timestamp(at),
                audit: event("deployment.create"),
            })
            .await
            .unwrap();
        }
        let ids = |list: &[wharf_core::model::Deployment]| {
            list.iter().map(|d| d.id.clone()).collect::<Vec<_>>()
        };
        let all = db.list_deployments(None, None, 10).await.unwrap();
        assert_eq!(ids(&all), ["a3", "a2", "b1", "a1"]);
        assert!(all.iter().all(|d| d.secret_names == ["A_URL", "TOKEN"]));
        let first = db.list_deployments(Some(alice.id), None, 1).await.unwrap();
        assert_eq!(ids(&first), ["a3"]);
        let last = &first[0];
        let rest = db
            .list_deployments(Some(alice.id), Some((last.created_at, last.id.clone())), 10)
            .await
            .unwrap();
        assert_eq!(ids(&rest), ["a2", "a1"]);
        assert_eq!(
            ids(&db.list_deployments(Some(bob.id), None, 10).await.unwrap()),
            ["b1"]
        );
    }
);

db_test!(
    deployments_store_ciphertexts_rotate_and_destroy_them,
    |db: Database| async move {
        let alice = db.create_user("alice", false).await.unwrap();
        let new = NewDeployment {
            id: "d1".into(),
            owner_user_id: alice.id,
            server_name: Some("com.acme/weather".into()),
            server_version: Some("1.0.0".into()),
            registry_type: "npm".into(),
            identifier: "weather".into(),
            version: "1.2.3".into(),
            plan: "{}".into(),
            tools_hash: None,
            secrets: vec![
                stored("d1", "TOKEN", "k1", 7),
                stored("d1", "API_URL", "k1", 9),
            ],
            created_at: Timestamp::now(),
            audit: event("deployment.create"),
        };
        db.create_deployment(new).await.unwrap();
        let d = db.deployment("d1").await.unwrap().unwrap();
        assert_eq!((d.owner.as_str(), d.version.as_str()), ("alice", "1.2.3"));
        assert_eq!(d.secret_names, ["API_URL", "TOKEN"]);
        let secrets = db.deployment_secrets("d1").await.unwrap();
        assert_eq!(
            secrets[1],
            stored("d1", "TOKEN", "k1", 7),
            "bytes come back exactly"
        );
        assert!(
            !format!("{secrets:?}").contains("ciphertext: ["),
            "Debug hides the bytes"
        );

        assert_eq!(db.secrets_by_key().await.unwrap(), [("k1".to_owned(), 2)]);
        let pending = db.secrets_not_under("k2", 10).await.unwrap();
        assert_eq!(pending.len(), 2);
        let moved = StoredSecret {
            key_id: "k2".into(),
            wrapped_key: vec![1; 60],
            ..pending[0].clone()
        };
        assert!(db.rewrap_secret(&pending[0], &moved).await.unwrap());
        assert!(
            !db.rewrap_secret(&pending[0], &moved).await.unwrap(),
            "only from the old key"
        );
        assert_eq!(db.secrets_not_under("k2", 10).await.unwrap().len(), 1);
        let after = db.deployment_secrets("d1").await.unwrap();
        assert_eq!(
            after[0].ciphertext, pending[0].ciphertext,
            "rotation leaves the ciphertext"
        );

        assert!(db
            .delete_deployment("d1", event("deployment.delete"))
            .await
            .unwrap());
        assert!(db.deployment("d1").await.unwrap().is_none());
        assert!(
            db.deployment_secrets("d1").await.unwrap().is_empty(),
            "ciphertexts destroyed"
        );
        assert!(!db
            .delete_deployment("d1", event("deployment.delete"))
            .await
            .unwrap());
    }
);

/// The probe found `wharf.db` created 0644 beside 0600 secrets. SQLite
/// only: PostgreSQL's files are the server's.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wharf.db");
    let db = Database::open_sqlite(&path).await.unwrap();
    db.migrate().await.unwrap();
    db.create_user("alice", false).await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("wharf.db{suffix}"));
        assert!(file.exists(), "{} exists in WAL mode", file.display());
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    db.close().await;
    // A database an earlier version left readable is tightened on open.
    let old = dir.path().join("old.db");
    std::fs::write(&old, b"").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    let db = Database::open_sqlite(&old).await.unwrap();
    assert_eq!(mode(&old), 0o600);
    db.close().await;
}

db_test!(
    a_name_is_hosted_or_proxied_never_both,
    |db: Database| async move {
        use wharf_core::ports::ProxyRepo;
        let alice = db.create_user("alice", false).await.unwrap();
        let upstream = db.proxy_user().await.unwrap();
        assert_eq!(db.proxy_user().await.unwrap(), upstream, "made once");

        let proxied = NewUpload {
            origin: Origin::Proxy,
            uploader_id: upstream,
            ..upload(
                &alice,
                "requests",
                "2.0",
                "requests-2.0-py3-none-any.whl",
                &"1".repeat(64),
            )
        };
        let created = db.record_upload(proxied.clone()).await.unwrap();
        assert!(
            matches!(created, UploadOutcome::Created { .. }),
            "{created:?}"
        );
        let project = db
            .find_project(&NormalizedName::parse("requests").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(project.origin, Origin::Proxy);
        assert!(
            !db.is_owner(project.id, upstream).await.unwrap(),
            "nobody owns a proxied name"
        );
        // A second proxied file joins it.
        let second = NewUpload {
            filename: "requests-2.0.tar.gz".into(),
            sha256: "2".repeat(64),
            ..proxied.clone()
        };
        assert!(matches!(
            db.record_upload(second).await.unwrap(),
            UploadOutcome::Created { .. }
        ));
        // An upload to the proxied name is refused, and so is a proxied file of a hosted one.
        let local = upload(
            &alice,
            "requests",
            "3.0",
            "requests-3.0-py3-none-any.whl",
            &"3".repeat(64),
        );
        assert!(matches!(
            db.record_upload(local).await.unwrap(),
            UploadOutcome::OtherOrigin
        ));
        db.record_upload(upload(
            &alice,
            "mine",
            "1.0",
            "mine-1.0-py3-none-any.whl",
            &"4".repeat(64),
        ))
        .await
        .unwrap();
        let shadow = NewUpload {
            project_name: "mine".into(),
            normalized: NormalizedName::parse("mine").unwrap(),
            filename: "mine-9.0-py3-none-any.whl".into(),
            version: "9.0".into(),
            sha256: "5".repeat(64),
            ..proxied
        };
        assert!(matches!(
            db.record_upload(shadow).await.unwrap(),
            UploadOutcome::OtherOrigin
        ));
    }
);

db_test!(
    proxy_pages_and_rules_are_shared_state,
    |db: Database| async move {
        use wharf_core::ports::ProxyRepo;
        use wharf_core::proxy::{CachedPage, NewProxyRule, RuleKind, Spec, PYPI};
        assert!(db.cached_page(PYPI, "demo").await.unwrap().is_none());
        let page = CachedPage {
            ecosystem: PYPI.into(),
            name: "demo".into(),
            body: Some("{\"files\":[]}".into()),
            etag: Some("\"e1\"".into()),
            fetched_at: Timestamp(1_000),
        };
        db.store_page(&page).await.unwrap();
        assert_eq!(db.cached_page(PYPI, "demo").await.unwrap().unwrap(), page);
        db.touch_page(PYPI, "demo", Timestamp(2_000)).await.unwrap();
        assert_eq!(
            db.cached_page(PYPI, "demo")
                .await
                .unwrap()
                .unwrap()
                .fetched_at,
            Timestamp(2_000)
        );
        let gone = CachedPage {
            body: None,
            etag: None,
            ..page
        };
        db.store_page(&gone).await.unwrap();
        assert_eq!(
            db.cached_page(PYPI, "demo").await.unwrap().unwrap().body,
            None
        );

        let alice = db.create_user("alice", true).await.unwrap();
        let rule = |spec: &str| NewProxyRule {
            ecosystem: PYPI,
            kind: RuleKind::Deny,
            spec: Spec::parse(spec).unwrap(),
            reason: "known bad".into(),
            created_by: Some(alice.id),
            audit: event("proxy.rule.add"),
        };
        assert!(db.add_rule(rule("Evil_Pkg==1.0")).await.unwrap().is_some());
        assert!(
            db.add_rule(rule("evil-pkg==1.0")).await.unwrap().is_none(),
            "the same rule twice"
        );
        let rules = db.rules(PYPI).await.unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].spec.to_string(), "evil-pkg==1.0");
        assert_eq!(rules[0].created_by.as_deref(), Some("alice"));
        assert!(db.rules("npm").await.unwrap().is_empty());
        assert!(db
            .remove_rule(
                PYPI,
                RuleKind::Deny,
                "evil-pkg==1.0",
                event("proxy.rule.remove")
            )
            .await
            .unwrap());
        assert!(!db
            .remove_rule(
                PYPI,
                RuleKind::Deny,
                "evil-pkg==1.0",
                event("proxy.rule.remove")
            )
            .await
            .unwrap());
        assert!(db.rules(PYPI).await.unwrap().is_empty());
    }
);
