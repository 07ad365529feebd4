//! The web UI in a real browser: headless Chromium, driven over WebDriver by fantoccini, from the
//! first-run setup through user management, roles, logout and TOTP logins, to importing a
//! clinic's CSV ledger through the upload, preview and column-mapping steps, and answering the
//! MHLW checklist in the guided mode and downloading it as XLSX and PDF, and scanning a test
//! segment (a listener on 127.0.0.216) with the result and its finding in Japanese.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (scripts/test.sh installs them);
//! without them the test fails, it is never skipped. On a failure the page is kept as a
//! screenshot and its source under `target/browser-failures/`.

use crate::harness::{Env, Server};
use anyhow::{Context, Result, anyhow, bail, ensure};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long an element, a text or a page may take to appear.
const WAIT: Duration = Duration::from_secs(10);
/// The whole scenario, as a last resort against a browser that hangs.
const BUDGET: Duration = Duration::from_secs(240);
const TOTP_STEP: u64 = 30;

const ADMIN: &str = "admin1";
const ADMIN_PASSWORD: &str = "k7#vLq2m9!";
const AUDITOR: &str = "auditor1";
const AUDITOR_PASSWORD: &str = "Wq5$tr8Jx!";
const INSTITUTION: &str = "守りクリニック";

#[test]
fn setup_users_roles_and_logins_in_a_real_browser() {
    let started = Instant::now();
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let token = setup_token(&server.stdout);
    let home = tempfile::tempdir().unwrap();
    let driver = Chromedriver::start(home.path());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let browser = Browser::connect(&driver, &server.url, &home.path().join("profile")).await;
        let ready = started.elapsed();
        let outcome = match tokio::time::timeout(BUDGET, scenario(&browser, &token)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(anyhow!("the scenario took longer than {BUDGET:?}")),
        };
        let kept = match &outcome {
            Err(_) => Some(browser.keep_page("setup_users_roles_and_logins").await),
            Ok(()) => None,
        };
        let _ = tokio::time::timeout(WAIT, browser.client.close()).await;
        if let (Err(e), Some(kept)) = (outcome, kept) {
            panic!("browser test failed: {e:#}\n{kept}");
        }
        eprintln!("browser test: server and browser ready in {ready:.1?}, all done in {:.1?}", started.elapsed());
    });
}

