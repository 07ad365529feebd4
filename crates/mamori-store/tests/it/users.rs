//! Users, memberships, sessions, TOTP replay protection and per-user API tokens.

use crate::conformance;
use crate::harness::{TestDb, clinic};
use mamori_domain::audit::{AuditDraft, AuditEvent, Chain};
use mamori_domain::auth::{Membership, Role, Session, User};
use mamori_domain::{ApiTokenId, InstitutionId, UserId, time_fmt};
use mamori_store::{ApiToken, Store, StoreError, hash_secret, new_secret, verify_audit};
use serde_json::{Value, json};
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

conformance!(
    users_round_trip_every_field,
    logins_are_unique,
    secrets_never_reach_the_audit_log,
    update_user_writes_every_field_and_audits,
    totp_steps_are_accepted_once,
    memberships_are_per_institution,
    set_membership_changes_and_removes_with_audit,
    sessions_live_and_end,
    api_tokens_belong_to_users,
);

const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const TOTP_SECRET: &str = "sealed:v1:TOTP-SEED-DO-NOT-LOG";

/// An instant with sub-microsecond digits and a non-UTC offset, as stored (canonical).
fn at(t: OffsetDateTime) -> OffsetDateTime {
    time_fmt::canonical(t)
}

fn user(login: &str) -> User {
    let now = time_fmt::now();
    User {
        id: UserId::new(),
        login: login.into(),
        display_name: format!("{login} さん"),
        password_hash: PASSWORD_HASH.into(),
        totp_secret: None,
        totp_last_step: None,
        installation_admin: false,
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        password_changed_at: now,
        last_login_at: None,
        created_at: now,
    }
}

fn full_user(login: &str) -> User {
    User {
        totp_secret: Some(TOTP_SECRET.into()),
        totp_last_step: Some(58_000_000),
        installation_admin: true,
        disabled: true,
        failed_logins: 7,
        locked_until: Some(at(datetime!(2026-11-01 09:15:00.123456789 +09:00))),
        password_changed_at: at(datetime!(2026-10-01 08:00:00.5 +09:00)),
        last_login_at: Some(at(datetime!(2026-10-31 23:59:59.999999 UTC))),
        created_at: at(datetime!(2026-04-01 00:00:00 +09:00)),
        display_name: "山田 花子 'quote' \"double\"".into(),
        ..user(login)
    }
}

fn member(u: &User, inst: InstitutionId, role: Role) -> Membership {
    Membership { user_id: u.id, institution_id: inst, role }
}

async fn events(store: &dyn Store, chain: Chain) -> Vec<AuditEvent> {
    store.audit_events(chain, 0, 10_000).await.unwrap()
}

fn details(e: &AuditEvent) -> Value {
    serde_json::from_str(&e.details).unwrap()
}

async fn all_events(store: &dyn Store) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    for head in store.audit_heads().await.unwrap() {
        out.extend(events(store, head.chain).await);
    }
    out
}

async fn assert_chains_verify(store: &dyn Store) {
    let r = verify_audit(store, &|_| true).await.unwrap();
    assert!(r.iter().all(|c| c.broken.is_none()), "{r:?}");
}

async fn users_round_trip_every_field(db: TestDb) {
    let store = db.open().await;
    let full = full_user("yamada.hanako");
    let bare = user("abe@example.jp");
    store.create_user(&full, &[], "cli:root").await.unwrap();
    store.create_user(&bare, &[], "cli:root").await.unwrap();
    let back = store.get_user(full.id).await.unwrap().expect("stored");
    assert_eq!(back, full);
    assert_eq!(back.password_hash, PASSWORD_HASH, "secrets are stored as given");
    assert_eq!(back.totp_secret.as_deref(), Some(TOTP_SECRET));
    assert_eq!(store.get_user(bare.id).await.unwrap().unwrap(), bare);
    assert_eq!(store.find_user_by_login("yamada.hanako").await.unwrap().unwrap(), full);
    assert_eq!(store.find_user_by_login("Yamada.Hanako").await.unwrap(), None, "logins compare exactly");
    assert_eq!(store.find_user_by_login("nobody").await.unwrap(), None);
    assert_eq!(store.get_user(UserId::new()).await.unwrap(), None);
    let logins: Vec<_> = store.list_users().await.unwrap().into_iter().map(|u| u.login).collect();
    assert_eq!(logins, ["abe@example.jp", "yamada.hanako"]);
    assert!(store.memberships(full.id).await.unwrap().is_empty());
}

