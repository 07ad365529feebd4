//! Golden test: the exported form read back with calamine, cell by cell.

use crate::fy2025;
use calamine::{Data, Reader, Xlsx};
use mamori_checklist::answer::Override;
use mamori_checklist::evaluate::{Document, DocumentKind};
use mamori_checklist::{Answer, AnswerValue, Evaluator, EvidenceKind, EvidenceRef, Facts, ProposedValue, export_xlsx};
use std::io::Cursor;
use time::macros::{date, datetime};

fn cells(bytes: &[u8], sheet: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    book.worksheet_range(sheet).unwrap()
}

fn at(r: &calamine::Range<Data>, addr: &str) -> String {
    let col = addr.chars().next().unwrap() as u32 - 'A' as u32;
    let row: u32 = addr[1..].parse::<u32>().unwrap() - 1;
    r.get_value((row, col)).map(|d| d.to_string()).unwrap_or_default()
}

#[test]
fn form_sheet_and_evidence_appendix() {
    let e = fy2025();
    let mut facts = Facts::new(date!(2025 - 07 - 01));
    facts.documents.push(Document {
        id: "doc-bcp".into(),
        kind: DocumentKind::Bcp,
        title: "サイバー攻撃BCP".into(),
        reviewed_on: Some(date!(2025 - 05 - 20)),
        registered_at: Some(datetime!(2025-05-20 10:00 UTC)),
    });
    let evaluation = Evaluator::with_ledger_rules().evaluate(e, "clinic", &facts).unwrap();
    let mut officer = Answer::new("1-①", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 01));
    officer.overridden = Some(Override {
        by: "事務長".into(),
        reason: "院長を任命済み（辞令は紙）".into(),
        proposed: ProposedValue::No,
    });
    let mut ledger =
        Answer::new("2-①", None, AnswerValue::No).confirmed(date!(2025 - 06 - 01)).target(date!(2025 - 12 - 31));
    ledger.note = Some("台帳を作成中".into());
    ledger.evidence.push(
        EvidenceRef::new(EvidenceKind::File, "f1", "機器一覧.xlsx").observed(Some(datetime!(2025-06-01 09:00 UTC))),
    );
    let answers = vec![
        officer,
        ledger,
        Answer::new("2-⑤", Some("terminal_pc"), AnswerValue::Yes).confirmed(date!(2025 - 06 - 02)),
        Answer::new("3-③", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 03)),
    ];
    let bytes = export_xlsx(e, "clinic", "やまだ内科クリニック", &answers, Some(&evaluation)).unwrap();

    let form = cells(&bytes, "医療機関確認用");
    assert_eq!(at(&form, "A1"), "令和7年度版 医療機関におけるサイバーセキュリティ対策チェックリスト");
    assert_eq!(at(&form, "A2"), "医療機関確認用");
    assert_eq!((at(&form, "A3"), at(&form, "B3")), ("医療機関名".into(), "やまだ内科クリニック".into()));
    assert!(at(&form, "A4").starts_with("各項目の実施状況を確認し"));
    let header: Vec<String> = ["A6", "B6", "C6", "D6", "E6", "F6", "G6", "H6"].iter().map(|a| at(&form, a)).collect();
    assert_eq!(header, ["項目", "確認事項", "対象", "はい", "いいえ", "確認日", "目標日", "備考"]);
    assert_eq!(at(&form, "A7"), "医療情報システムの有無");
    assert_eq!(at(&form, "A8"), "有無");
    assert_eq!(at(&form, "H8"), "文言未確認");
    assert_eq!(at(&form, "A9"), "1 体制構築");
    // 1-①: はい, 確認日
    assert_eq!(at(&form, "A10"), "1-①");
    assert_eq!(at(&form, "B10"), "医療情報システム安全管理責任者を設置している。");
    assert_eq!((at(&form, "D10"), at(&form, "E10"), at(&form, "F10")), ("○".into(), "".into(), "2025-06-01".into()));
    assert_eq!(at(&form, "A11"), "2 医療情報システムの管理・運用");
    // 2-①: いいえ, 目標日, scope printed, note
    assert_eq!(at(&form, "A12"), "2-①");
    assert_eq!(at(&form, "C12"), "医療情報システム全般");
    assert_eq!((at(&form, "D12"), at(&form, "E12"), at(&form, "G12")), ("".into(), "○".into(), "2025-12-31".into()));
    assert!(at(&form, "H12").contains("台帳を作成中"));
    // 2-③: candidate wording, marked
    assert_eq!(at(&form, "A14"), "2-③");
    assert!(at(&form, "B14").ends_with("提出してもらう。"));
    assert_eq!(at(&form, "H14"), "文言未確認（冒頭のみ確認）");
    // 2-⑤ asked per class: two rows, id merged
    assert_eq!((at(&form, "A17"), at(&form, "C17"), at(&form, "D17")), ("2-⑤".into(), "サーバ".into(), "".into()));
    assert_eq!((at(&form, "A18"), at(&form, "C18"), at(&form, "D18")), ("".into(), "端末PC".into(), "○".into()));
    // 2-⑦ carries its printed note
    assert!(at(&form, "B20").ends_with("※二要素認証、または13文字以上の場合は定期的な変更は不要"));
    assert_eq!(at(&form, "A28"), "3 インシデント発生に備えた対応");
    assert_eq!(at(&form, "A33"), "4-①");
    assert_eq!(at(&form, "B33"), "運用管理規程等の整備");

    let appendix = cells(&bytes, "根拠一覧");
    assert_eq!(at(&appendix, "A1"), "項目");
    assert_eq!(at(&appendix, "H1"), "観測日時");
    let rows: Vec<Vec<String>> = appendix.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    let officer_row = rows.iter().find(|r| r[0] == "1-①").unwrap();
    assert_eq!((officer_row[2].as_str(), officer_row[3].as_str()), ("はい", "いいえ"));
    assert!(officer_row[4].contains("事務長さんが提案（いいえ）を変更: 院長を任命済み（辞令は紙）"), "{officer_row:?}");
    let file_row = rows.iter().find(|r| r[0] == "2-①" && r[6] == "機器一覧.xlsx").unwrap();
    assert_eq!(file_row[5], "添付ファイル");
    assert!(file_row[7].starts_with("2025-06-01"), "{file_row:?}");
    let bcp = rows.iter().find(|r| r[0] == "3-③").unwrap();
    assert_eq!((bcp[2].as_str(), bcp[3].as_str(), bcp[5].as_str()), ("はい", "はい", "文書"));
    assert!(bcp[6].contains("サイバー攻撃BCP") && bcp[6].contains("2025-05-20"));
    let usb = rows.iter().find(|r| r[0] == "2-⑨").unwrap();
    assert_eq!((usb[2].as_str(), usb[3].as_str(), usb[6].as_str()), ("未回答", "判定不可", "（根拠の登録なし）"));
}

#[test]
fn unknown_form_is_an_error() {
    let err = export_xlsx(fy2025(), "dentist", "x", &[], None).unwrap_err();
    assert_eq!(err.code(), "checklist-export-unknown-form");
}
