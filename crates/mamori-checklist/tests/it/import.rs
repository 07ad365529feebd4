//! Workbooks in the official layout, generated here: title rows, merged cells, the answer
//! columns はい / いいえ / 確認日 / 目標日, section headings and item rows.

use crate::fy2025;
use mamori_checklist::import::{ImportedEdition, edition_from_import};
use mamori_checklist::{Evaluator, diff, import_edition_xlsx, rules_coverage};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

/// One row of a generated form: a section heading, or (id cell, wording, 対象).
enum R<'a> {
    Section(&'a str),
    Item(&'a str, &'a str, &'a str),
    /// A device-class sub-row (R6 style).
    Class(&'a str),
}

fn sheet(book: &mut Workbook, name: &str, title: &str, form: &str, rows: &[R]) {
    let merge = Format::new();
    let ws: &mut Worksheet = book.add_worksheet();
    ws.set_name(name).unwrap();
    ws.merge_range(0, 0, 0, 6, title, &merge).unwrap();
    ws.write_string(1, 0, form).unwrap();
    ws.write_string(2, 0, "医療機関名").unwrap();
    ws.merge_range(
        3,
        0,
        3,
        6,
        "各項目の実施状況を確認し、「はい」または「いいえ」にマルをつけて、確認した日付を記入してください。",
        &merge,
    )
    .unwrap();
    for (c, h) in ["項目", "確認事項", "対象", "はい", "いいえ", "確認日", "目標日"].iter().enumerate()
    {
        ws.write_string(5, c as u16, *h).unwrap();
    }
    for (r, row) in (6u32..).zip(rows) {
        match row {
            R::Section(t) => {
                ws.merge_range(r, 0, r, 6, t, &merge).unwrap();
            }
            R::Item(id, text, scope) => {
                ws.write_string(r, 0, *id).unwrap();
                ws.write_string(r, 1, *text).unwrap();
                if !scope.is_empty() {
                    ws.write_string(r, 2, *scope).unwrap();
                }
                // The paper form prints はい・いいえ in every row to be circled.
                ws.write_string(r, 3, "はい").unwrap();
                ws.write_string(r, 4, "いいえ").unwrap();
            }
            R::Class(c) => {
                ws.write_string(r, 2, *c).unwrap();
                ws.write_string(r, 3, "はい").unwrap();
                ws.write_string(r, 4, "いいえ").unwrap();
            }
        }
    }
}

fn official_r7_like() -> Vec<u8> {
    let mut book = Workbook::new();
    sheet(
        &mut book,
        "医療機関確認用",
        "医療機関におけるサイバーセキュリティ対策チェックリスト（令和７年５月）",
        "【医療機関確認用】",
        &[
            R::Section("１　体制構築"),
            R::Item("①", "医療情報システム安全管理責任者を設置している。", ""),
            R::Section("2．医療情報システムの管理・運用"),
            R::Item("①", "サーバ、端末ＰＣ、ネットワーク機器の台帳管理を行っている。", "医療情報システム全般"),
            R::Item(
                "②",
                "リモートメンテナンス（保守）を利用している機器の有無を事業者に確認した。",
                "医療情報システム全般",
            ),
            R::Item(
                "③",
                "事業者から製造業者/サービス事業者による医療情報セキュリティ開示書(MDS/SDS)を提出してもらう。",
                "医療情報システム全般",
            ),
            R::Item(
                "⑦",
                "パスワードは英数字、記号が混在した8文字以上とし、定期的に変更している。\n※二要素認証、または13文字以上の場合は定期的な変更は不要",
                "",
            ),
            R::Item(
                "２－⑫",
                "バックグラウンドで動作している不要なソフトウェア及びサービスを停止している。(サーバ、端末PC)",
                "",
            ),
            R::Item("⑭", "新しい項目を実施している。", ""),
            R::Section("3 インシデント発生に備えた対応"),
            R::Item(
                "②",
                "インシデント発生時に診療を継続するために必要な情報を検討し、データやシステムのバックアップの実施と復旧手順を確認している。",
                "",
            ),
        ],
    );
    sheet(
        &mut book,
        "事業者確認用",
        "医療機関におけるサイバーセキュリティ対策チェックリスト",
        "事業者確認用",
        &[R::Section("1 体制構築"), R::Item("1-①", "医療情報システム安全管理責任者を設置している。", "")],
    );
    book.save_to_buffer().unwrap()
}

fn import(bytes: &[u8]) -> ImportedEdition {
    import_edition_xlsx(bytes).unwrap_or_else(|e| panic!("{} {e}", e.code()))
}

#[test]
fn official_layout_is_read_by_content() {
    let imp = import(&official_r7_like());
    assert_eq!(imp.fiscal_year, Some(2025));
    assert_eq!(imp.label_ja.as_deref(), Some("令和7年度版"));
    assert_eq!(imp.forms.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["clinic", "vendor"]);
    let clinic = imp.form("clinic").unwrap();
    let ids: Vec<&str> = clinic.items().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["1-①", "2-①", "2-②", "2-③", "2-⑦", "2-⑫", "2-⑭", "3-②"]);
    assert_eq!(clinic.sections[0].title_ja, "体制構築");
    assert_eq!(clinic.sections[1].title_ja, "医療情報システムの管理・運用");
    let item = |id: &str| clinic.items().find(|i| i.id == id).unwrap();
    assert_eq!(item("2-⑦").text_ja, "パスワードは英数字、記号が混在した8文字以上とし、定期的に変更している。");
    assert_eq!(item("2-⑦").note.as_deref(), Some("※二要素認証、または13文字以上の場合は定期的な変更は不要"));
    assert_eq!(item("2-⑫").device_classes, ["server", "terminal_pc"]);
    assert!(!item("2-⑫").per_device_class);
    assert_eq!(item("2-①").device_classes, ["all"]);
    assert_eq!(item("2-①").row, 10);
}

#[test]
fn diff_against_the_shipped_edition() {
    let imp = import(&official_r7_like());
    let d = diff(fy2025(), &imp);
    assert_eq!(d.forms_missing, ["pharmacy"]);
    let clinic = d.forms.iter().find(|f| f.form == "clinic").unwrap();
    assert_eq!(clinic.added.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["2-⑭"]);
    assert!(clinic.removed.iter().any(|i| i.id == "4-①") && clinic.removed.iter().any(|i| i.id == "有無"));
    // Draft and candidate wording becomes confirmed.
    let confirmed: Vec<&str> = clinic.newly_confirmed.iter().map(|c| c.id.as_str()).collect();
    assert!(confirmed.contains(&"2-③") && confirmed.contains(&"1-①"), "{confirmed:?}");
    let mds = clinic.newly_confirmed.iter().find(|c| c.id == "2-③").unwrap();
    assert!(mds.imported.ends_with("提出してもらう。"));
    assert!(clinic.wording_changed.is_empty(), "{:?}", clinic.wording_changed);
    assert!(!d.is_empty());

    // Stored as an edition: exact wording, mamori's topics and guidance carried over.
    let e = edition_from_import(fy2025(), &imp, "fy2025-official").unwrap();
    let form = e.form("clinic").unwrap();
    let mds = form.item("2-③").unwrap();
    assert!(mds.wording_confirmed() && mds.text_status.is_official());
    assert_eq!(mds.topic.as_deref(), Some("mds-sds"));
    assert!(mds.guidance.is_some());
    assert_eq!(form.item("2-⑫").unwrap().device_classes, ["server", "terminal_pc"]);
    // Re-diffing the stored edition against the same workbook shows nothing new.
    let again = diff(&e, &imp);
    assert!(again.is_empty(), "{again:?}");
    // The new item has no rule yet, and the report says so.
    let cov = rules_coverage(&e, Evaluator::with_ledger_rules().rules());
    assert!(cov.items_without_rule.iter().any(|i| i.form == "clinic" && i.item_id == "2-⑭"));
    assert!(!cov.items_without_rule.iter().any(|i| i.form == "clinic" && i.item_id == "2-①"));
}

#[test]
fn r6_style_numbers_and_device_class_rows() {
    let mut book = Workbook::new();
    sheet(
        &mut book,
        "Sheet1",
        "令和6年度版 医療機関におけるサイバーセキュリティ対策チェックリスト",
        "医療機関確認用",
        &[
            R::Section("2 医療情報システムの管理・運用"),
            R::Item("(7)", "セキュリティパッチ(最新ファームウェアや更新プログラム)を適用している。", "サーバ"),
            R::Class("端末PC"),
            R::Class("ネットワーク機器"),
            R::Item("(8)", "接続元制限を実施している。", "ネットワーク機器"),
        ],
    );
    let imp = import(&book.save_to_buffer().unwrap());
    assert_eq!(imp.fiscal_year, Some(2024));
    let form = &imp.forms[0];
    assert_eq!(form.id, "clinic");
    let patch = form.items().next().unwrap();
    assert_eq!(patch.id, "2-(7)");
    assert_eq!(patch.device_classes, ["server", "terminal_pc", "network_device"]);
    assert!(patch.per_device_class);
    let d = diff(crate::fy2024(), &imp);
    let clinic = &d.forms[0];
    assert!(clinic.added.is_empty(), "{:?}", clinic.added);
    assert!(clinic.device_classes_changed.is_empty(), "{:?}", clinic.device_classes_changed);
}

#[test]
fn the_exported_form_imports_back() {
    let e = fy2025();
    let bytes = mamori_checklist::export_xlsx(e, "clinic", "テスト診療所", &[], None).unwrap();
    let imp = import(&bytes);
    let form = imp.form("clinic").unwrap();
    let shipped: Vec<&str> =
        e.form("clinic").unwrap().items().map(|i| i.id.as_str()).filter(|id| *id != "有無").collect();
    assert_eq!(form.items().map(|i| i.id.as_str()).collect::<Vec<_>>(), shipped);
    let d = diff(e, &imp);
    let c = &d.forms[0];
    assert!(c.added.is_empty() && c.wording_changed.is_empty() && c.device_classes_changed.is_empty(), "{c:?}");
    assert_eq!(c.removed.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["有無"]);
}

fn code(bytes: &[u8]) -> &'static str {
    import_edition_xlsx(bytes).map(|_| "ok").unwrap_or_else(|e| e.code())
}

