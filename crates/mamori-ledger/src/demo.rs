//! Fictional ledgers for demonstrations and screenshots: a one-doctor clinic and a small
//! hospital, with the gaps a real institution has (a retired member of staff whose account is
//! still enabled, a remote-maintenance connection without 接続元制限, systems without MDS/SDS).
//!
//! Everything here is invented: people, institutions, vendors, addresses, serial numbers, MAC
//! addresses (locally administered, `02:…`), telephone numbers (`0120-000-…`, `03-0000-…`)
//! and e-mail addresses (`@…example.jp`). Every row carries [`DEMO_MARKER`] in its notes so it
//! can never be mistaken for an institution's own data. Product names of operating systems
//! and office software are real, so that end-of-support dates mean something.
//!
//! The output is deterministic: ids come from a fixed sequence, not from a random source.
//! Callers that load the same demo more than once into one database use
//! [`DemoData::with_fresh_ids`]. This module builds rows only; it does not touch the store.

use std::collections::HashMap;

use mamori_domain::RecordId;
use mamori_domain::record::{RecordKind, Row, Value};
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// The text every demo row's notes start with.
pub const DEMO_MARKER: &str = "【デモデータ】";

/// Which fictional institution to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DemoInstitution {
    /// A one-doctor clinic: about 25 assets, 8 staff.
    Clinic,
    /// A small hospital: about 120 assets across 事務系, 医療情報系 and 医療機器 networks, 60 staff.
    Hospital,
}

/// A demo institution's ledgers.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    pub institution_name: String,
    /// In [`RecordKind::ALL`] order, so every reference points at an earlier row.
    pub rows: Vec<Row>,
}

impl DemoData {
    /// The rows of one ledger.
    pub fn rows_of(&self, kind: RecordKind) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.kind == kind)
    }

    /// The same data under new random ids, references rewritten to match.
    pub fn with_fresh_ids(mut self) -> DemoData {
        let map: HashMap<uuid::Uuid, RecordId> = self.rows.iter().map(|r| (r.id.0, RecordId::new())).collect();
        for row in &mut self.rows {
            row.id = map[&row.id.0];
            for v in row.values.values_mut() {
                if let Value::Ref(u) = v
                    && let Some(new) = map.get(u)
                {
                    *u = new.0;
                }
            }
        }
        self
    }
}

/// Builds the demo ledgers of `which`.
pub fn demo(which: DemoInstitution) -> DemoData {
    let mut b = Builder::new(which);
    match which {
        DemoInstitution::Clinic => clinic(&mut b),
        DemoInstitution::Hospital => hospital(&mut b),
    }
    let name = match which {
        DemoInstitution::Clinic => "【デモ】みまもり内科クリニック",
        DemoInstitution::Hospital => "【デモ】みまもり記念病院",
    };
    let mut rows = b.rows;
    rows.sort_by_key(|r| RecordKind::ALL.iter().position(|k| *k == r.kind));
    DemoData { institution_name: name.to_owned(), rows }
}

// ---- building blocks ---------------------------------------------------------------------------

struct Builder {
    seq: u64,
    salt: u8,
    rows: Vec<Row>,
    /// `(kind, display name)` → id, so later rows refer to earlier ones by name.
    names: HashMap<(RecordKind, String), RecordId>,
}

/// One field value for [`Builder::add`].
enum V {
    T(String),
    D(Date),
    /// JST wall-clock time.
    At(Date, u8, u8),
    I(i64),
    B(bool),
    L(Vec<String>),
    /// A reference, by the other record's kind and name.
    R(RecordKind, String),
}

fn t(s: impl Into<String>) -> V {
    V::T(s.into())
}

fn d(y: i32, m: u8, day: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).expect("month"), day).expect("demo dates are valid")
}

fn r(kind: RecordKind, name: impl Into<String>) -> V {
    V::R(kind, name.into())
}

impl Builder {
    fn new(which: DemoInstitution) -> Self {
        let salt = match which {
            DemoInstitution::Clinic => 1,
            DemoInstitution::Hospital => 2,
        };
        Builder { seq: 0, salt, rows: Vec::new(), names: HashMap::new() }
    }

    /// A well-formed UUIDv7 from a fixed clock (2025-04-01T00:00:00Z) and a counter.
    fn next_id(&mut self) -> RecordId {
        self.seq += 1;
        let mut tail = [0u8; 10];
        tail[0] = self.salt;
        tail[2..].copy_from_slice(&self.seq.to_be_bytes());
        RecordId(uuid::Builder::from_unix_timestamp_millis(1_743_465_600_000 + self.seq, &tail).into_uuid())
    }

    /// Adds a row; `notes` follow the demo marker. Returns the new id.
    fn add(&mut self, kind: RecordKind, fields: Vec<(&str, V)>, notes: &str) -> RecordId {
        let id = self.next_id();
        let mut row = Row::new(kind, id);
        let jst = UtcOffset::from_hms(9, 0, 0).expect("JST");
        for (field, v) in fields {
            let value = match v {
                V::T(s) => Value::Text(s),
                V::D(day) => Value::Date(day),
                V::At(day, h, m) => {
                    let at = OffsetDateTime::new_in_offset(day, Time::from_hms(h, m, 0).expect("time"), jst);
                    Value::from(Some(at))
                }
                V::I(i) => Value::Int(i),
                V::B(b) => Value::Bool(b),
                V::L(l) => Value::TextList(l),
                V::R(k, name) => match self.names.get(&(k, name.clone())) {
                    Some(id) => Value::Ref(id.0),
                    None => panic!("demo data refers to an unknown {k} {name:?}"),
                },
            };
            row.set(field, value);
        }
        let notes = if notes.is_empty() { DEMO_MARKER.to_owned() } else { format!("{DEMO_MARKER}{notes}") };
        row.set("notes", Value::Text(notes));
        if let Some(name) = crate::export::display_name(&row) {
            self.names.insert((kind, name), id);
        }
        self.rows.push(row);
        id
    }
}

