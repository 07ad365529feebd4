use crate::{fy2024, fy2025};
use mamori_checklist::definition::{Certainty, Respondent, builtin_edition_sources};
use mamori_checklist::normalize::same_wording;
use mamori_checklist::{Edition, builtin_editions};
use std::collections::BTreeSet;
use time::macros::date;

#[test]
fn every_shipped_edition_loads_with_three_forms_and_unique_ids() {
    let editions = builtin_editions();
    assert_eq!(editions.iter().map(|e| e.fiscal_year).collect::<Vec<_>>(), vec![2024, 2025]);
    for e in editions {
        let forms: Vec<&str> = e.forms.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(forms, ["clinic", "pharmacy", "vendor"], "{}", e.id);
        for f in &e.forms {
            let ids: Vec<&str> = f.items().map(|i| i.id.as_str()).collect();
            let unique: BTreeSet<&str> = ids.iter().copied().collect();
            assert_eq!(ids.len(), unique.len(), "{}/{}", e.id, f.id);
        }
        assert_eq!(e.form("vendor").unwrap().respondent, Respondent::Vendor);
    }
    // The raw sources parse to the same editions (they are the templates for a new year).
    for ((_, text), e) in builtin_edition_sources().iter().zip(editions) {
        assert_eq!(&Edition::from_toml_str(text).unwrap(), e);
    }
}

#[test]
fn fy2025_items_and_wording_match_the_reference() {
    let clinic = fy2025().form("clinic").unwrap();
    let ids: Vec<&str> = clinic.items().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "有無", "1-①", "2-①", "2-②", "2-③", "2-④", "2-⑤", "2-⑥", "2-⑦", "2-⑧", "2-⑨", "2-⑩", "2-⑪", "2-⑫", "2-⑬",
            "3-①", "3-②", "3-③", "4-①"
        ]
    );
    let text = |id: &str| clinic.item(id).unwrap().text_ja.clone();
    assert_eq!(text("1-①").as_deref(), Some("医療情報システム安全管理責任者を設置している。"));
    assert_eq!(text("2-⑦").as_deref(), Some("パスワードは英数字、記号が混在した8文字以上とし、定期的に変更している。"));
    assert_eq!(text("2-⑬").as_deref(), Some("接続元制限を実施している。"));
    assert!(same_wording(
        &text("2-②").unwrap(),
        "リモートメンテナンス（保守）を利用している機器の有無を事業者に確認した。"
    ));
    assert_eq!(
        clinic.item("2-⑦").unwrap().note.as_deref(),
        Some("※二要素認証、または13文字以上の場合は定期的な変更は不要")
    );
    assert_eq!(clinic.item("2-⑫").unwrap().device_classes, ["server", "terminal_pc"]);
    assert_eq!(clinic.item("2-⑬").unwrap().device_classes, ["network_device"]);
    assert_eq!(clinic.item("2-⑥").unwrap().device_classes, ["all"]);
    assert_eq!(clinic.section_of("4-①").unwrap().display_title(), "4 規程類の整備（題名未確認）");

    // Unconfirmed wording is never shipped as official.
    for id in ["2-③", "2-④", "2-⑤", "2-⑨", "2-⑩", "2-⑪", "3-①", "3-③", "4-①"] {
        let item = clinic.item(id).unwrap();
        assert_eq!(item.text_ja, None, "{id}");
        assert!(item.wording_caveat_ja().unwrap().starts_with("文言未確認"), "{id}");
        assert!(!item.wording_confirmed());
    }
    assert_eq!(
        clinic.item("2-③").unwrap().text_partial_ja.as_deref(),
        Some("事業者から製造業者/サービス事業者による医療情報セキュリティ開示書(MDS/SDS)を提出しても")
    );
    assert_eq!(clinic.item("4-①").unwrap().display_text(), "運用管理規程等の整備");
    // Seen only in the draft: marked as such.
    assert_eq!(clinic.item("3-②").unwrap().text_status, Certainty::DraftVerbatim);

    // 二要素認証 has its own deadline, 令和9年度.
    let e = fy2025();
    let two_factor = clinic.item("2-⑩").unwrap();
    assert_eq!(e.deadline_for(two_factor).label_ja, "令和9年度");
    assert_eq!(e.target_window(two_factor), (date!(2025 - 04 - 01), date!(2028 - 03 - 31)));
    assert_eq!(e.target_window(clinic.item("2-①").unwrap()), (date!(2025 - 04 - 01), date!(2026 - 03 - 31)));
}

