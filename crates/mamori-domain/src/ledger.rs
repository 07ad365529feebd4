//! The ledgers (台帳) as typed records: 拠点, ネットワーク構成, 機器台帳, ソフトウェア台帳, 職員名簿,
//! アカウント台帳, 事業者台帳, 契約台帳, リモートメンテナンス接続台帳, MDS/SDS 受領状況.
//!
//! Each struct's fields are exactly its [`RecordKind::fields`], in the same names; a unit
//! test checks that the two never drift apart.

use crate::RecordId;
use crate::record::{Record, RecordError, RecordKind, Row, Value};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// How a Rust field type is read from and written to a [`Row`].
pub trait FieldValue: Sized {
    fn to_value(&self) -> Value;
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError>;
}

impl FieldValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.req_text(field)
    }
}
impl FieldValue for Option<String> {
    fn to_value(&self) -> Value {
        self.clone().into()
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.text(field)
    }
}
impl FieldValue for Option<i64> {
    fn to_value(&self) -> Value {
        (*self).into()
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.int(field)
    }
}
impl FieldValue for Option<bool> {
    fn to_value(&self) -> Value {
        self.map_or(Value::Null, Value::Bool)
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.bool(field)
    }
}
impl FieldValue for Option<Date> {
    fn to_value(&self) -> Value {
        (*self).into()
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.date(field)
    }
}
impl FieldValue for Option<OffsetDateTime> {
    fn to_value(&self) -> Value {
        (*self).into()
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.timestamp(field)
    }
}
impl FieldValue for Option<RecordId> {
    fn to_value(&self) -> Value {
        (*self).into()
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.reference(field)
    }
}
impl FieldValue for RecordId {
    fn to_value(&self) -> Value {
        Value::Ref(self.0)
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.req_reference(field)
    }
}
impl FieldValue for Vec<String> {
    fn to_value(&self) -> Value {
        if self.is_empty() { Value::Null } else { Value::TextList(self.clone()) }
    }
    fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
        row.list(field)
    }
}

/// A closed set of values stored as text (e.g. an asset's kind).
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl FieldValue for $name {
            fn to_value(&self) -> Value {
                Value::Text(self.as_str().to_owned())
            }
            fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
                let s = row.req_text(field)?;
                $name::parse(&s).ok_or_else(|| RecordError::Invalid {
                    kind: row.kind,
                    field,
                    reason: format!("{s:?} is not one of {:?}", $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
                })
            }
        }

        impl FieldValue for Option<$name> {
            fn to_value(&self) -> Value {
                self.map_or(Value::Null, |v| v.to_value())
            }
            fn from_row(row: &Row, field: &'static str) -> Result<Self, RecordError> {
                if row.get(field).is_null() { Ok(None) } else { $name::from_row(row, field).map(Some) }
            }
        }
    };
}

text_enum!(
    /// What kind of device an asset is; the MHLW checklist asks per サーバ / 端末PC / ネットワーク機器.
    AssetKind {
        Server = "server",
        Pc = "pc",
        NetworkDevice = "network",
        MedicalDevice = "medical",
        Iot = "iot",
        Other = "other",
    }
);
text_enum!(
    /// How badly patient care suffers when the asset is down.
    Criticality { High = "high", Medium = "medium", Low = "low" }
);
text_enum!(
    /// Who holds an account: a named person, or a shared, service or vendor account.
    AccountHolder { Person = "person", Shared = "shared", Service = "service", Vendor = "vendor" }
);
text_enum!(AccountStatus { Enabled = "enabled", Disabled = "disabled", Removed = "removed" });
text_enum!(
    /// How a vendor connects for remote maintenance.
    RemoteMethod {
        Vpn = "vpn",
        Rdp = "rdp",
        TeamViewer = "teamviewer",
        AnyDesk = "anydesk",
        Ssh = "ssh",
        Other = "other",
    }
);
text_enum!(
    /// 製造業者による医療情報セキュリティ開示書 (MDS) or サービス事業者による… (SDS).
    SecurityDisclosure { Mds = "mds", Sds = "sds" }
);

