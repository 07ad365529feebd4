//! First run, bad input and the audit chain, through the command line.

use crate::harness::*;
use std::time::{Duration, Instant};

#[test]
fn init_creates_a_private_data_dir_and_prints_a_setup_token() {
    let env = Env::new();
    let r = env.ok(&["init"]);
    assert!(r.stdout.contains("データを初期化しました"), "{}", r.stdout);
    assert!(r.stdout.contains("初回セットアップ用トークン"), "{}", r.stdout);
    let token = r.stdout.lines().nth(2).unwrap().trim();
    assert_eq!(token.len(), 52, "{token}");
    assert!(env.db_path().exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(env.data()).unwrap().permissions().mode() & 0o777, 0o700);
    }
    // Again: the data is kept, and a new token replaces the old one while setup is pending.
    let again = env.ok(&["init"]);
    assert!(again.stdout.contains("既存のデータを確認しました"), "{}", again.stdout);
    assert_ne!(again.stdout.lines().nth(2).unwrap().trim(), token);
    // The token is never stored in clear.
    let db = std::fs::read(env.db_path()).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));
}

#[test]
fn english_when_asked() {
    let mut env = Env::new();
    env.lang = "en_US.UTF-8";
    let r = env.ok(&["init"]);
    assert!(r.stdout.contains("Initialised the data"), "{}", r.stdout);
    let r = env.ok(&["--lang", "ja", "jobs", "list"]);
    assert!(r.stdout.contains("ジョブはありません"), "{}", r.stdout);
    let help = env.ok(&["--lang", "en", "--help"]);
    assert!(help.stdout.contains("Verify") || help.stdout.contains("audit"), "{}", help.stdout);
    assert!(help.stdout.contains("Start the web UI and API"), "{}", help.stdout);
}

#[test]
fn commands_before_init_say_so_and_create_nothing() {
    let env = Env::new();
    let r = env.run(&["jobs", "list"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("mamori init"), "{}", r.stderr);
    assert!(!env.data().exists());
}

#[test]
fn malformed_db_url_is_one_clear_line_and_writes_nothing() {
    let env = Env::new();
    for bad in ["postgres//localhost/mamori", "mysql://localhost/mamori", "postgres://:99999999/x"] {
        let r = env.run(&["--db", bad, "init"]);
        assert_eq!(r.code, 1, "{bad}");
        let line = r.one_error_line();
        assert!(line.starts_with("エラー: データベースの指定（--db）が正しくありません"), "{line}");
        assert!(!env.data().exists(), "{bad} created the data dir");
    }
}

#[test]
fn unreachable_postgres_fails_fast_without_showing_the_password() {
    let env = Env::new();
    let started = Instant::now();
    let r = env.run(&["--db", "postgres://mamori:topsecret@127.0.0.1:1/mamori", "init"]);
    assert_eq!(r.code, 1);
    assert!(started.elapsed() < Duration::from_secs(20));
    let line = r.one_error_line();
    assert!(line.contains("接続できません") && line.contains("接続を拒否されました"), "{line}");
    assert!(line.contains("mamori:***@127.0.0.1:1"), "{line}");
    assert!(!r.stderr.contains("topsecret") && !r.stdout.contains("topsecret"));
}

#[test]
fn unwritable_data_dir_is_refused() {
    let mut env = Env::new();
    let file = env.tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    env.data_dir = Some(file.join("data"));
    let r = env.run(&["init"]);
    assert_eq!(r.code, 1);
    let line = r.one_error_line();
    assert!(line.contains("書き込めません") && line.contains("ディレクトリではありません"), "{line}");

    // A directory without write permission (meaningless for root, who may write anyway).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = env.tmp.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
        if std::fs::write(ro.join("probe"), b"x").is_err() {
            env.data_dir = Some(ro.clone());
            let r = env.run(&["init"]);
            assert_eq!(r.code, 1);
            assert!(r.one_error_line().contains("権限がありません"), "{}", r.stderr);
            assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0, "nothing written");
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

#[tokio::test]
async fn data_from_a_newer_mamori_is_refused_untouched() {
    let env = Env::new();
    env.ok(&["init"]);
    let db = env.db_path();
    sqlite_exec(
        &db,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (42, 'future', 1, X'00', 0)",
    )
    .await;
    let audit_before = sqlite_count(&db, "SELECT COUNT(*) FROM audit_events").await;
    for args in [&["migrate"][..], &["jobs", "list"], &["audit", "verify"], &["serve", "--listen", "127.0.0.1:0"]] {
        let r = env.run(args);
        assert_eq!(r.code, 1, "{args:?}");
        let line = r.one_error_line();
        assert!(line.contains("新しいバージョンの mamori") && line.contains("スキーマ 42"), "{line}");
    }
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) FROM audit_events").await, audit_before);
    assert_eq!(sqlite_count(&db, "SELECT MAX(version) FROM _sqlx_migrations").await, 42);
}

#[test]
fn migrate_reports_an_up_to_date_schema() {
    let env = Env::new();
    env.ok(&["init"]);
    let r = env.ok(&["migrate"]);
    assert!(r.stdout.contains("データベースは最新です（スキーマ 5）"), "{}", r.stdout);
}

#[tokio::test]
async fn audit_verify_detects_tampering_in_the_database() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["institution", "add", "--name", "守りクリニック"]);
    let r = env.ok(&["audit", "verify"]);
    assert!(r.stdout.contains("✓ 守りクリニック"), "{}", r.stdout);
    assert!(r.stdout.contains("改ざんは検出されませんでした"), "{}", r.stdout);

    sqlite_exec(&env.db_path(), "UPDATE audit_events SET actor = 'mallory' WHERE chain = 'system' AND seq = 2").await;
    let r = env.run(&["audit", "verify"]);
    assert_eq!(r.code, 3, "a broken chain exits with 3:\n{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("✗ システム全体: 2 番目の記録が書き換えられています"), "{}", r.stdout);
    assert!(r.one_error_line().contains("改ざんの痕跡"), "{}", r.stderr);

    let json = env.run(&["audit", "verify", "--json"]);
    assert_eq!(json.code, 3);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let system = v["chains"].as_array().unwrap().iter().find(|c| c["chain"] == "system").unwrap();
    assert_eq!(system["broken"]["problem"], "edited");
}