async fn scenario(b: &Browser, token: &str) -> Result<()> {
    // 1–2. First run: the top page leads to the setup, then to the TOTP enrolment.
    b.step("setup");
    b.goto("/").await?;
    b.wait_path("/setup").await?;
    let heading = b.heading("初回セットアップ").await?;
    ensure!(heading.is_displayed().await?, "the setup heading is not visible");
    let form = b.find("form[action='/setup']").await?;
    b.fill(&form, "token", token).await?;
    b.fill(&form, "login", ADMIN).await?;
    b.fill(&form, "display_name", "守 太郎").await?;
    b.fill(&form, "password", ADMIN_PASSWORD).await?;
    b.fill(&form, "password_confirm", ADMIN_PASSWORD).await?;
    b.fill(&form, "institution", INSTITUTION).await?;
    b.submit(&form).await?;
    b.find("form[action='/setup/confirm']").await.context("the TOTP enrolment after the setup form")?;
    b.find(".qr svg").await.context("the QR code of the setup")?;
    let mut admin_app = Authenticator::from_page(b).await?;
    let form = b.find("form[action='/setup/confirm']").await?;
    b.fill(&form, "code", &admin_app.next_code().await).await?;
    b.submit(&form).await?;
    let inst = b.dashboard().await.context("the dashboard after the setup")?;
    b.wait_text("main", INSTITUTION).await?;
    // The vendored htmx loads under the page's Content-Security-Policy.
    let htmx = b.client.execute("return typeof window.htmx", vec![]).await?;
    ensure!(htmx == "object", "htmx did not load: typeof window.htmx is {htmx}");

    // 3. A new user with the read-only role.
    b.step("new user");
    b.click_nav("利用者と権限").await?;
    b.wait_path(&format!("/i/{inst}/users")).await?;
    let form = b.find_xpath("//form[h2[normalize-space()='新しい利用者を登録']]").await?;
    b.fill(&form, "login", AUDITOR).await?;
    b.fill(&form, "display_name", "監査 花子").await?;
    b.fill(&form, "password", AUDITOR_PASSWORD).await?;
    form.find(Locator::Css("select[name='role']")).await?.select_by_value("auditor").await?;
    b.submit(&form).await?;
    b.wait_text(".ok[role='status']", "保存しました").await.context("the notice after adding a user")?;
    b.wait_text("table.list tbody", AUDITOR).await?;
    b.wait_text("table.list tbody", "閲覧者").await?;

    // 4. Logout.
    b.step("logout");
    b.logout().await?;

    // 5. The auditor's first login enrols TOTP, then sees what the role allows and no more.
    b.step("auditor");
    b.login(AUDITOR, AUDITOR_PASSWORD).await?;
    b.find(".qr svg").await.context("the QR code of the first login")?;
    let mut auditor_app = Authenticator::from_page(b).await?;
    b.enter_code(&auditor_app.next_code().await).await?;
    ensure!(b.dashboard().await? == inst, "the auditor landed on another institution");
    let nav = b.nav_links().await?;
    ensure!(nav.iter().any(|l| l == "監査ログ"), "no 監査ログ in the auditor's menu: {nav:?}");
    ensure!(!nav.iter().any(|l| l == "利用者と権限"), "利用者と権限 in the auditor's menu: {nav:?}");
    for path in [format!("/i/{inst}/users"), "/admin/users".to_owned()] {
        b.goto(&path).await?;
        b.heading("この画面を表示する権限がありません").await.with_context(|| format!("{path} for the auditor"))?;
    }
    b.goto(&format!("/i/{inst}/audit")).await?;
    b.heading("監査ログ").await?;
    let actions = b.texts("table.audit tbody td code").await?;
    ensure!(
        actions.iter().any(|a| a == "membership.set"),
        "the auditor's own membership is not in the institution's audit log: {actions:?}"
    );
    ensure!(
        actions.iter().any(|a| a == "auth.login"),
        "no auth.login in the institution's audit log; its actions are {actions:?}"
    );
    b.logout().await?;

    // 6. A wrong code is refused and the code page stays; the right one opens the dashboard.
    b.step("codes");
    b.login(ADMIN, ADMIN_PASSWORD).await?;
    b.enter_code(&admin_app.wrong_code()).await?;
    b.wait_text(".error[role='alert']", "確認コードが正しくありません").await?;
    b.wait_path("/login/mfa").await?;
    b.find("form[action='/login/mfa'] input[name='code']").await.context("the code field after a wrong code")?;
    b.enter_code(&admin_app.next_code().await).await?;
    ensure!(b.dashboard().await? == inst, "the administrator landed on another institution");

    // 7. A clinic's messy Excel-made CSV imported through the browser: upload, preview, one
    // column mapped by hand, commit, and the records in the list.
    b.step("ledger import");
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("機器台帳.csv");
    let csv = "機器台帳（令和8年4月1日現在）\r\n\r\n種別,機器名,IPアドレス,保守期限,端末の愛称\r\n\
               サーバ,電子カルテサーバ,１９２．１６８．１０．５,令和9年3月31日,karte-sv\r\n\
               端末PC,受付PC,192.168.10.21,R8.4.1,uketsuke\r\n";
    std::fs::write(&file, encoding_rs::SHIFT_JIS.encode(csv).0)?;
    b.click_nav("台帳").await?;
    b.wait_path(&format!("/i/{inst}/ledgers/assets")).await?;
    let import = b.find_xpath("//a[normalize-space()='ファイルから取込み']").await?;
    import.click().await?;
    b.heading("台帳の取込み").await?;
    let form = b.find("form[hx-post$='/import']").await?;
    form.find(Locator::Css("input[type='file']")).await?.send_keys(&file.display().to_string()).await?;
    b.submit(&form).await?;
    b.heading("取込み内容の確認").await.context("the preview after the upload")?;
    b.wait_text("#import-summary", "新規 2 件").await?;
    b.find("select[aria-label='端末の愛称']").await?.select_by_value("hostname").await?;
    let mapping = b.find("form#mapping").await?;
    b.submit(&mapping).await?;
    b.wait_text("#mapping", "手動で指定").await.context("the mapping after it was applied")?;
    let png = b.client.screenshot().await?;
    let shots = target_dir().join("browser-screenshots");
    std::fs::create_dir_all(&shots)?;
    std::fs::write(shots.join("ledger-preview.png"), png)?;
    b.find("#import-commit").await?.click().await?;
    b.wait_text(".ok[role='status']", "登録しました（新規 2 件").await.context("the notice after the import")?;
    b.wait_text("table.list tbody", "karte-sv").await?;
    b.wait_text("table.list tbody", "192.168.10.5").await?;
    std::fs::write(shots.join("ledger-list.png"), b.client.screenshot().await?)?;

    // 8. The checklist: the guided mode answers the first item with mamori's proposal in
    // view, moves on, and the official form downloads as XLSX and PDF.
    b.step("checklist");
    b.click_nav("チェックリスト").await?;
    b.wait_text("#checklist-progress", "未回答").await.context("the checklist page")?;
    b.find("#guide-start").await?.click().await?;
    b.wait_text("main", "項目目").await.context("the guided mode")?;
    b.wait_text("#guide-proposal", "mamori の判定").await?;
    let first = b.find("#guide-item").await?.text().await?;
    let form = b.find("form#guide-answer").await?;
    form.find(Locator::Css("input[type='radio'][value='yes']")).await?.click().await?;
    b.find("#guide-save").await?.click().await?;
    b.until("the next item of the guide", async || {
        let now = b.client.find(Locator::Css("#guide-item")).await?.text().await?;
        Ok((now != first).then_some(()))
    })
    .await?;
    std::fs::write(shots.join("checklist-guide.png"), b.client.screenshot().await?)?;
    b.goto(&format!("/i/{inst}/checklist")).await?;
    b.wait_text("#checklist-progress", "はい 1 件").await.context("the answer in the progress line")?;
    std::fs::write(shots.join("checklist.png"), b.client.screenshot().await?)?;
    for format in ["xlsx", "pdf"] {
        let link = b.find(&format!("a[href$='/export?format={format}']")).await?;
        let href = link.attr("href").await?.context("export link")?;
        let got = b
            .client
            .execute_async(
                "const [url, done] = arguments; fetch(url).then(r => done(r.status + ' ' + r.headers.get('content-type')));",
                vec![serde_json::json!(href)],
            )
            .await?;
        let got = got.as_str().unwrap_or_default().to_owned();
        ensure!(got.starts_with("200 "), "{format} export answered {got}");
        ensure!(got.contains(if format == "pdf" { "application/pdf" } else { "spreadsheetml" }), "{format}: {got}");
    }

    // 9. A network scan: the test segment is registered through the ledger form, a listener
    // on 127.0.0.216 answers, the scan runs from the scans page and its result shows the
    // device missing from the 機器台帳 and offers the nmap XML export.
    b.step("scan");
    let listener = std::net::TcpListener::bind("127.0.0.216:8080")?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut s = stream;
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 512];
                if matches!(s.read(&mut buf), Ok(n) if n > 0) {
                    let _ = s.write_all(
                        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                }
            });
        }
    });
    b.goto(&format!("/i/{inst}/ledgers/segments/new")).await?;
    let form = b.find("form.ledger-form").await?;
    b.fill(&form, "f_name", "検証用LAN").await?;
    b.fill(&form, "f_cidrs", "127.0.0.216/32").await?;
    b.submit(&form).await?;
    b.wait_text("main", "127.0.0.216/32").await.context("the new segment")?;
    b.click_nav("ネットワーク検査").await?;
    let form = b.find("form#scan-start").await?;
    form.find(Locator::Css("select[name='segment']")).await?.select_by_value("検証用LAN").await?;
    b.submit(&form).await?;
    b.heading("検査結果").await.context("the scan result")?;
    b.wait_text("main", "127.0.0.216").await?;
    b.wait_text("main", "台帳に未登録").await?;
    b.wait_text("main", "nginx 1.22.1").await?;
    b.find("a[href$='/export?format=nmap-xml']").await?;
    std::fs::write(shots.join("scan.png"), b.client.screenshot().await?)?;
    b.click_nav("指摘事項").await?;
    b.wait_text("main", "機器台帳に登録されていない機器（127.0.0.216）").await?;
    std::fs::write(shots.join("findings.png"), b.client.screenshot().await?)?;

    // 10. The dashboard at 1280 px, kept for people to look at.
    b.step("screenshot");
    b.goto(&format!("/i/{inst}")).await?;
    b.wait_text("main", INSTITUTION).await?;
    let png = b.client.screenshot().await?;
    let path = target_dir().join("browser-screenshots/dashboard.png");
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, png)?;
    eprintln!("browser test: dashboard screenshot in {}", path.display());
    b.step("done");
    Ok(())
}