async fn logins_are_unique(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "一意クリニック").await;
    let first = user("suzuki");
    store.create_user(&first, &[], "cli:root").await.unwrap();
    let before = events(&*store, Chain::System).await.len();
    let again = user("suzuki");
    let err = store.create_user(&again, &[member(&again, s.institution(), Role::Admin)], "cli:root").await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { what: "user", id } if id == "suzuki"), "{err:?}");
    assert_eq!(store.list_users().await.unwrap().len(), 1);
    assert_eq!(store.get_user(again.id).await.unwrap(), None);
    assert_eq!(events(&*store, Chain::System).await.len(), before, "nothing audited");
    assert!(store.institution_users(&s).await.unwrap().is_empty(), "nothing written");
    assert_chains_verify(&*store).await;
}

async fn secrets_never_reach_the_audit_log(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "秘密クリニック").await;
    let mut u = full_user("tanaka");
    store.create_user(&u, &[member(&u, s.institution(), Role::Operator)], "cli:root").await.unwrap();
    let created = events(&*store, Chain::System).await.into_iter().find(|e| e.action == "user.create").unwrap();
    assert_eq!(created.actor, "cli:root");
    assert_eq!(created.object_kind.as_deref(), Some("user"));
    assert_eq!(created.object_id, Some(u.id.to_string()));
    assert_eq!(
        details(&created),
        json!({"login": "tanaka", "display_name": u.display_name, "installation_admin": true})
    );

    u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA-SECOND".into();
    u.totp_secret = Some("sealed:v1:SECOND-SEED".into());
    let draft = AuditDraft::new("admin", "user.password_reset").object("user", u.id);
    store.update_user(&u, &draft).await.unwrap();
    store.set_membership(&s, u.id, Some(Role::Auditor), "admin").await.unwrap();
    store.revoke_sessions(u.id, "admin").await.unwrap();

    let all = all_events(&*store).await;
    assert!(all.iter().any(|e| e.action == "membership.set"));
    for e in &all {
        for secret in [PASSWORD_HASH, TOTP_SECRET, u.password_hash.as_str(), "sealed:v1:SECOND-SEED", "argon2id"] {
            assert!(!e.details.contains(secret), "{} leaks a secret: {}", e.action, e.details);
        }
    }
    assert_chains_verify(&*store).await;
}

async fn update_user_writes_every_field_and_audits(db: TestDb) {
    let store = db.open().await;
    let original = user("sato");
    store.create_user(&original, &[], "cli:root").await.unwrap();
    let mut changed = full_user("sato");
    changed.id = original.id;
    changed.display_name = "佐藤 次郎".into();
    changed.password_hash = "$argon2id$changed".into();
    // `login` and `created_at` are not written.
    let mut attempt = changed.clone();
    attempt.login = "someone-else".into();
    attempt.created_at = at(datetime!(2000-01-01 00:00 UTC));
    let draft = AuditDraft::new("admin", "user.update")
        .object("user", original.id)
        .details(json!({"changed": ["display_name", "disabled"]}));
    store.update_user(&attempt, &draft).await.unwrap();
    let back = store.get_user(original.id).await.unwrap().unwrap();
    assert_eq!(back, User { login: original.login.clone(), created_at: original.created_at, ..changed.clone() });
    assert_eq!(store.find_user_by_login("someone-else").await.unwrap(), None);

    // Options go back to None.
    store.update_user(&original, &AuditDraft::new("admin", "user.update")).await.unwrap();
    assert_eq!(store.get_user(original.id).await.unwrap().unwrap(), original);

    let sys = events(&*store, Chain::System).await;
    let updates: Vec<_> = sys.iter().filter(|e| e.action == "user.update").collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].actor, "admin");
    assert_eq!(details(updates[0]), json!({"changed": ["display_name", "disabled"]}));

    let ghost = user("ghost");
    let err = store.update_user(&ghost, &AuditDraft::new("admin", "user.update")).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "user", .. }), "{err:?}");
    assert_eq!(events(&*store, Chain::System).await.len(), sys.len(), "a failed update is not audited");
    assert_chains_verify(&*store).await;
}