#[test]
fn malformed_workbooks_give_clear_errors() {
    let mut book = Workbook::new();
    sheet(&mut book, "Sheet1", "関係のない表", "", &[R::Section("1 体制構築")]);
    assert_eq!(code(&book.save_to_buffer().unwrap()), "checklist-import-no-items");

    let mut book = Workbook::new();
    sheet(
        &mut book,
        "Sheet1",
        "チェックリスト",
        "医療機関確認用",
        &[R::Section("1 体制構築"), R::Item("①", "a。", ""), R::Item("1-①", "b。", "")],
    );
    let err = import_edition_xlsx(&book.save_to_buffer().unwrap()).unwrap_err();
    assert_eq!(err.code(), "checklist-import-duplicate-item-id");
    assert!(err.to_string().contains("row 9") && err.to_string().contains("row 8"), "{err}");

    let mut book = Workbook::new();
    sheet(&mut book, "Sheet1", "チェックリスト", "医療機関確認用", &[R::Item("①", "a。", "")]);
    assert_eq!(code(&book.save_to_buffer().unwrap()), "checklist-import-item-without-section");

    let mut book = Workbook::new();
    sheet(&mut book, "Sheet1", "チェックリスト", "医療機関確認用", &[R::Section("1 体制構築"), R::Item("①", "", "")]);
    assert_eq!(code(&book.save_to_buffer().unwrap()), "checklist-import-missing-wording");

    let good = official_r7_like();
    assert_eq!(code(&good[..good.len() / 2]), "checklist-import-damaged");
    assert_eq!(code(b"not a workbook"), "checklist-import-damaged");
    assert_eq!(code(&[]), "checklist-import-damaged");
}