/// The setup token `serve` prints on the line after its heading.
fn setup_token(stdout: &[String]) -> String {
    let i = stdout
        .iter()
        .position(|l| l.contains("初回セットアップ用トークン"))
        .unwrap_or_else(|| panic!("serve printed no setup token: {stdout:?}"));
    stdout.get(i + 1).map(|l| l.trim().to_owned()).filter(|t| !t.is_empty()).expect("the setup token line")
}

fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

/// `chromedriver` on a port of its choosing on loopback; it and the browser it started are
/// killed when this is dropped.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    /// `home` stands in for the home directory: Chromium writes its crash database there.
    fn start(home: &Path) -> Chromedriver {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: the browser test needs the Debian packages chromium and chromium-driver. \
                 Run scripts/test.sh, which installs them (or apt-get install chromium chromium-driver)."
            );
        }
        let mut child = Command::new(CHROMEDRIVER)
            .args(["--port=0", "--allowed-ips=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            // Its own process group, so that the browser goes with it even after a panic.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        // Keep reading to the end so chromedriver never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        let port = loop {
            let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
                let _ = child.kill();
                panic!("chromedriver did not start within {WAIT:?}: {seen:?}");
            };
            if let Some(port) = line.split("started successfully on port ").nth(1) {
                break port.trim().trim_end_matches('.').parse::<u16>().expect("chromedriver's port");
            }
            seen.push(line);
        };
        Chromedriver { child, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The shell's own `kill` (procps may be absent) on the whole process group.
        let group = format!("kill -s KILL -- -{}", self.child.id());
        let _ = Command::new("sh").args(["-c", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session on the server at `base`.
struct Browser {
    client: Client,
    base: String,
    started: Instant,
}

impl Browser {
    async fn connect(driver: &Chromedriver, base: &str, profile: &Path) -> Browser {
        assert!(base.starts_with("http://127.0.0.1:"), "the browser only ever loads loopback pages: {base}");
        let options = serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,900",
                "--lang=ja",
            ],
            // On Linux `--lang` does not set Accept-Language, which picks the server's language.
            "prefs": {"intl.accept_languages": "ja"},
        });
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert("goog:chromeOptions".into(), options);
        let ms = WAIT.as_millis() as u64;
        caps.insert("timeouts".into(), serde_json::json!({"pageLoad": ms, "script": ms, "implicit": 0}));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session through {}: {e}", driver.url));
        Browser { client, base: base.to_owned(), started: Instant::now() }
    }

    /// Keeps the page as a screenshot and its source under `target/browser-failures/<name>.*`;
    /// says where, for the failure message.
    async fn keep_page(&self, name: &str) -> String {
        let dir = target_dir().join("browser-failures");
        let png = dir.join(format!("{name}.png"));
        let html = dir.join(format!("{name}.html"));
        let keep = async {
            std::fs::create_dir_all(&dir)?;
            let url = self.client.current_url().await?;
            std::fs::write(&png, self.client.screenshot().await?)?;
            std::fs::write(&html, self.client.source().await?)?;
            let mut shown = Vec::new();
            for e in self.client.find_all(Locator::Css("main h1, main [role='alert']")).await? {
                shown.push(e.text().await?.trim().to_owned());
            }
            anyhow::Ok((url, shown))
        };
        match tokio::time::timeout(WAIT, keep).await {
            Ok(Ok((url, shown))) => {
                format!("page: {url} showing {shown:?}\nscreenshot: {}\npage source: {}", png.display(), html.display())
            }
            Ok(Err(e)) => format!("(the page could not be kept: {e:#})"),
            Err(_) => "(the browser did not answer: no screenshot)".to_owned(),
        }
    }

    /// Marks the start of a part of the scenario (seen with `--nocapture`).
    fn step(&self, name: &str) {
        eprintln!("browser test: {:>6.2?} {name}", self.started.elapsed());
    }

    async fn goto(&self, path: &str) -> Result<()> {
        self.client.goto(&format!("{}{path}", self.base)).await.with_context(|| format!("opening {path}"))
    }

    async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// Polls `probe` until it gives a value; errors count as "not yet" (the page may be changing).
    async fn until<T>(&self, what: &str, mut probe: impl AsyncFnMut() -> Result<Option<T>>) -> Result<T> {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match probe().await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => String::new(),
                Err(e) => format!(" (last error: {e:#})"),
            };
            if Instant::now() >= deadline {
                bail!("waited {WAIT:?} for {what}{last}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn find(&self, css: &str) -> Result<Element> {
        self.until(&format!("an element {css}"), async || Ok(Some(self.client.find(Locator::Css(css)).await?))).await
    }

    async fn find_xpath(&self, xpath: &str) -> Result<Element> {
        self.until(&format!("an element {xpath}"), async || Ok(Some(self.client.find(Locator::XPath(xpath)).await?)))
            .await
    }

    /// The texts of all elements matching `css`, once there is at least one.
    async fn texts(&self, css: &str) -> Result<Vec<String>> {
        self.until(&format!("elements {css}"), async || {
            let mut texts = Vec::new();
            for e in self.client.find_all(Locator::Css(css)).await? {
                texts.push(e.text().await?.trim().to_owned());
            }
            Ok((!texts.is_empty()).then_some(texts))
        })
        .await
    }

    async fn wait_text(&self, css: &str, text: &str) -> Result<()> {
        self.until(&format!("“{text}” in {css}"), async || {
            for e in self.client.find_all(Locator::Css(css)).await? {
                if e.text().await?.contains(text) {
                    return Ok(Some(()));
                }
            }
            Ok(None)
        })
        .await
    }

    /// The page's `h1`, once it reads `text`.
    async fn heading(&self, text: &str) -> Result<Element> {
        self.until(&format!("the heading “{text}”"), async || {
            let h1 = self.client.find(Locator::Css("main h1")).await?;
            Ok((h1.text().await?.trim() == text).then_some(h1))
        })
        .await
    }

    async fn wait_path(&self, path: &str) -> Result<()> {
        self.until(&format!("the page {path}"), async || Ok((self.path().await? == path).then_some(()))).await
    }

    /// Waits for an institution's dashboard and returns the institution's id.
    async fn dashboard(&self) -> Result<String> {
        let inst = self
            .until("an institution's dashboard (/i/<id>)", async || {
                let path = self.path().await?;
                Ok(path.strip_prefix("/i/").filter(|id| !id.is_empty() && !id.contains('/')).map(str::to_owned))
            })
            .await?;
        self.heading("ダッシュボード").await?;
        Ok(inst)
    }

    /// Types into the field `name` of `form`, as a user would.
    async fn fill(&self, form: &Element, name: &str, value: &str) -> Result<()> {
        let field =
            form.find(Locator::Css(&format!("[name='{name}']"))).await.with_context(|| format!("field {name}"))?;
        field.clear().await?;
        field.send_keys(value).await.with_context(|| format!("typing into {name}"))
    }

    async fn submit(&self, form: &Element) -> Result<()> {
        form.find(Locator::Css("button[type='submit']")).await?.click().await.context("clicking the submit button")
    }

    async fn nav_links(&self) -> Result<Vec<String>> {
        self.texts("header nav.main a").await
    }

    async fn click_nav(&self, label: &str) -> Result<()> {
        let link = self.find_xpath(&format!("//header//nav//a[normalize-space()='{label}']")).await?;
        link.click().await.with_context(|| format!("clicking {label}"))
    }

    async fn logout(&self) -> Result<()> {
        let button =
            self.find_xpath("//header//form[@action='/logout']//button[normalize-space()='ログアウト']").await?;
        button.click().await?;
        self.wait_path("/login").await?;
        self.heading("ログイン").await.map(drop)
    }

    /// Login name and password; leaves the browser on the code page.
    async fn login(&self, login: &str, password: &str) -> Result<()> {
        if self.path().await? != "/login" {
            self.goto("/login").await?;
        }
        let form = self.find("form[action='/login']").await?;
        self.fill(&form, "login", login).await?;
        self.fill(&form, "password", password).await?;
        self.submit(&form).await?;
        self.wait_path("/login/mfa").await.with_context(|| format!("the code page after {login}'s password"))?;
        self.heading("確認コードの入力").await.map(drop)
    }

    async fn enter_code(&self, code: &str) -> Result<()> {
        let form = self.find("form[action='/login/mfa']").await?;
        self.fill(&form, "code", code).await?;
        self.submit(&form).await
    }
}

/// An authenticator app: the key from `#totp-secret`, and no time step used twice (the server
/// accepts each step once per user, and one step of drift either way).
struct Authenticator {
    totp: totp_rs::Totp,
    last_step: Option<u64>,
}

impl Authenticator {
    async fn from_page(b: &Browser) -> Result<Authenticator> {
        let key = b.find("code#totp-secret").await?.text().await?;
        let key: String = key.split_whitespace().collect();
        let secret =
            totp_rs::Secret::try_from_base32(&key).map_err(|e| anyhow!("the key {key:?} on the page: {e:?}"))?;
        let totp = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(TOTP_STEP)
            .with_secret(secret.as_bytes().to_vec())
            .build_noncompliant();
        Ok(Authenticator { totp, last_step: None })
    }

    /// The code of the current step, or of the next one when the current one is used; waits
    /// only when even the next one is used.
    async fn next_code(&mut self) -> String {
        let step = match self.last_step {
            Some(last) => last + 1,
            None => unix_now() / TOTP_STEP,
        };
        let usable_from = (step - 1) * TOTP_STEP;
        let now = unix_now();
        if now < usable_from {
            tokio::time::sleep(Duration::from_secs(usable_from - now)).await;
        }
        self.last_step = Some(step.max(unix_now() / TOTP_STEP));
        self.totp.generate(self.last_step.unwrap() * TOTP_STEP).to_string()
    }

    /// Six digits that are not the code of any step the server could accept now.
    fn wrong_code(&self) -> String {
        let now = unix_now() / TOTP_STEP;
        let valid: Vec<String> = (now - 2..=now + 3).map(|s| self.totp.generate(s * TOTP_STEP).to_string()).collect();
        (0..)
            .map(|n: u32| format!("{:06}", (123_456 + n * 111_111) % 1_000_000))
            .find(|c| !valid.contains(c))
            .expect("a wrong code")
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}