async fn totp_steps_are_accepted_once(db: TestDb) {
    let store = db.open().await;
    let u = user("totp");
    store.create_user(&u, &[], "cli:root").await.unwrap();
    assert!(store.accept_totp_step(u.id, 100).await.unwrap(), "first code");
    assert!(!store.accept_totp_step(u.id, 100).await.unwrap(), "the same code again");
    assert!(!store.accept_totp_step(u.id, 99).await.unwrap(), "an older code");
    assert!(store.accept_totp_step(u.id, 101).await.unwrap(), "the next code");
    assert_eq!(store.get_user(u.id).await.unwrap().unwrap().totp_last_step, Some(101));
    assert!(!store.accept_totp_step(UserId::new(), 500).await.unwrap(), "an unknown user");

    // Eight requests with the same code at once (over two store instances, as two server
    // processes would be): exactly one succeeds.
    let stores: [Arc<dyn Store>; 2] = [store.clone(), db.open().await];
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move { s.accept_totp_step(u.id, 200).await.unwrap() }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(accepted, 1);
    assert_eq!(store.get_user(u.id).await.unwrap().unwrap().totp_last_step, Some(200));
}

async fn memberships_are_per_institution(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "Aクリニック").await;
    let b = clinic(&*store, "B病院").await;
    let only_a = user("only-a");
    let both = user("both");
    let zed = user("zed");
    store.create_user(&zed, &[member(&zed, a.institution(), Role::Vendor)], "cli:root").await.unwrap();
    store.create_user(&only_a, &[member(&only_a, a.institution(), Role::Admin)], "cli:root").await.unwrap();
    // Given in the other order: memberships come back by institution creation.
    let ms = [member(&both, b.institution(), Role::Auditor), member(&both, a.institution(), Role::Operator)];
    store.create_user(&both, &ms, "cli:root").await.unwrap();

    assert_eq!(
        store.memberships(both.id).await.unwrap(),
        [member(&both, a.institution(), Role::Operator), member(&both, b.institution(), Role::Auditor)]
    );
    assert_eq!(store.memberships(only_a.id).await.unwrap(), [member(&only_a, a.institution(), Role::Admin)]);
    let in_a: Vec<_> = store.institution_users(&a).await.unwrap().into_iter().map(|(u, r)| (u.login, r)).collect();
    assert_eq!(
        in_a,
        [("both".to_owned(), Role::Operator), ("only-a".to_owned(), Role::Admin), ("zed".to_owned(), Role::Vendor)]
    );
    let in_b = store.institution_users(&b).await.unwrap();
    assert_eq!(in_b, [(both.clone(), Role::Auditor)]);
    assert!(in_b.iter().all(|(u, _)| u.id != only_a.id), "a user of A is not a user of B");

    // Each institution's chain records its own memberships only.
    let set_in = |evs: Vec<AuditEvent>| -> Vec<Value> {
        evs.iter().filter(|e| e.action == "membership.set").map(details).collect()
    };
    let b_sets = set_in(events(&*store, b.chain()).await);
    assert_eq!(b_sets, [json!({"user": both.id, "login": "both", "from": null, "to": "auditor"})]);
    assert_eq!(set_in(events(&*store, a.chain()).await).len(), 3);

    // All or nothing: an unknown institution fails the whole creation.
    let lost = user("lost");
    let nowhere = InstitutionId::new();
    let err = store
        .create_user(&lost, &[member(&lost, a.institution(), Role::Admin), member(&lost, nowhere, Role::Admin)], "t")
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::NotFound { what: "institution", id } if *id == nowhere.to_string()), "{err:?}");
    assert_eq!(store.get_user(lost.id).await.unwrap(), None);
    assert_eq!(store.institution_users(&a).await.unwrap().len(), 3);
    // Memberships must be the new user's, one per institution.
    let other = user("other");
    let err = store.create_user(&lost, &[member(&other, a.institution(), Role::Admin)], "t").await.unwrap_err();
    assert_eq!(err.code(), "invalid-request", "{err:?}");
    let twice = [member(&lost, a.institution(), Role::Admin), member(&lost, a.institution(), Role::Auditor)];
    assert_eq!(store.create_user(&lost, &twice, "t").await.unwrap_err().code(), "invalid-request");
    assert_eq!(store.get_user(lost.id).await.unwrap(), None);
    assert_chains_verify(&*store).await;
}