#[test]
fn fy2024_has_fourteen_answer_rows_in_section_2() {
    let clinic = fy2024().form("clinic").unwrap();
    let section2 = clinic.sections.iter().find(|s| s.no.as_deref() == Some("2")).unwrap();
    let slots: usize = section2.items.iter().map(|i| i.answer_slots().len()).sum();
    assert_eq!(slots, 14, "3 全般 + 5 サーバ + 4 端末PC + 2 ネットワーク機器");
    assert_eq!(clinic.item("1-(1)").unwrap().text_status, Certainty::Verbatim);
    assert_eq!(
        clinic.item("3-(3)").unwrap().text_ja.as_deref(),
        Some("サイバー攻撃を想定した事業継続計画(BCP)を策定している。")
    );
    assert_eq!(clinic.item("3-(1)").unwrap().text_ja, None);
    assert_eq!(clinic.item("2-(7)").unwrap().id_status, Certainty::Unconfirmed);
    assert!(clinic.item("有無").unwrap().gate);
}

#[test]
fn pharmacy_forms_copy_the_clinic_items_and_say_so() {
    for e in [fy2024(), fy2025()] {
        let clinic = e.form("clinic").unwrap();
        let pharmacy = e.form("pharmacy").unwrap();
        assert_eq!(pharmacy.items_from.as_deref(), Some("clinic"));
        assert!(pharmacy.structure_status.is_some_and(|s| s != Certainty::Verbatim));
        assert_eq!(pharmacy.sections, clinic.sections);
    }
}

#[test]
fn vendor_forms_ship_no_official_wording_for_r7() {
    let vendor = fy2025().form("vendor").unwrap();
    assert!(vendor.items().all(|i| i.text_ja.is_none()));
    assert_eq!(
        vendor.item("2-③").unwrap().candidate_ja.as_deref(),
        Some("医療機関に製造業者/サービス事業者による医療情報セキュリティ開示書(MDS/SDS)を提出した")
    );
}

/// Every item the reference YAML gives verbatim (`text_ja:` set) appears with the same
/// wording in the shipped edition; where the reference has `text_ja: null`, so do we.
/// The reference lives beside the repository (shared/reference); CI has it there too.
#[test]
fn wording_agrees_with_the_reference_yaml() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
    for (file, edition) in [("mhlw-checklist-r6.yaml", fy2024()), ("mhlw-checklist-r7.yaml", fy2025())] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            eprintln!("{file} not found beside the repository; spot checks above still ran");
            continue;
        };
        let clinic = edition.form("clinic").unwrap();
        let mut checked = 0;
        let mut id: Option<String> = None;
        let mut in_clinic = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("- id: iryokikan") {
                in_clinic = true;
            } else if t.starts_with("- id: yakkyoku") {
                in_clinic = false;
            }
            if !in_clinic {
                continue;
            }
            let value = |key: &str| t.strip_prefix(key).map(|v| v.trim().trim_matches('"').to_owned());
            if let Some(v) = value("- id:") {
                id = (v != "null").then_some(v);
            } else if let Some(v) = value("id_candidate:") {
                id = Some(v);
            } else if let (Some(v), Some(item_id)) = (value("text_ja:"), id.as_ref()) {
                let Some(item) = clinic.item(item_id) else { continue };
                if v == "null" {
                    assert_eq!(item.text_ja, None, "{file} {item_id}");
                } else {
                    let ours = item.text_ja.as_deref().unwrap_or_else(|| panic!("{file} {item_id}: no text_ja"));
                    assert!(same_wording(ours, &v), "{file} {item_id}: {ours} != {v}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 12, "{file}: only {checked} items compared");
    }
}