/// The stored codes a field allows when it is a closed set (an asset's kind, an account's
/// status…), in display order; `None` for free fields.
pub fn choices(kind: RecordKind, field: &str) -> Option<Vec<&'static str>> {
    fn codes<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Option<Vec<&'static str>> {
        Some(all.iter().map(|v| f(*v)).collect())
    }
    match (kind, field) {
        (RecordKind::Assets, "kind") => codes(AssetKind::ALL, AssetKind::as_str),
        (RecordKind::Assets, "criticality") => codes(Criticality::ALL, Criticality::as_str),
        (RecordKind::Accounts, "holder") => codes(AccountHolder::ALL, AccountHolder::as_str),
        (RecordKind::Accounts, "status") => codes(AccountStatus::ALL, AccountStatus::as_str),
        (RecordKind::RemoteMaintenance, "method") => codes(RemoteMethod::ALL, RemoteMethod::as_str),
        (RecordKind::MdsSds, "document") => codes(SecurityDisclosure::ALL, SecurityDisclosure::as_str),
        _ => None,
    }
}

/// Declares a ledger struct whose fields map 1:1 to its [`RecordKind`]'s fields.
macro_rules! ledger_record {
    ($(#[$m:meta])* $name:ident : $kind:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            pub id: RecordId,
            $($(#[$fm])* pub $field: $ty),+
        }

        impl Record for $name {
            const KIND: RecordKind = RecordKind::$kind;
            fn id(&self) -> RecordId {
                self.id
            }
            fn to_row(&self) -> Row {
                let mut row = Row::new(RecordKind::$kind, self.id);
                $(row.set(stringify!($field), FieldValue::to_value(&self.$field));)+
                row
            }
            fn from_row(row: &Row) -> Result<Self, RecordError> {
                Ok(Self {
                    id: row.id,
                    $($field: <$ty as FieldValue>::from_row(row, stringify!($field))?),+
                })
            }
        }
    };
}

ledger_record!(
    /// 拠点: a building or branch of the institution.
    Site: Sites { name: String, address: Option<String>, notes: Option<String> }
);

ledger_record!(
    /// ネットワーク構成: a network segment, with the CIDRs that scans may target.
    NetworkSegment: Segments {
        name: String,
        site_id: Option<RecordId>,
        cidrs: Vec<String>,
        /// e.g. 医療機器, 事務, 電子カルテ, ゲスト
        purpose: Option<String>,
        vlan: Option<i64>,
        notes: Option<String>,
    }
);

ledger_record!(
    /// 機器台帳: a server, PC, network device, medical device or IoT device.
    Asset: Assets {
        kind: AssetKind,
        name: String,
        hostname: Option<String>,
        site_id: Option<RecordId>,
        segment_id: Option<RecordId>,
        maker: Option<String>,
        model: Option<String>,
        serial: Option<String>,
        location: Option<String>,
        department: Option<String>,
        ip_addresses: Vec<String>,
        mac_addresses: Vec<String>,
        os_name: Option<String>,
        os_version: Option<String>,
        firmware_version: Option<String>,
        criticality: Option<Criticality>,
        /// Fragile devices are scanned by discovery only unless explicitly allowed.
        fragile: Option<bool>,
        /// 管理者
        owner: Option<String>,
        maintenance_vendor_id: Option<RecordId>,
        /// 保守期限
        maintenance_until: Option<Date>,
        notes: Option<String>,
    }
);

ledger_record!(
    /// ソフトウェア台帳: software installed on an asset.
    Software: Software {
        asset_id: RecordId,
        name: String,
        publisher: Option<String>,
        version: Option<String>,
        /// CPE 2.3 name, for vulnerability matching.
        cpe: Option<String>,
        end_of_life: Option<Date>,
        notes: Option<String>,
    }
);

ledger_record!(
    /// 職員名簿: a member of staff, with join and retire dates.
    Person: Staff {
        name: String,
        name_kana: Option<String>,
        staff_number: Option<String>,
        department: Option<String>,
        job_title: Option<String>,
        email: Option<String>,
        joined_on: Option<Date>,
        retired_on: Option<Date>,
        notes: Option<String>,
    }
);

ledger_record!(
    /// アカウント台帳: an account on one system, held by a person or shared/service/vendor.
    Account: Accounts {
        system: String,
        username: String,
        asset_id: Option<RecordId>,
        holder: AccountHolder,
        person_id: Option<RecordId>,
        vendor_id: Option<RecordId>,
        role: Option<String>,
        privileged: Option<bool>,
        mfa: Option<bool>,
        last_login_at: Option<OffsetDateTime>,
        status: AccountStatus,
        notes: Option<String>,
    }
);

ledger_record!(
    /// 事業者台帳: a vendor (提供事業者, 保守業者).
    Vendor: Vendors {
        name: String,
        service: Option<String>,
        contact_name: Option<String>,
        phone: Option<String>,
        email: Option<String>,
        emergency_contact: Option<String>,
        address: Option<String>,
        notes: Option<String>,
    }
);

ledger_record!(
    /// 契約台帳: a maintenance contract, its period and 責任分界.
    Contract: Contracts {
        vendor_id: RecordId,
        title: String,
        scope: Option<String>,
        starts_on: Option<Date>,
        ends_on: Option<Date>,
        responsibility: Option<String>,
        notes: Option<String>,
    }
);

ledger_record!(
    /// リモートメンテナンス接続台帳.
    RemoteMaintenance: RemoteMaintenance {
        vendor_id: RecordId,
        asset_id: Option<RecordId>,
        method: RemoteMethod,
        authentication: Option<String>,
        /// 接続元制限
        source_restriction: Option<String>,
        approval_rule: Option<String>,
        /// When the connection was last confirmed with the vendor.
        confirmed_on: Option<Date>,
        last_used_at: Option<OffsetDateTime>,
        notes: Option<String>,
    }
);

ledger_record!(
    /// MDS/SDS 受領状況.
    MdsSds: MdsSds {
        system: String,
        vendor_id: Option<RecordId>,
        document: SecurityDisclosure,
        version: Option<String>,
        received_on: Option<Date>,
        /// The received file, stored as evidence.
        evidence_id: Option<RecordId>,
        notes: Option<String>,
    }
);

impl Asset {
    /// A minimal asset: a kind and a name.
    pub fn new(kind: AssetKind, name: &str) -> Self {
        Self {
            id: RecordId::new(),
            kind,
            name: name.to_owned(),
            hostname: None,
            site_id: None,
            segment_id: None,
            maker: None,
            model: None,
            serial: None,
            location: None,
            department: None,
            ip_addresses: Vec::new(),
            mac_addresses: Vec::new(),
            os_name: None,
            os_version: None,
            firmware_version: None,
            criticality: None,
            fragile: None,
            owner: None,
            maintenance_vendor_id: None,
            maintenance_until: None,
            notes: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn declared(kind: RecordKind) -> BTreeSet<String> {
        kind.fields().iter().map(|f| f.name.to_owned()).collect()
    }

    /// The struct's own field names (through serde), without `id`.
    fn struct_fields<R: Record + Serialize>(r: &R) -> BTreeSet<String> {
        let v = serde_json::to_value(r).unwrap();
        v.as_object().unwrap().keys().filter(|k| *k != "id").cloned().collect()
    }

    fn pair<R: Record + Serialize>(r: &R) -> (Row, BTreeSet<String>) {
        (r.to_row(), struct_fields(r))
    }

    #[test]
    fn typed_records_match_their_field_lists() {
        let v = RecordId::new();
        let date = time::macros::date!(2025 - 04 - 01);
        let rows: Vec<(Row, BTreeSet<String>)> = vec![
            pair(&Site { id: RecordId::new(), name: "本院".into(), address: None, notes: None }),
            pair(&NetworkSegment {
                id: RecordId::new(),
                name: "医療機器".into(),
                site_id: None,
                cidrs: vec!["192.168.10.0/24".into()],
                purpose: None,
                vlan: Some(10),
                notes: None,
            }),
            pair(&Asset::new(AssetKind::MedicalDevice, "CT")),
            pair(&Software {
                id: RecordId::new(),
                asset_id: v,
                name: "x".into(),
                publisher: None,
                version: None,
                cpe: None,
                end_of_life: Some(date),
                notes: None,
            }),
            pair(&Person {
                id: RecordId::new(),
                name: "山田 花子".into(),
                name_kana: None,
                staff_number: None,
                department: None,
                job_title: None,
                email: None,
                joined_on: Some(date),
                retired_on: None,
                notes: None,
            }),
            pair(&Account {
                id: RecordId::new(),
                system: "電子カルテ".into(),
                username: "yamada".into(),
                asset_id: None,
                holder: AccountHolder::Person,
                person_id: None,
                vendor_id: None,
                role: None,
                privileged: Some(false),
                mfa: None,
                last_login_at: None,
                status: AccountStatus::Enabled,
                notes: None,
            }),
            pair(&Vendor {
                id: v,
                name: "保守株式会社".into(),
                service: None,
                contact_name: None,
                phone: None,
                email: None,
                emergency_contact: None,
                address: None,
                notes: None,
            }),
            pair(&Contract {
                id: RecordId::new(),
                vendor_id: v,
                title: "保守契約".into(),
                scope: None,
                starts_on: None,
                ends_on: None,
                responsibility: None,
                notes: None,
            }),
            pair(&RemoteMaintenance {
                id: RecordId::new(),
                vendor_id: v,
                asset_id: None,
                method: RemoteMethod::Vpn,
                authentication: None,
                source_restriction: None,
                approval_rule: None,
                confirmed_on: None,
                last_used_at: None,
                notes: None,
            }),
            pair(&MdsSds {
                id: RecordId::new(),
                system: "電子カルテ".into(),
                vendor_id: None,
                document: SecurityDisclosure::Mds,
                version: None,
                received_on: None,
                evidence_id: None,
                notes: None,
            }),
        ];
        let kinds: BTreeSet<_> = rows.iter().map(|(r, _)| r.kind).collect();
        assert_eq!(kinds.len(), RecordKind::ALL.len(), "every kind has a typed record");
        for (row, fields) in &rows {
            assert_eq!(fields, &declared(row.kind), "{}", row.kind);
            assert!(row.values.keys().all(|k| fields.contains(k)), "{}", row.kind);
            row.validate().unwrap();
        }
    }

    #[test]
    fn asset_round_trips_through_row() {
        let mut a = Asset::new(AssetKind::Server, "電子カルテサーバ");
        a.ip_addresses = vec!["192.168.1.10".into()];
        a.criticality = Some(Criticality::High);
        a.maintenance_until = Some(time::macros::date!(2027 - 03 - 31));
        let back = Asset::from_row(&a.to_row()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn unknown_enum_text_is_a_clear_error() {
        let mut row = Asset::new(AssetKind::Pc, "受付PC").to_row();
        row.set("kind", Value::Text("toaster".into()));
        let err = Asset::from_row(&row).unwrap_err();
        assert!(matches!(err, RecordError::Invalid { field: "kind", .. }), "{err}");
    }
}

/// Checks a row as the typed record it stands for, including value formats
/// (IP addresses, MAC addresses, CIDRs). The store runs this before every write.
pub fn check_row(row: &Row) -> Result<(), RecordError> {
    row.validate()?;
    match row.kind {
        RecordKind::Sites => Site::from_row(row).map(drop),
        RecordKind::Segments => {
            let s = NetworkSegment::from_row(row)?;
            for c in &s.cidrs {
                check_cidr(c).map_err(|reason| RecordError::Invalid { kind: row.kind, field: "cidrs", reason })?;
            }
            Ok(())
        }
        RecordKind::Assets => {
            let a = Asset::from_row(row)?;
            for ip in &a.ip_addresses {
                ip.parse::<std::net::IpAddr>().map_err(|_| RecordError::Invalid {
                    kind: row.kind,
                    field: "ip_addresses",
                    reason: format!("{ip:?} is not an IP address"),
                })?;
            }
            for mac in &a.mac_addresses {
                if normalize_mac(mac).as_deref() != Some(mac.as_str()) {
                    return Err(RecordError::Invalid {
                        kind: row.kind,
                        field: "mac_addresses",
                        reason: format!("{mac:?} is not a MAC address in aa:bb:cc:dd:ee:ff form"),
                    });
                }
            }
            Ok(())
        }
        RecordKind::Software => Software::from_row(row).map(drop),
        RecordKind::Staff => {
            let p = Person::from_row(row)?;
            if let (Some(j), Some(r)) = (p.joined_on, p.retired_on)
                && r < j
            {
                return Err(RecordError::Invalid {
                    kind: row.kind,
                    field: "retired_on",
                    reason: format!("retired {r} before joining {j}"),
                });
            }
            Ok(())
        }
        RecordKind::Accounts => Account::from_row(row).map(drop),
        RecordKind::Vendors => Vendor::from_row(row).map(drop),
        RecordKind::Contracts => Contract::from_row(row).map(drop),
        RecordKind::RemoteMaintenance => RemoteMaintenance::from_row(row).map(drop),
        RecordKind::MdsSds => MdsSds::from_row(row).map(drop),
    }
}

/// `aa:bb:cc:dd:ee:ff` from any common notation (`AA-BB-…`, `aabb.ccdd.eeff`, `AABBCCDDEEFF`).
pub fn normalize_mac(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(|c| !matches!(c, ':' | '-' | '.' | ' ')).collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    let parts: Vec<&str> = (0..6).map(|i| &hex[i * 2..i * 2 + 2]).collect();
    Some(parts.join(":"))
}

/// `192.168.10.0/24` or `fd00::/64`.
pub fn check_cidr(s: &str) -> Result<(), String> {
    let (addr, len) = s.split_once('/').ok_or_else(|| format!("{s:?} has no /prefix"))?;
    let addr: std::net::IpAddr = addr.parse().map_err(|_| format!("{s:?}: {addr:?} is not an IP address"))?;
    let len: u8 = len.parse().map_err(|_| format!("{s:?}: bad prefix length"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if len > max {
        return Err(format!("{s:?}: prefix longer than {max}"));
    }
    Ok(())
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn mac_notations_normalise() {
        for s in ["AA-BB-CC-DD-EE-0F", "aabb.ccdd.ee0f", "AABBCCDDEE0F", "aa:bb:cc:dd:ee:0f"] {
            assert_eq!(normalize_mac(s).as_deref(), Some("aa:bb:cc:dd:ee:0f"), "{s}");
        }
        assert_eq!(normalize_mac("aa:bb:cc:dd:ee"), None);
        assert_eq!(normalize_mac("gg:bb:cc:dd:ee:ff"), None);
    }

    #[test]
    fn cidrs_are_checked() {
        assert!(check_cidr("192.168.10.0/24").is_ok());
        assert!(check_cidr("fd00::/64").is_ok());
        assert!(check_cidr("192.168.10.0").is_err());
        assert!(check_cidr("192.168.10.0/33").is_err());
        assert!(check_cidr("host/24").is_err());
    }

    #[test]
    fn check_row_rejects_bad_ip_and_mac() {
        let mut a = Asset::new(AssetKind::Pc, "受付PC");
        a.ip_addresses = vec!["192.168.1.300".into()];
        assert!(matches!(check_row(&a.to_row()), Err(RecordError::Invalid { field: "ip_addresses", .. })));
        a.ip_addresses = vec!["192.168.1.30".into()];
        a.mac_addresses = vec!["AA-BB-CC-DD-EE-FF".into()];
        assert!(matches!(check_row(&a.to_row()), Err(RecordError::Invalid { field: "mac_addresses", .. })));
        a.mac_addresses = vec!["aa:bb:cc:dd:ee:ff".into()];
        assert_eq!(check_row(&a.to_row()), Ok(()));
    }
}