async fn set_membership_changes_and_removes_with_audit(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "Aクリニック").await;
    let b = clinic(&*store, "B病院").await;
    let u = user("kimura");
    store.create_user(&u, &[member(&u, a.institution(), Role::Admin)], "cli:root").await.unwrap();
    let b_before = events(&*store, b.chain()).await.len();

    store.set_membership(&b, u.id, Some(Role::Auditor), "admin").await.unwrap();
    store.set_membership(&b, u.id, Some(Role::Operator), "admin").await.unwrap();
    store.set_membership(&b, u.id, Some(Role::Operator), "admin").await.unwrap(); // unchanged
    assert_eq!(
        store.memberships(u.id).await.unwrap(),
        [member(&u, a.institution(), Role::Admin), member(&u, b.institution(), Role::Operator)]
    );
    assert_eq!(store.institution_users(&b).await.unwrap(), [(u.clone(), Role::Operator)]);
    store.set_membership(&b, u.id, None, "admin2").await.unwrap();
    store.set_membership(&b, u.id, None, "admin2").await.unwrap(); // already gone
    assert_eq!(store.memberships(u.id).await.unwrap(), [member(&u, a.institution(), Role::Admin)]);
    assert!(store.institution_users(&b).await.unwrap().is_empty());
    assert_eq!(store.institution_users(&a).await.unwrap(), [(u.clone(), Role::Admin)], "A is untouched");

    let evs = events(&*store, b.chain()).await;
    let new: Vec<_> = evs[b_before..].iter().map(|e| (e.actor.as_str(), e.action.as_str(), details(e))).collect();
    assert_eq!(
        new,
        [
            ("admin", "membership.set", json!({"user": u.id, "login": "kimura", "from": null, "to": "auditor"})),
            ("admin", "membership.set", json!({"user": u.id, "login": "kimura", "from": "auditor", "to": "operator"})),
            ("admin2", "membership.remove", json!({"user": u.id, "login": "kimura", "from": "operator"})),
        ]
    );
    assert!(evs[b_before..].iter().all(|e| e.object_id == Some(u.id.to_string())));
    // Nothing about B reached A's chain.
    assert!(events(&*store, a.chain()).await.iter().all(|e| !e.details.contains("operator")));

    let err = store.set_membership(&b, UserId::new(), Some(Role::Admin), "admin").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "user", .. }), "{err:?}");
    assert_eq!(events(&*store, b.chain()).await.len(), evs.len());
    assert_chains_verify(&*store).await;
}