fn mac(salt: u8, n: usize) -> V {
    V::L(vec![format!("02:00:5e:{salt:02x}:{:02x}:{:02x}", n / 256, n % 256)])
}

fn ip(addr: String) -> V {
    V::L(vec![addr])
}

// ---- the clinic ---------------------------------------------------------------------------------

const EMR_VENDOR: &str = "みまもりメディカルシステムズ株式会社";
const NET_VENDOR: &str = "さくらネットワーク保守株式会社";
const MED_VENDOR: &str = "あおば医療機器株式会社";
const OA_VENDOR: &str = "ひかり事務機株式会社";

/// One asset: `(kind, name, hostname, segment, last IP octet, maker, model, vendor, criticality)`.
type AssetSpec<'a> = (&'a str, &'a str, &'a str, &'a str, u8, &'a str, &'a str, &'a str, &'a str);
/// [`AssetSpec`] with generated kind, name and hostname.
type OwnedAssetSpec =
    (String, String, String, &'static str, u8, &'static str, &'static str, &'static str, &'static str);
/// One member of staff: `(name, kana, number, department, job title, joined, retired)`.
type StaffSpec<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, Date, Option<Date>);

fn clinic(b: &mut Builder) {
    use RecordKind as K;
    let site = "本院";
    b.add(K::Sites, vec![("name", t(site)), ("address", t("東京都みまもり区中央1-2-3（架空の住所）"))], "");
    for (name, service, contact, phone, emergency, mail) in [
        (
            EMR_VENDOR,
            "電子カルテ・レセコンの提供と保守",
            "佐藤 一郎",
            "03-0000-1001",
            "0120-000-101",
            "support@emr.example.jp",
        ),
        (
            NET_VENDOR,
            "院内ネットワーク・UTM・VPN装置の保守",
            "鈴木 次郎",
            "03-0000-1002",
            "0120-000-102",
            "noc@net.example.jp",
        ),
        (
            MED_VENDOR,
            "心電計・超音波診断装置の保守",
            "高橋 三郎",
            "03-0000-1003",
            "0120-000-103",
            "service@med.example.jp",
        ),
        (OA_VENDOR, "複合機の保守", "田中 四郎", "03-0000-1004", "0120-000-104", "oa@oa.example.jp"),
    ] {
        b.add(
            K::Vendors,
            vec![
                ("name", t(name)),
                ("service", t(service)),
                ("contact_name", t(contact)),
                ("phone", t(phone)),
                ("email", t(mail)),
                ("emergency_contact", t(format!("{emergency}（24時間）"))),
                ("address", t("東京都みまもり区（架空の住所）")),
            ],
            "",
        );
    }
    for (name, cidr, purpose, vlan) in [
        ("電子カルテ系", "192.168.10.0/24", "電子カルテ・レセコン", 10),
        ("事務・インターネット系", "192.168.20.0/24", "事務・インターネット閲覧", 20),
        ("医療機器系", "192.168.30.0/24", "医療機器", 30),
    ] {
        b.add(
            K::Segments,
            vec![
                ("name", t(name)),
                ("site_id", r(K::Sites, site)),
                ("cidrs", V::L(vec![cidr.to_owned()])),
                ("purpose", t(purpose)),
                ("vlan", V::I(vlan)),
            ],
            "",
        );
    }
    let staff: [StaffSpec<'_>; 8] = [
        ("守山 健一", "モリヤマ ケンイチ", "001", "診療部", "院長（医師）", d(2012, 4, 1), None),
        ("中島 和夫", "ナカジマ カズオ", "002", "事務部", "事務長", d(2012, 4, 1), None),
        ("青木 美咲", "アオキ ミサキ", "003", "看護部", "看護師", d(2015, 4, 1), None),
        ("川村 由香", "カワムラ ユカ", "004", "看護部", "看護師", d(2019, 10, 1), None),
        ("田辺 さくら", "タナベ サクラ", "005", "事務部", "医療事務", d(2016, 4, 1), None),
        ("小野 真理", "オノ マリ", "006", "事務部", "医療事務", d(2021, 4, 1), None),
        ("西田 彩", "ニシダ アヤ", "007", "事務部", "医療事務", d(2018, 4, 1), Some(d(2025, 3, 31))),
        ("北村 翔", "キタムラ ショウ", "008", "検査", "臨床検査技師", d(2022, 4, 1), None),
    ];
    for (i, (name, kana, number, dept, title, joined, retired)) in staff.iter().enumerate() {
        let mut f = vec![
            ("name", t(*name)),
            ("name_kana", t(*kana)),
            ("staff_number", t(*number)),
            ("department", t(*dept)),
            ("job_title", t(*title)),
            ("email", t(format!("staff{:03}@mimamori-clinic.example.jp", i + 1))),
            ("joined_on", V::D(*joined)),
        ];
        if let Some(day) = retired {
            f.push(("retired_on", V::D(*day)));
        }
        b.add(K::Staff, f, if retired.is_some() { "退職済み" } else { "" });
    }
    let (emr, office, medical) = ("電子カルテ系", "事務・インターネット系", "医療機器系");
    let assets: [AssetSpec<'_>; 25] = [
        ("server", "電子カルテサーバ", "EMR-SV01", emr, 10, "みまもり電機", "MM-SV200", EMR_VENDOR, "high"),
        ("server", "レセコン", "RECE-SV01", emr, 11, "みまもり電機", "MM-RC50", EMR_VENDOR, "high"),
        ("other", "バックアップ用NAS", "BK-NAS01", emr, 12, "架空ストレージ", "KS-NAS4", EMR_VENDOR, "high"),
        ("pc", "受付PC1", "UKE-PC01", emr, 21, "みまもり電機", "MM-PC10", EMR_VENDOR, "medium"),
        ("pc", "受付PC2", "UKE-PC02", emr, 22, "みまもり電機", "MM-PC10", EMR_VENDOR, "medium"),
        ("pc", "診察室1 端末", "SHIN-PC01", emr, 23, "みまもり電機", "MM-PC10", EMR_VENDOR, "high"),
        ("pc", "診察室2 端末", "SHIN-PC02", emr, 24, "みまもり電機", "MM-PC10", EMR_VENDOR, "high"),
        ("pc", "処置室 端末", "SHOCHI-PC01", emr, 25, "みまもり電機", "MM-PC10", EMR_VENDOR, "medium"),
        ("pc", "検査室 端末", "KENSA-PC01", emr, 26, "みまもり電機", "MM-PC10", EMR_VENDOR, "medium"),
        ("pc", "院長室PC", "INCHO-PC01", office, 31, "架空コンピュータ", "KC-NB14", NET_VENDOR, "low"),
        ("pc", "事務PC", "JIMU-PC01", office, 32, "架空コンピュータ", "KC-DT20", NET_VENDOR, "low"),
        ("pc", "看護師用ノートPC", "KANGO-NB01", office, 33, "架空コンピュータ", "KC-NB14", NET_VENDOR, "low"),
        ("network", "UTM", "UTM01", office, 1, "架空セキュリティ", "KS-UTM60", NET_VENDOR, "high"),
        ("network", "光回線ルータ", "RT01", office, 254, "架空通信", "KT-RT10", NET_VENDOR, "high"),
        ("network", "VPN装置", "VPN01", emr, 254, "架空通信", "KT-VPN5", NET_VENDOR, "high"),
        ("network", "L2スイッチ（電子カルテ系）", "SW-EMR01", emr, 2, "架空通信", "KT-SW24", NET_VENDOR, "high"),
        ("network", "L2スイッチ（医療機器系）", "SW-MED01", medical, 2, "架空通信", "KT-SW08", NET_VENDOR, "medium"),
        ("network", "無線LANアクセスポイント", "AP01", office, 3, "架空通信", "KT-AP6", NET_VENDOR, "low"),
        ("medical", "心電計", "ECG01", medical, 41, "あおば医療機器", "AB-ECG300", MED_VENDOR, "medium"),
        ("medical", "超音波診断装置", "US01", medical, 42, "あおば医療機器", "AB-US700", MED_VENDOR, "high"),
        ("medical", "血圧脈波検査装置", "ABI01", medical, 43, "あおば医療機器", "AB-PWV20", MED_VENDOR, "low"),
        ("medical", "電子内視鏡システム", "ENDO01", medical, 44, "あおば医療機器", "AB-EN900", MED_VENDOR, "high"),
        ("other", "複合機", "MFP01", office, 51, "ひかり事務機", "HJ-MFP35", OA_VENDOR, "low"),
        ("iot", "ネットワークカメラ（待合室）", "CAM01", office, 52, "架空セキュリティ", "KS-CAM2", NET_VENDOR, "low"),
        ("iot", "自動精算機", "PAY01", emr, 53, "架空キャッシュ", "KC-PAY1", EMR_VENDOR, "medium"),
    ];
    add_assets(b, site, &assets, &clinic_segment_prefix, d(2027, 3, 31));

    // Software on the main machines.
    for (asset, name, publisher, version, eol) in [
        ("電子カルテサーバ", "みまもり電子カルテ", EMR_VENDOR, "5.2", None),
        ("電子カルテサーバ", "Windows Server 2019 Standard", "Microsoft", "1809", Some(d(2029, 1, 9))),
        ("レセコン", "みまもりレセプト", EMR_VENDOR, "3.1", None),
        ("レセコン", "Windows 10 Pro", "Microsoft", "22H2", Some(d(2025, 10, 14))),
        ("受付PC1", "Windows 11 Pro", "Microsoft", "23H2", Some(d(2025, 11, 11))),
        ("受付PC2", "Windows 11 Pro", "Microsoft", "24H2", Some(d(2026, 10, 13))),
        ("事務PC", "Windows 10 Pro", "Microsoft", "22H2", Some(d(2025, 10, 14))),
        ("事務PC", "Microsoft Office 2016", "Microsoft", "2016", Some(d(2025, 10, 14))),
        ("院長室PC", "Windows 11 Pro", "Microsoft", "24H2", Some(d(2026, 10, 13))),
        ("超音波診断装置", "超音波画像管理ソフト", "あおば医療機器株式会社", "2.4", None),
    ] {
        let mut f = vec![
            ("asset_id", r(K::Assets, asset)),
            ("name", t(name)),
            ("publisher", t(publisher)),
            ("version", t(version)),
        ];
        if let Some(day) = eol {
            f.push(("end_of_life", V::D(day)));
        }
        b.add(K::Software, f, "");
    }

    // Accounts: one per member of staff on the EMR, plus the ones that make audits interesting.
    for (i, (name, ..)) in staff.iter().enumerate() {
        let retired = i == 6;
        b.add(
            K::Accounts,
            vec![
                ("system", t("電子カルテ")),
                ("username", t(format!("user{:03}", i + 1))),
                ("asset_id", r(K::Assets, "電子カルテサーバ")),
                ("holder", t("person")),
                ("person_id", r(K::Staff, *name)),
                ("role", t(if i == 0 { "医師" } else { "一般" })),
                ("privileged", V::B(false)),
                ("mfa", V::B(false)),
                ("last_login_at", V::At(if retired { d(2025, 3, 28) } else { d(2026, 3, 30) }, 9, 5 + i as u8)),
                ("status", t("enabled")),
            ],
            if retired { "退職者のアカウントが有効のまま" } else { "" },
        );
    }
    for (system, user, asset, holder, vendor, privileged, mfa, status, note) in [
        ("電子カルテ", "admin", "電子カルテサーバ", "shared", None, true, false, "enabled", "事務長と事業者で共用"),
        ("電子カルテ", "mmsupport", "電子カルテサーバ", "vendor", Some(EMR_VENDOR), true, true, "enabled", ""),
        ("UTM", "admin", "UTM", "shared", None, true, false, "enabled", "初期パスワードから変更済み"),
        ("UTM", "sakura-noc", "UTM", "vendor", Some(NET_VENDOR), true, true, "enabled", ""),
        ("Windows（受付PC1）", "Administrator", "受付PC1", "shared", None, true, false, "disabled", ""),
        ("複合機", "admin", "複合機", "shared", None, true, false, "enabled", ""),
    ] {
        let mut f = vec![
            ("system", t(system)),
            ("username", t(user)),
            ("asset_id", r(K::Assets, asset)),
            ("holder", t(holder)),
            ("privileged", V::B(privileged)),
            ("mfa", V::B(mfa)),
            ("status", t(status)),
        ];
        if let Some(v) = vendor {
            f.push(("vendor_id", r(K::Vendors, v)));
        }
        b.add(K::Accounts, f, note);
    }

    for (vendor, title, scope, responsibility) in [
        (
            EMR_VENDOR,
            "電子カルテシステム保守契約",
            "電子カルテ・レセコンのソフトウェアとサーバ・端末",
            "院内LANより内側は事業者、回線は医療機関",
        ),
        (
            NET_VENDOR,
            "ネットワーク機器保守契約",
            "UTM・ルータ・VPN装置・スイッチ",
            "UTMの設定と監視は事業者、パスワード管理は医療機関",
        ),
        (
            MED_VENDOR,
            "医療機器保守契約",
            "心電計・超音波診断装置・内視鏡",
            "装置本体は事業者、院内ネットワーク接続は医療機関",
        ),
        (OA_VENDOR, "複合機保守契約", "複合機", ""),
    ] {
        let mut f = vec![
            ("vendor_id", r(K::Vendors, vendor)),
            ("title", t(title)),
            ("scope", t(scope)),
            ("starts_on", V::D(d(2025, 4, 1))),
            ("ends_on", V::D(d(2026, 3, 31))),
        ];
        if !responsibility.is_empty() {
            f.push(("responsibility", t(responsibility)));
        }
        b.add(K::Contracts, f, if vendor == OA_VENDOR { "責任分界が未確認" } else { "" });
    }

    remote(
        b,
        EMR_VENDOR,
        "電子カルテサーバ",
        "vpn",
        Some("事業者保守センターの固定IPアドレスのみ"),
        d(2025, 4, 10),
        "",
    );
    remote(b, NET_VENDOR, "UTM", "vpn", Some("事業者監視センターの固定IPアドレスのみ"), d(2025, 4, 10), "");
    remote(
        b,
        MED_VENDOR,
        "超音波診断装置",
        "teamviewer",
        None,
        d(2024, 6, 1),
        "接続元制限なし。接続のたびにIDとパスワードを電話で伝えている",
    );

    for (system, vendor, document, version, received) in [
        ("電子カルテ", EMR_VENDOR, "mds", "第2.0版", d(2025, 4, 15)),
        ("電子カルテ", EMR_VENDOR, "sds", "第2.0版", d(2025, 4, 15)),
        ("超音波診断装置", MED_VENDOR, "mds", "第1.0版", d(2024, 6, 1)),
    ] {
        b.add(
            K::MdsSds,
            vec![
                ("system", t(system)),
                ("vendor_id", r(K::Vendors, vendor)),
                ("document", t(document)),
                ("version", t(version)),
                ("received_on", V::D(received)),
            ],
            "",
        );
    }
}

