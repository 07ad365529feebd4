use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mamori");

/// A scratch directory; the data directory is `<tmp>/data`.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub lang: &'static str,
    pub db: Option<String>,
    /// Another data directory than `<tmp>/data`.
    pub data_dir: Option<PathBuf>,
}

impl Env {
    pub fn new() -> Self {
        Env { tmp: tempfile::tempdir().unwrap(), lang: "ja_JP.UTF-8", db: None, data_dir: None }
    }

    pub fn data(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| self.tmp.path().join("data"))
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data-dir").arg(self.data());
        if let Some(db) = &self.db {
            c.arg("--db").arg(db);
        }
        c.args(args)
            .env_remove("MAMORI_LANG")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("MAMORI_DB")
            .env_remove("MAMORI_DATA_DIR")
            .env("LANG", self.lang)
            .env("USER", "tester")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd(args).output().unwrap();
        Run::from(out)
    }

    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "mamori {args:?} failed:\n{}\n{}", r.stdout, r.stderr);
        r
    }

    pub fn db_path(&self) -> PathBuf {
        self.data().join("mamori.db")
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// A failure is reported as exactly one line on standard error.
    pub fn one_error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "expected one error line, got:\n{}", self.stderr);
        lines[0]
    }
}

/// A running `mamori serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub stdout: Vec<String>,
}

impl Server {
    pub fn start(env: &Env, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = env.cmd(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            seen.push(line.clone());
            if let Some(i) = line.find("https://").or_else(|| line.find("http://")) {
                let url = line[i..].trim().trim_end_matches('/').to_owned();
                // Keep draining stdout so the server never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return Server { child, url, stdout: seen };
            }
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!("serve did not start: {seen:?}\n{}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, Vec<(String, String)>, String) {
        request(&format!("{}{path}", self.url), "GET", token)
    }

    pub fn post(&self, path: &str, token: Option<&str>) -> (u16, Vec<(String, String)>, String) {
        request(&format!("{}{path}", self.url), "POST", token)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn request(url: &str, method: &str, token: Option<&str>) -> (u16, Vec<(String, String)>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let res = match method {
        "POST" => {
            let mut r = agent.post(url);
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            r.send_empty()
        }
        _ => {
            let mut r = agent.get(url);
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            r.call()
        }
    };
    let mut res = res.unwrap();
    let status = res.status().as_u16();
    let headers =
        res.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    let body = res.body_mut().read_to_string().unwrap_or_default();
    (status, headers, body)
}

/// Runs SQL directly against a SQLite file, behind mamori's back.
pub async fn sqlite_exec(path: &Path, sql: &str) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut c).await.unwrap();
}

pub async fn sqlite_count(path: &Path, sql: &str) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(&mut c).await.unwrap()
}

/// A fresh database on the test PostgreSQL server (`MAMORI_TEST_PG_URL`, set by scripts/test.sh).
pub async fn fresh_pg_database() -> String {
    use sqlx::Connection;
    let server = std::env::var("MAMORI_TEST_PG_URL")
        .expect("MAMORI_TEST_PG_URL is not set: run scripts/test.sh, which starts a PostgreSQL server");
    let name = format!("mamori_cli_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

pub fn token_from(stdout: &str) -> String {
    stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("mamori_"))
        .unwrap_or_else(|| panic!("no token in {stdout}"))
        .to_owned()
}