fn session(u: &User, created_at: OffsetDateTime, expires_at: OffsetDateTime) -> Session {
    Session {
        id_hash: hash_secret(&new_secret()),
        user_id: u.id,
        csrf_token: new_secret(),
        mfa_pending: false,
        created_at,
        last_seen_at: created_at,
        expires_at,
        ip: None,
        user_agent: None,
    }
}

async fn sessions_live_and_end(db: TestDb) {
    let store = db.open().await;
    let u = user("session-user");
    let other = user("other-user");
    store.create_user(&u, &[], "cli:root").await.unwrap();
    store.create_user(&other, &[], "cli:root").await.unwrap();
    let now = time_fmt::now();
    let t0 = at(datetime!(2026-11-01 09:00:00.1234567 +09:00));
    let mut first = session(&u, t0, now + Duration::hours(12));
    first.mfa_pending = true;
    first.ip = Some("192.0.2.10".into());
    first.user_agent = Some("Mozilla/5.0 (日本語)".into());
    let second = session(&u, t0 + Duration::minutes(5), now + Duration::hours(12));
    // Same creation time as `second`: ties are broken by id_hash.
    let mut twin = session(&u, second.created_at, now + Duration::hours(12));
    twin.id_hash = if second.id_hash.as_str() < "8" { "f".repeat(64) } else { "0".repeat(64) };
    let expired = session(&u, t0 - Duration::hours(13), now - Duration::seconds(1));
    let others = session(&other, t0, now + Duration::hours(12));
    for s in [&first, &second, &twin, &expired, &others] {
        store.insert_session(s).await.unwrap();
    }
    assert_eq!(store.get_session(&first.id_hash).await.unwrap().unwrap(), first);
    assert_eq!(store.get_session("unknown").await.unwrap(), None);

    let mut newest = vec![second.clone(), twin.clone()];
    newest.sort_by(|x, y| x.id_hash.cmp(&y.id_hash));
    let mut expected = newest.clone();
    expected.extend([first.clone(), expired.clone()]);
    assert_eq!(store.list_sessions(Some(u.id)).await.unwrap(), expected);
    assert_eq!(store.list_sessions(None).await.unwrap().len(), 5);
    assert_eq!(store.list_sessions(Some(other.id)).await.unwrap(), std::slice::from_ref(&others));

    let seen = at(datetime!(2026-11-01 09:20:00.987654321 +09:00));
    store.touch_session(&first.id_hash, seen).await.unwrap();
    let touched = store.get_session(&first.id_hash).await.unwrap().unwrap();
    assert_eq!(touched, Session { last_seen_at: seen, ..first.clone() });
    store.touch_session("unknown", seen).await.unwrap();

    assert_eq!(store.delete_expired_sessions(now).await.unwrap(), 1);
    assert_eq!(store.get_session(&expired.id_hash).await.unwrap(), None);
    assert!(store.delete_session(&second.id_hash).await.unwrap());
    assert!(!store.delete_session(&second.id_hash).await.unwrap());

    assert_eq!(store.revoke_sessions(u.id, "admin").await.unwrap(), 2);
    assert!(store.list_sessions(Some(u.id)).await.unwrap().is_empty());
    assert_eq!(
        store.list_sessions(None).await.unwrap(),
        std::slice::from_ref(&others),
        "other users keep their sessions"
    );
    assert_eq!(store.revoke_sessions(u.id, "admin").await.unwrap(), 0);
    let revokes: Vec<_> = events(&*store, Chain::System)
        .await
        .into_iter()
        .filter(|e| e.action == "session.revoke_all")
        .map(|e| (e.actor.clone(), e.object_id.clone(), details(&e)))
        .collect();
    assert_eq!(
        revokes,
        [
            ("admin".to_owned(), Some(u.id.to_string()), json!({"user": u.id, "count": 2})),
            ("admin".to_owned(), Some(u.id.to_string()), json!({"user": u.id, "count": 0})),
        ]
    );

    let stray = session(&user("not-stored"), t0, now + Duration::hours(1));
    let err = store.insert_session(&stray).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "user", .. }), "{err:?}");
    assert_chains_verify(&*store).await;
}

