//! `mamori checklist`: the demo clinic's FY2025 form shown with mamori's proposals, answered
//! with the form's rules (目標日, device classes, overrides), exported as XLSX and PDF, and an
//! MHLW workbook imported as an edition.

use crate::harness::*;
use calamine::{Data, Reader, Xlsx};

fn demo_env() -> Env {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["demo", "--which", "clinic"]);
    env
}

#[test]
fn the_demo_clinic_checklist_is_shown_answered_and_exported() {
    let env = demo_env();
    let r = env.ok(&["checklist", "show", "--fy", "2025"]);
    assert!(r.stdout.contains("令和7年度版 医療機関確認用（みまもり内科クリニック）"), "{}", r.stdout);
    assert!(r.stdout.contains("文言未確認"), "{}", r.stdout);
    assert!(r.stdout.contains("未回答 22 件"), "{}", r.stdout);

    let r = env.ok(&["checklist", "answer", "2-①", "--fy", "2025", "--value", "yes", "--confirmed", "令和7年6月1日"]);
    assert!(r.stdout.contains("項目 2-① を「はい」で登録しました"), "{}", r.stdout);
    let r = env.run(&["checklist", "answer", "3-③", "--fy", "2025", "--value", "no", "--confirmed", "2025-06-01"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("目標日を入力してください"), "{}", r.stderr);
    let r = env.run(&[
        "checklist",
        "answer",
        "3-③",
        "--fy",
        "2025",
        "--value",
        "no",
        "--confirmed",
        "2025-06-01",
        "--target-date",
        "2026-06-30",
    ]);
    assert!(r.one_error_line().contains("2025-04-01〜2026-03-31"), "{}", r.stderr);
    env.ok(&[
        "checklist",
        "answer",
        "3-③",
        "--fy",
        "2025",
        "--value",
        "no",
        "--confirmed",
        "2025-06-01",
        "--target-date",
        "2026-03-31",
        "--note",
        "BCP を作成中",
    ]);
    let r = env.run(&["checklist", "answer", "9-⑨", "--fy", "2025", "--value", "yes"]);
    assert!(r.one_error_line().contains("項目「9-⑨」はありません"), "{}", r.stderr);
    let r = env.run(&["checklist", "answer", "2-④", "--fy", "2025", "--value", "yes", "--confirmed", "2025-06-01"]);
    assert!(r.one_error_line().contains("機器の区分ごとに回答します"), "{}", r.stderr);
    env.ok(&[
        "checklist",
        "answer",
        "2-④",
        "--fy",
        "2025",
        "--value",
        "yes",
        "--class",
        "terminal_pc",
        "--confirmed",
        "2025-06-01",
    ]);
    // No 責任者 is designated in the demo: answering はい overrides mamori and needs a reason.
    let r = env.run(&["checklist", "answer", "1-①", "--fy", "2025", "--value", "yes", "--confirmed", "2025-06-01"]);
    assert!(r.one_error_line().contains("理由を入力してください"), "{}", r.stderr);
    env.ok(&[
        "checklist",
        "answer",
        "1-①",
        "--fy",
        "2025",
        "--value",
        "yes",
        "--confirmed",
        "2025-06-01",
        "--reason",
        "院長を任命済み",
    ]);

    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["checklist", "show", "--fy", "2025", "--json"]).stdout).unwrap();
    let answers = json["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 4, "{answers:?}");
    let one = answers.iter().find(|a| a["item_id"] == "1-①").unwrap();
    assert_eq!(one["overridden"]["reason"], "院長を任命済み");
    assert!(json["proposals"].as_array().unwrap().len() >= 19);

    let xlsx = env.tmp.path().join("checklist.xlsx");
    env.ok(&["checklist", "export", "--fy", "2025", "--format", "xlsx", "-o", xlsx.to_str().unwrap()]);
    let mut book: Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let first = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&first).unwrap();
    let text: Vec<String> = range
        .rows()
        .flatten()
        .filter_map(|c| match c {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert!(text.iter().any(|t| t.contains("みまもり内科クリニック")), "{text:?}");
    assert!(text.iter().any(|t| t == "2-①"), "{text:?}");
    let pdf = env.tmp.path().join("checklist.pdf");
    env.ok(&["checklist", "export", "--fy", "2025", "--format", "pdf", "-o", pdf.to_str().unwrap()]);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    // The vendor form is per vendor.
    let r = env.run(&["checklist", "show", "--fy", "2025", "--form", "vendor"]);
    assert!(r.one_error_line().contains("--vendor に事業者台帳の事業者名か ID を指定してください"), "{}", r.stderr);
    let vendors: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["ledger", "list", "--kind", "vendors", "--json"]).stdout).unwrap();
    let vendor = vendors[0]["name"].as_str().unwrap();
    let r = env.ok(&["checklist", "show", "--fy", "2025", "--form", "vendor", "--vendor", vendor]);
    assert!(r.stdout.contains("事業者確認用"), "{}", r.stdout);
    let r = env.run(&["checklist", "show", "--fy", "2025", "--vendor", vendor]);
    assert!(r.one_error_line().contains("事業者確認用にだけ指定できます"), "{}", r.stderr);
    let log = env.ok(&["audit", "log", "--json", "--institution", json["institution"].as_str().unwrap_or_default()]);
    assert_eq!(log.stdout.matches("checklist.export").count(), 2, "{}", log.stdout);
    assert!(log.stdout.contains("checklist.answer"));
}

#[test]
fn an_mhlw_workbook_becomes_an_edition_after_confirmation() {
    let env = demo_env();
    // The form as mamori exports it has the official layout (sections, ids, wording).
    let xlsx = env.tmp.path().join("form.xlsx");
    env.ok(&["checklist", "export", "--fy", "2025", "--format", "xlsx", "-o", xlsx.to_str().unwrap()]);
    let f = xlsx.to_str().unwrap();
    let r = env.ok(&["checklist", "edition", "import", f]);
    assert!(r.stdout.contains("比較対象: 令和7年度版"), "{}", r.stdout);
    assert!(r.stdout.contains("まだ登録していません"), "{}", r.stdout);
    assert!(!env.ok(&["checklist", "edition", "list"]).stdout.contains("fy2025-"), "a dry run saves nothing");
    let r = env.ok(&["checklist", "edition", "import", f, "--yes"]);
    assert!(r.stdout.contains("を登録しました"), "{}", r.stdout);
    let list = env.ok(&["checklist", "edition", "list"]);
    assert!(list.stdout.contains("fy2025-"), "{}", list.stdout);
    let again = env.run(&["checklist", "edition", "import", f, "--yes"]);
    assert_eq!(again.code, 1, "the same workbook twice is refused: {}", again.stdout);

    let broken = env.tmp.path().join("broken.xlsx");
    std::fs::write(&broken, &std::fs::read(&xlsx).unwrap()[..500]).unwrap();
    let r = env.run(&["checklist", "edition", "import", broken.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("厚生労働省のチェックリストとして読み取れません"), "{}", r.stderr);
}