fn clinic_segment_prefix(segment: &str) -> &'static str {
    match segment {
        "電子カルテ系" => "192.168.10.",
        "事務・インターネット系" => "192.168.20.",
        _ => "192.168.30.",
    }
}

fn add_assets(
    b: &mut Builder,
    site: &str,
    assets: &[AssetSpec<'_>],
    prefix: &dyn Fn(&str) -> &'static str,
    maintenance_until: Date,
) {
    let salt = b.salt;
    for (n, (kind, name, host, segment, octet, maker, model, vendor, criticality)) in assets.iter().enumerate() {
        let mut f = vec![
            ("kind", t(*kind)),
            ("name", t(*name)),
            ("hostname", t(*host)),
            ("site_id", r(RecordKind::Sites, site)),
            ("segment_id", r(RecordKind::Segments, *segment)),
            ("maker", t(*maker)),
            ("model", t(*model)),
            ("serial", t(format!("DEMO-{}{:04}", salt, n + 1))),
            ("ip_addresses", ip(format!("{}{octet}", prefix(segment)))),
            ("mac_addresses", mac(salt, n + 1)),
            ("criticality", t(*criticality)),
            ("maintenance_vendor_id", r(RecordKind::Vendors, *vendor)),
            ("maintenance_until", V::D(maintenance_until)),
        ];
        if *kind == "medical" {
            f.push(("fragile", V::B(true)));
        }
        b.add(RecordKind::Assets, f, "");
    }
}

fn remote(
    b: &mut Builder,
    vendor: &str,
    asset: &str,
    method: &str,
    restriction: Option<&str>,
    confirmed: Date,
    note: &str,
) {
    let mut f = vec![
        ("vendor_id", r(RecordKind::Vendors, vendor)),
        ("asset_id", r(RecordKind::Assets, asset)),
        ("method", t(method)),
        ("authentication", t(if method == "vpn" { "証明書とワンタイムパスワード" } else { "ID・パスワード" })),
        ("approval_rule", t("接続のたびに事務長が電話で承認")),
        ("confirmed_on", V::D(confirmed)),
        ("last_used_at", V::At(d(2026, 3, 12), 14, 30)),
    ];
    if let Some(s) = restriction {
        f.push(("source_restriction", t(s)));
    }
    b.add(RecordKind::RemoteMaintenance, f, note);
}

// ---- the hospital -------------------------------------------------------------------------------

const SURNAMES: [&str; 20] = [
    "青山", "石原", "上田", "江口", "大森", "加藤", "木下", "久保", "小池", "斎藤", "柴田", "杉山", "高木", "千葉",
    "土屋", "中川", "野口", "浜田", "松井", "山口",
];
const GIVEN: [(&str, &str); 20] = [
    ("健太", "ケンタ"),
    ("美穂", "ミホ"),
    ("大輔", "ダイスケ"),
    ("恵", "メグミ"),
    ("翔太", "ショウタ"),
    ("陽子", "ヨウコ"),
    ("直樹", "ナオキ"),
    ("裕子", "ユウコ"),
    ("拓也", "タクヤ"),
    ("真由美", "マユミ"),
    ("亮", "リョウ"),
    ("香織", "カオリ"),
    ("誠", "マコト"),
    ("智子", "トモコ"),
    ("浩二", "コウジ"),
    ("愛", "アイ"),
    ("慎一", "シンイチ"),
    ("直美", "ナオミ"),
    ("隆", "タカシ"),
    ("舞", "マイ"),
];
const SURNAME_KANA: [&str; 20] = [
    "アオヤマ",
    "イシハラ",
    "ウエダ",
    "エグチ",
    "オオモリ",
    "カトウ",
    "キノシタ",
    "クボ",
    "コイケ",
    "サイトウ",
    "シバタ",
    "スギヤマ",
    "タカギ",
    "チバ",
    "ツチヤ",
    "ナカガワ",
    "ノグチ",
    "ハマダ",
    "マツイ",
    "ヤマグチ",
];

/// `(department, job title, how many)`: 60 in all.
const HOSPITAL_STAFF: [(&str, &str, usize); 9] = [
    ("診療部", "医師", 8),
    ("看護部", "看護師", 24),
    ("放射線科", "診療放射線技師", 4),
    ("臨床検査科", "臨床検査技師", 4),
    ("薬剤部", "薬剤師", 3),
    ("リハビリテーション科", "理学療法士", 3),
    ("医事課", "医療事務", 8),
    ("総務課", "事務", 4),
    ("情報システム室", "システム担当", 2),
];

fn hospital(b: &mut Builder) {
    use RecordKind as K;
    for (name, address) in
        [("本館", "大阪府みまもり市北1-1（架空の住所）"), ("別館", "大阪府みまもり市北1-3（架空の住所）")]
    {
        b.add(K::Sites, vec![("name", t(name)), ("address", t(address))], "");
    }
    let vendors = [
        ("みまもりメディカルシステムズ株式会社", "電子カルテ・オーダリングの提供と保守"),
        ("さくらネットワーク保守株式会社", "院内ネットワーク・UTMの保守"),
        ("あおば医療機器株式会社", "生理検査機器・超音波診断装置の保守"),
        ("つばさ画像システム株式会社", "PACS・放射線部門システムの保守"),
        ("かえで検査システム株式会社", "臨床検査システムの保守"),
        ("ひかり事務機株式会社", "複合機の保守"),
        ("みなと放射線機器株式会社", "CT・MRI・一般撮影装置の保守"),
        ("もみじデータセンター株式会社", "外部バックアップ・データセンター"),
    ];
    for (i, (name, service)) in vendors.iter().enumerate() {
        b.add(
            K::Vendors,
            vec![
                ("name", t(*name)),
                ("service", t(*service)),
                ("phone", t(format!("03-0000-2{:03}", i + 1))),
                ("email", t(format!("support{}@vendor.example.jp", i + 1))),
                ("emergency_contact", t(format!("0120-000-2{:02}（24時間）", i + 1))),
            ],
            "",
        );
    }
    let segments = [
        ("サーバ系", "172.16.1.0/24", "電子カルテ・部門システムのサーバ", 100),
        ("医療情報系", "172.16.10.0/23", "電子カルテ端末", 110),
        ("事務系", "172.16.20.0/24", "事務・インターネット閲覧", 120),
        ("医療機器系", "172.16.30.0/24", "医療機器・モダリティ", 130),
        ("ネットワーク管理", "172.16.254.0/24", "ネットワーク機器の管理", 254),
    ];
    for (name, cidr, purpose, vlan) in segments {
        b.add(
            K::Segments,
            vec![
                ("name", t(name)),
                ("site_id", r(K::Sites, "本館")),
                ("cidrs", V::L(vec![cidr.to_owned()])),
                ("purpose", t(purpose)),
                ("vlan", V::I(vlan)),
            ],
            "",
        );
    }

    let mut staff_names = Vec::new();
    let mut i = 0usize;
    for (dept, title, count) in HOSPITAL_STAFF {
        for _ in 0..count {
            let (s, g) = (i % 20, (3 * i + i / 20) % 20);
            let name = format!("{} {}", SURNAMES[s], GIVEN[g].0);
            let kana = format!("{} {}", SURNAME_KANA[s], GIVEN[g].1);
            let joined = d(2005 + (i % 19) as i32, 4, 1);
            let mut f = vec![
                ("name", t(name.clone())),
                ("name_kana", t(kana)),
                ("staff_number", t(format!("H{:04}", i + 1))),
                ("department", t(dept)),
                ("job_title", t(title)),
                ("email", t(format!("h{:04}@mimamori-hospital.example.jp", i + 1))),
                ("joined_on", V::D(joined)),
            ];
            // Two have left; the first still has an enabled account (below).
            let retired = matches!(i, 13 | 50);
            if retired {
                f.push(("retired_on", V::D(d(2025, 9, 30))));
            }
            b.add(K::Staff, f, if retired { "退職済み" } else { "" });
            staff_names.push((name, dept, retired));
            i += 1;
        }
    }

    let prefix = |segment: &str| -> &'static str {
        match segment {
            "サーバ系" => "172.16.1.",
            "医療情報系" => "172.16.10.",
            "事務系" => "172.16.20.",
            "医療機器系" => "172.16.30.",
            _ => "172.16.254.",
        }
    };
    let emr_v = vendors[0].0;
    let net_v = vendors[1].0;
    let med_v = vendors[2].0;
    let pacs_v = vendors[3].0;
    let lab_v = vendors[4].0;
    let oa_v = vendors[5].0;
    let rad_v = vendors[6].0;
    let mut specs: Vec<OwnedAssetSpec> = Vec::new();
    let mut push =
        |kind: &str, name: String, host: String, seg: &'static str, octet: u8, maker, model, vendor, crit| {
            specs.push((kind.to_owned(), name, host, seg, octet, maker, model, vendor, crit));
        };
    // Servers (10).
    for (n, (name, host, vendor, maker, model)) in [
        ("電子カルテサーバ（本番）", "EMR-SV01", emr_v, "みまもり電機", "MM-SV900"),
        ("電子カルテサーバ（待機）", "EMR-SV02", emr_v, "みまもり電機", "MM-SV900"),
        ("PACSサーバ", "PACS-SV01", pacs_v, "つばさ画像", "TG-PACS5"),
        ("放射線部門システム（RIS）サーバ", "RIS-SV01", pacs_v, "つばさ画像", "TG-RIS3"),
        ("臨床検査システムサーバ", "LAB-SV01", lab_v, "かえで検査", "KK-LIS7"),
        ("医事会計システムサーバ", "IJI-SV01", emr_v, "みまもり電機", "MM-SV400"),
        ("ファイルサーバ", "FS-SV01", net_v, "架空コンピュータ", "KC-SV2"),
        ("ドメインコントローラ", "AD-SV01", net_v, "架空コンピュータ", "KC-SV2"),
        ("バックアップサーバ", "BK-SV01", emr_v, "架空ストレージ", "KS-BK8"),
        ("ウイルス対策管理サーバ", "AV-SV01", net_v, "架空コンピュータ", "KC-SV1"),
    ]
    .into_iter()
    .enumerate()
    {
        push("server", name.to_owned(), host.to_owned(), "サーバ系", 10 + n as u8, maker, model, vendor, "high");
    }
    // EMR terminals (50) on wards and outpatient rooms, office PCs (20).
    let places =
        ["外来", "1病棟", "2病棟", "3病棟", "放射線科", "臨床検査科", "薬剤部", "リハビリ室", "医事課", "救急外来"];
    for n in 0..50 {
        let place = places[n % places.len()];
        push(
            "pc",
            format!("電子カルテ端末 {place}-{:02}", n / places.len() + 1),
            format!("EMR-PC{:03}", n + 1),
            "医療情報系",
            (20 + n) as u8,
            "みまもり電機",
            "MM-PC20",
            emr_v,
            "medium",
        );
    }
    for n in 0..20 {
        push(
            "pc",
            format!("事務PC {:02}", n + 1),
            format!("OA-PC{:03}", n + 1),
            "事務系",
            (20 + n) as u8,
            "架空コンピュータ",
            "KC-DT30",
            net_v,
            "low",
        );
    }
    // Network (12).
    for (n, (name, host, seg)) in [
        ("UTM", "UTM01", "ネットワーク管理"),
        ("インターネット回線ルータ", "RT01", "ネットワーク管理"),
        ("VPN装置（保守用）", "VPN01", "ネットワーク管理"),
        ("コアスイッチ", "CORE-SW01", "ネットワーク管理"),
        ("フロアスイッチ 本館1F", "SW-1F", "ネットワーク管理"),
        ("フロアスイッチ 本館2F", "SW-2F", "ネットワーク管理"),
        ("フロアスイッチ 本館3F", "SW-3F", "ネットワーク管理"),
        ("フロアスイッチ 本館4F", "SW-4F", "ネットワーク管理"),
        ("フロアスイッチ 別館", "SW-ANNEX", "ネットワーク管理"),
        ("無線LANコントローラ", "WLC01", "ネットワーク管理"),
        ("無線LANアクセスポイント 病棟", "AP-WARD", "ネットワーク管理"),
        ("無線LANアクセスポイント 外来", "AP-OPD", "ネットワーク管理"),
    ]
    .into_iter()
    .enumerate()
    {
        push("network", name.to_owned(), host.to_owned(), seg, 1 + n as u8, "架空通信", "KT-NW", net_v, "high");
    }
    // Medical devices (22).
    let devices: [(&str, &str, &str, &str, usize); 9] = [
        ("CT装置", "CT", rad_v, "high", 1),
        ("MRI装置", "MRI", rad_v, "high", 1),
        ("一般撮影装置", "DR", rad_v, "high", 2),
        ("超音波診断装置", "US", med_v, "medium", 3),
        ("心電計", "ECG", med_v, "medium", 3),
        ("生体情報モニタ セントラル", "MON", med_v, "high", 4),
        ("自動分析装置", "ANA", lab_v, "high", 2),
        ("血球計数装置", "CBC", lab_v, "medium", 2),
        ("電子内視鏡システム", "ENDO", med_v, "high", 4),
    ];
    let mut octet = 10u8;
    for (name, host, vendor, crit, count) in devices {
        for k in 0..count {
            let name = if count == 1 { name.to_owned() } else { format!("{name} {}", k + 1) };
            push(
                "medical",
                name,
                format!("{host}{:02}", k + 1),
                "医療機器系",
                octet,
                "架空医療機器",
                host,
                vendor,
                crit,
            );
            octet += 1;
        }
    }
    // Printers and others (6).
    for n in 0..4 {
        push(
            "other",
            format!("複合機 {}", n + 1),
            format!("MFP{:02}", n + 1),
            "事務系",
            200 + n as u8,
            "ひかり事務機",
            "HJ-MFP45",
            oa_v,
            "low",
        );
    }
    push(
        "other",
        "ラベルプリンタ（検体）".into(),
        "LBL01".into(),
        "医療情報系",
        250,
        "架空事務機",
        "KJ-LB2",
        lab_v,
        "medium",
    );
    push("iot", "入退室管理装置".into(), "DOOR01".into(), "事務系", 251, "架空セキュリティ", "KS-DR1", net_v, "low");

    let borrowed: Vec<AssetSpec<'_>> = specs
        .iter()
        .map(|(k, n, h, s, o, m, md, v, c)| (k.as_str(), n.as_str(), h.as_str(), *s, *o, *m, *md, *v, *c))
        .collect();
    add_assets(b, "本館", &borrowed, &prefix, d(2028, 3, 31));

    for (asset, name, publisher, version, eol) in [
        ("電子カルテサーバ（本番）", "みまもり電子カルテ Enterprise", emr_v, "8.1", None),
        ("電子カルテサーバ（本番）", "Windows Server 2016 Standard", "Microsoft", "1607", Some(d(2027, 1, 12))),
        ("電子カルテサーバ（待機）", "Windows Server 2016 Standard", "Microsoft", "1607", Some(d(2027, 1, 12))),
        ("PACSサーバ", "つばさPACS", pacs_v, "5.0", None),
        ("PACSサーバ", "Windows Server 2012 R2", "Microsoft", "6.3", Some(d(2023, 10, 10))),
        ("臨床検査システムサーバ", "かえでLIS", lab_v, "7.2", None),
        ("ドメインコントローラ", "Windows Server 2022 Standard", "Microsoft", "21H2", Some(d(2031, 10, 14))),
        ("事務PC 01", "Microsoft Office 2019", "Microsoft", "2019", Some(d(2025, 10, 14))),
        ("CT装置", "CT操作コンソール", rad_v, "3.2", None),
    ] {
        let mut f = vec![
            ("asset_id", r(K::Assets, asset)),
            ("name", t(name)),
            ("publisher", t(publisher)),
            ("version", t(version)),
        ];
        if let Some(day) = eol {
            f.push(("end_of_life", V::D(day)));
        }
        b.add(K::Software, f, "");
    }

    for (n, (name, dept, retired)) in staff_names.iter().enumerate() {
        // The second leaver's account was removed; the first one's was forgotten.
        let status = if *retired && n != 13 { "removed" } else { "enabled" };
        let privileged = *dept == "情報システム室";
        b.add(
            K::Accounts,
            vec![
                ("system", t("電子カルテ")),
                ("username", t(format!("h{:04}", n + 1))),
                ("asset_id", r(K::Assets, "電子カルテサーバ（本番）")),
                ("holder", t("person")),
                ("person_id", r(K::Staff, name.clone())),
                ("privileged", V::B(privileged)),
                ("mfa", V::B(privileged)),
                ("status", t(status)),
            ],
            if n == 13 { "退職者のアカウントが有効のまま" } else { "" },
        );
    }
    for (system, user, asset, holder, vendor) in [
        ("電子カルテ", "emr-admin", "電子カルテサーバ（本番）", "shared", None),
        ("電子カルテ", "mm-support", "電子カルテサーバ（本番）", "vendor", Some(emr_v)),
        ("PACS", "pacsadmin", "PACSサーバ", "vendor", Some(pacs_v)),
        ("UTM", "admin", "UTM", "shared", None),
        ("Active Directory", "Administrator", "ドメインコントローラ", "shared", None),
        ("Active Directory", "svc-backup", "ドメインコントローラ", "service", None),
    ] {
        let mut f = vec![
            ("system", t(system)),
            ("username", t(user)),
            ("asset_id", r(K::Assets, asset)),
            ("holder", t(holder)),
            ("privileged", V::B(true)),
            ("mfa", V::B(holder == "vendor")),
            ("status", t("enabled")),
        ];
        if let Some(v) = vendor {
            f.push(("vendor_id", r(K::Vendors, v)));
        }
        b.add(K::Accounts, f, "");
    }

    for (vendor, title) in [
        (emr_v, "電子カルテシステム保守契約"),
        (net_v, "院内ネットワーク保守契約"),
        (med_v, "生理検査機器保守契約"),
        (pacs_v, "PACS・RIS保守契約"),
        (lab_v, "臨床検査システム保守契約"),
        (oa_v, "複合機保守契約"),
        (rad_v, "放射線機器保守契約"),
        (vendors[7].0, "外部バックアップサービス契約"),
    ] {
        b.add(
            K::Contracts,
            vec![
                ("vendor_id", r(K::Vendors, vendor)),
                ("title", t(title)),
                ("starts_on", V::D(d(2025, 4, 1))),
                ("ends_on", V::D(d(2028, 3, 31))),
                ("responsibility", t("責任分界表（別紙）のとおり")),
            ],
            "",
        );
    }

    remote(
        b,
        emr_v,
        "電子カルテサーバ（本番）",
        "vpn",
        Some("事業者保守センターの固定IPアドレスのみ"),
        d(2025, 5, 20),
        "",
    );
    remote(b, pacs_v, "PACSサーバ", "vpn", Some("事業者保守センターの固定IPアドレスのみ"), d(2025, 5, 20), "");
    remote(
        b,
        lab_v,
        "臨床検査システムサーバ",
        "vpn",
        Some("事業者保守センターの固定IPアドレスのみ"),
        d(2025, 5, 20),
        "",
    );
    remote(b, net_v, "UTM", "ssh", Some("VPN経由の管理セグメントからのみ"), d(2025, 5, 20), "");
    remote(b, rad_v, "CT装置", "rdp", None, d(2023, 11, 1), "接続元制限なし。保守用回線を常時接続");
    remote(b, med_v, "生体情報モニタ セントラル 1", "anydesk", None, d(2024, 2, 1), "接続元制限なし");

    for (system, vendor, document) in [
        ("電子カルテ", emr_v, "mds"),
        ("電子カルテ", emr_v, "sds"),
        ("PACS", pacs_v, "mds"),
        ("PACS", pacs_v, "sds"),
        ("臨床検査システム", lab_v, "mds"),
        ("CT装置", rad_v, "mds"),
    ] {
        b.add(
            K::MdsSds,
            vec![
                ("system", t(system)),
                ("vendor_id", r(K::Vendors, vendor)),
                ("document", t(document)),
                ("version", t("第2.0版")),
                ("received_on", V::D(d(2025, 6, 1))),
            ],
            "",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::ledger::check_row;
    use std::collections::HashSet;

    fn both() -> [DemoData; 2] {
        [demo(DemoInstitution::Clinic), demo(DemoInstitution::Hospital)]
    }

    fn count(d: &DemoData, kind: RecordKind) -> usize {
        d.rows_of(kind).count()
    }

    #[test]
    fn every_row_is_valid_marked_and_in_dependency_order() {
        for d in both() {
            let order = |k: RecordKind| RecordKind::ALL.iter().position(|x| *x == k);
            assert!(d.rows.windows(2).all(|w| order(w[0].kind) <= order(w[1].kind)), "{}", d.institution_name);
            for row in &d.rows {
                check_row(row).unwrap_or_else(|e| panic!("{e}: {row:?}"));
                assert!(matches!(row.get("notes"), Value::Text(n) if n.starts_with(DEMO_MARKER)), "{row:?}");
            }
            let ids: HashSet<_> = d.rows.iter().map(|r| r.id).collect();
            assert_eq!(ids.len(), d.rows.len());
        }
    }

    #[test]
    fn references_point_at_earlier_rows_of_the_right_ledger() {
        for d in both() {
            let mut seen: HashMap<uuid::Uuid, RecordKind> = HashMap::new();
            for row in &d.rows {
                for f in row.kind.fields().iter().filter(|f| f.refers_to.is_some()) {
                    if let Value::Ref(u) = row.get(f.name) {
                        let kind = seen.get(u).unwrap_or_else(|| panic!("{}.{} dangles", row.kind, f.name));
                        assert_eq!(Some(kind.table()), f.refers_to, "{}.{}", row.kind, f.name);
                    }
                }
                seen.insert(row.id.0, row.kind);
            }
        }
    }

    #[test]
    fn counts_as_described() {
        let [c, h] = both();
        assert_eq!(count(&c, RecordKind::Assets), 25);
        assert!((6..=10).contains(&count(&c, RecordKind::Staff)));
        assert_eq!(count(&c, RecordKind::Segments), 3);
        assert!(count(&c, RecordKind::Vendors) >= 3);
        assert_eq!(count(&h, RecordKind::Assets), 120);
        assert_eq!(count(&h, RecordKind::Staff), 60);
        assert!(count(&h, RecordKind::Vendors) > count(&c, RecordKind::Vendors));
        for d in [&c, &h] {
            for kind in RecordKind::ALL {
                assert!(count(d, kind) > 0, "{}: no {kind}", d.institution_name);
            }
        }
        let kinds: HashSet<String> = h.rows_of(RecordKind::Assets).map(|r| format!("{:?}", r.get("kind"))).collect();
        assert_eq!(kinds.len(), 6, "every asset kind appears in the hospital");
    }

    #[test]
    fn the_gaps_an_audit_should_find_are_there() {
        for d in both() {
            let retired: HashSet<RecordId> =
                d.rows_of(RecordKind::Staff).filter(|r| !r.get("retired_on").is_null()).map(|r| r.id).collect();
            assert!(!retired.is_empty());
            let leaver_enabled = d.rows_of(RecordKind::Accounts).any(|a| {
                matches!(a.get("person_id"), Value::Ref(u) if retired.contains(&RecordId(*u)))
                    && a.get("status") == &Value::Text("enabled".into())
            });
            assert!(leaver_enabled, "{}", d.institution_name);
            assert!(d.rows_of(RecordKind::RemoteMaintenance).any(|r| r.get("source_restriction").is_null()));
            assert!(d.rows_of(RecordKind::RemoteMaintenance).any(|r| !r.get("source_restriction").is_null()));
            // Some systems with MDS/SDS, and medical devices without.
            let covered: HashSet<String> = d
                .rows_of(RecordKind::MdsSds)
                .filter_map(|r| if let Value::Text(s) = r.get("system") { Some(s.clone()) } else { None })
                .collect();
            assert!(covered.iter().any(|s| s.contains("電子カルテ")));
            assert!(!covered.iter().any(|s| s.contains("心電計")));
        }
    }

    #[test]
    fn contact_details_and_networks_are_obviously_fictional() {
        for d in both() {
            for row in &d.rows {
                for (field, v) in &row.values {
                    match (field.as_str(), v) {
                        ("email", Value::Text(e)) => {
                            assert!(e.ends_with(".example.jp") || e.ends_with("@example.jp"), "{e}")
                        }
                        ("phone" | "emergency_contact", Value::Text(p)) => {
                            assert!(p.starts_with("0120-000-") || p.starts_with("03-0000-"), "{p}")
                        }
                        ("mac_addresses", Value::TextList(l)) => {
                            assert!(l.iter().all(|m| m.starts_with("02:")), "{l:?}")
                        }
                        ("serial", Value::Text(s)) => assert!(s.starts_with("DEMO-"), "{s}"),
                        ("cidrs" | "ip_addresses", Value::TextList(l)) => {
                            for item in l {
                                let ip: std::net::Ipv4Addr = item.split('/').next().unwrap().parse().unwrap();
                                assert!(ip.is_private(), "{item}");
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    #[test]
    fn deterministic_and_re_identifiable() {
        assert_eq!(demo(DemoInstitution::Clinic), demo(DemoInstitution::Clinic));
        assert_eq!(demo(DemoInstitution::Hospital), demo(DemoInstitution::Hospital));
        let a = demo(DemoInstitution::Clinic);
        let b = a.clone().with_fresh_ids();
        assert_eq!(a.rows.len(), b.rows.len());
        let old: HashSet<RecordId> = a.rows.iter().map(|r| r.id).collect();
        assert!(b.rows.iter().all(|r| !old.contains(&r.id)));
        let new: HashSet<uuid::Uuid> = b.rows.iter().map(|r| r.id.0).collect();
        for row in &b.rows {
            for v in row.values.values() {
                if let Value::Ref(u) = v {
                    assert!(new.contains(u), "a reference was not rewritten");
                }
            }
        }
    }
}