fn token(
    name: &str,
    user: Option<UserId>,
    institution: Option<InstitutionId>,
    role: Option<Role>,
) -> (String, ApiToken) {
    let secret = format!("mamori_{}", new_secret());
    let t = ApiToken {
        id: ApiTokenId::new(),
        name: name.into(),
        token_hash: hash_secret(&secret),
        user_id: user,
        institution_id: institution,
        role,
        created_by: "admin".into(),
        created_at: time_fmt::now(),
        last_used_at: None,
        revoked_at: None,
    };
    (secret, t)
}

async fn api_tokens_belong_to_users(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "トークン病院").await;
    let mut u = user("token-owner");
    let v = user("someone");
    store.create_user(&u, &[member(&u, s.institution(), Role::Admin)], "cli:root").await.unwrap();
    store.create_user(&v, &[], "cli:root").await.unwrap();
    let (console_secret, console) = token("console", None, None, None);
    let (narrow_secret, narrow) = token("監視", Some(u.id), Some(s.institution()), Some(Role::Auditor));
    let (_, broad) = token("all", Some(u.id), None, None);
    let (_, vs) = token("v", Some(v.id), None, Some(Role::Operator));
    for t in [&console, &narrow, &broad, &vs] {
        store.insert_api_token(t).await.unwrap();
    }
    assert_eq!(store.list_api_tokens(Some(u.id)).await.unwrap(), [narrow.clone(), broad.clone()]);
    assert_eq!(store.list_api_tokens(Some(v.id)).await.unwrap(), std::slice::from_ref(&vs));
    assert_eq!(
        store.list_api_tokens(None).await.unwrap(),
        [console.clone(), narrow.clone(), broad.clone(), vs.clone()]
    );
    assert!(store.list_api_tokens(Some(UserId::new())).await.unwrap().is_empty());

    let used = store.use_api_token(&hash_secret(&narrow_secret)).await.unwrap().unwrap();
    assert!(used.last_used_at.is_some());
    assert_eq!(ApiToken { last_used_at: None, ..used }, narrow);

    // A disabled user's tokens stop working; tokens without a user are unaffected.
    u.disabled = true;
    store.update_user(&u, &AuditDraft::new("admin", "user.disable").object("user", u.id)).await.unwrap();
    assert_eq!(store.use_api_token(&hash_secret(&narrow_secret)).await.unwrap(), None);
    assert!(store.use_api_token(&hash_secret(&console_secret)).await.unwrap().is_some());
    u.disabled = false;
    store.update_user(&u, &AuditDraft::new("admin", "user.enable").object("user", u.id)).await.unwrap();
    assert!(store.use_api_token(&hash_secret(&narrow_secret)).await.unwrap().is_some());

    // Tokens name users and institutions that exist.
    let (_, stray) = token("stray", Some(UserId::new()), None, None);
    let err = store.insert_api_token(&stray).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "user", .. }), "{err:?}");
    let (_, stray) = token("stray", Some(u.id), Some(InstitutionId::new()), Some(Role::Auditor));
    let err = store.insert_api_token(&stray).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "institution", .. }), "{err:?}");
    assert_eq!(store.list_api_tokens(None).await.unwrap().len(), 4);

    let created: Vec<_> = events(&*store, Chain::System)
        .await
        .into_iter()
        .filter(|e| e.action == "api_token.create")
        .map(|e| details(&e))
        .collect();
    assert_eq!(created.len(), 4);
    assert_eq!(created[1], json!({"name": "監視", "user": u.id, "institution": s.institution(), "role": "auditor"}));
    assert!(all_events(&*store).await.iter().all(|e| !e.details.contains(&narrow_secret)));
    assert_chains_verify(&*store).await;
}