#[tokio::test]
async fn jobs_are_listed_cancelled_and_reconciled_from_the_cli() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["audit", "verify"]);
    let list = env.ok(&["jobs", "list", "--json"]);
    let jobs: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(jobs[0]["kind"], "audit-verify");
    assert_eq!(jobs[0]["status"], "succeeded");

    // A job left running by a process that no longer exists (pid above Linux's pid_max).
    let store = mamori_store::open(
        &mamori_store::DbSettings::Sqlite { path: env.db_path() },
        mamori_store::OpenOptions { create: false, migrate: false },
    )
    .await
    .unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_owned();
    let orphan = mamori_domain::job::Job::new(None, "scan", serde_json::Value::Null, "tester");
    store.insert_job(&orphan).await.unwrap();
    store.start_job(orphan.id, &format!("{host}:{}", 0x3fff_ffff)).await.unwrap();
    let queued = mamori_domain::job::Job::new(None, "ledger-import", serde_json::Value::Null, "tester");
    store.insert_job(&queued).await.unwrap();
    drop(store);

    let r = env.ok(&["jobs", "show", &orphan.id.to_string()]);
    assert!(r.stdout.contains("中断（プロセス終了）"), "{}", r.stdout);
    let r = env.ok(&["jobs", "cancel", &queued.id.to_string()]);
    assert!(r.stdout.contains("を中止しました"), "{}", r.stdout);
    let r = env.run(&["jobs", "cancel", &queued.id.to_string()]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("既に終了しています"), "{}", r.stderr);
    let r = env.run(&["jobs", "cancel", "not-an-id"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("形式が正しくありません"), "{}", r.stderr);
    let log = env.ok(&["audit", "log", "--json"]);
    let events: serde_json::Value = serde_json::from_str(&log.stdout).unwrap();
    let cancel = events.as_array().unwrap().iter().find(|e| e["action"] == "job.cancel").unwrap();
    assert_eq!(cancel["actor"], "cli:tester");
    assert!(events.as_array().unwrap().iter().any(|e| e["action"] == "job.interrupted"));
}

#[tokio::test]
async fn the_whole_cli_works_on_postgresql() {
    let mut env = Env::new();
    env.db = Some(fresh_pg_database().await);
    let r = env.ok(&["init"]);
    assert!(r.stdout.contains("postgres"), "{}", r.stdout);
    env.ok(&["institution", "add", "--name", "守り病院", "--kind", "hospital", "--code", "1312345678"]);
    let list = env.ok(&["institution", "list"]);
    assert!(list.stdout.contains("守り病院") && list.stdout.contains("病院"), "{}", list.stdout);
    let r = env.ok(&["audit", "verify"]);
    assert!(r.stdout.contains("✓ 守り病院"), "{}", r.stdout);
    let server = Server::start(&env, &[]);
    let (status, _, body) = server.get("/healthz", None);
    assert_eq!(status, 200);
    assert!(body.contains("\"database\":\"postgres\""), "{body}");
    // With PostgreSQL, several servers may share the database (no data-dir lock).
    let second = Server::start(&env, &[]);
    assert_eq!(second.get("/healthz", None).0, 200);
}
